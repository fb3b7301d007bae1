"""KMS keys used from another account: the key policy decides, as in AWS.

KMS developer guide, "Allowing users in other accounts to use a KMS key": principals of another
account may use a key when its key policy (and their own account's IAM policies) allow it, and
they name the key by its key ARN (or alias ARN where the operation takes one). Each operation's
API reference says whether it can be used so:

- DescribeKey: "Cross-account use: Yes. To perform this operation with a KMS key in a different
  Amazon Web Services account, specify the key ARN or alias ARN in the value of the KeyId parameter."
- CreateGrant: "Cross-account use: Yes. To perform this operation on a KMS key in a different
  Amazon Web Services account, specify the key ARN in the value of the KeyId parameter."
- GetKeyPolicy, PutKeyPolicy: "Cross-account use: No. You cannot perform this operation on a KMS
  key in a different Amazon Web Services account." The docs name no error; moto answers
  NotFoundException ("Key '<arn>' does not exist"), looking in the caller's own account, and that
  is kept.

moto looks every key up in the caller's own account, so DescribeKey with another account's key ARN
is NotFoundException whatever the key policy says, and CreateGrant fails with an internal error.
Here the key is looked up in the account its ARN names, and the key policy is evaluated with the
collection's evaluator (``plugins/module_utils/_key_access.py``) for the caller: its principal (the
role of an assumed-role session, an IAM user, else the account), its account, and the
``aws:PrincipalOrgID``/``aws:PrincipalOrgPaths`` of its place in moto's organization. For
CreateGrant the request also carries ``kms:GrantIsForAWSResource`` (false: the caller creates the
grant itself, as a consumer does for Auto Scaling's service-linked role in the AWS Auto Scaling
user guide, "Required AWS KMS key policy for use with encrypted volumes"), ``kms:GranteePrincipal``,
``kms:RetiringPrincipal`` (when given) and ``kms:GrantOperations`` (a list). A policy that does not
allow it is AccessDeniedException, worded as IAM words a denial (IAM user guide, "Troubleshoot
access denied error messages": "User: <arn> is not authorized to perform: <action> on resource:
<arn> because no resource-based policy allows the <action> action").

Only the key policy is evaluated (the caller's IAM policies are taken to allow, as with
``enforce_iam`` off); a key ARN of another region is left to moto (KMS keys are regional).
Calls on the caller's own keys are untouched. Always on: it is what AWS does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.kms.exceptions import NotFoundException
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse
from moto.sts.models import sts_backends

from ._support import install, key_access
from .sharing import organization_chain

_KEY_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<rest>.+)$"
)


def _foreign_key(response: Any, key_ref: Any, aliases: bool) -> Any:
    """The key of another account that ``key_ref`` (a key ARN, or an alias ARN when ``aliases``) names
    in the client's region, NotFoundException when it names none there, None when the reference is
    not another account's ARN (moto's own lookup applies)."""
    match = _KEY_ARN.match(key_ref) if isinstance(key_ref, str) else None
    if match is None or match.group("account") == response.current_account or match.group("region") != response.region:
        return None
    if match.group("kind") == "alias" and not aliases:
        return None
    backend = dict.get(dict.get(kms_backends, match.group("account")) or {}, match.group("region"))
    key_id = None
    if backend is not None:
        key_id = (
            backend.get_key_id_from_alias(f"alias/{match.group('rest')}")
            if match.group("kind") == "alias"
            else match.group("rest")
        )
    if key_id is None or key_id not in backend.keys:
        raise NotFoundException(
            f"Key '{key_ref}' does not exist" if match.group("kind") == "key" else f"Alias {key_ref} is not found."
        )
    return backend.keys[key_id]


def caller_arns(response: Any) -> tuple[str, str]:
    """The caller's (ARN as the request's identity, principal ARN as a key policy names it).

    An assumed-role session is ``arn:aws:sts::<account>:assumed-role/<role>/<session>``; a key
    policy names its role, ``arn:aws:iam::<account>:role/<role>`` (IAM "Principal": role sessions).
    Static keys of no user (moto's default account) act as the account itself.
    """
    account, partition = response.current_account, response.partition
    access_key = response.get_access_key()
    sts = dict.get(dict.get(sts_backends, account) or {}, partition)
    session = sts.get_assumed_role_from_access_key(access_key) if sts is not None else None
    if session is not None:
        return session.arn, session.role_arn
    iam = dict.get(dict.get(iam_backends, account) or {}, partition)
    user = iam.get_user_from_access_key_id(access_key) if iam is not None else None
    if user is not None:
        return user.arn, user.arn
    root = f"arn:{partition}:iam::{account}:root"
    return root, root


def caller_context(response: Any, extra: dict[str, Any] | None = None) -> tuple[str, Any]:
    """The caller of ``response``'s request as a key policy sees it: (identity ARN, ``RequestContext``).

    The context carries its principal, account, ``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths``
    (its place in moto's organization: ``o-x/r-y/ou-a/.../``), and ``extra`` condition keys.
    """
    access = key_access()
    identity, principal = caller_arns(response)
    organization, chain = organization_chain(response.current_account, response.partition)
    org_path = "".join(f"{part.id}/" for part in [organization, *chain]) if organization is not None else None
    return identity, access.RequestContext(
        principal,
        response.current_account,
        organization.id if organization is not None else None,
        [org_path] if org_path else [],
        extra or {},
    )


def _check_key_policy(response: Any, key: Any, action: str, extra: dict[str, Any] | None = None) -> None:
    """AccessDeniedException unless ``key``'s policy allows ``action`` to the caller (of another account)."""
    access = key_access()
    identity, context = caller_context(response, extra)
    try:
        decision = access.evaluate(key.policy, action, context, key_arn=key.arn)
    except ValueError:  # a document that is no policy grants nothing
        decision = None
    if decision is None or not decision.allowed:
        explicit = decision is not None and decision.reason.startswith("explicit deny")
        denied_by = (
            "with an explicit deny in a resource-based policy"
            if explicit
            else f"because no resource-based policy allows the {action} action"
        )
        raise JsonRESTError(
            "AccessDeniedException",
            f"User: {identity} is not authorized to perform: {action} on resource: {key.arn} {denied_by}",
        )


def _describe_key(original: Any) -> Any:
    # DescribeKey with another account's key ARN or alias ARN: that account's key, if its key policy allows.
    def describe_key(self: Any) -> str:
        key = _foreign_key(self, self._get_param("KeyId"), aliases=True)
        if key is None:
            return original(self)
        _check_key_policy(self, key, "kms:DescribeKey")
        return json.dumps(key.to_dict())

    return describe_key


def _create_grant(original: Any) -> Any:
    # CreateGrant with another account's key ARN: a grant on that key, if its key policy allows it
    # for this grantee and these operations.
    def create_grant(self: Any) -> str:
        key = _foreign_key(self, self._get_param("KeyId"), aliases=False)
        if key is None:
            return original(self)
        grantee, retiring = self._get_param("GranteePrincipal"), self._get_param("RetiringPrincipal")
        operations = self._get_param("Operations") or []
        extra = {
            "kms:GrantIsForAWSResource": False,
            "kms:GranteePrincipal": grantee,
            "kms:GrantOperations": list(operations),
        }
        if retiring:
            extra["kms:RetiringPrincipal"] = retiring
        _check_key_policy(self, key, "kms:CreateGrant", extra)
        grant = key.add_grant(
            self._get_param("Name"),
            grantee,
            operations,
            constraints=self._get_param("Constraints"),
            retiring_principal=retiring,
        )
        return json.dumps({"GrantId": grant.id, "GrantToken": grant.token})

    return create_grant


def apply() -> None:
    """Install the cross-account KMS patches."""
    install(KmsResponse, "describe_key", _describe_key)
    install(KmsResponse, "create_grant", _create_grant)
