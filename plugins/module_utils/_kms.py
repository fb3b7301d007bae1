# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS calls: one small function per call, retried with jittered backoff, errors mapped once."""

import random
import time

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


@api_call("read the key policy of {0}", KMS_ERRORS)
def get_key_policy(client, key_arn):
    """GetKeyPolicy (policy name ``default``, the only one KMS has): the policy document as text."""
    return kms_retry(client.get_key_policy)(KeyId=key_arn, PolicyName="default")["Policy"]


@api_call(
    "write the key policy of {0}",
    KMS_ERRORS
    + (
        ErrorRule("MalformedPolicyDocumentException", "Cannot {what}: KMS refused the policy document ({code})."),
        ErrorRule("LimitExceededException", "Cannot {what}: the policy is over KMS's size limit ({code})."),
    ),
)
def put_key_policy(client, key_arn, document):
    """PutKeyPolicy: replaces the whole policy (``default``) with ``document``."""
    kms_retry(client.put_key_policy)(KeyId=key_arn, PolicyName="default", Policy=document)


# Reads of the policy after a write, and the pause before the last of them: a writer
# that read the policy before ours landed and writes just after it shows up there.
CONFIRM_PAUSE = (0.2, 0.6)
WRITE_ATTEMPTS = 5


def write_key_policy(client, key_arn, plan, replan, attempts=WRITE_ATTEMPTS, pause=CONFIRM_PAUSE, sleep=time.sleep):
    """Write ``plan`` and make sure it stays written despite concurrent writers.

    KMS has no conditional write, so after each PutKeyPolicy the policy is read
    back (at once, then again after a short random pause); when another writer
    has replaced it, ``replan(policy_text)`` merges the same request onto the
    newest policy and that is written instead, up to ``attempts`` times.
    Returns the policy text finally read back.
    """
    for _attempt in range(attempts):
        put_key_policy(client, key_arn, plan.document())
        current = get_key_policy(client, key_arn)
        if not replan(current).changed:
            sleep(random.uniform(*pause))
            current = get_key_policy(client, key_arn)
        plan = replan(current)
        if not plan.changed:
            return current
        sleep(random.uniform(*pause))
    raise OrgShareError(
        f"The key policy of {key_arn} kept being replaced by another writer: {attempts} writes of this change were each "
        "overwritten. Run the task again when the other writer is done."
    )
