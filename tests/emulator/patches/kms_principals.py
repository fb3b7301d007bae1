"""Key policy principals: KMS refuses principals that do not exist, and a deleted one turns into its unique ID.

KMS API reference, PutKeyPolicy and CreateKey, ``Policy``: "Each statement in the key policy must
contain one or more principals. The principals in the key policy must exist and be visible to
KMS." The error is MalformedPolicyDocumentException, "Policy contains a statement with one or more
invalid principals." (AWS Knowledge Center, "How can I resolve the AWS KMS key policy error
'Policy contains a statement with one or more invalid principals'?", which names the usual cause:
the policy holds "a principal with a unique ID that's similar to AIDACKCEVSQ6C2EXAMPLE" - "Remove
orphaned unique IDs from the key policy").

IAM user guide, "AWS JSON policy elements: Principal" (IAM role principals): a role ARN in a
policy "transforms to the role's unique principal ID when you save the policy"; "if you delete the
role, then you break the relationship ... the principal ID appears in resource-based policies
because AWS can no longer map it back to a valid ARN". The Knowledge Center's "Why is there an
unknown principal format in my IAM resource-based policy?" says the same of users (``AIDA...``)
and roles (``AROA...``). A key policy is a resource-based policy, so once a role or user is
deleted, GetKeyPolicy shows its unique ID where its ARN was. That is always so, as in AWS.

The check itself is the ``put_key_policy_checks_principals`` switch (off by default, because moto's
IAM knows only the roles and users made in it: those a test creates, and the
OrganizationAccountAccessRole of an account made with Organizations CreateAccount, as in AWS; an
account merely reached through AssumeRole has none). With it on, every ``AWS`` entry of a
``Principal`` or ``NotPrincipal`` must be:

- ``"*"``, an account ID or an account's root ARN (accounts are not checked: the docs do not say
  whether KMS refuses an account that does not exist, and moto has no list of accounts);
- the ARN of an IAM role or user that exists in moto's IAM of the account the ARN names;
- an STS session ARN (``assumed-role/...``, ``federated-user/...``), accepted as it is: the docs
  do not say how KMS checks sessions.

Anything else is refused: a unique ID (``AROA...``, ``AIDA...``: the principal it stood for is
gone), a role or user that does not exist, any other text. ``Service``, ``Federated`` and
``CanonicalUser`` principals are not checked.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.models import IAMBackend, iam_backends
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse

from ._support import install
from .kms import policy_document_error

# The control API's put_key_policy_checks_principals.
PRINCIPAL_CHECKS = {"on": False}

INVALID_PRINCIPALS_MESSAGE = "Policy contains a statement with one or more invalid principals."

_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:root$")
_IAM_ENTITY = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>role|user)/.+$")
_SESSION = re.compile(r"^arn:aws[a-z-]*:sts::\d{12}:(assumed-role|federated-user)/.+$")
# IAM user guide, "IAM identifiers", unique identifiers: AIDA for users, AROA for roles.
_USER_ID_PREFIX = "AIDA"
_ID_ALPHABET = string.ascii_uppercase + string.digits


def _aws_entries(element: Any) -> list[Any]:
    """The ``AWS`` entries of a Principal or NotPrincipal element (none for "*" or other types)."""
    if not isinstance(element, dict) or "AWS" not in element:
        return []
    entries = element["AWS"]
    return entries if isinstance(entries, list) else [entries]


def _statements(document: Any) -> list[Any]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return statements if isinstance(statements, list) else [statements]


def _iam_entity_exists(arn: str) -> bool:
    """Whether moto's IAM of the ARN's account holds that role or user (no backend is created to look)."""
    match = _IAM_ENTITY.match(arn)
    backend = dict.get(dict.get(iam_backends, match.group("account")) or {}, match.group("partition"))
    if backend is None:
        return False
    entities = backend.roles.values() if match.group("kind") == "role" else backend.users.values()
    return any(entity.arn == arn for entity in entities)


def _valid_principal(entry: Any) -> bool:
    if not isinstance(entry, str):
        return False
    if entry == "*" or _ACCOUNT.match(entry) or _ROOT.match(entry) or _SESSION.match(entry):
        return True
    return bool(_IAM_ENTITY.match(entry)) and _iam_entity_exists(entry)


def principals_error(policy: Any) -> JsonRESTError | None:
    """MalformedPolicyDocumentException when a statement names a principal that does not exist, else None.

    A document that is not JSON is left to the document checks (``kms.policy_document_error``).
    """
    try:
        document = json.loads(policy)
    except (TypeError, ValueError):
        return None
    for statement in _statements(document):
        if not isinstance(statement, dict):
            continue
        entries = _aws_entries(statement.get("Principal")) + _aws_entries(statement.get("NotPrincipal"))
        if not all(map(_valid_principal, entries)):
            return JsonRESTError("MalformedPolicyDocumentException", INVALID_PRINCIPALS_MESSAGE)
    return None


def _checked(original: Any) -> Any:
    # PutKeyPolicy and CreateKey (with a Policy) refuse principals that do not exist, when the switch is on.
    def checked(self: Any) -> str:
        policy = self._get_param("Policy")
        # The document checks (kms.policy_document_error) come first: a document that is not a
        # policy, or is too large, gets their error.
        if PRINCIPAL_CHECKS["on"] and policy is not None and policy_document_error(policy) is None:
            error = principals_error(policy)
            if error is not None:
                raise error
        return original(self)

    return checked


def _orphan_principal(arn: str, unique_id: str) -> None:
    """Every key policy of every account and region whose Principal/NotPrincipal names ``arn`` now names ``unique_id``.

    The rewritten document is compact JSON: the docs do not say how KMS lays out a policy it rewrites.
    """
    for regions in list(dict.values(kms_backends)):
        for backend in list(dict.values(regions)):
            for key in list(backend.keys.values()):
                _replace_principal(key, arn, unique_id)


def _replace_principal(key: Any, arn: str, unique_id: str) -> None:
    try:
        document = json.loads(key.policy)
    except (TypeError, ValueError):
        return
    changed = False
    for statement in _statements(document):
        for element_name in ("Principal", "NotPrincipal"):
            element = statement.get(element_name) if isinstance(statement, dict) else None
            entries = _aws_entries(element)
            if arn in entries:
                replaced = [unique_id if entry == arn else entry for entry in entries]
                element["AWS"] = replaced if isinstance(element["AWS"], list) else replaced[0]
                changed = True
    if changed:
        key.policy = json.dumps(document)


def _orphaning(lookup: str) -> Any:
    """The patch of IAM DeleteRole/DeleteUser (``lookup``: ``get_role``/``get_user``): once the role
    or user is gone, key policies naming it show its unique ID (AROA..., AIDA...)."""

    def factory(original: Any) -> Any:
        def delete(self: Any, name: str) -> None:
            entity = getattr(self, lookup)(name)
            original(self, name)
            _orphan_principal(entity.arn, entity.id)

        return delete

    return factory


def _create_user(original: Any) -> Any:
    # IAM user guide, "IAM identifiers": a user's unique ID begins with AIDA (moto's are random
    # lowercase text), so that a deleted user's ID in a key policy looks as it does in AWS.
    def create_user(self: Any, *args: Any, **kwargs: Any) -> Any:
        user = original(self, *args, **kwargs)
        if not user.id.startswith(_USER_ID_PREFIX):
            user.id = _USER_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _position in range(17))
        return user

    return create_user


def apply() -> None:
    """Install the key-policy principal patches."""
    install(KmsResponse, "put_key_policy", _checked)
    install(KmsResponse, "create_key", _checked)
    install(IAMBackend, "delete_role", _orphaning("get_role"))
    install(IAMBackend, "delete_user", _orphaning("get_user"))
    install(IAMBackend, "create_user", _create_user)
