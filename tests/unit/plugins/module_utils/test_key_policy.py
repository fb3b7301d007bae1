# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure key-policy planner: table-driven corner cases, then properties checked with hypothesis.

Every plan is computed from a policy given as a dict or as text; the foreign
statements (the ones the collection does not own) are compared byte for byte
as JSON, because the contract is that they survive exactly.
"""

import copy
import json

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import Principals

MGMT = "111122223333"
ORG_ID = "o-a1b2c3d4e5"
OTHER_ORG_ID = "o-z9y8x7w6v5"
OU_ID = "ou-ab12-cd34ef56"
OTHER_OU_ID = "ou-ab12-11111111"
ORG_ARN = f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}"
OTHER_ORG_ARN = f"arn:aws:organizations::{MGMT}:organization/{OTHER_ORG_ID}"
OU_ARN = f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{OU_ID}"
OTHER_OU_ARN = f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{OTHER_OU_ID}"
OU_PATTERN = f"{ORG_ID}/*/{OU_ID}/*"
OTHER_OU_PATTERN = f"{ORG_ID}/*/{OTHER_OU_ID}/*"
FULL_PATH = f"{ORG_ID}/r-ab12/{OTHER_OU_ID}/{OU_ID}/*"
CHILD_OU_ID = "ou-ab12-22222222"
CHILD_PATH = f"{ORG_ID}/r-ab12/{OTHER_OU_ID}/{OU_ID}/{CHILD_OU_ID}/*"
KEY_ARN = f"arn:aws:kms:us-east-1:{MGMT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
USE = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
USE_0_1 = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext"]
GRANT_ONLY_FOR_AWS = {"kms:GrantIsForAWSResource": "true"}

# What KMS puts in a new key's policy, and what operators add by hand.
ROOT_STATEMENT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
DENY_STATEMENT = {
    "Sid": "DenyOutsideTheVpc",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["kms:Decrypt", "kms:Encrypt"],
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"},
        "Bool": {"aws:ViaAWSService": "false"},
    },
}
ADMIN_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{MGMT}:role/KeyAdmin", f"arn:aws:iam::{MGMT}:user/ops"]},
    "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:Put*"],
    "Resource": "*",
}


def policy(*statements, **top):
    document = {"Version": "2012-10-17", "Id": "key-default-1"}
    document.update(top)
    document["Statement"] = list(statements)
    return document


def org_use(*org_ids, sid="OrgShareOrgUse"):
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": list(USE),
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": list(org_ids)}},
    }


def org_grant(*org_ids, only_for_aws=True, sid="OrgShareOrgCreateGrant"):
    condition = {"StringEquals": {"aws:PrincipalOrgID": list(org_ids)}}
    if only_for_aws:
        condition["Bool"] = dict(GRANT_ONLY_FOR_AWS)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": condition,
    }


def ou_use(*paths):
    return {
        "Sid": "OrgShareOuUse",
        "Effect": "Allow",
        "Principal": "*",
        "Action": list(USE),
        "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": list(paths)}},
    }


def ou_grant(*paths, only_for_aws=True):
    condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": list(paths)}}
    if only_for_aws:
        condition["Bool"] = dict(GRANT_ONLY_FOR_AWS)
    return {
        "Sid": "OrgShareOuCreateGrant",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": condition,
    }


# Amazon EC2 Auto Scaling User Guide, "Required AWS KMS key policy for use with encrypted volumes": the operations of
# the grant consumers create for their Auto Scaling service-linked role.
AUTO_SCALING_OPERATIONS = [
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "DescribeKey",
    "CreateGrant",
]


def auto_scaling_grantees(partition="aws"):
    role = f"arn:{partition}:iam::${{aws:PrincipalAccount}}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    return [role, role + "_*"]


def _auto_scaling(sid, operator, key, values, partition):
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": {
            operator: {key: list(values)},
            "StringLike": {"kms:GranteePrincipal": auto_scaling_grantees(partition)},
            "ForAllValues:StringEquals": {"kms:GrantOperations": list(AUTO_SCALING_OPERATIONS)},
        },
    }


def org_auto_scaling(*org_ids, partition="aws"):
    return _auto_scaling("OrgShareOrgAutoScalingGrant", "StringEquals", "aws:PrincipalOrgID", org_ids, partition)


def ou_auto_scaling(*paths, partition="aws"):
    return _auto_scaling(
        "OrgShareOuAutoScalingGrant", "ForAnyValue:StringLike", "aws:PrincipalOrgPaths", paths, partition
    )


def plan(document, state="present", purge=False, grant_for_aws_resource_only=True, prefix="OrgShare", **requested):
    return _key_policy.plan_key_policy(
        document, _key_policy.requested_principals(**requested), state, purge, prefix, grant_for_aws_resource_only
    )


def foreign_of(document, prefix="OrgShare"):
    """The foreign statements as JSON text each (byte-for-byte comparison)."""
    return [
        json.dumps(statement)
        for statement in _key_policy.statements_of(document)
        if not _key_policy.owned(statement, prefix)
    ]


def sids(document):
    return [statement.get("Sid") for statement in _key_policy.statements_of(document)]


# --- requested principals ----------------------------------------------------------------


@pytest.mark.parametrize(
    "requested, organization_ids, org_paths",
    [
        (dict(organization_arns=[ORG_ARN]), [ORG_ID], []),
        (dict(organization_arns=[f"arn:aws-us-gov:organizations::{MGMT}:organization/{ORG_ID}"]), [ORG_ID], []),
        (dict(organizational_unit_arns=[OU_ARN]), [], [OU_PATTERN]),
        (dict(organizational_unit_paths=[FULL_PATH]), [], [FULL_PATH]),
        (dict(organizational_unit_paths=[f"{ORG_ID}/r-ab12/{OU_ID}/"]), [], [f"{ORG_ID}/r-ab12/{OU_ID}/"]),
        (dict(organizational_unit_paths=[OU_PATTERN]), [], [OU_PATTERN]),
        # An OU ARN and the pattern it becomes are the same principal; repeats collapse, first order kept.
        (
            dict(
                organization_arns=[OTHER_ORG_ARN, ORG_ARN, OTHER_ORG_ARN],
                organizational_unit_arns=[OTHER_OU_ARN, OU_ARN],
                organizational_unit_paths=[OU_PATTERN, FULL_PATH],
            ),
            [OTHER_ORG_ID, ORG_ID],
            [OTHER_OU_PATTERN, OU_PATTERN, FULL_PATH],
        ),
        (dict(), [], []),
        (dict(organization_arns=None, organizational_unit_arns=None, organizational_unit_paths=None), [], []),
    ],
)
def test_requested_principals(requested, organization_ids, org_paths):
    principals = _key_policy.requested_principals(**requested)
    assert principals.organization_ids == organization_ids
    assert principals.org_paths == org_paths
    assert bool(principals) == bool(organization_ids or org_paths)
    assert principals.as_dict() == {"organization_ids": organization_ids, "principal_org_paths": org_paths}


@pytest.mark.parametrize(
    "requested, fragments",
    [
        (dict(organization_arns=[ORG_ID]), [repr(ORG_ID), "bare organization ID", "org_arn_info"]),
        (dict(organizational_unit_arns=[OU_ID]), [repr(OU_ID), "bare OU ID", "org_arn_info"]),
        (dict(organizational_unit_arns=[ORG_ARN]), ["'organization'", "not 'ou'"]),
        (dict(organization_arns=[OU_ARN]), ["'ou'", "not 'organization'"]),
        (dict(organization_arns=[f"arn:aws:organizations::12345:organization/{ORG_ID}"]), ["'12345'"]),
        (dict(organizational_unit_paths=[OU_ID]), [repr(OU_ID), "aws:PrincipalOrgPaths", "org_arn_info"]),
        (dict(organizational_unit_paths=[ORG_ID]), [repr(ORG_ID)]),
        (dict(organizational_unit_paths=[ORG_ID + "/"]), [repr(ORG_ID + "/")]),
        (dict(organizational_unit_paths=[ORG_ID + "/*"]), [repr(ORG_ID + "/*")]),
        (dict(organizational_unit_paths=[OU_ARN]), [repr(OU_ARN)]),
        (dict(organizational_unit_paths=[f"{ORG_ID}/r-ab12/{OU_ID}"]), ["r-ab12/" + OU_ID + "'"]),
        (dict(organizational_unit_paths=[f"{ORG_ID.upper()}/r-ab12/{OU_ID}/"]), [ORG_ID.upper()]),
        (dict(organizational_unit_paths=[f"{ORG_ID}/r-ab12/{OU_ID}/* "]), ["/* '"]),
        (dict(organizational_unit_paths=[f"{ORG_ID}/r-ab12/ou-x/*"]), ["ou-x"]),
        (dict(organizational_unit_paths=[""]), ["''"]),
        (dict(organizational_unit_paths=[42]), ["42"]),
        (dict(organization_arns=[ORG_ARN, ""]), ["entry 2 of organization_arns is empty or null"]),
        (dict(organizational_unit_arns=[""]), ["entry 1 of organizational_unit_arns is empty or null"]),
    ],
)
def test_requested_principals_refused(requested, fragments):
    with pytest.raises(OrgShareError) as err:
        _key_policy.requested_principals(**requested)
    for fragment in fragments:
        assert fragment in err.value.message


@pytest.mark.parametrize(
    "prefix, valid",
    [
        ("OrgShare", True),
        ("A", True),
        ("Team2", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("Org-Share", False),
        ("Org Share", False),
        (None, False),
        (7, False),
    ],
)
def test_check_prefix(prefix, valid):
    if valid:
        assert _key_policy.check_prefix(prefix) == prefix
    else:
        with pytest.raises(OrgShareError) as err:
            _key_policy.check_prefix(prefix)
        assert repr(prefix) in err.value.message


# --- the statements it writes ------------------------------------------------------------


@pytest.mark.parametrize("only_for_aws", [True, False])
def test_build_statements(only_for_aws):
    principals = Principals([ORG_ID, OTHER_ORG_ID], [OU_PATTERN])
    assert _key_policy.build_statements(principals, "OrgShare", only_for_aws) == [
        org_use(ORG_ID, OTHER_ORG_ID),
        org_grant(ORG_ID, OTHER_ORG_ID),
        *([] if only_for_aws else [org_auto_scaling(ORG_ID, OTHER_ORG_ID)]),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
        *([] if only_for_aws else [ou_auto_scaling(OU_PATTERN)]),
    ]
    assert _key_policy.build_statements(Principals([], [OU_PATTERN]), "Team2")[0]["Sid"] == "Team2OuUse"
    assert _key_policy.build_statements(Principals([], []), "OrgShare", only_for_aws) == []


def test_the_auto_scaling_statement_names_the_role_in_the_key_partition():
    statements = _key_policy.build_statements(Principals([ORG_ID], []), "OrgShare", False, partition="aws-us-gov")
    assert statements[2] == org_auto_scaling(ORG_ID, partition="aws-us-gov")
    china_key = "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    written = _key_policy.plan_key_policy(
        policy(ROOT_STATEMENT),
        _key_policy.requested_principals([ORG_ARN]),
        "present",
        False,
        "OrgShare",
        False,
        china_key,
    )
    assert written.after["Statement"][3] == org_auto_scaling(ORG_ID, partition="aws-cn")
    assert _key_policy.partition_of(china_key) == "aws-cn" and _key_policy.partition_of(None) == "aws"
    # No wildcard stands before the account: StringLike's * also matches colons, so it could stand for another account.
    for grantee in auto_scaling_grantees():
        assert "*" not in grantee.split(":role/", 1)[0]


@pytest.mark.parametrize("only_for_aws", [True, False])
@pytest.mark.parametrize(
    "principals",
    [Principals([ORG_ID], []), Principals([], [OU_PATTERN, FULL_PATH]), Principals([ORG_ID], [OU_PATTERN])],
)
def test_principal_star_never_without_an_org_condition(principals, only_for_aws):
    for statement in _key_policy.build_statements(principals, "OrgShare", only_for_aws):
        assert statement["Principal"] == "*"
        assert statement["Effect"] == "Allow"
        assert_org_condition(statement)


def assert_org_condition(statement):
    """A ``Principal: "*"`` statement is narrowed to organizations or OUs by a non-empty condition."""
    condition = statement.get("Condition") or {}
    org_ids = (condition.get("StringEquals") or {}).get("aws:PrincipalOrgID")
    org_paths = (condition.get("ForAnyValue:StringLike") or {}).get("aws:PrincipalOrgPaths")
    assert org_ids or org_paths, statement
    for value in _key_policy.requested_principals(organizational_unit_paths=org_paths or []).org_paths:
        assert value.startswith("o-")


# --- parsing -------------------------------------------------------------------------------


def test_parse_lone_statement_missing_version_and_odd_formatting():
    text = (
        '{"Id":"custom" ,\n\t"Statement" :\n{ "Sid" : "Root", "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},'
        '"Action":"kms:*","Resource":"*"}   }'
    )
    parsed = _key_policy.parse_policy(text)
    assert "Version" not in parsed
    assert _key_policy.statements_of(parsed) == [json.loads(text)["Statement"]]

    granted = plan(text, organization_arns=[ORG_ARN])
    assert granted.changed
    assert granted.after["Statement"] == [json.loads(text)["Statement"], org_use(ORG_ID), org_grant(ORG_ID)]
    # Everything but the statements is left as it was: no Version is made up.
    assert {key: value for key, value in granted.after.items() if key != "Statement"} == {"Id": "custom"}
    assert granted.before == parsed
    # The same policy as a dict, as text in another layout, or re-read from what would be written, plans the same.
    assert plan(json.loads(text), organization_arns=[ORG_ARN]).after == granted.after
    assert plan(json.dumps(json.loads(text)), organization_arns=[ORG_ARN]).after == granted.after
    assert not plan(granted.document(), organization_arns=[ORG_ARN]).changed


def test_parse_missing_statement_is_empty():
    granted = plan('{"Version": "2012-10-17"}', organizational_unit_arns=[OU_ARN])
    assert granted.after == {"Version": "2012-10-17", "Statement": [ou_use(OU_PATTERN), ou_grant(OU_PATTERN)]}


def test_parse_does_not_change_the_given_dict():
    document = policy(ROOT_STATEMENT)
    kept = copy.deepcopy(document)
    granted = plan(document, organization_arns=[ORG_ARN])
    assert document == kept
    granted.after["Statement"][0]["Sid"] = "changed"
    assert document == kept and ROOT_STATEMENT["Sid"] == "Enable IAM User Permissions"


@pytest.mark.parametrize(
    "document, fragment",
    [
        ('{"Statement": [}', "not valid JSON"),
        ("", "not valid JSON"),
        (None, "not valid JSON"),
        ("[]", "not a JSON object"),
        ('"policy"', "not a JSON object"),
        ('{"Statement": "kms:*"}', "Statement is neither"),
        ('{"Statement": 3}', "Statement is neither"),
    ],
)
def test_parse_refuses(document, fragment):
    with pytest.raises(OrgShareError) as err:
        _key_policy.parse_policy(document)
    assert fragment in err.value.message
    assert "fix it by hand" in err.value.message


# --- merging ---------------------------------------------------------------------------------


def test_merge_appends_after_foreign_statements():
    granted = plan(
        policy(ROOT_STATEMENT, DENY_STATEMENT), organizational_unit_arns=[OU_ARN], organization_arns=[ORG_ARN]
    )
    assert granted.changed
    assert granted.after["Statement"] == [
        ROOT_STATEMENT,
        DENY_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
    ]
    assert granted.statements == granted.after["Statement"][2:]
    assert granted.added == Principals([ORG_ID], [OU_PATTERN])
    assert granted.removed == Principals([], [])


def test_merge_keeps_foreign_statements_before_and_after_in_place():
    # The owned statements are scattered among the foreign ones; the new set takes the place of the first.
    before = policy(ROOT_STATEMENT, org_use(ORG_ID), DENY_STATEMENT, org_grant(ORG_ID), ADMIN_STATEMENT)
    granted = plan(before, organizational_unit_arns=[OU_ARN])
    assert granted.changed
    assert granted.after["Statement"] == [
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
        DENY_STATEMENT,
        ADMIN_STATEMENT,
    ]
    assert foreign_of(granted.after) == foreign_of(before)
    assert {key: value for key, value in granted.after.items() if key != "Statement"} == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
    }


def test_merge_owned_first():
    before = policy(ou_use(OU_PATTERN), ou_grant(OU_PATTERN), ROOT_STATEMENT)
    granted = plan(before, organization_arns=[ORG_ARN])
    assert sids(granted.after) == [
        "OrgShareOrgUse",
        "OrgShareOrgCreateGrant",
        "OrgShareOuUse",
        "OrgShareOuCreateGrant",
        ROOT_STATEMENT["Sid"],
    ]


def test_merge_leaves_other_prefixes_alone():
    theirs = org_use(OTHER_ORG_ID, sid="Team2OrgUse")
    before = policy(ROOT_STATEMENT, theirs, org_grant(OTHER_ORG_ID, sid="Team2OrgCreateGrant"))
    granted = plan(before, organization_arns=[ORG_ARN])
    assert granted.after["Statement"][:3] == before["Statement"]
    assert granted.added == Principals([ORG_ID], [])
    # Under the other prefix, the OrgShare statements are foreign.
    again = plan(granted.after, state="absent", prefix="Team2", organization_arns=[OTHER_ORG_ARN])
    assert again.after["Statement"] == [ROOT_STATEMENT, org_use(ORG_ID), org_grant(ORG_ID)]


def test_merge_adds_to_the_existing_principals():
    before = policy(ROOT_STATEMENT, ou_use(OU_PATTERN), ou_grant(OU_PATTERN))
    granted = plan(before, organizational_unit_paths=[CHILD_PATH], organizational_unit_arns=[OU_ARN])
    assert granted.after["Statement"] == [
        ROOT_STATEMENT,
        ou_use(OU_PATTERN, CHILD_PATH),
        ou_grant(OU_PATTERN, CHILD_PATH),
    ]
    assert granted.added == Principals([], [CHILD_PATH])


def test_merge_reads_lone_string_conditions_of_owned_statements():
    hand_edited = ou_use(OU_PATTERN)
    hand_edited["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] = OU_PATTERN
    granted = plan(policy(hand_edited), organizational_unit_arns=[OTHER_OU_ARN])
    assert granted.after["Statement"] == [ou_use(OU_PATTERN, OTHER_OU_PATTERN), ou_grant(OU_PATTERN, OTHER_OU_PATTERN)]


def test_nothing_requested_changes_nothing():
    before = policy(ROOT_STATEMENT, org_use(ORG_ID), org_grant(ORG_ID))
    for state in ("present", "absent"):
        unchanged = plan(before, state=state)
        assert not unchanged.changed
        assert unchanged.after == before
        assert unchanged.statements == [org_use(ORG_ID), org_grant(ORG_ID)]


# --- ownership: exact Sids and the shape the module writes -----------------------------------

EVIL_ORG_ID = "o-evilevil00"
BREAK_GLASS_DENY = {
    "Sid": "OrgShareBreakGlassDeny",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": EVIL_ORG_ID}},
}
# What the KMS console writes for a new key (besides the account's root statement).
CONSOLE_ADMINS = {
    "Sid": "Allow access for Key Administrators",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{MGMT}:role/KeyAdmin"},
    "Action": [
        "kms:Create*",
        "kms:Describe*",
        "kms:Enable*",
        "kms:List*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:Disable*",
        "kms:Get*",
        "kms:Delete*",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
    ],
    "Resource": "*",
}
APP_ROLE = {"AWS": f"arn:aws:iam::{MGMT}:role/App"}
CONSOLE_USERS = {
    "Sid": "Allow use of the key",
    "Effect": "Allow",
    "Principal": APP_ROLE,
    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    "Resource": "*",
}
CONSOLE_GRANTS = {
    "Sid": "Allow attachment of persistent resources",
    "Effect": "Allow",
    "Principal": APP_ROLE,
    "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
    "Resource": "*",
    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
}


def allowed_org_ids(document):
    """Every organization ID that an Allow statement of the policy lets in."""
    found = set()
    for statement in _key_policy.statements_of(document):
        if statement.get("Effect") == "Allow":
            values = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("aws:PrincipalOrgID") or []
            found.update([values] if isinstance(values, str) else values)
    return found


def test_a_deny_whose_sid_starts_with_the_prefix_is_kept_and_never_read():
    before = policy(ROOT_STATEMENT, BREAK_GLASS_DENY)
    granted = plan(json.dumps(before), organization_arns=[ORG_ARN])
    assert granted.changed
    assert [json.dumps(statement) for statement in granted.after["Statement"][:2]] == [
        json.dumps(ROOT_STATEMENT),
        json.dumps(BREAK_GLASS_DENY),
    ]
    assert granted.after["Statement"][2:] == [org_use(ORG_ID), org_grant(ORG_ID)]
    assert granted.added == Principals([ORG_ID], []) and granted.removed == Principals([], [])
    assert allowed_org_ids(granted.after) == {ORG_ID}
    # Taking the organization out again gives the policy back as it was, Deny included.
    assert plan(granted.document(), state="absent", organization_arns=[ORG_ARN]).after == before
    # Nor does purge see the Deny's organization as one of its own.
    assert plan(granted.after, purge=True).after == before


@pytest.mark.parametrize(
    "sid",
    [
        "orgshareorguse",
        "OrgshareOrgUse",
        "OrgShareOrguse",
        "OrgShareOrgUse2",
        "OrgShareOrgUse ",
        "XOrgShareOrgUse",
        "OrgShareBreakGlass",
        "OrgShareOuCreateGrants",
    ],
)
def test_statements_under_the_prefix_but_not_an_owned_sid_are_foreign(sid):
    # Well-shaped statements letting another organization in: their Sid is not exactly an owned one.
    theirs = org_use(EVIL_ORG_ID, sid=sid)
    before = policy(ROOT_STATEMENT, theirs, org_grant(EVIL_ORG_ID, sid=sid + "Grant"))
    granted = plan(before, organization_arns=[ORG_ARN])
    assert granted.after["Statement"][:3] == before["Statement"]
    assert granted.statements == [org_use(ORG_ID), org_grant(ORG_ID)]
    assert granted.added == Principals([ORG_ID], [])
    evil_arn = f"arn:aws:organizations::{MGMT}:organization/{EVIL_ORG_ID}"
    assert not plan(before, state="absent", organization_arns=[evil_arn]).changed
    assert plan(granted.after, purge=True).after == before


def test_a_prefix_that_starts_other_sids_claims_none_of_them():
    before = policy(ROOT_STATEMENT, CONSOLE_ADMINS, CONSOLE_USERS, CONSOLE_GRANTS)
    granted = plan(before, prefix="Allow", organizational_unit_arns=[OU_ARN])
    assert granted.after["Statement"][:4] == before["Statement"]
    assert sids(granted.after)[4:] == ["AllowOuUse", "AllowOuCreateGrant"]
    assert granted.removed == Principals([], [])
    purged = plan(granted.after, prefix="Allow", purge=True)
    assert purged.after == before and purged.removed == Principals([], [OU_PATTERN])
    assert not plan(before, prefix="Allow", purge=True).changed


def test_two_jobs_with_prefixes_one_starting_the_other_converge():
    jobs = [dict(prefix="OrgShare", organization_arns=[ORG_ARN]), dict(prefix="Org", organization_arns=[OTHER_ORG_ARN])]
    document = policy(ROOT_STATEMENT)
    for job in jobs:
        document = plan(document, **job).after
    assert sids(document) == [
        ROOT_STATEMENT["Sid"],
        "OrgShareOrgUse",
        "OrgShareOrgCreateGrant",
        "OrgOrgUse",
        "OrgOrgCreateGrant",
    ]
    for job in jobs + jobs:
        assert not plan(document, **job).changed
    assert not plan(document, purge=True, **jobs[1]).changed
    assert plan(document, prefix="Org", state="absent", organization_arns=[OTHER_ORG_ARN]).after["Statement"] == [
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
    ]


def _another_sid(statement, sid):
    return dict(statement, Sid=sid)


NEAR_MISSES = {
    "NotAction": (lambda: dict(org_use(ORG_ID), NotAction="kms:Encrypt"), ["'NotAction'"]),
    "NotPrincipal": (
        lambda: dict(ou_use(OU_PATTERN), NotPrincipal={"AWS": f"arn:aws:iam::{MGMT}:root"}),
        ["'NotPrincipal'"],
    ),
    "NotResource": (
        lambda: {key: value for key, value in dict(org_grant(ORG_ID), NotResource="*").items() if key != "Resource"},
        ["'NotResource'", "Resource is null"],
    ),
    "a resource other than *": (lambda: dict(org_use(ORG_ID), Resource=KEY_ARN), [f'Resource is "{KEY_ARN}"']),
    "no condition": (
        lambda: {key: value for key, value in org_use(ORG_ID).items() if key != "Condition"},
        ["Condition is null"],
    ),
    "the OU condition under an Org Sid": (
        lambda: _another_sid(ou_use(OU_PATTERN), "OrgShareOrgUse"),
        ["'ForAnyValue:StringLike'", "StringEquals is null"],
    ),
    "the Org condition under an Ou Sid": (
        lambda: _another_sid(org_grant(ORG_ID), "OrgShareOuCreateGrant"),
        ["'StringEquals'"],
    ),
    "a Use statement as CreateGrant": (
        lambda: _another_sid(org_use(ORG_ID), "OrgShareOrgCreateGrant"),
        ["is not a non-empty subset"],
    ),
    "CreateGrant in a Use statement": (
        lambda: dict(org_use(ORG_ID), Action=USE + ["kms:CreateGrant"]),
        ['"kms:CreateGrant"]'],
    ),
    "the grant flag on a Use statement": (
        lambda: dict(org_use(ORG_ID), Condition=dict(org_grant(ORG_ID)["Condition"])),
        ["'Bool'"],
    ),
    "a wildcard action": (lambda: dict(org_use(ORG_ID), Action="kms:*"), ['Action "kms:*"']),
    "an action of another case": (lambda: dict(org_use(ORG_ID), Action=["kms:decrypt"]), ['["kms:decrypt"]']),
    "no action": (lambda: dict(org_use(ORG_ID), Action=[]), ["Action []"]),
    "not an organization ID": (lambda: org_use("o-short"), ['values ["o-short"]']),
    "no organization": (org_use, ["values []"]),
    "a second key in the condition": (
        lambda: dict(
            org_use(ORG_ID), Condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID, "aws:PrincipalAccount": MGMT}}
        ),
        ["not exactly one key aws:PrincipalOrgID"],
    ),
    "StringLike for the organization": (
        lambda: dict(org_use(ORG_ID), Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
        ["'StringLike'"],
    ),
    "not an OU path": (lambda: ou_use(OU_ID), [f'values ["{OU_ID}"]']),
    "ForAllValues for OUs": (
        lambda: dict(
            ou_use(OU_PATTERN), Condition={"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": [OU_PATTERN]}}
        ),
        ["'ForAllValues:StringLike'"],
    ),
    "a grant flag with a second key": (
        lambda: dict(
            org_grant(ORG_ID),
            Condition={
                "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
                "Bool": {"kms:GrantIsForAWSResource": "true", "aws:SecureTransport": "true"},
            },
        ),
        ["Bool is {"],
    ),
    "a grant flag of True": (
        lambda: dict(
            org_grant(ORG_ID),
            Condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}, "Bool": {"kms:GrantIsForAWSResource": "True"}},
        ),
        ['"True"'],
    ),
    "a principal list": (
        lambda: dict(org_use(ORG_ID), Principal={"AWS": ["*", f"arn:aws:iam::{MGMT}:root"]}),
        ["Principal is"],
    ),
    "a service principal": (
        lambda: dict(org_use(ORG_ID), Principal={"Service": "ec2.amazonaws.com"}),
        ["Principal is"],
    ),
    "no Effect": (
        lambda: {key: value for key, value in org_use(ORG_ID).items() if key != "Effect"},
        ["Effect is null"],
    ),
    "the console's admin statement under an owned Sid": (
        lambda: dict(CONSOLE_ADMINS, Sid="OrgShareOuUse"),
        ["Principal is", "Condition is null"],
    ),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_near_miss_of_an_owned_statement_is_refused(name, state):
    make, fragments = NEAR_MISSES[name]
    statement = make()
    before = policy(ROOT_STATEMENT, org_use(OTHER_ORG_ID), statement, org_grant(OTHER_ORG_ID))
    kept = json.dumps(before)
    requested = _key_policy.requested_principals(organization_arns=[ORG_ARN])
    for document in (before, kept):
        with pytest.raises(OrgShareError) as err:
            _key_policy.plan_key_policy(document, requested, state, key_arn=KEY_ARN)
        message = err.value.message
        for fragment in fragments + [
            f"statement 3 of 4, Sid {statement['Sid']!r}",
            KEY_ARN,
            "statement_id_prefix 'OrgShare'",
            "nothing is written",
            "Rename or remove that statement, or choose another",
        ]:
            assert fragment in message, (fragment, message)
    assert json.dumps(before) == kept
    # The same statement under another prefix, or as a lone statement, is foreign to this one and refused by its own.
    assert plan(before, prefix="Team2", organization_arns=[ORG_ARN]).after["Statement"][:4] == before["Statement"]
    with pytest.raises(OrgShareError):
        plan({"Statement": statement}, state=state)
    assert not _key_policy.owned(statement, "OrgShare")
    assert _key_policy.kind_of(statement, "OrgShare") is not None


def test_every_near_miss_of_a_policy_is_named_at_once():
    before = policy(dict(org_use(ORG_ID), Effect="Deny"), ROOT_STATEMENT, dict(ou_grant(OU_PATTERN), Resource=KEY_ARN))
    with pytest.raises(OrgShareError) as err:
        plan(before, organization_arns=[ORG_ARN])
    assert "statement 1 of 3, Sid 'OrgShareOrgUse': its Effect is \"Deny\"" in err.value.message
    assert f"statement 3 of 3, Sid 'OrgShareOuCreateGrant': its Resource is \"{KEY_ARN}\"" in err.value.message


def test_the_shapes_the_module_accepts_as_its_own():
    accepted = [
        dict(org_use(ORG_ID), Principal={"AWS": ["*"]}, Resource=["*"], Action="kms:Decrypt"),
        dict(
            org_grant(ORG_ID),
            Condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}, "Bool": {"kms:GrantIsForAWSResource": True}},
        ),
        dict(ou_use(OU_PATTERN), Action=list(_key_policy.ACCEPTED_USE_ACTIONS)),
        dict(
            ou_grant(OU_PATTERN),
            Condition={
                "Bool": {"kms:GrantIsForAWSResource": ["true"]},
                "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": OU_PATTERN},
            },
        ),
    ]
    for statement in accepted:
        assert _key_policy.owned(statement, "OrgShare"), statement
        assert _key_policy.shape_problems(statement, _key_policy.kind_of(statement, "OrgShare")) == []
    assert _key_policy.current_principals(policy(*accepted), "OrgShare") == Principals([ORG_ID], [OU_PATTERN])


def test_the_auto_scaling_shapes_the_module_accepts_as_its_own():
    reordered = org_auto_scaling(ORG_ID)
    reordered["Condition"]["StringLike"]["kms:GranteePrincipal"].reverse()
    reordered["Condition"]["ForAllValues:StringEquals"]["kms:GrantOperations"].sort()
    lone = ou_auto_scaling(OU_PATTERN, partition="aws-cn")
    lone["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] = OU_PATTERN
    for statement in (
        reordered,
        lone,
        dict(org_auto_scaling(ORG_ID), Action="kms:CreateGrant", Principal={"AWS": "*"}),
    ):
        assert _key_policy.shape_problems(statement, _key_policy.kind_of(statement, "OrgShare")) == []
    before = policy(ROOT_STATEMENT, org_use(ORG_ID), org_grant(ORG_ID), reordered)
    assert not plan(before, grant_for_aws_resource_only=False, organization_arns=[ORG_ARN]).changed


def _spoil_auto_scaling(edit, make=org_auto_scaling):
    def spoilt():
        statement = make(ORG_ID) if make is org_auto_scaling else make(OU_PATTERN)
        edit(statement["Condition"])
        return statement

    return spoilt


AUTO_SCALING_NEAR_MISSES = {
    "another grantee": (
        lambda condition: condition["StringLike"].update({"kms:GranteePrincipal": "arn:aws:iam::*:role/*"}),
        ["StringLike is {", "kms:GranteePrincipal"],
    ),
    "a wildcard account": (
        lambda condition: condition["StringLike"].update(
            {
                "kms:GranteePrincipal": [
                    grantee.replace("${aws:PrincipalAccount}", "*") for grantee in auto_scaling_grantees()
                ]
            }
        ),
        ["StringLike is {"],
    ),
    "only the custom-suffix roles": (
        lambda condition: condition["StringLike"]["kms:GranteePrincipal"].pop(0),
        ["StringLike is {"],
    ),
    "partitions mixed": (
        lambda condition: condition["StringLike"].update(
            {"kms:GranteePrincipal": [auto_scaling_grantees()[0], auto_scaling_grantees("aws-cn")[1]]}
        ),
        ["StringLike is {"],
    ),
    "no grantee condition": (lambda condition: condition.pop("StringLike"), ["StringLike is null"]),
    "an operation more": (
        lambda condition: condition["ForAllValues:StringEquals"]["kms:GrantOperations"].append("RetireGrant"),
        ["ForAllValues:StringEquals is {", "kms:GrantOperations"],
    ),
    "an operation less": (
        lambda condition: condition["ForAllValues:StringEquals"]["kms:GrantOperations"].pop(),
        ["ForAllValues:StringEquals is {"],
    ),
    "ForAnyValue on the operations": (
        lambda condition: condition.update({"ForAnyValue:StringEquals": condition.pop("ForAllValues:StringEquals")}),
        ["'ForAnyValue:StringEquals'", "ForAllValues:StringEquals is null"],
    ),
    "the grant flag too": (
        lambda condition: condition.update({"Bool": dict(GRANT_ONLY_FOR_AWS)}),
        ["Condition has 'Bool'"],
    ),
    "StringEquals on the grantee": (
        lambda condition: condition.update(
            {
                "StringEquals": dict(
                    condition.get("StringEquals", {}), **{"kms:GranteePrincipal": auto_scaling_grantees()[0]}
                )
            }
        ),
        ["kms:GranteePrincipal"],
    ),
}


@pytest.mark.parametrize("make", [org_auto_scaling, ou_auto_scaling])
@pytest.mark.parametrize("name", sorted(AUTO_SCALING_NEAR_MISSES))
def test_a_near_miss_of_an_auto_scaling_statement_is_refused(name, make):
    edit, fragments = AUTO_SCALING_NEAR_MISSES[name]
    statement = _spoil_auto_scaling(edit, make)()
    before = policy(ROOT_STATEMENT, statement)
    with pytest.raises(OrgShareError) as err:
        plan(before, grant_for_aws_resource_only=False, organization_arns=[ORG_ARN])
    for fragment in fragments + [f"Sid {statement['Sid']!r}", "nothing is written"]:
        assert fragment in err.value.message, (fragment, err.value.message)
    assert not _key_policy.owned(statement, "OrgShare")


def test_the_data_key_wildcard_of_the_ec2_guide_is_kept():
    assert set(_key_policy.ACCEPTED_USE_ACTIONS) - set(USE) == {"kms:GenerateDataKey*"}
    newer = dict(org_use(ORG_ID), Action=USE + ["kms:GenerateDataKey*"])
    before = policy(ROOT_STATEMENT, newer, org_grant(ORG_ID))
    assert not plan(before, organization_arns=[ORG_ARN]).changed
    more = plan(before, organization_arns=[OTHER_ORG_ARN], organizational_unit_arns=[OU_ARN])
    assert more.after["Statement"][1] == dict(org_use(ORG_ID, OTHER_ORG_ID), Action=USE + ["kms:GenerateDataKey*"])
    assert more.after["Statement"][3] == ou_use(OU_PATTERN)  # only where it was
    assert not plan(more.after, organization_arns=[OTHER_ORG_ARN], organizational_unit_arns=[OU_ARN]).changed


def test_two_statements_with_one_owned_sid_are_merged_into_one():
    before = policy(org_use(ORG_ID), ROOT_STATEMENT, org_use(OTHER_ORG_ID), org_grant(ORG_ID), org_grant(OTHER_ORG_ID))
    merged = plan(before, organization_arns=[ORG_ARN])
    assert merged.changed
    assert merged.after["Statement"] == [org_use(ORG_ID, OTHER_ORG_ID), org_grant(ORG_ID, OTHER_ORG_ID), ROOT_STATEMENT]
    assert merged.added == Principals([], []) and merged.removed == Principals([], [])
    assert not plan(merged.after, organization_arns=[ORG_ARN]).changed


# --- OU identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, identity",
    [
        (OU_PATTERN, (ORG_ID, OU_ID, True)),
        (FULL_PATH, (ORG_ID, OU_ID, True)),
        (f"{ORG_ID}/r-ab12/{OTHER_OU_ID}/{OU_ID}/", (ORG_ID, OU_ID, False)),
        (f"{ORG_ID}/*/{OU_ID}/", (ORG_ID, OU_ID, False)),
        (CHILD_PATH, (ORG_ID, CHILD_OU_ID, True)),
        (f"{OTHER_ORG_ID}/r-ab12/{OU_ID}/*", (OTHER_ORG_ID, OU_ID, True)),
        (f"{ORG_ID}/r-ab12/*", (ORG_ID, "r-ab12", True)),
        (f"{ORG_ID}/r-ab12/", (ORG_ID, "r-ab12", False)),
        (f"{ORG_ID}/r-ab12/{OU_ID}/*/", None),
        (f"{ORG_ID}/*/", None),
        (f"{ORG_ID}/*/*", None),
    ],
)
def test_ou_identity(value, identity):
    assert _key_policy.requested_principals(organizational_unit_paths=[value]).org_paths == [value]  # a valid value
    assert _key_policy.ou_identity(value) == identity
    assert _key_policy.same_ou(value, value) and _key_policy.same_ou(value, value, same_reach=False)


def test_same_ou():
    assert _key_policy.same_ou(OU_PATTERN, FULL_PATH)
    assert not _key_policy.same_ou(OU_PATTERN, FULL_PATH[:-1])  # another reach
    assert _key_policy.same_ou(OU_PATTERN, FULL_PATH[:-1], same_reach=False)
    assert not _key_policy.same_ou(OU_PATTERN, CHILD_PATH, same_reach=False)
    assert not _key_policy.same_ou(OU_PATTERN, f"{OTHER_ORG_ID}/*/{OU_ID}/*", same_reach=False)
    assert not _key_policy.same_ou(f"{ORG_ID}/r-ab12/{OU_ID}/*/", f"{ORG_ID}/r-ab12/{OTHER_OU_ID}/*/", same_reach=False)


def test_an_ou_granted_by_path_is_revoked_by_its_arn():
    prod_path = f"{ORG_ID}/r-ab12/{OU_ID}/*"
    granted = plan(policy(ROOT_STATEMENT), organizational_unit_paths=[prod_path])
    revoked = plan(granted.after, state="absent", organizational_unit_arns=[OU_ARN])
    assert revoked.changed
    assert revoked.removed == Principals([], [prod_path])
    assert revoked.after == policy(ROOT_STATEMENT)
    assert not plan(revoked.after, state="absent", organizational_unit_arns=[OU_ARN]).changed


@pytest.mark.parametrize("revoke_by", ["arn", "pattern", "exact path", "exact path without *", "pattern without *"])
def test_revoking_an_ou_removes_every_spelling_of_it_and_keeps_the_ous_below(revoke_by):
    exact = f"{ORG_ID}/r-ab12/{OTHER_OU_ID}/{OU_ID}/"
    request = {
        "arn": dict(organizational_unit_arns=[OU_ARN]),
        "pattern": dict(organizational_unit_paths=[OU_PATTERN]),
        "exact path": dict(organizational_unit_paths=[FULL_PATH]),
        "exact path without *": dict(organizational_unit_paths=[exact]),
        "pattern without *": dict(organizational_unit_paths=[f"{ORG_ID}/*/{OU_ID}/"]),
    }[revoke_by]
    other_org = f"{OTHER_ORG_ID}/*/{OU_ID}/*"
    paths = (FULL_PATH, CHILD_PATH, OU_PATTERN, OTHER_OU_PATTERN, exact, other_org)
    before = policy(ROOT_STATEMENT, ou_use(*paths), ou_grant(*paths))
    revoked = plan(before, state="absent", **request)
    assert revoked.removed == Principals([], [FULL_PATH, OU_PATTERN, exact])
    assert revoked.after["Statement"] == [
        ROOT_STATEMENT,
        ou_use(CHILD_PATH, OTHER_OU_PATTERN, other_org),
        ou_grant(CHILD_PATH, OTHER_OU_PATTERN, other_org),
    ]


@pytest.mark.parametrize(
    "granted, requested, added",
    [
        (OU_PATTERN, FULL_PATH, []),
        (FULL_PATH, OU_PATTERN, []),
        (FULL_PATH[:-1], f"{ORG_ID}/*/{OU_ID}/", []),
        (FULL_PATH[:-1], OU_PATTERN, [OU_PATTERN]),  # the subtree is more than the OU alone
        (OU_PATTERN, FULL_PATH[:-1], [FULL_PATH[:-1]]),
        (OU_PATTERN, CHILD_PATH, [CHILD_PATH]),
    ],
)
def test_granting_an_ou_already_granted_under_another_spelling_adds_nothing(granted, requested, added):
    before = policy(ROOT_STATEMENT, ou_use(granted), ou_grant(granted))
    result = plan(before, organizational_unit_paths=[requested])
    assert result.changed == bool(added)
    assert result.added == Principals([], added)
    assert result.statements[0]["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] == [granted] + added
    # Purge keeps the spelling that is there.
    purged = plan(before, purge=True, organizational_unit_paths=[requested])
    assert purged.removed == Principals([], [granted] if added else [])


def test_one_request_naming_an_ou_twice_adds_it_once():
    granted = plan(
        policy(ROOT_STATEMENT), organizational_unit_arns=[OU_ARN], organizational_unit_paths=[FULL_PATH, CHILD_PATH]
    )
    assert granted.added == Principals([], [OU_PATTERN, CHILD_PATH])
    assert granted.statements == [ou_use(OU_PATTERN, CHILD_PATH), ou_grant(OU_PATTERN, CHILD_PATH)]


# --- purge and absent --------------------------------------------------------------------------


def test_purge_keeps_only_the_requested():
    before = policy(
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        ou_use(OU_PATTERN, FULL_PATH),
        ou_grant(OU_PATTERN, FULL_PATH),
        DENY_STATEMENT,
    )
    purged = plan(before, purge=True, organizational_unit_arns=[OTHER_OU_ARN, OU_ARN])
    assert purged.changed
    # OU_PATTERN and FULL_PATH name the same OU: the first spelling of it stays, the repeat goes.
    both = (OU_PATTERN, OTHER_OU_PATTERN)
    assert purged.after["Statement"] == [ROOT_STATEMENT, ou_use(*both), ou_grant(*both), DENY_STATEMENT]
    assert purged.added == Principals([], [OTHER_OU_PATTERN])
    assert purged.removed == Principals([ORG_ID], [FULL_PATH])
    # Purging to nothing removes every owned statement, and only those.
    emptied = plan(before, purge=True)
    assert emptied.changed and emptied.after["Statement"] == [ROOT_STATEMENT, DENY_STATEMENT]
    assert emptied.removed == Principals([ORG_ID], [OU_PATTERN, FULL_PATH])


def test_purge_already_exact_is_no_change():
    before = policy(ROOT_STATEMENT, ou_use(OU_PATTERN), ou_grant(OU_PATTERN))
    assert not plan(before, purge=True, organizational_unit_arns=[OU_ARN]).changed


def test_absent_removes_a_statement_pair_when_no_principal_is_left():
    paths = (OU_PATTERN, FULL_PATH, CHILD_PATH)
    before = policy(
        ROOT_STATEMENT, org_use(ORG_ID), org_grant(ORG_ID), ou_use(*paths), ou_grant(*paths), DENY_STATEMENT
    )
    no_org = plan(before, state="absent", organization_arns=[ORG_ARN])
    assert no_org.changed
    assert no_org.after["Statement"] == [ROOT_STATEMENT, ou_use(*paths), ou_grant(*paths), DENY_STATEMENT]
    assert no_org.removed == Principals([ORG_ID], []) and no_org.added == Principals([], [])

    # The OU goes under both its spellings; the OU below it stays.
    one_ou = plan(no_org.after, state="absent", organizational_unit_arns=[OU_ARN])
    assert one_ou.after["Statement"] == [ROOT_STATEMENT, ou_use(CHILD_PATH), ou_grant(CHILD_PATH), DENY_STATEMENT]
    assert one_ou.removed == Principals([], [OU_PATTERN, FULL_PATH])

    none_left = plan(one_ou.after, state="absent", organizational_unit_paths=[CHILD_PATH])
    assert none_left.after["Statement"] == [ROOT_STATEMENT, DENY_STATEMENT]
    assert none_left.statements == []


def test_absent_of_what_is_not_there_is_no_change():
    before = policy(ROOT_STATEMENT, ou_use(OU_PATTERN), ou_grant(OU_PATTERN))
    unchanged = plan(before, state="absent", organization_arns=[ORG_ARN], organizational_unit_arns=[OTHER_OU_ARN])
    assert not unchanged.changed
    assert unchanged.after == before
    assert unchanged.removed == Principals([], [])
    assert not plan(policy(ROOT_STATEMENT), state="absent", organization_arns=[ORG_ARN]).changed


def test_absent_ignores_purge():
    before = policy(org_use(ORG_ID, OTHER_ORG_ID), org_grant(ORG_ID, OTHER_ORG_ID))
    removed = plan(before, state="absent", purge=True, organization_arns=[ORG_ARN])
    assert removed.after["Statement"] == [org_use(OTHER_ORG_ID), org_grant(OTHER_ORG_ID)]


# --- grant_for_aws_resource_only -------------------------------------------------------------


def test_grant_for_aws_resource_only_adds_and_takes_out_the_auto_scaling_statements():
    limited = plan(policy(ROOT_STATEMENT), organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN])
    assert limited.after["Statement"] == [
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
    ]
    # true is what it always was: a second run changes nothing.
    assert not plan(limited.after, organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN]).changed

    lifted = plan(limited.after, grant_for_aws_resource_only=False, organization_arns=[ORG_ARN])
    assert lifted.changed
    assert lifted.after["Statement"] == [
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        org_auto_scaling(ORG_ID),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
        ou_auto_scaling(OU_PATTERN),
    ]
    assert lifted.added == Principals([], []) and lifted.removed == Principals([], [])
    assert not plan(lifted.after, grant_for_aws_resource_only=False, organization_arns=[ORG_ARN]).changed

    limited_again = plan(lifted.after, organization_arns=[ORG_ARN])
    assert limited_again.changed
    assert limited_again.after == limited.after
    # Even with nothing requested, the option rewrites the existing statements.
    assert plan(limited.after, grant_for_aws_resource_only=False).changed
    assert plan(lifted.after).after == limited.after
    # Taking the principals out takes the Auto Scaling statements with them.
    assert plan(
        lifted.after, state="absent", organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN]
    ).after == policy(ROOT_STATEMENT)


def test_the_unconditioned_create_grant_of_earlier_versions_is_rewritten_in_place():
    # What versions before the Auto Scaling statements wrote for grant_for_aws_resource_only=false.
    earlier = policy(
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID, only_for_aws=False),
        DENY_STATEMENT,
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN, only_for_aws=False),
        ADMIN_STATEMENT,
    )
    assert all(
        _key_policy.owned(statement, "OrgShare") for statement in earlier["Statement"][1:3] + earlier["Statement"][4:6]
    )
    runs = [
        plan(earlier if index == 0 else json.loads(_key_policy.serialize(earlier)), grant_for_aws_resource_only=False)
        for index in range(2)
    ]
    for first in runs:  # check mode and a real run plan the same
        assert first.changed
        assert first.after["Statement"] == [
            ROOT_STATEMENT,
            org_use(ORG_ID),
            org_grant(ORG_ID),
            org_auto_scaling(ORG_ID),
            ou_use(OU_PATTERN),
            ou_grant(OU_PATTERN),
            ou_auto_scaling(OU_PATTERN),
            DENY_STATEMENT,
            ADMIN_STATEMENT,
        ]
        assert first.added == first.removed == Principals([], [])
    written = runs[1].document()
    for _run in range(2):  # check mode again, then a real run again: nothing to do
        again = plan(written, grant_for_aws_resource_only=False)
        assert not again.changed and again.after == json.loads(written)
        written = _key_policy.serialize(again.after)
    # The earlier shape with true gets its limit back, and no Auto Scaling statement.
    assert plan(earlier).after["Statement"] == [
        ROOT_STATEMENT,
        org_use(ORG_ID),
        org_grant(ORG_ID),
        ou_use(OU_PATTERN),
        ou_grant(OU_PATTERN),
        DENY_STATEMENT,
        ADMIN_STATEMENT,
    ]


def test_a_policy_without_version_gets_the_one_policy_variables_need():
    # IAM "IAM JSON policy elements: Version": only 2012-10-17 reads ${aws:PrincipalAccount} as a variable.
    bare = {"Id": "custom", "Statement": [ROOT_STATEMENT]}
    lifted = plan(bare, grant_for_aws_resource_only=False, organization_arns=[ORG_ARN])
    assert list(lifted.after) == ["Version", "Id", "Statement"] and lifted.after["Version"] == "2012-10-17"
    assert not plan(lifted.document(), grant_for_aws_resource_only=False, organization_arns=[ORG_ARN]).changed
    # Lost by hand later, it is put back, though the statements are as they were.
    hand_edited = {key: value for key, value in lifted.after.items() if key != "Version"}
    assert plan(hand_edited, grant_for_aws_resource_only=False).after == lifted.after
    # With the limit, no variable is written and no Version made up.
    assert "Version" not in plan(bare, organization_arns=[ORG_ARN]).after


@pytest.mark.parametrize(
    "document, fragment",
    [
        (dict(policy(ROOT_STATEMENT), Version="2008-10-17"), 'has Version "2008-10-17"'),
        (
            {
                "Statement": [
                    ROOT_STATEMENT,
                    dict(DENY_STATEMENT, Condition={"StringNotEquals": {"aws:PrincipalArn": "${aws:username}"}}),
                ]
            },
            "has no Version, and text in it looks like policy variables",
        ),
    ],
)
def test_a_policy_whose_version_reads_variables_literally_is_refused_before_any_write(document, fragment):
    with pytest.raises(OrgShareError) as err:
        _key_policy.plan_key_policy(
            document, _key_policy.requested_principals([ORG_ARN]), "present", False, "OrgShare", False, KEY_ARN
        )
    for expected in (
        fragment,
        KEY_ARN,
        "${aws:PrincipalAccount}",
        "Nothing is written",
        "grant_for_aws_resource_only=true",
    ):
        assert expected in err.value.message, err.value.message
    # The limit needs no variable, so the same policy is granted with it.
    assert plan(document, organization_arns=[ORG_ARN]).changed


# --- semantic comparison -------------------------------------------------------------------


def _granted():
    """The policy that granting ORG and OU (limited to AWS resources) writes."""
    return plan(
        policy(ROOT_STATEMENT), organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN, OTHER_OU_ARN]
    ).after


def _edit(edit):
    document = _granted()
    edit({statement["Sid"]: statement for statement in document["Statement"]})
    return document


def _swap_values(statement):
    values = statement["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"]
    values.reverse()


def _lone(statement, operator, key):
    (value,) = statement["Condition"][operator][key]
    statement["Condition"][operator][key] = value


SAME = {
    "actions in another order": lambda by_sid: by_sid["OrgShareOrgUse"]["Action"].reverse(),
    "OU paths in another order": lambda by_sid: _swap_values(by_sid["OrgShareOuUse"]),
    "a lone action instead of a list": lambda by_sid: by_sid["OrgShareOrgCreateGrant"].update(Action="kms:CreateGrant"),
    "a lone condition value instead of a list": lambda by_sid: _lone(
        by_sid["OrgShareOrgUse"], "StringEquals", "aws:PrincipalOrgID"
    ),
    "a lone resource in a list": lambda by_sid: by_sid["OrgShareOuUse"].update(Resource=["*"]),
    'true instead of "true"': lambda by_sid: by_sid["OrgShareOuCreateGrant"]["Condition"]["Bool"].update(
        {"kms:GrantIsForAWSResource": True}
    ),
    '["true"] instead of "true"': lambda by_sid: by_sid["OrgShareOrgCreateGrant"]["Condition"]["Bool"].update(
        {"kms:GrantIsForAWSResource": ["true"]}
    ),
    '{"AWS": "*"} instead of "*"': lambda by_sid: by_sid["OrgShareOrgUse"].update(Principal={"AWS": "*"}),
    '{"AWS": ["*"]} instead of "*"': lambda by_sid: by_sid["OrgShareOuUse"].update(Principal={"AWS": ["*"]}),
}

# Owned statements that differ from what the module writes but keep its shape: rewritten.
DIFFERENT = {
    "an action less": lambda by_sid: by_sid["OrgShareOuUse"]["Action"].pop(),
    "no CreateGrant limit": lambda by_sid: by_sid["OrgShareOuCreateGrant"]["Condition"].pop("Bool"),
    "a statement missing": lambda by_sid: by_sid["OrgShareOrgCreateGrant"].clear(),
}

# Statements with an owned Sid but another shape: refused, with what differs.
REFUSED = {
    "Deny instead of Allow": (
        lambda by_sid: by_sid["OrgShareOrgUse"].update(Effect="Deny"),
        ("'OrgShareOrgUse'", 'Effect is "Deny"'),
    ),
    "an action more": (
        lambda by_sid: by_sid["OrgShareOrgUse"]["Action"].append("kms:Encrypt"),
        ("'OrgShareOrgUse'", '"kms:Encrypt"]', "not a non-empty subset"),
    ),
    '"false" limit': (
        lambda by_sid: by_sid["OrgShareOuCreateGrant"]["Condition"]["Bool"].update(
            {"kms:GrantIsForAWSResource": "false"}
        ),
        ("'OrgShareOuCreateGrant'", '"false"'),
    ),
    "an account principal": (
        lambda by_sid: by_sid["OrgShareOuUse"].update(Principal={"AWS": f"arn:aws:iam::{MGMT}:root"}),
        ("'OrgShareOuUse'", f'Principal is {{"AWS":"arn:aws:iam::{MGMT}:root"}}'),
    ),
    "an extra condition": (
        lambda by_sid: by_sid["OrgShareOrgUse"]["Condition"].update({"Bool": {"aws:SecureTransport": "true"}}),
        ("'OrgShareOrgUse'", "Condition has 'Bool'"),
    ),
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_semantically_same_is_no_change(name):
    requested = dict(organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN, OTHER_OU_ARN])
    edited = _edit(SAME[name])
    assert edited != _granted()  # the edit did something
    unchanged = plan(edited, **requested)
    assert not unchanged.changed, name
    assert unchanged.after == edited  # nothing rewritten just to reformat it
    # The same as text laid out otherwise, with keys in another order.
    assert not plan(json.dumps(edited, sort_keys=True, separators=(",", ":")), **requested).changed


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_owned_sid_of_another_shape_is_refused(name):
    edit, fragments = REFUSED[name]
    edited = _edit(edit)
    requested = _key_policy.requested_principals(organization_arns=[ORG_ARN])
    for state in ("present", "absent"):
        with pytest.raises(OrgShareError) as err:
            _key_policy.plan_key_policy(edited, requested, state, key_arn=KEY_ARN)
        for fragment in fragments + (KEY_ARN, "Rename or remove that statement", "choose another statement_id_prefix"):
            assert fragment in err.value.message, (fragment, err.value.message)


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_semantically_different_is_a_change(name):
    requested = dict(organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN, OTHER_OU_ARN])
    edited = _edit(DIFFERENT[name])
    if {} in edited["Statement"]:
        edited["Statement"].remove({})
    changed = plan(edited, **requested)
    assert changed.changed, name
    assert changed.after == _granted()
    assert not plan(changed.after, **requested).changed


def test_an_organization_written_into_an_owned_statement_by_hand_counts_as_granted():
    # The owned statements are the record of who is let in: an ID edited into one of them is kept
    # (and the pair made consistent), like any other principal found there.
    requested = dict(organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN, OTHER_OU_ARN])
    edited = _edit(
        lambda by_sid: by_sid["OrgShareOrgUse"]["Condition"]["StringEquals"].update(
            {"aws:PrincipalOrgID": [OTHER_ORG_ID]}
        )
    )
    changed = plan(edited, **requested)
    assert changed.changed
    assert changed.after["Statement"][1:3] == [org_use(OTHER_ORG_ID, ORG_ID), org_grant(OTHER_ORG_ID, ORG_ID)]
    assert changed.added == Principals([], [])
    assert plan(changed.after, state="absent", organization_arns=[OTHER_ORG_ARN]).after == _granted()


def test_same_statements_ignores_statement_order_and_layout():
    statements = _granted()["Statement"]
    assert _key_policy.same_statements(statements, list(reversed(statements)))
    assert _key_policy.same_statements(statements, json.loads(json.dumps(statements, sort_keys=True)))
    assert not _key_policy.same_statements(statements, statements[1:])
    assert not _key_policy.same_statements(statements, statements + [statements[0]])


# --- size ----------------------------------------------------------------------------------------


def _padded(extra, values=0):
    """A policy with a foreign statement padded by ``extra`` characters (ASCII, so bytes too) and ``values``
    short values, each of which indentation makes 8 bytes longer."""
    vpces = ["v" * extra] + [f"vpce-{number:017x}" for number in range(values)]
    padding = {
        "Sid": "Padding",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": vpces}},
    }
    return policy(ROOT_STATEMENT, padding)


def compact_size(document):
    return len(json.dumps(document, separators=(",", ":")).encode("utf-8"))


def indented_size(document):
    return len(json.dumps(document, indent=2).encode("utf-8"))


def _granted_org(document):
    return _key_policy.merge_statements(
        document, _key_policy.build_statements(Principals([ORG_ID], []), "OrgShare"), "OrgShare"
    )


def _extra_for(size_of, target, values=0):
    """The padding that makes the policy with the organization granted ``target`` bytes by ``size_of``."""
    return 1000 + target - size_of(_granted_org(_padded(1000, values)))


def test_written_indented_while_that_fits():
    extra = _extra_for(indented_size, _key_policy.MAX_POLICY_BYTES)
    at_limit = plan(_padded(extra), organization_arns=[ORG_ARN])
    assert at_limit.document() == json.dumps(at_limit.after, indent=2)
    assert _key_policy.policy_size(at_limit.after) == len(at_limit.document().encode("utf-8")) == 32768

    # One byte more indented: written compactly instead of refused.
    over = plan(_padded(extra + 1), organization_arns=[ORG_ARN])
    assert over.document() == json.dumps(over.after, separators=(",", ":"))
    assert (
        _key_policy.policy_size(over.after) == len(over.document().encode("utf-8")) == compact_size(over.after) < 32768
    )
    assert not plan(over.document(), organization_arns=[ORG_ARN]).changed


def test_a_compact_policy_is_not_refused_for_the_white_space_indenting_would_add():
    # A 30.5 KB policy of many short values, as KMS keeps it (compact); one organization more is about 31 KB
    # written compactly, but over 44 KB indented.
    values = 1000
    document = _padded(1000 + 30500 - compact_size(_padded(1000, values)), values)
    assert compact_size(document) == 30500
    text = json.dumps(document, separators=(",", ":"))
    granted = plan(text, organization_arns=[ORG_ARN])
    assert granted.changed and granted.added == Principals([ORG_ID], [])
    assert indented_size(granted.after) > 44000
    assert granted.document() == json.dumps(granted.after, separators=(",", ":"))
    assert _key_policy.policy_size(granted.after) == len(granted.document().encode("utf-8")) < 31500
    assert not plan(granted.document(), organization_arns=[ORG_ARN]).changed


def test_size_limit_boundary():
    values = 600  # the white space of indenting takes it over, so the compact size is what is measured
    extra = _extra_for(compact_size, _key_policy.MAX_POLICY_BYTES, values)
    assert compact_size(_granted_org(_padded(extra, values))) == _key_policy.MAX_POLICY_BYTES

    at_limit = plan(_padded(extra, values), organization_arns=[ORG_ARN])
    assert at_limit.changed
    assert at_limit.document() == json.dumps(at_limit.after, separators=(",", ":"))
    assert _key_policy.policy_size(at_limit.after) == len(at_limit.document().encode("utf-8")) == 32768

    over = _padded(extra + 1, values)
    with pytest.raises(OrgShareError) as err:
        _key_policy.plan_key_policy(
            over, _key_policy.requested_principals(organization_arns=[ORG_ARN]), key_arn=KEY_ARN
        )
    message = err.value.message
    rest = compact_size(over)
    assert f"The key policy of {KEY_ARN} would be 32769 bytes even as compact JSON" in message
    assert "32768-byte limit" in message
    assert (
        f"the managed statements take {32769 - rest} bytes (2 statement(s) for 1 organization(s) and 0 OU path(s))"
        in message
    )
    assert f"the rest of the policy takes {rest} bytes" in message
    assert "parent OU or the whole organization" in message


def test_size_is_the_size_of_the_document_written():
    document = policy(dict(ROOT_STATEMENT, Sid="Ünïcödé ✓"))
    granted = plan(document, organization_arns=[ORG_ARN])
    written = granted.document()
    assert json.loads(written) == granted.after  # non-ASCII text survives the round trip
    assert _key_policy.policy_size(granted.after) == len(written.encode("utf-8"))


def test_a_policy_already_too_large_is_still_planned_when_nothing_changes():
    # Nothing is written, so KMS's limit does not matter: no refusal for an unchanged policy.
    granted = plan(_padded(0), organization_arns=[ORG_ARN]).after
    granted["Statement"][1]["Condition"]["StringEquals"]["aws:SourceVpce"] = "v" * 40000
    assert not plan(granted, organization_arns=[ORG_ARN]).changed
    with pytest.raises(OrgShareError) as err:
        plan(granted, organization_arns=[OTHER_ORG_ARN])
    assert "2 organization(s)" in err.value.message


# --- properties ------------------------------------------------------------------------------

KMS_ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "kms:*",
    "kms:CreateGrant",
    "kms:ListGrants",
]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"

# No "${" in foreign values: a policy without Version holding one is refused for the Auto Scaling statements
# (test_a_policy_whose_version_reads_variables_literally_is_refused_before_any_write), which these properties are not about.
texts_strategy = st.text(max_size=12).filter(lambda text: "${" not in text)
values = st.one_of(texts_strategy, st.lists(texts_strategy, min_size=1, max_size=3), st.booleans())
sids_strategy = st.text(ALNUM, min_size=1, max_size=20).filter(lambda sid: not sid.startswith("OrgShare"))
principals_strategy = st.one_of(
    st.just("*"),
    st.builds(lambda account: {"AWS": f"arn:aws:iam::{account:012d}:root"}, st.integers(0, 10**12 - 1)),
    st.builds(
        lambda service: {"Service": service}, st.sampled_from(["ec2.amazonaws.com", "autoscaling.amazonaws.com"])
    ),
    st.lists(
        st.text(LOWER_ALNUM, min_size=1, max_size=8).map(lambda name: f"arn:aws:iam::{MGMT}:role/{name}"),
        min_size=1,
        max_size=3,
    ).map(lambda arns: {"AWS": arns}),
)
conditions = st.dictionaries(
    st.sampled_from(["StringEquals", "StringLike", "Bool", "ForAnyValue:StringLike", "ArnLike"]),
    st.dictionaries(
        st.sampled_from(["aws:SourceVpc", "kms:ViaService", "aws:PrincipalTag/team", "kms:CallerAccount"]),
        values,
        min_size=1,
        max_size=2,
    ),
    min_size=1,
    max_size=2,
)


@st.composite
def foreign_statements(draw):
    """A statement the collection does not own: any Sid but the prefix (or none), any shape KMS takes."""
    statement = {}
    if draw(st.booleans()):
        statement["Sid"] = draw(sids_strategy)
    statement["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    statement["Principal"] = draw(principals_strategy)
    actions = draw(st.lists(st.sampled_from(KMS_ACTIONS), min_size=1, max_size=4))
    statement["Action"] = actions[0] if len(actions) == 1 and draw(st.booleans()) else actions
    statement["Resource"] = draw(st.sampled_from(["*", ["*"]]))
    if draw(st.booleans()):
        statement["Condition"] = draw(conditions)
    # Key order is the author's: it must survive too.
    return dict(draw(st.permutations(list(statement.items()))))


org_ids = st.text(LOWER_ALNUM, min_size=10, max_size=12).map(lambda suffix: "o-" + suffix)
ou_ids = st.tuples(st.text(LOWER_ALNUM, min_size=4, max_size=4), st.text(LOWER_ALNUM, min_size=8, max_size=8)).map(
    "ou-{0[0]}-{0[1]}".format
)
requests = st.fixed_dictionaries(
    {
        "organization_arns": st.lists(
            org_ids.map(lambda org_id: f"arn:aws:organizations::{MGMT}:organization/{org_id}"), max_size=3
        ),
        "organizational_unit_arns": st.lists(
            ou_ids.map(lambda ou_id: f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{ou_id}"), max_size=3
        ),
        "organizational_unit_paths": st.lists(ou_ids.map(lambda ou_id: f"{ORG_ID}/r-ab12/{ou_id}/*"), max_size=2),
    }
)


@st.composite
def policies(draw, with_owned=False):
    """A key policy of foreign statements (as a list or a lone one), optionally with owned ones scattered in."""
    statements = draw(st.lists(foreign_statements(), max_size=6))
    if with_owned:
        existing = _key_policy.requested_principals(**draw(requests))
        for statement in _key_policy.build_statements(existing, "OrgShare", draw(st.booleans())):
            statements.insert(draw(st.integers(0, len(statements))), statement)
    document = {}
    if draw(st.booleans()):
        document["Version"] = "2012-10-17"
    if draw(st.booleans()):
        document["Id"] = draw(st.text(max_size=10))
    if len(statements) == 1 and draw(st.booleans()):
        document["Statement"] = statements[0]
    elif statements or draw(st.booleans()):
        document["Statement"] = statements
    return document


PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _text_or_dict(document, as_text):
    return json.dumps(document) if as_text else document


@PROPERTY_SETTINGS
@given(policies(), requests, st.booleans(), st.booleans())
def test_property_merge_then_remove_gives_the_original_back(document, requested, only_for_aws, as_text):
    granted = plan(_text_or_dict(document, as_text), grant_for_aws_resource_only=only_for_aws, **requested)
    assert granted.changed == bool(_key_policy.requested_principals(**requested))
    removed = plan(granted.document(), state="absent", **requested)
    assert removed.changed == granted.changed
    assert [json.dumps(statement) for statement in _key_policy.statements_of(removed.after)] == [
        json.dumps(statement) for statement in _key_policy.statements_of(document)
    ]
    # The Version the Auto Scaling statements' policy variable needs stays, once added; nothing else is made up.
    top = {key: value for key, value in document.items() if key != "Statement"}
    if granted.changed and not only_for_aws:
        top.setdefault("Version", "2012-10-17")
    assert {key: value for key, value in removed.after.items() if key != "Statement"} == top


@PROPERTY_SETTINGS
@given(policies(with_owned=True), requests, st.sampled_from(["present", "absent"]), st.booleans(), st.booleans())
def test_property_planning_again_is_no_change(document, requested, state, purge, only_for_aws):
    first = plan(document, state=state, purge=purge, grant_for_aws_resource_only=only_for_aws, **requested)
    for again_on in (first.after, first.document()):
        again = plan(again_on, state=state, purge=purge, grant_for_aws_resource_only=only_for_aws, **requested)
        assert not again.changed
        assert again.added == Principals([], []) and again.removed == Principals([], [])
        assert again.after == first.after
        assert again.statements == first.statements


@PROPERTY_SETTINGS
@given(policies(with_owned=True), requests, st.sampled_from(["present", "absent"]), st.booleans(), st.booleans())
def test_property_foreign_statements_never_change_nor_move(document, requested, state, purge, only_for_aws):
    result = plan(document, state=state, purge=purge, grant_for_aws_resource_only=only_for_aws, **requested)
    assert foreign_of(result.after) == foreign_of(document)
    statements = _key_policy.statements_of(result.after)
    if not result.changed:
        assert result.after == document  # nothing is rewritten when nothing changes
    else:
        # Rewritten owned statements are one block, where the first owned one was (or last).
        positions = [index for index, statement in enumerate(statements) if _key_policy.owned(statement, "OrgShare")]
        old = _key_policy.statements_of(document)
        old_positions = [index for index, statement in enumerate(old) if _key_policy.owned(statement, "OrgShare")]
        if positions:
            assert positions == list(range(positions[0], positions[0] + len(positions)))
            assert positions[0] == (old_positions[0] if old_positions else len(statements) - len(positions))
    # Every owned statement is narrowed to organizations or OUs.
    for statement in statements:
        if _key_policy.owned(statement, "OrgShare"):
            assert statement["Principal"] == "*"
            assert_org_condition(statement)
    assert [statement for statement in statements if _key_policy.owned(statement, "OrgShare")] == result.statements


class RecordingKms:
    """Just enough of a KMS client for _kms.put_key_policy: it keeps what would be sent."""

    def __init__(self):
        self.sent = []

    def put_key_policy(self, **kwargs):
        self.sent.append(kwargs)
        return {}


@PROPERTY_SETTINGS
@given(
    policies(with_owned=True),
    requests,
    st.sampled_from(["present", "absent"]),
    st.booleans(),
    st.text(min_size=1, max_size=8),
)
def test_property_size_is_what_put_key_policy_sends(document, requested, state, purge, unicode_text):
    document.setdefault("Description", unicode_text)  # non-ASCII too: the limit counts bytes
    result = plan(document, state=state, purge=purge, **requested)
    client = RecordingKms()
    _kms.put_key_policy(client, "arn:aws:kms:us-east-1:111122223333:key/k", result.document())
    (sent,) = client.sent
    assert sent["PolicyName"] == "default"
    assert json.loads(sent["Policy"]) == result.after
    assert (
        _key_policy.policy_size(result.after)
        == len(result.document().encode("utf-8"))
        == len(sent["Policy"].encode("utf-8"))
    )


def test_statements_written_without_generate_data_key_are_brought_up_to_date():
    # The Amazon EBS User Guide lists kms:GenerateDataKey for the users of a shared key; 0.1.0 did not write it.
    old = policy(ROOT_STATEMENT, dict(org_use(ORG_ID), Action=list(USE_0_1)), org_grant(ORG_ID))
    upgraded = plan(old, organization_arns=[ORG_ARN])
    assert upgraded.changed and upgraded.added.organization_ids == [] and upgraded.removed.organization_ids == []
    (use,) = [statement for statement in upgraded.after["Statement"] if statement.get("Sid") == "OrgShareOrgUse"]
    assert "kms:GenerateDataKey" in use["Action"]
    assert upgraded.after["Statement"][0] == ROOT_STATEMENT
    assert not plan(upgraded.after, organization_arns=[ORG_ARN]).changed


# --- same_policy: amazon.aws's compare_policies, pinned where the collection relies on it -----------------

BASE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "OrgShareOuUse",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-cd34ef56/*"]},
                "Bool": {"kms:GrantIsForAWSResource": True},
            },
        },
    ],
}


def _variant(change):
    policy = copy.deepcopy(BASE_POLICY)
    change(policy)
    return policy


@pytest.mark.parametrize(
    "name, variant",
    [
        ("JSON text, indented", json.dumps(BASE_POLICY, indent=2)),
        ("JSON text, compact, keys sorted", json.dumps(BASE_POLICY, separators=(",", ":"), sort_keys=True)),
        ("statements in another order", _variant(lambda p: p["Statement"].reverse())),
        ("actions in another order", _variant(lambda p: p["Statement"][1]["Action"].reverse())),
        (
            "a lone string for a one-item list",
            _variant(
                lambda p: p["Statement"][1]["Condition"]["ForAnyValue:StringLike"].update(
                    {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*/ou-ab12-cd34ef56/*"}
                )
            ),
        ),
        ("a list for a lone string", _variant(lambda p: p["Statement"][0].update(Action=["kms:*"]))),
        (
            '"true" for true',
            _variant(lambda p: p["Statement"][1]["Condition"]["Bool"].update({"kms:GrantIsForAWSResource": "true"})),
        ),
        ('{"AWS": "*"} for "*"', _variant(lambda p: p["Statement"][1].update(Principal={"AWS": "*"}))),
    ],
)
def test_same_policy_whatever_the_formatting(name, variant):  # pylint: disable=unused-argument
    assert _key_policy.same_policy(BASE_POLICY, variant)
    assert _key_policy.same_policy(
        json.dumps(variant) if isinstance(variant, dict) else variant, json.dumps(BASE_POLICY)
    )


@pytest.mark.parametrize(
    "name, variant",
    [
        (
            "another OU path",
            _variant(
                lambda p: p["Statement"][1]["Condition"]["ForAnyValue:StringLike"].update(
                    {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-99999999/*"]}
                )
            ),
        ),
        ("one action fewer", _variant(lambda p: p["Statement"][1].update(Action=["kms:Decrypt"]))),
        ("a statement fewer", _variant(lambda p: p["Statement"].pop())),
        (
            "false for true",
            _variant(lambda p: p["Statement"][1]["Condition"]["Bool"].update({"kms:GrantIsForAWSResource": False})),
        ),
        ("no Version", _variant(lambda p: p.pop("Version"))),
        ("Deny for Allow", _variant(lambda p: p["Statement"][1].update(Effect="Deny"))),
    ],
)
def test_another_policy_is_not_the_same(name, variant):  # pylint: disable=unused-argument
    assert not _key_policy.same_policy(BASE_POLICY, variant)
