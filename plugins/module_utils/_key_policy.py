# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS key-policy statements that let an organization or OUs use a key. Pure code.

``PutKeyPolicy`` replaces the whole policy, so a grant is read, merge, write.

**Ownership.** The collection owns exactly the statements it writes, at most six,
recognised by their exact ``Sid`` (case-sensitive) and their shape:

``<prefix>OrgUse`` / ``<prefix>OrgCreateGrant`` / ``<prefix>OrgAutoScalingGrant``
    principals of whole organizations, ``StringEquals`` on ``aws:PrincipalOrgID``;
``<prefix>OuUse`` / ``<prefix>OuCreateGrant`` / ``<prefix>OuAutoScalingGrant``
    principals in OUs, ``ForAnyValue:StringLike`` on ``aws:PrincipalOrgPaths``.

The shape is: ``Effect: Allow``, ``Principal: "*"`` (or ``{"AWS": "*"}``), ``Resource: "*"``,
no ``NotAction``/``NotPrincipal``/``NotResource``, an ``Action`` that is a non-empty subset
of :data:`ACCEPTED_USE_ACTIONS` or :data:`ACCEPTED_GRANT_ACTIONS`, and exactly the condition
of its kind, with valid values (the *CreateGrant* statements may also carry
``Bool: {kms:GrantIsForAWSResource: "true"}``, which this version always writes; without it they
are the shape earlier versions wrote for ``grant_for_aws_resource_only=false``, and are rewritten;
the *AutoScalingGrant* statements carry exactly the grantee and operations conditions of
:func:`auto_scaling_condition`). Every other statement is foreign: kept as it was, in its place,
and never read for principals, whatever its Sid starts with. A statement with an owned Sid but
another shape is neither: :func:`plan_key_policy` refuses the policy (before anything is
written) and says how it differs.

The *Use* statements allow what launching from an encrypted AMI needs
(:data:`USE_ACTIONS`: what the Amazon EBS User Guide lists for users of a shared key in "Share
the KMS key used to encrypt a shared Amazon EBS snapshot"; the Amazon EC2 User Guide's "Allow
organizations and OUs to use a KMS key" writes ``kms:GenerateDataKey*`` for the two data-key
actions). Statements written before ``kms:GenerateDataKey`` was among them are rewritten with it
on the next run; the *CreateGrant* statements allow ``kms:CreateGrant`` for grants that an AWS
service creates (``kms:GrantIsForAWSResource``: EC2 attaching a volume). The *AutoScalingGrant*
statements, written only with ``grant_for_aws_resource_only=false``, allow the one grant EC2 Auto
Scaling needs, which the consumer creates itself (see :data:`AUTO_SCALING_GRANT_OPERATIONS`).
``Principal: "*"`` only ever appears with one of the organization conditions. Comparisons are
semantic: formatting, single strings versus lists and element order are not changes.

**OU identity.** An ``aws:PrincipalOrgPaths`` value names an OU (or a root) by its last
segment: ``o-x/r-y/ou-a/ou-b/*``, ``o-x/*/ou-b/*`` and ``o-x/r-y/ou-a/ou-b/`` all name
``ou-b`` of ``o-x`` (OUs cannot move, so the exact path and the pattern match the same
principals); the ``*`` at the end says the OU's subtree is in too. See :func:`ou_identity`.

**Size.** KMS takes key policies of up to 32,768 bytes. The policy is written as two-space
indented JSON when that fits, else as compact JSON, so that formatting alone never pushes a
policy over the limit; see :func:`serialize`.
"""

import copy
import json
import re
from collections import namedtuple

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_ou_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import principal_org_paths_value
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique

# AWS KMS Developer Guide, "Key policy format" (key-policy-overview.html#key-policy-format): a key
# policy document is "up to 32 kilobytes (32,768 bytes)"; the Quotas page lists the key policy
# document size as the one resource quota that cannot be raised. What counts is the document
# sent to PutKeyPolicy, white space included, which is why serialize() falls back to compact JSON.
MAX_POLICY_BYTES = 32768
DEFAULT_PREFIX = "OrgShare"
USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
]
GRANT_ACTIONS = ["kms:CreateGrant"]
# The actions an owned statement may hold: what this version writes, and for the Use statements
# also the data-key actions of the EBS and EC2 guides, which a coming version adds. A statement
# holding one of those extras keeps it when rewritten (see build_statements).
ACCEPTED_USE_ACTIONS = tuple(USE_ACTIONS) + ("kms:GenerateDataKey*",)
ACCEPTED_GRANT_ACTIONS = tuple(GRANT_ACTIONS)
ORG_ID_KEY = "aws:PrincipalOrgID"
ORG_PATHS_KEY = "aws:PrincipalOrgPaths"
GRANT_FOR_AWS_RESOURCE_KEY = "kms:GrantIsForAWSResource"
GRANTEE_KEY = "kms:GranteePrincipal"
GRANT_OPERATIONS_KEY = "kms:GrantOperations"
# The Amazon EC2 Auto Scaling User Guide, "Required AWS KMS key policy for use with encrypted volumes"
# (https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html),
# section "Example 2: Key policy sections that allow cross-account access to the customer managed
# key": the key's owner lets the external account call kms:CreateGrant, and the external account
# then creates one grant for its own service-linked role,
#   aws kms create-grant --key-id <key ARN>
#     --grantee-principal arn:aws:iam::<account>:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling
#     --operations "Encrypt" "Decrypt" "ReEncryptFrom" "ReEncryptTo" "GenerateDataKey" "GenerateDataKeyWithoutPlaintext"
#                  "DescribeKey" "CreateGrant"
# That guide's statement allows kms:CreateGrant without any condition, which would let every
# principal of the organization create any grant, for anyone (the EBS User Guide warns against
# unrestricted kms:CreateGrant). The *AutoScalingGrant* statements allow exactly that one grant,
# using the KMS Developer Guide's "AWS KMS condition keys" (conditions-kms.html):
# kms:GranteePrincipal (single-valued string, the request's GranteePrincipal) and
# kms:GrantOperations (multivalued: "ForAllValues: every grant operation in the request must match
# a grant operation in the policy condition"). The grantee is the caller's own account's role,
# through the policy variable ${aws:PrincipalAccount}: IAM "IAM policy elements: Variables and
# tags" (reference_policies_variables.html) says variables work in resource-based policies, in
# string condition operators, with global condition keys, and only under policy Version
# 2012-10-17 (earlier versions read them literally; see plan_key_policy); aws:PrincipalAccount is
# a global condition key present in every request (IAM "AWS global condition context keys"), and
# KMS supports all global condition keys ("AWS global condition keys" in the KMS guide).
AUTO_SCALING_GRANT_OPERATIONS = (
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "DescribeKey",
    "CreateGrant",
)
# Auto Scaling's service-linked role, and the ones with a custom suffix (Amazon EC2 Auto Scaling
# User Guide, "Service-linked roles for Amazon EC2 Auto Scaling": a group uses the default role or one
# "with a custom suffix that you specify when you create the role", AWSServiceRoleForAutoScaling_<suffix>,
# with the same permissions). Only AWS creates roles under the
# path /aws-service-role/ (IAM "Using service-linked roles"), so in the caller's own account the
# pattern names those roles and nothing else.
AUTO_SCALING_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
PRINCIPAL_ACCOUNT_VARIABLE = "${aws:PrincipalAccount}"
# IAM "IAM JSON policy elements: Version": policy variables are only read as variables under this version.
VARIABLES_VERSION = "2012-10-17"
STATEMENT_FIELDS = ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")

_PREFIX = re.compile(r"^[A-Za-z0-9]{1,64}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ORG_PATH = re.compile(r"^o-[a-z0-9]{10,32}/(?:(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\*)/)+\*?$")
_STAR_PRINCIPALS = ("*", {"AWS": "*"}, {"AWS": ["*"]})
_GRANT_FLAG_VALUES = ("true", True, ["true"], [True])
_PARTITION = re.compile(r"^arn:(aws[a-z-]*):")
_GRANTEE_OPERATOR = "StringLike"
_OPERATIONS_OPERATOR = "ForAllValues:StringEquals"


class Kind(namedtuple("Kind", "suffix operator key values actions create_grant auto_scaling")):
    """One of the six statements the collection writes: its Sid suffix, condition and actions.

    ``values`` is the pattern every condition value must match; ``actions`` the accepted actions;
    ``create_grant`` whether it allows kms:CreateGrant; ``auto_scaling`` whether it is the grant
    for the caller's Auto Scaling service-linked role (see :func:`auto_scaling_condition`).
    """

    __slots__ = ()


KINDS = (
    Kind("OrgUse", "StringEquals", ORG_ID_KEY, _ORG_ID, ACCEPTED_USE_ACTIONS, False, False),
    Kind("OrgCreateGrant", "StringEquals", ORG_ID_KEY, _ORG_ID, ACCEPTED_GRANT_ACTIONS, True, False),
    Kind("OrgAutoScalingGrant", "StringEquals", ORG_ID_KEY, _ORG_ID, ACCEPTED_GRANT_ACTIONS, True, True),
    Kind("OuUse", "ForAnyValue:StringLike", ORG_PATHS_KEY, _ORG_PATH, ACCEPTED_USE_ACTIONS, False, False),
    Kind("OuCreateGrant", "ForAnyValue:StringLike", ORG_PATHS_KEY, _ORG_PATH, ACCEPTED_GRANT_ACTIONS, True, False),
    Kind("OuAutoScalingGrant", "ForAnyValue:StringLike", ORG_PATHS_KEY, _ORG_PATH, ACCEPTED_GRANT_ACTIONS, True, True),
)


def auto_scaling_grantees(partition="aws"):
    """The ``kms:GranteePrincipal`` values an *AutoScalingGrant* statement allows: the caller's own account's
    ``AWSServiceRoleForAutoScaling``, and its custom-suffix ``AWSServiceRoleForAutoScaling_<suffix>`` roles.

    The account is the policy variable ``${aws:PrincipalAccount}`` and the partition is the key's, so
    that no character before the role's path is a wildcard (a ``*`` there could stand for another
    account, since ``StringLike`` wildcards also match colons).
    """
    role = f"arn:{partition}:iam::{PRINCIPAL_ACCOUNT_VARIABLE}:{AUTO_SCALING_ROLE}"
    return [role, role + "_*"]


def auto_scaling_condition(partition="aws"):
    """The conditions that narrow an *AutoScalingGrant* statement to the grant the Auto Scaling guide has consumers
    create: for their own account's Auto Scaling role, with no operation outside :data:`AUTO_SCALING_GRANT_OPERATIONS`.
    """
    return {
        _GRANTEE_OPERATOR: {GRANTEE_KEY: auto_scaling_grantees(partition)},
        _OPERATIONS_OPERATOR: {GRANT_OPERATIONS_KEY: list(AUTO_SCALING_GRANT_OPERATIONS)},
    }


def partition_of(arn, default="aws"):
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``...), ``default`` for anything else."""
    match = _PARTITION.match(arn) if isinstance(arn, str) else None
    return match.group(1) if match else default


class Principals(namedtuple("Principals", "organization_ids org_paths")):
    """Who a policy lets in: organization IDs and ``aws:PrincipalOrgPaths`` values (lists, no repeats)."""

    __slots__ = ()

    def as_dict(self):
        return {"organization_ids": list(self.organization_ids), "principal_org_paths": list(self.org_paths)}

    def __bool__(self):
        return bool(self.organization_ids or self.org_paths)


class OuIdentity(namedtuple("OuIdentity", "organization_id unit_id subtree")):
    """The OU (or root) an ``aws:PrincipalOrgPaths`` value names, and whether its subtree is in."""

    __slots__ = ()


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
    organization_ids = [
        parse_organization_arn(arn, "organization_arns", index).id
        for index, arn in enumerate(organization_arns or [], 1)
    ]
    paths = []
    for index, arn in enumerate(organizational_unit_arns or [], 1):
        unit = parse_ou_arn(arn, "organizational_unit_arns", index)
        paths.append(principal_org_paths_value(unit.organization_id, unit.id))
    for path in organizational_unit_paths or []:
        if not isinstance(path, str) or not _ORG_PATH.match(path):
            raise OrgShareError(
                f"{path!r} is not an aws:PrincipalOrgPaths value: expected o-<org>/r-<root>/ou-<ou>/.../ (optionally ending in *), "
                "or o-<org>/*/ou-<ou>/*, as org_arn_info returns in principal_org_paths."
            )
        paths.append(path)
    return Principals(unique(organization_ids), unique(paths))


def ou_identity(value):
    """Which OU or root an ``aws:PrincipalOrgPaths`` value names: an :class:`OuIdentity`, or None.

    The OU is the last segment of the path, in the organization of the first:
    ``o-x/r-y/ou-a/ou-b/*`` (its exact path), ``o-x/*/ou-b/*`` (the pattern an OU ARN
    becomes) and ``o-x/r-y/ou-a/ou-b/`` all name ``ou-b`` of ``o-x``. OU IDs are unique in
    an organization and OUs cannot be moved, so each of these matches the principals of the
    same OU. ``subtree`` is whether the value ends in ``*`` (the OUs below it are in too).
    A value whose last segment is ``*`` names no one OU: None (it is only ever itself).
    """
    segments = value.split("/")
    unit_id = segments[-2] if len(segments) > 2 else "*"
    if unit_id == "*":
        return None
    return OuIdentity(segments[0], unit_id, segments[-1] == "*")


def same_ou(first, second, same_reach=True):
    """Whether two ``aws:PrincipalOrgPaths`` values name the same OU (and, with ``same_reach``, its subtree alike)."""
    one, other = ou_identity(first), ou_identity(second)
    if one is None or other is None:
        return first == second
    return one == other if same_reach else one[:2] == other[:2]


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
        raise OrgShareError(
            "The key policy's Statement is neither a statement nor a list of them; fix it by hand before granting."
        )
    return policy


def statements_of(policy):
    """The policy's statements as a list (a lone statement becomes a one-element list)."""
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def owned_sids(prefix):
    """The Sids the collection writes under ``prefix``, each with its :class:`Kind`."""
    return {f"{prefix}{kind.suffix}": kind for kind in KINDS}


def kind_of(statement, prefix):
    """The :class:`Kind` whose Sid the statement has (exactly, case-sensitive), or None."""
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return owned_sids(prefix).get(sid) if isinstance(sid, str) else None


def _quote(value, limit=160):
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + "..."


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _expected_condition(kind):
    expected = f"{kind.operator} on {kind.key}"
    if kind.auto_scaling:
        return expected + f", {_GRANTEE_OPERATOR} on {GRANTEE_KEY} and {_OPERATIONS_OPERATOR} on {GRANT_OPERATIONS_KEY}"
    if kind.create_grant:
        expected += f" (and optionally Bool {GRANT_FOR_AWS_RESOURCE_KEY} true)"
    return expected


def _same_values(value, wanted):
    values = _as_list(value)
    return all(isinstance(item, str) for item in values) and sorted(values) == sorted(wanted)


def _auto_scaling_problems(condition):
    """What about an *AutoScalingGrant* statement's grantee and operations conditions differs from what is written."""
    problems = []
    grantee = condition.get(_GRANTEE_OPERATOR)
    values = _as_list(grantee.get(GRANTEE_KEY)) if isinstance(grantee, dict) else []
    partition = partition_of(values[0] if values else None, None)
    if (
        not isinstance(grantee, dict)
        or list(grantee) != [GRANTEE_KEY]
        or partition is None
        or not _same_values(values, auto_scaling_grantees(partition))
    ):
        problems.append(
            f"its Condition's {_GRANTEE_OPERATOR} is {_quote(grantee)}, not exactly {GRANTEE_KEY} "
            f"{_quote(auto_scaling_grantees())} (in the key's partition)"
        )
    operations = condition.get(_OPERATIONS_OPERATOR)
    if (
        not isinstance(operations, dict)
        or list(operations) != [GRANT_OPERATIONS_KEY]
        or not _same_values(operations[GRANT_OPERATIONS_KEY], AUTO_SCALING_GRANT_OPERATIONS)
    ):
        problems.append(
            f"its Condition's {_OPERATIONS_OPERATOR} is {_quote(operations)}, not exactly {GRANT_OPERATIONS_KEY} "
            f"{_quote(list(AUTO_SCALING_GRANT_OPERATIONS))}"
        )
    return problems


def _condition_problems(condition, kind):
    """What about a Condition is not exactly the one the collection writes for ``kind``."""
    expected = _expected_condition(kind)
    if not isinstance(condition, dict):
        return [f"its Condition is {_quote(condition)}, not {expected}"]
    problems = []
    if kind.auto_scaling:
        allowed = {kind.operator, _GRANTEE_OPERATOR, _OPERATIONS_OPERATOR}
    else:
        allowed = {kind.operator, "Bool"} if kind.create_grant else {kind.operator}
    others = [operator for operator in condition if operator not in allowed]
    if others:
        problems.append(
            f"its Condition has {', '.join(map(repr, others))}, which the module never writes there (only {expected})"
        )
    block = condition.get(kind.operator)
    if not isinstance(block, dict) or list(block) != [kind.key]:
        problems.append(f"its Condition's {kind.operator} is {_quote(block)}, not exactly one key {kind.key}")
    else:
        values = _as_list(block[kind.key])
        bad = [value for value in values if not isinstance(value, str) or not kind.values.match(value)]
        if not values or bad:
            what = "organization IDs" if kind.key == ORG_ID_KEY else "aws:PrincipalOrgPaths values"
            problems.append(f"its {kind.key} values {_quote(block[kind.key])} are not all {what}")
    if kind.auto_scaling:
        problems += _auto_scaling_problems(condition)
    elif kind.create_grant and "Bool" in condition:
        flag = condition["Bool"]
        if (
            not isinstance(flag, dict)
            or list(flag) != [GRANT_FOR_AWS_RESOURCE_KEY]
            or flag[GRANT_FOR_AWS_RESOURCE_KEY] not in _GRANT_FLAG_VALUES
        ):
            problems.append(f'its Condition\'s Bool is {_quote(flag)}, not {{"{GRANT_FOR_AWS_RESOURCE_KEY}": "true"}}')
    return problems


def shape_problems(statement, kind):
    """What about a statement differs from the shape the collection writes for ``kind`` (empty: it is one of them)."""
    problems = []
    extra = [field for field in statement if field not in STATEMENT_FIELDS]
    if extra:
        problems.append(f"it has {', '.join(map(repr, extra))} (the module writes only {', '.join(STATEMENT_FIELDS)})")
    if statement.get("Effect") != "Allow":
        problems.append(f'its Effect is {_quote(statement.get("Effect"))}, not "Allow"')
    if statement.get("Principal") not in _STAR_PRINCIPALS:
        problems.append(f'its Principal is {_quote(statement.get("Principal"))}, not "*"')
    if statement.get("Resource") not in ("*", ["*"]):
        problems.append(f'its Resource is {_quote(statement.get("Resource"))}, not "*"')
    actions = _as_list(statement.get("Action"))
    if not actions or any(action not in kind.actions for action in actions):
        problems.append(
            f"its Action {_quote(statement.get('Action'))} is not a non-empty subset of {_quote(list(kind.actions))}"
        )
    return problems + _condition_problems(statement.get("Condition"), kind)


def owned(statement, prefix):
    """Whether the collection owns this statement: one of its Sids, exactly, and the shape it writes."""
    kind = kind_of(statement, prefix)
    return kind is not None and not shape_problems(statement, kind)


def check_owned_statements(policy, prefix, key_arn=None):
    """Refuse a policy in which a statement has an owned Sid but not the shape the collection writes."""
    statements = statements_of(policy)
    refusals = []
    for index, statement in enumerate(statements):
        kind = kind_of(statement, prefix)
        problems = shape_problems(statement, kind) if kind else []
        if problems:
            refusals.append(
                f"statement {index + 1} of {len(statements)}, Sid {statement['Sid']!r}: {'; '.join(problems)}"
            )
    if refusals:
        raise OrgShareError(
            f"The key policy{_of_key(key_arn)} has a statement whose Sid statement_id_prefix {prefix!r} reserves for the "
            f"statements kms_org_grant writes, but which is not one of them ({'. '.join(refusals)}). It is left alone and "
            f"nothing is written. Rename or remove that statement, or choose another statement_id_prefix."
        )


def _of_key(key_arn):
    return f" of {key_arn}" if key_arn else ""


def current_principals(policy, prefix):
    """The principals the owned statements let in now (foreign statements are never read)."""
    organization_ids, paths = [], []
    for statement in statements_of(policy):
        if not owned(statement, prefix):
            continue
        condition = statement["Condition"]
        organization_ids += _as_list((condition.get("StringEquals") or {}).get(ORG_ID_KEY))
        paths += _as_list((condition.get("ForAnyValue:StringLike") or {}).get(ORG_PATHS_KEY))
    return Principals(unique(organization_ids), unique(paths))


def _without_repeats(paths, kept=()):
    """``paths`` less those naming an OU of ``kept`` or of an earlier path with the same reach."""
    result = []
    for path in paths:
        if not any(same_ou(path, other) for other in list(kept) + result):
            result.append(path)
    return result


def desired_principals(current, requested, state, purge):
    """Who should be let in: the requested ones added (``present``) or taken out (``absent``).

    OUs are compared by :func:`ou_identity`: ``absent`` takes out every value naming a
    requested OU, however spelt and whatever its reach; ``present`` adds a requested OU only
    when no value names it with the same reach yet (with ``purge``, the first value naming
    each requested OU is what is kept of it).
    """
    if state == "absent":
        return Principals(
            [value for value in current.organization_ids if value not in requested.organization_ids],
            [
                value
                for value in current.org_paths
                if not any(same_ou(value, gone, False) for gone in requested.org_paths)
            ],
        )
    organization_ids = requested.organization_ids if purge else current.organization_ids
    paths = current.org_paths
    if purge:
        paths = _without_repeats(
            [value for value in paths if any(same_ou(value, wanted) for wanted in requested.org_paths)]
        )
    return Principals(
        unique(organization_ids + requested.organization_ids), paths + _without_repeats(requested.org_paths, paths)
    )


def _statement(sid, actions, condition):
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": list(actions),
        "Resource": "*",
        "Condition": condition,
    }


def build_statements(principals, prefix, grant_for_aws_resource_only=True, kept_actions=None, partition="aws"):
    """The owned statements that let ``principals`` use the key (none for nobody).

    For organizations, then for OUs: the *Use* statement, the *CreateGrant* statement (grants for
    AWS resources, ``kms:GrantIsForAWSResource``) and, when ``grant_for_aws_resource_only`` is
    false, the *AutoScalingGrant* statement (the one grant for the caller's own Auto Scaling
    service-linked role, in ``partition``). Conditions of one statement are ANDed, so "for an AWS
    resource, or for the Auto Scaling role" takes two statements.
    ``kept_actions`` maps a kind's Sid suffix to accepted actions beyond what this version
    writes that its statement already holds (see :func:`extra_actions`); they stay.
    """
    kept_actions = kept_actions or {}
    statements = []
    for kind in KINDS:
        values = principals.organization_ids if kind.key == ORG_ID_KEY else principals.org_paths
        if not values or kind.auto_scaling and grant_for_aws_resource_only:
            continue
        condition = {kind.operator: {kind.key: list(values)}}
        if kind.auto_scaling:
            condition.update(auto_scaling_condition(partition))
        elif kind.create_grant:
            condition["Bool"] = {GRANT_FOR_AWS_RESOURCE_KEY: "true"}
        actions = GRANT_ACTIONS if kind.create_grant else USE_ACTIONS
        statements.append(_statement(f"{prefix}{kind.suffix}", actions + kept_actions.get(kind.suffix, []), condition))
    return statements


def extra_actions(statements, prefix):
    """For each kind, the accepted actions its owned statements hold that this version does not write."""
    held = {}
    for statement in statements:
        kind = kind_of(statement, prefix)
        written = GRANT_ACTIONS if kind.create_grant else USE_ACTIONS
        actions = _as_list(statement["Action"])
        held.setdefault(kind.suffix, [])
        known = written + held[kind.suffix]
        held[kind.suffix] += [action for action in kind.actions if action in actions and action not in known]
    return {suffix: actions for suffix, actions in held.items() if actions}


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
    """Whether two lists of statements mean the same, whatever their formatting and order.

    Unlike :func:`same_policy`, repeats count: amazon.aws's ``compare_policies`` compares statements as a set, but an
    owned statement found twice is a change to make (the two are merged into one), not the same policy.
    """

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


def _compact(policy):
    return json.dumps(policy, separators=(",", ":"))


def same_policy(first, second):
    """Whether two key policies (JSON text or dicts) are the same document, whatever their formatting.

    amazon.aws's ``compare_policies`` decides (order, lone strings for lists, ``true`` for true, ``"*"`` for
    ``{"AWS": "*"}`` and an account's root ARN for its ID are all the same to it); no ``Version`` is assumed, so a
    policy that lost its ``Version`` is another document.
    """
    return not compare_policies(parse_policy(first), parse_policy(second), default_version=None)


def serialize(policy):
    """The policy as written by PutKeyPolicy: two-space JSON when that fits KMS's limit, else compact JSON.

    Keys stay in their given order. Indented JSON is what the console shows readably, but its
    white space counts against the limit (a policy of many short values can double in size), so
    a policy that fits only without it is written compactly rather than refused.
    """
    indented = json.dumps(policy, indent=2)
    return indented if len(indented.encode("utf-8")) <= MAX_POLICY_BYTES else _compact(policy)


def policy_size(policy):
    """Size in bytes of the document :func:`serialize` writes: what KMS's 32,768-byte limit counts."""
    return len(serialize(policy).encode("utf-8"))


def _too_large(after, policy, new_owned, wanted, prefix, key_arn):
    """The refusal of a policy that even compact JSON cannot fit into KMS's limit."""
    size = len(_compact(after).encode("utf-8"))
    rest = len(_compact(merge_statements(policy, [], prefix)).encode("utf-8"))
    return OrgShareError(
        f"The key policy{_of_key(key_arn)} would be {size} bytes even as compact JSON, over the {MAX_POLICY_BYTES}-byte limit "
        f"of KMS key policies: the managed statements take {size - rest} bytes ({len(new_owned)} statement(s) for "
        f"{len(wanted.organization_ids)} organization(s) and {len(wanted.org_paths)} OU path(s)) and the rest of the policy "
        f"takes {rest} bytes. Grant a parent OU or the whole organization instead of many OUs, or shorten other statements "
        "of the policy."
    )


def _version_to_add(policy, new_owned, prefix, key_arn):
    """Whether ``Version: 2012-10-17`` must be added for the policy variable of an *AutoScalingGrant* statement.

    IAM "IAM JSON policy elements: Version": without that version, "variables like ${aws:username}
    are treated as literal strings", so the statement would never match. A policy without any
    Version gets it (the KMS Developer Guide, "Elements in a key policy", has every key policy set
    Version to 2012-10-17) unless its text holds ``${`` already, whose meaning that would change;
    a policy with another Version is refused rather than reinterpreted.
    """
    version = policy.get("Version")
    if version == VARIABLES_VERSION or not any(kind_of(statement, prefix).auto_scaling for statement in new_owned):
        return False
    if version is None and "${" not in _compact(merge_statements(policy, [], prefix)):
        return True
    found = (
        f"has Version {_quote(version)}"
        if version is not None
        else "has no Version, and text in it looks like policy variables"
    )
    raise OrgShareError(
        f'The key policy{_of_key(key_arn)} {found}: only under Version "{VARIABLES_VERSION}" does KMS read the policy '
        f"variable {PRINCIPAL_ACCOUNT_VARIABLE} of the statement that lets Auto Scaling's service-linked role be a grantee "
        "(grant_for_aws_resource_only=false), and changing the Version would change what the policy's other ${...} text "
        f'means. Nothing is written. Set the policy\'s Version to "{VARIABLES_VERSION}" by hand after checking its other '
        "statements, or keep grant_for_aws_resource_only=true."
    )


def plan_key_policy(
    policy,
    requested,
    state="present",
    purge=False,
    prefix=DEFAULT_PREFIX,
    grant_for_aws_resource_only=True,
    key_arn=None,
):
    """Plan one key's policy change.

    ``policy``: the current policy (JSON text or dict); ``requested``: :class:`Principals`;
    ``key_arn`` names the key in messages and gives the partition of the Auto Scaling role's ARN
    (``aws`` without it). Returns a :class:`PolicyPlan`; raises OrgShareError when a statement has
    an owned Sid but another shape, when an *AutoScalingGrant* statement is due in a policy with
    another ``Version`` than 2012-10-17 (see :func:`_version_to_add`), or when the result would
    exceed KMS's size limit even written compactly.
    """
    before = parse_policy(policy)
    check_owned_statements(before, prefix, key_arn)
    current = current_principals(before, prefix)
    wanted = desired_principals(current, requested, state, purge)
    old_owned = [statement for statement in statements_of(before) if owned(statement, prefix)]
    new_owned = build_statements(
        wanted, prefix, grant_for_aws_resource_only, extra_actions(old_owned, prefix), partition_of(key_arn)
    )
    add_version = _version_to_add(before, new_owned, prefix, key_arn)
    added = Principals(
        [value for value in wanted.organization_ids if value not in current.organization_ids],
        [value for value in wanted.org_paths if value not in current.org_paths],
    )
    removed = Principals(
        [value for value in current.organization_ids if value not in wanted.organization_ids],
        [value for value in current.org_paths if value not in wanted.org_paths],
    )
    if same_statements(old_owned, new_owned) and not add_version:
        return PolicyPlan(before, before, False, added, removed, old_owned)
    after = merge_statements(before, new_owned, prefix)
    if add_version:
        after = dict([("Version", VARIABLES_VERSION)] + list(after.items()))
    if policy_size(after) > MAX_POLICY_BYTES:
        raise _too_large(after, before, new_owned, wanted, prefix, key_arn)
    return PolicyPlan(before, after, True, added, removed, new_owned)


# --- key and alias ARNs ------------------------------------------------------------------------

# A key ARN or alias ARN (partition aws[a-z-]*, account 12 digits, as in _arns). KMS API reference:
# DescribeKey, "Cross-account use: Yes. To perform this operation with a KMS key in a different AWS
# account, specify the key ARN or alias ARN"; so a key ID or an alias name always names a key of the
# caller's own account.
_KMS_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<name>.+)$"
)


class KmsArn(namedtuple("KmsArn", "region account kind name")):
    """A key ARN (``kind`` ``key``, ``name`` the key ID) or alias ARN (``kind`` ``alias``) taken apart."""

    __slots__ = ()


def parse_kms_arn(key_ref):
    """The parts of a key ARN or alias ARN, or None for anything else (a key ID, an alias name)."""
    match = _KMS_ARN.match(key_ref) if isinstance(key_ref, str) else None
    return KmsArn(**match.groupdict()) if match else None


def owner_statements(requested, prefix=DEFAULT_PREFIX, grant_for_aws_resource_only=True):
    """The statements kms_org_grant writes for exactly ``requested``: the plan of a grant on a policy without them.

    For a key whose policy only its own account can read and change: these are what its owner adds
    (or, to take the principals out, what names them), as the module would write them.
    """
    return plan_key_policy(
        {"Version": "2012-10-17", "Statement": []}, requested, "present", False, prefix, grant_for_aws_resource_only
    ).statements


def foreign_key_message(key_ref, owner_account, caller_account, state, describe_refusal=None):
    """Why kms_org_grant cannot grant a key of another account from this one, and what to do instead."""
    refused = (
        f" DescribeKey was refused too ({describe_refusal}): the key's policy does not let account {caller_account} describe it, "
        "or the key does not exist in that account and region."
        if describe_refusal
        else ""
    )
    change = (
        "add the statements in owner_statements to its policy"
        if state == "present"
        else "take the organizations and OUs of owner_statements out of its policy"
    )
    return (
        f"The key {key_ref} belongs to account {owner_account}, not to account {caller_account} of these credentials: a key "
        "policy can only be read (GetKeyPolicy) and changed (PutKeyPolicy) in the key's own account, so kms_org_grant cannot "
        f"check or change it from here.{refused} Run kms_org_grant with credentials of account {owner_account} (for example "
        f"the same task under that account's profile or role; owner_task holds its arguments), or have the key's owner {change}."
    )


# IAM User Guide, "AWS JSON policy elements: Principal" (IAM role principals): a role or user ARN in a
# resource-based policy is saved as the principal's unique ID; "if you delete the role or user, then the
# relationship is broken", and "the principal ID shows up ... because AWS can no longer map it back to an
# ARN". Unique IDs of users start with AIDA and of roles with AROA (IAM User Guide, "IAM identifiers",
# unique identifiers). KMS then refuses any policy that still holds it (PutKeyPolicy:
# MalformedPolicyDocumentException, "Policy contains a statement with one or more invalid principals";
# AWS re:Post knowledge center, kms-policy-error-invalid-principals), whoever changes the policy.
_UNIQUE_PRINCIPAL_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")
_ROLE_OR_USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(?:role|user)/.+$")


class PrincipalSuspects(namedtuple("PrincipalSuspects", "certain statements")):
    """Statements kms_org_grant did not write that name suspect principals: ``statements`` is a list of
    (label, principals); ``certain`` is whether those are unique IDs (deleted principals for sure) rather
    than role or user ARNs (one of which may have been deleted)."""

    __slots__ = ()


def _aws_principals(statement):
    values = []
    for field in ("Principal", "NotPrincipal"):
        principal = statement.get(field) if isinstance(statement, dict) else None
        if isinstance(principal, dict):
            values += [value for value in _as_list(principal.get("AWS")) if isinstance(value, str)]
    return values


def statement_label(statement, index, count):
    """How a message names a statement: its Sid, or its position when it has none."""
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return f"Sid {sid!r}" if isinstance(sid, str) and sid else f"statement {index + 1} of {count} (no Sid)"


def stale_principal_suspects(policy, prefix=DEFAULT_PREFIX):
    """The principals of the statements kms_org_grant does not own that may no longer exist.

    Unique IDs (AIDA.../AROA...) are certainly stale; only when no such statement names one, the IAM
    role and user ARNs are returned instead, as possibly deleted. The owned statements name nobody
    but ``*``, so they are never suspects.
    """
    statements = statements_of(parse_policy(policy))
    foreign = [(index, statement) for index, statement in enumerate(statements) if not owned(statement, prefix)]

    def matching(pattern):
        found = [
            (
                statement_label(statement, index, len(statements)),
                [value for value in _aws_principals(statement) if pattern.match(value)],
            )
            for index, statement in foreign
        ]
        return [(label, values) for label, values in found if values]

    unique_ids = matching(_UNIQUE_PRINCIPAL_ID)
    return PrincipalSuspects(True, unique_ids) if unique_ids else PrincipalSuspects(False, matching(_ROLE_OR_USER_ARN))


def _suspect_list(suspects):
    return "; ".join(f"{label}: {', '.join(values)}" for label, values in suspects.statements)


def invalid_principals_message(key_arn, policy, prefix=DEFAULT_PREFIX):
    """The refusal of a policy KMS would not take because a principal in it does not exist (or no longer does)."""
    suspects = stale_principal_suspects(policy, prefix)
    if suspects.certain:
        found = (
            "These statements that kms_org_grant did not write name principals by unique ID, which is how a key policy "
            f"shows a role or user that has been deleted: {_suspect_list(suspects)}."
        )
    elif suspects.statements:
        found = (
            "No statement that kms_org_grant did not write names a principal by unique ID, but these name IAM roles or "
            f"users, one of which may have been deleted: {_suspect_list(suspects)}."
        )
    else:
        found = (
            "No statement that kms_org_grant did not write names an IAM role or user; check their other principals "
            "(accounts, service principals)."
        )
    return (
        f"KMS refused the key policy of {key_arn}: it names a principal that does not exist (MalformedPolicyDocumentException, "
        f"invalid principals), and PutKeyPolicy only takes a whole policy, so no grant can be written until it is fixed. {found} "
        "Remove or correct that principal in the key policy (kms_org_grant never edits statements it did not write), then "
        "run again."
    )


def stale_principal_warning(key_arn, policy, prefix=DEFAULT_PREFIX):
    """For check mode: a warning when statements kms_org_grant did not write name deleted principals (else None)."""
    suspects = stale_principal_suspects(policy, prefix)
    if not suspects.certain:
        return None
    return (
        f"The key policy of {key_arn} names principals by unique ID in statements kms_org_grant did not write, which is how a "
        f"deleted role or user shows: {_suspect_list(suspects)}. KMS may refuse the write (invalid principals); remove or "
        "correct those principals in the key policy first."
    )
