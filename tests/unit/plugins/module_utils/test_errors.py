# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's one exception (_errors): an amazon.aws AnsibleAWSError that carries its message and extra result keys."""

import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


def test_it_is_amazon_aws_s_error_with_the_message_as_given():
    error = OrgShareError("ami-1 cannot be shared: fix it.", owner_account_id="444455556666")
    assert isinstance(error, AnsibleAWSError)
    assert error.message == "ami-1 cannot be shared: fix it." and error.kwargs == {"owner_account_id": "444455556666"}


def test_it_keeps_the_botocore_error_it_wraps():
    cause = botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetKeyPolicy")
    error = OrgShareError("The key policy could not be read.", exception=cause)
    assert error.exception is cause and error.message == "The key policy could not be read."
