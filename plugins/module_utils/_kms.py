# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS calls: one small function per call, retried with jittered backoff, errors mapped once."""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils._api import ErrorRule
from ansible_collections.orgshare.aws.plugins.module_utils._api import api_call
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# KMS throttles with ThrottlingException and fails with KMSInternalException;
# neither is in AWSRetry's default list.
kms_retry = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30, catch_extra_error_codes=["ThrottlingException", "KMSInternalException"])


class KeyNotFound(OrgShareError):
    """The key, or the alias naming it, does not exist in this region."""


KMS_ERRORS = (
    ErrorRule("NotFoundException", "Cannot {what}: no such key or alias in this region ({code}).", KeyNotFound),
    ErrorRule(
        "AccessDeniedException",
        "Cannot {what}: access denied ({code}). The caller needs kms:DescribeKey on the key; for a key of another "
        "account, its key policy must allow this account.",
    ),
)


@api_call("describe KMS key {0}", KMS_ERRORS)
def describe_key(client, key_id):
    """DescribeKey: the key's metadata (KeyManager, KeyState, Arn, ...)."""
    return kms_retry(client.describe_key)(KeyId=key_id)["KeyMetadata"]
