# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS calls: one small function per call, retried with jittered backoff, errors mapped once."""

import itertools
import random
import time

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._api import ErrorRule
from ansible_collections.orgshare.aws.plugins.module_utils._api import api_call
from ansible_collections.orgshare.aws.plugins.module_utils._api import aws_cause
from ansible_collections.orgshare.aws.plugins.module_utils._api import client_region
from ansible_collections.orgshare.aws.plugins.module_utils._api import error_code
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# KMS throttles with ThrottlingException and fails with KMSInternalException;
# neither is in AWSRetry's default list.
kms_retry = AWSRetry.jittered_backoff(
    retries=10, delay=1, max_delay=30, catch_extra_error_codes=["ThrottlingException", "KMSInternalException"]
)


class KeyNotFound(OrgShareError):
    """The key, or the alias naming it, does not exist in this region."""


class PolicyRefusedForPrincipals(OrgShareError):
    """PutKeyPolicy refused a document for naming a principal that does not exist.

    ``policy`` is the policy that document was merged onto, as read (a dict): its statements other
    than the collection's are those of the refused document, at the places the operator sees them.
    """

    def __init__(self, message, exception=None, policy=None):
        super().__init__(message, exception=exception)
        self.policy = policy


KMS_ERRORS = (
    # A KMS key and its aliases live in one region; a multi-Region key has a replica (its own key) per region.
    ErrorRule(
        "NotFoundException",
        "Cannot {what}: no such key or alias in this region ({region}; {code}). KMS keys are regional: the key must be "
        "in {region}, the region of the images or of the copy it encrypts; a multi-Region key needs its replica in {region}.",
        KeyNotFound,
    ),
    ErrorRule(
        "AccessDeniedException",
        "Cannot {what}: access denied ({code}). The caller needs kms:DescribeKey on the key; for a key of another "
        "account, its key policy must allow this account.",
    ),
)


# What DescribeKey answers for a key ARN of another account whose key policy does not let the caller
# describe it (AccessDeniedException), or that is not there (NotFoundException): either way the key is
# another account's, whose policy this account could not read anyway.
DESCRIBE_REFUSED_CODES = ("AccessDeniedException", "NotFoundException")


def describe_refusal(error):
    """For a DescribeKey refused with one of :data:`DESCRIBE_REFUSED_CODES`, what AWS answered; else None."""
    exception = getattr(error, "exception", None)
    return aws_cause(exception) if error_code(exception) in DESCRIBE_REFUSED_CODES else None


@api_call("find the account of these credentials (STS GetCallerIdentity)")
def caller_account_id(client):
    """GetCallerIdentity: the account the credentials act for. It needs no permission (STS API reference,
    GetCallerIdentity: "No permissions are required to perform this operation")."""
    return AWSRetry.jittered_backoff()(client.get_caller_identity)()["Account"]


@api_call("describe KMS key {0}", KMS_ERRORS)
def describe_key(client, key_id):
    """DescribeKey: the key's metadata (KeyManager, KeyState, Arn, ...)."""
    return kms_retry(client.describe_key)(KeyId=key_id)["KeyMetadata"]


# The DescribeKey fields the collection's decisions read, by the names results (``kms_keys``) and the
# ``known_kms_keys`` option give them.
KEY_FIELDS = (
    ("KeyId", "key_id"),
    ("Arn", "arn"),
    ("AWSAccountId", "aws_account_id"),
    ("KeyManager", "key_manager"),
    ("KeyState", "key_state"),
    ("KeySpec", "key_spec"),
    ("KeyUsage", "key_usage"),
)
# What an entry of ``known_kms_keys`` must hold: the rest defaults as DescribeKey's own defaults do.
REQUIRED_KEY_FIELDS = ("arn", "key_id", "key_manager", "key_state")


def key_summary(metadata):
    """A key's DescribeKey metadata as results return it (``kms_keys``) and ``known_kms_keys`` takes it."""
    return {name: metadata.get(field) for field, name in KEY_FIELDS}


class KeyDirectory:
    """The KMS keys one module run uses: each described once (DescribeKey), or taken as already read.

    ``known`` is the ``known_kms_keys`` option: key metadata another task of the same run read
    (its ``kms_keys``), found again by key ARN so that a run of several tasks describes each key
    once. A key named any other way (a key ID or an alias name, which mean a different key in each
    region) is described, once per region and name.
    """

    def __init__(self, known=None, option="known_kms_keys"):
        self._by_arn = {}
        self._by_name = {}
        self._used = {}
        for index, entry in enumerate(known or [], 1):
            missing = [name for name in REQUIRED_KEY_FIELDS if not isinstance(entry, dict) or not entry.get(name)]
            if missing:
                raise OrgShareError(
                    f"{option} entry {index} lacks {', '.join(missing)}: give the entries of kms_keys as a task of this collection "
                    "returned them, or leave the key out (it is then described)."
                )
            metadata = {field: entry.get(name) for field, name in KEY_FIELDS if entry.get(name) is not None}
            self._by_arn[metadata["Arn"]] = metadata

    def describe(self, client, key_ref):
        """The metadata of ``key_ref`` (key ARN, key ID, alias name or alias ARN) in ``client``'s region."""
        metadata = self._by_arn.get(key_ref) or self._by_name.get((client_region(client), key_ref))
        if metadata is None:
            metadata = describe_key(client, key_ref)
            self._by_arn.setdefault(metadata["Arn"], metadata)
            self._by_name[(client_region(client), key_ref)] = metadata
        self._used.setdefault(metadata["Arn"], metadata)
        return metadata

    def summaries(self):
        """Every key this run used, by ARN (``kms_keys``; regions may be surveyed side by side, so use order is not stable)."""
        return [key_summary(self._used[arn]) for arn in sorted(self._used)]


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
    """PutKeyPolicy, one attempt: replaces the whole policy (``default``) with ``document``.

    Not retried here: after a throttled or failed write, the policy may have changed, so
    :func:`write_key_policy` reads it again and merges afresh instead of re-sending a stale document.
    """
    client.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=document)


# The botocore configuration of the client that writes key policies: no retry of its own.
SINGLE_ATTEMPT = {"retries": {"total_max_attempts": 1}}

# Reads of the policy after a write, and the pause before the last of them: a writer
# that read the policy before ours landed and writes just after it shows up there.
CONFIRM_PAUSE = (0.2, 0.6)
WRITE_ATTEMPTS = 8
# A write refused for these is tried again, merged onto the policy as it is by then.
RETRY_WRITE_CODES = ("ThrottlingException", "KMSInternalException", "DependencyTimeoutException")
# KMS is eventually consistent ("Managing eventual consistency" in the AWS KMS Developer Guide):
# right after PutKeyPolicy, GetKeyPolicy may still return the policy it replaced. How long such
# a read is taken for "not visible yet", and the backoff between those reads.
VISIBILITY_TIMEOUT = 30.0
VISIBILITY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def _write_refused_for_now(error):
    return error_code(getattr(error, "exception", None)) in RETRY_WRITE_CODES


def refused_for_invalid_principals(error):
    """Whether a failed PutKeyPolicy was refused because the policy names a principal that does not exist.

    KMS answers MalformedPolicyDocumentException with "Policy contains a statement with one or more invalid
    principals." (AWS re:Post knowledge center, kms-policy-error-invalid-principals); the same code with
    another message (bad JSON, a missing element) is another refusal.
    """
    exception = getattr(error, "exception", None)
    message = ((getattr(exception, "response", None) or {}).get("Error", {}).get("Message") or "").lower()
    return error_code(exception) == "MalformedPolicyDocumentException" and "invalid principal" in message


def read_after_write(client, key_arn, replaced, timeout=VISIBILITY_TIMEOUT, sleep=None, clock=None):
    """The key policy as read after our write, once it is no longer the document ``replaced``.

    A read equal to the policy our write replaced means the write is not visible yet (KMS is
    eventually consistent), never that another writer put it back: wait (bounded backoff) and
    read again, up to ``timeout`` seconds; then the last read is returned as it is.
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + timeout
    for attempt in itertools.count():
        current = get_key_policy(client, key_arn)
        remaining = deadline - clock()
        if not _key_policy.same_policy(current, replaced) or remaining <= 0:
            return current
        sleep(min(VISIBILITY_DELAYS[min(attempt, len(VISIBILITY_DELAYS) - 1)], remaining))
    return None  # not reached: the loop returns


def write_key_policy(
    client,
    key_arn,
    plan,
    replan,
    attempts=WRITE_ATTEMPTS,
    pause=None,
    sleep=None,
    writer=None,
    visibility_timeout=VISIBILITY_TIMEOUT,
    clock=None,
):
    """Write ``plan`` and make sure it stays written despite concurrent writers and stale reads.

    KMS has no conditional write. So after each PutKeyPolicy the policy is read
    back (at once, then again after a short random pause), and when another writer
    has replaced it, ``replan(policy_text)`` merges the same request onto the
    newest policy, which is written instead. A read-back that is still the policy
    this write replaced is a stale read, not another writer: it is read again
    (:func:`read_after_write`) instead of merged onto, which would drop whatever
    another writer added meanwhile. A write refused by throttling is not re-sent as
    it was: the policy is read again and merged afresh first, so a write delayed by
    backoff never overwrites what others wrote meanwhile. Up to ``attempts`` writes;
    returns the policy text finally read back. A write refused for a principal that does not exist
    raises :class:`PolicyRefusedForPrincipals` with the policy it was merged onto. ``writer``, when given, is the client
    that writes: one whose own retries are off (see :data:`SINGLE_ATTEMPT`), since
    botocore would otherwise re-send a throttled write as it was. ``sleep`` and ``clock``
    stand in for :func:`time.sleep` and :func:`time.monotonic` in tests.

    What remains is a writer that read before our write and whose own write lands
    after our last read-back: KMS offers nothing to detect that.
    """
    pause = pause or CONFIRM_PAUSE
    sleep = sleep or time.sleep

    def read_back(replaced):
        return read_after_write(client, key_arn, replaced, visibility_timeout, sleep, clock)

    for attempt in range(attempts):
        try:
            put_key_policy(writer or client, key_arn, plan.document())
        except OrgShareError as e:
            if refused_for_invalid_principals(e):
                raise PolicyRefusedForPrincipals(e.message, exception=e.exception, policy=plan.before) from e
            if not _write_refused_for_now(e) or attempt == attempts - 1:
                raise
            sleep(random.uniform(0, min(20.0, 2.0**attempt)))
            current = get_key_policy(client, key_arn)
            plan = replan(current)
            if not plan.changed:
                return current
            continue
        current = read_back(plan.before)
        if not replan(current).changed:
            sleep(random.uniform(*pause))
            current = read_back(plan.before)
        plan = replan(current)
        if not plan.changed:
            return current
        sleep(random.uniform(*pause))
    raise OrgShareError(
        f"The key policy of {key_arn} kept being replaced by another writer: {attempts} writes of this change were each "
        "overwritten. Run the task again when the other writer is done."
    )
