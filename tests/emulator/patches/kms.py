"""KMS: AWS-managed keys say so, and PutKeyPolicy validates the document as KMS does."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse

from ._support import install


# KMS quota "Key policy document size": 32 KB (32,768 bytes).
MAX_KEY_POLICY_BYTES = 32768

# KMS developer guide, "AWS KMS eventual consistency": "When you make AWS KMS API calls, there
# might be a brief delay before the change is available throughout AWS KMS. It typically takes
# less than a few seconds for the change to propagate throughout the system, but in some cases
# it can take several minutes." The guide names no operation for key policies; with this set
# above zero (the control API's key_policy_read_lag_seconds), GetKeyPolicy answers with the
# document that was in force that many seconds ago, which is how a writer that re-reads its
# write meets the lag. DescribeKey and every other call see the key as it is.
KEY_POLICY_READ_LAG = {"seconds": 0.0}
# (account, region, key id) -> [(written at, document)], oldest first, while some write lags.
_POLICY_HISTORY: dict[tuple[str, str, str], list[tuple[float, str]]] = {}
_HISTORY_LOCK = threading.Lock()


def _create_alias(original: Any) -> Any:
    # KMS DescribeKey: keys that AWS services create for you (alias/aws/ebs, created on first
    # use in each region) report KeyManager "AWS"; customer keys report "CUSTOMER". moto
    # reports "CUSTOMER" for all. Only AWS may create alias/aws/* (the API refuses it).
    def create_alias(self: Any, target_key_id: str, alias_name: str) -> Any:
        alias = original(self, target_key_id, alias_name)
        if alias_name.startswith("alias/aws/"):
            self.keys[self.get_key_id(target_key_id)].key_manager = "AWS"
        return alias

    return create_alias


def policy_document_error(policy: Any) -> JsonRESTError | None:
    """The error KMS gives for this key policy document, or None when it is acceptable."""
    size = len(policy.encode("utf-8")) if isinstance(policy, str) else 0
    if size > MAX_KEY_POLICY_BYTES:
        return JsonRESTError(
            "LimitExceededException",
            f"The key policy is {size} bytes; the maximum key policy document size is {MAX_KEY_POLICY_BYTES} bytes.",
        )
    try:
        document = json.loads(policy)
    except (TypeError, ValueError) as error:
        return JsonRESTError("MalformedPolicyDocumentException", f"The key policy is not valid JSON: {error}")
    if not isinstance(document, dict) or "Statement" not in document:
        return JsonRESTError(
            "MalformedPolicyDocumentException", "The key policy must be a JSON object with a Statement."
        )
    return None


def _put_key_policy(original: Any) -> Any:
    # KMS PutKeyPolicy: a document that is not a JSON policy is MalformedPolicyDocumentException;
    # one over 32,768 bytes is LimitExceededException. moto stores anything. (GetKeyPolicy then
    # returns exactly the bytes written: moto already does, and the tests check it stays so.)
    def put_key_policy(self: Any) -> str:
        error = policy_document_error(self._get_param("Policy"))
        if error is not None:
            raise error
        return original(self)

    return put_key_policy


def set_key_policy_read_lag(seconds: float) -> None:
    """Change the lag (the control API's key_policy_read_lag_seconds); writes made before are forgotten."""
    with _HISTORY_LOCK:
        KEY_POLICY_READ_LAG["seconds"] = seconds
        _POLICY_HISTORY.clear()


def _remember_policy(original: Any) -> Any:
    # Keeps what GetKeyPolicy still answers while a PutKeyPolicy propagates (KEY_POLICY_READ_LAG).
    def put_key_policy(self: Any, key_id: str, policy: str) -> None:
        key = self.keys[self.get_key_id(key_id)]
        lag, now, previous = KEY_POLICY_READ_LAG["seconds"], time.monotonic(), key.policy
        original(self, key_id, policy)
        where = (self.account_id, self.region_name, key.id)
        with _HISTORY_LOCK:
            if lag > 0:
                _POLICY_HISTORY.setdefault(where, [(float("-inf"), previous)]).append((now, policy))
            else:
                _POLICY_HISTORY.pop(where, None)

    return put_key_policy


def _lagging_policy(original: Any) -> Any:
    # GetKeyPolicy: the latest document written at least KEY_POLICY_READ_LAG seconds ago.
    def get_key_policy(self: Any, key_id: str) -> str:
        current = original(self, key_id)
        lag = KEY_POLICY_READ_LAG["seconds"]
        with _HISTORY_LOCK:
            history = _POLICY_HISTORY.get((self.account_id, self.region_name, self.get_key_id(key_id)))
            if not history or lag <= 0:
                return current
            cutoff = time.monotonic() - lag
            visible = [index for index, (written_at, _policy) in enumerate(history) if written_at <= cutoff]
            del history[: visible[-1]]  # older documents can never be answered again
            return history[0][1]

    return get_key_policy


def apply() -> None:
    """Install the KMS patches."""
    install(KmsBackend, "create_alias", _create_alias)
    install(KmsResponse, "put_key_policy", _put_key_policy)
    install(KmsBackend, "put_key_policy", _remember_policy)
    install(KmsBackend, "get_key_policy", _lagging_policy)
