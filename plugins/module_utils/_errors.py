# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one exception type the collection's module_utils raise.

``_module.run_module`` catches it, in one place for every module, and turns it
into ``fail_json``; its message is written for the operator: it quotes the
offending input, names the resource, the cause and the fix.
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


class OrgShareError(AnsibleAWSError):
    """A failure with a message fit to show the operator as it is.

    Keyword arguments beyond ``message`` and ``exception`` (kept in ``kwargs``) become keys of the
    failed result, next to ``msg``.
    """
