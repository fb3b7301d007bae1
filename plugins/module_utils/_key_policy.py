# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS key-policy statements that let an organization or OUs use a key. Pure code.

``PutKeyPolicy`` replaces the whole policy, so a grant is read, merge, write.
The collection owns exactly the statements whose ``Sid`` starts with a prefix
(``OrgShare`` by default) and rewrites only those; every other statement is
kept as it was, in its place. At most four statements are owned:

``<prefix>OrgUse`` / ``<prefix>OrgCreateGrant``
    principals of whole organizations, ``StringEquals`` on ``aws:PrincipalOrgID``;
``<prefix>OuUse`` / ``<prefix>OuCreateGrant``
    principals in OUs, ``ForAnyValue:StringLike`` on ``aws:PrincipalOrgPaths``.

The *Use* statements allow what launching from an encrypted AMI needs
(``kms:Decrypt``, ``kms:DescribeKey``, ``kms:ReEncrypt*``,
``kms:GenerateDataKeyWithoutPlaintext``); the *CreateGrant* statements allow
``kms:CreateGrant``, limited by ``kms:GrantIsForAWSResource`` unless that
limit is lifted. ``Principal: "*"`` only ever appears with one of these
conditions. Comparisons are semantic: formatting, single strings versus lists
and element order are not changes.
"""

import copy
import json
import re
from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_ou_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import principal_org_paths_value
from ansible_collections.orgshare.aws.plugins.module_utils._arns import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

MAX_POLICY_BYTES = 32768
DEFAULT_PREFIX = "OrgShare"
USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext"]
GRANT_ACTIONS = ["kms:CreateGrant"]
ORG_ID_KEY = "aws:PrincipalOrgID"
ORG_PATHS_KEY = "aws:PrincipalOrgPaths"
GRANT_FOR_AWS_RESOURCE_KEY = "kms:GrantIsForAWSResource"

_PREFIX = re.compile(r"^[A-Za-z0-9]{1,64}$")
_ORG_PATH = re.compile(
    r"^o-[a-z0-9]{10,32}/(?:(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\*)/)+\*?$"
)


class Principals(namedtuple("Principals", "organization_ids org_paths")):
    """Who a policy lets in: organization IDs and ``aws:PrincipalOrgPaths`` values (lists, no repeats)."""

    __slots__ = ()

    def as_dict(self):
        return {"organization_ids": list(self.organization_ids), "principal_org_paths": list(self.org_paths)}

    def __bool__(self):
        return bool(self.organization_ids or self.org_paths)


class PolicyPlan(namedtuple("PolicyPlan", "before after changed added removed statements")):
    """The key policy before and after (dicts), whether it changes, the principals added and removed,
    and the owned statements after."""

    __slots__ = ()

    def document(self):
        """The policy document to write (exactly what :func:`policy_size` measures)."""
        return serialize(self.after)


def check_prefix(prefix):
    """Refuse a Sid prefix KMS would not take (Sids here are letters and digits)."""
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise OrgShareError(f"statement_id_prefix {prefix!r} must be 1 to 64 letters or digits.")
    return prefix


def requested_principals(organization_arns=None, organizational_unit_arns=None, organizational_unit_paths=None):
    """The principals named by the module's options, checked: org ARNs become IDs, OU ARNs path patterns."""
    organization_ids = [parse_organization_arn(arn).id for arn in organization_arns or []]
    paths = []
    for arn in organizational_unit_arns or []:
        unit = parse_ou_arn(arn)
        paths.append(principal_org_paths_value(unit.organization_id, unit.id))
    for path in organizational_unit_paths or []:
        if not isinstance(path, str) or not _ORG_PATH.match(path):
            raise OrgShareError(
                f"{path!r} is not an aws:PrincipalOrgPaths value: expected o-<org>/r-<root>/ou-<ou>/.../ (optionally ending in *), "
                "or o-<org>/*/ou-<ou>/*, as org_arn_info returns in principal_org_paths."
            )
        paths.append(path)
    return Principals(unique(organization_ids), unique(paths))


def parse_policy(document):
    """A key policy (JSON text or dict) as a dict; the statement list may be a single statement."""
    if isinstance(document, dict):
        policy = copy.deepcopy(document)
    else:
        try:
            policy = json.loads(document)
        except (TypeError, ValueError) as e:
            raise OrgShareError(f"The key policy is not valid JSON ({e}); fix it by hand before granting.") from e
    if not isinstance(policy, dict):
        raise OrgShareError("The key policy is not a JSON object; fix it by hand before granting.")
    statements = policy.get("Statement", [])
    if not isinstance(statements, (list, dict)):
        raise OrgShareError("The key policy's Statement is neither a statement nor a list of them; fix it by hand before granting.")
    return policy


def statements_of(policy):
    """The policy's statements as a list (a lone statement becomes a one-element list)."""
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def owned(statement, prefix):
    """Whether the collection owns this statement (its Sid starts with the prefix)."""
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return isinstance(sid, str) and sid.startswith(prefix)


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def current_principals(policy, prefix):
    """The principals the owned statements let in now."""
    organization_ids, paths = [], []
    for statement in statements_of(policy):
        if not owned(statement, prefix):
            continue
        condition = statement.get("Condition") or {}
        organization_ids += _as_list((condition.get("StringEquals") or {}).get(ORG_ID_KEY))
        paths += _as_list((condition.get("ForAnyValue:StringLike") or {}).get(ORG_PATHS_KEY))
    return Principals(unique(organization_ids), unique(paths))


def desired_principals(current, requested, state, purge):
    """Who should be let in: the requested ones added (``present``) or taken out (``absent``)."""
    if state == "absent":
        return Principals(
            [value for value in current.organization_ids if value not in requested.organization_ids],
            [value for value in current.org_paths if value not in requested.org_paths],
        )
    base = Principals([], []) if purge else current
    return Principals(unique(base.organization_ids + requested.organization_ids), unique(base.org_paths + requested.org_paths))


def _statement(sid, actions, condition):
    return {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": list(actions), "Resource": "*", "Condition": condition}


def build_statements(principals, prefix, grant_for_aws_resource_only=True):
    """The owned statements that let ``principals`` use the key (none for nobody)."""
    statements = []
    kinds = (("Org", "StringEquals", ORG_ID_KEY, principals.organization_ids), ("Ou", "ForAnyValue:StringLike", ORG_PATHS_KEY, principals.org_paths))
    for name, operator, key, values in kinds:
        if not values:
            continue
        statements.append(_statement(f"{prefix}{name}Use", USE_ACTIONS, {operator: {key: list(values)}}))
        grant_condition = {operator: {key: list(values)}}
        if grant_for_aws_resource_only:
            grant_condition["Bool"] = {GRANT_FOR_AWS_RESOURCE_KEY: "true"}
        statements.append(_statement(f"{prefix}{name}CreateGrant", GRANT_ACTIONS, grant_condition))
    return statements


def normalize(value):
    """A canonical form for semantic comparison: lone strings are lists, lists are sorted, "true" and true alike."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        # A list's scalars stand for themselves (not wrapped again), so ["a"] and "a" come out alike.
        items = [normalize(item) for item in value]
        items = [element for item in items for element in (item if isinstance(item, list) else [item])]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, bool):
        return [str(value).lower()]
    return [value] if isinstance(value, (str, int, float)) or value is None else value


def _normalize_statement(statement):
    normal = normalize(statement)
    if isinstance(statement, dict) and normal.get("Principal") in (["*"], {"AWS": ["*"]}):
        normal["Principal"] = ["*"]  # "*", {"AWS": "*"} and {"AWS": ["*"]} mean the same principal
    return normal


def same_statements(first, second):
    """Whether two lists of statements mean the same, whatever their formatting and order."""
    def canonical(statements):
        return sorted(json.dumps(_normalize_statement(statement), sort_keys=True) for statement in statements)

    return canonical(first) == canonical(second)


def merge_statements(policy, owned_after, prefix):
    """The policy with its owned statements replaced by ``owned_after``; every other statement kept in place.

    The owned statements take the place of the first one there was, or go last.
    A policy left with none of its owned statements and nothing else changed
    is returned exactly as it was given.
    """
    statements = statements_of(policy)
    positions = [index for index, statement in enumerate(statements) if owned(statement, prefix)]
    foreign = [statement for statement in statements if not owned(statement, prefix)]
    insert_at = positions[0] if positions else len(statements)
    before_insert = sum(1 for index in range(insert_at) if not owned(statements[index], prefix))
    merged = foreign[:before_insert] + list(owned_after) + foreign[before_insert:]
    result = copy.deepcopy(policy)
    if not owned_after and not positions:
        return result
    result["Statement"] = merged
    return result


def serialize(policy):
    """The policy as written by PutKeyPolicy (two-space JSON, keys in their given order)."""
    return json.dumps(policy, indent=2)


def policy_size(policy):
    """Size in bytes of the document :func:`serialize` writes: what KMS's 32,768-byte limit counts."""
    return len(serialize(policy).encode("utf-8"))


def plan_key_policy(policy, requested, state="present", purge=False, prefix=DEFAULT_PREFIX, grant_for_aws_resource_only=True):
    """Plan one key's policy change.

    ``policy``: the current policy (JSON text or dict); ``requested``: :class:`Principals`.
    Returns a :class:`PolicyPlan`; raises OrgShareError when the result would exceed
    KMS's size limit.
    """
    before = parse_policy(policy)
    current = current_principals(before, prefix)
    wanted = desired_principals(current, requested, state, purge)
    new_owned = build_statements(wanted, prefix, grant_for_aws_resource_only)
    old_owned = [statement for statement in statements_of(before) if owned(statement, prefix)]
    added = Principals(
        [value for value in wanted.organization_ids if value not in current.organization_ids],
        [value for value in wanted.org_paths if value not in current.org_paths],
    )
    removed = Principals(
        [value for value in current.organization_ids if value not in wanted.organization_ids],
        [value for value in current.org_paths if value not in wanted.org_paths],
    )
    if same_statements(old_owned, new_owned):
        return PolicyPlan(before, before, False, added, removed, old_owned)
    after = merge_statements(before, new_owned, prefix)
    size = policy_size(after)
    if size > MAX_POLICY_BYTES:
        raise OrgShareError(
            f"The key policy would be {size} bytes, over the {MAX_POLICY_BYTES}-byte limit of KMS key policies "
            f"({len(wanted.organization_ids)} organization(s) and {len(wanted.org_paths)} OU path(s) in the managed statements). "
            "Grant a parent OU or the whole organization instead of many OUs, or shorten other statements of the policy."
        )
    return PolicyPlan(before, after, True, added, removed, new_owned)
