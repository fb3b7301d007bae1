"""KMS: AWS-managed keys say so, and PutKeyPolicy validates the document as KMS does."""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse

from ._support import install


# KMS quota "Key policy document size": 32 KB (32,768 bytes).
MAX_KEY_POLICY_BYTES = 32768


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
        return JsonRESTError("LimitExceededException",
                             f"The key policy is {size} bytes; the maximum key policy document size is {MAX_KEY_POLICY_BYTES} bytes.")
    try:
        document = json.loads(policy)
    except (TypeError, ValueError) as error:
        return JsonRESTError("MalformedPolicyDocumentException", f"The key policy is not valid JSON: {error}")
    if not isinstance(document, dict) or "Statement" not in document:
        return JsonRESTError("MalformedPolicyDocumentException", "The key policy must be a JSON object with a Statement.")
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


def apply() -> None:
    """Install the KMS patches."""
    install(KmsBackend, "create_alias", _create_alias)
    install(KmsResponse, "put_key_policy", _put_key_policy)
