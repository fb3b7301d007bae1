# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A lint of the statements kms_org_grant writes: parliament's IAM policy checks, then explicit tables
of valid KMS actions, condition keys, operators and values."""

import fnmatch
import json
import warnings

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import Principals

with warnings.catch_warnings():
    # parliament 1.6.4 imports pkg_resources (deprecated by setuptools) and leaves its data files open.
    warnings.simplefilter("ignore")
    from parliament import analyze_policy_string

ORG_ID = "o-a1b2c3d4e5"
OU_PATTERN = f"{ORG_ID}/*/ou-ab12-cd34ef56/*"
FULL_PATH = f"{ORG_ID}/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/*"

PRINCIPALS = {
    "organization": Principals([ORG_ID], []),
    "two organizations": Principals([ORG_ID, "o-z9y8x7w6v5"], []),
    "OU": Principals([], [OU_PATTERN]),
    "OU paths": Principals([], [OU_PATTERN, FULL_PATH]),
    "organization and OU": Principals([ORG_ID], [OU_PATTERN]),
}

# Every action of the AWS KMS service authorization reference.
VALID_KMS_ACTIONS = frozenset(
    f"kms:{name}"
    for name in (
        "CancelKeyDeletion",
        "ConnectCustomKeyStore",
        "CreateAlias",
        "CreateCustomKeyStore",
        "CreateGrant",
        "CreateKey",
        "Decrypt",
        "DeleteAlias",
        "DeleteCustomKeyStore",
        "DeleteImportedKeyMaterial",
        "DeriveSharedSecret",
        "DescribeCustomKeyStores",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "DisconnectCustomKeyStore",
        "EnableKey",
        "EnableKeyRotation",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GenerateRandom",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetParametersForImport",
        "GetPublicKey",
        "ImportKeyMaterial",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "PutKeyPolicy",
        "ReEncryptFrom",
        "ReEncryptTo",
        "ReplicateKey",
        "RetireGrant",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "Sign",
        "SynchronizeMultiRegionKey",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateCustomKeyStore",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
        "Verify",
        "VerifyMac",
    )
)
# What consumers of an encrypted AMI need (DESIGN.md), with the wildcard expanded.
USE_ACTIONS = {
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
}
GRANT_ACTIONS = {"kms:CreateGrant"}

# Global condition keys (IAM reference) and KMS condition keys (KMS reference).
VALID_CONDITION_KEYS = frozenset(
    (
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalType",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:UserAgent",
        "aws:userid",
        "aws:username",
        "aws:ViaAWSService",
        "kms:BypassPolicyLockoutSafetyCheck",
        "kms:CallerAccount",
        "kms:DataKeyPairSpec",
        "kms:EncryptionAlgorithm",
        "kms:EncryptionContextKeys",
        "kms:ExpirationModel",
        "kms:GrantConstraintType",
        "kms:GrantIsForAWSResource",
        "kms:GrantOperations",
        "kms:GranteePrincipal",
        "kms:KeyAgreementAlgorithm",
        "kms:KeyOrigin",
        "kms:KeySpec",
        "kms:KeyUsage",
        "kms:MacAlgorithm",
        "kms:MessageType",
        "kms:MultiRegion",
        "kms:MultiRegionKeyType",
        "kms:PrimaryRegion",
        "kms:ReEncryptOnSameKey",
        "kms:ReplicaRegion",
        "kms:RequestAlias",
        "kms:ResourceAliases",
        "kms:RetiringPrincipal",
        "kms:RotationPeriodInDays",
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        "kms:SigningAlgorithm",
        "kms:ValidTo",
        "kms:ViaService",
        "kms:WrappingAlgorithm",
        "kms:WrappingKeySpec",
    )
)
# The operators each key the collection writes may take: aws:PrincipalOrgID has one value per request
# (a set operator would be wrong), aws:PrincipalOrgPaths is multivalued (it needs ForAnyValue), the grant
# flag is a boolean.
OPERATORS_OF_KEY = {
    "aws:PrincipalOrgID": {"StringEquals", "StringLike"},
    "aws:PrincipalOrgPaths": {"ForAnyValue:StringEquals", "ForAnyValue:StringLike"},
    "kms:GrantIsForAWSResource": {"Bool"},
    # KMS "AWS KMS condition keys": kms:GranteePrincipal is a single-valued string, kms:GrantOperations multivalued.
    "kms:GranteePrincipal": {"StringEquals", "StringLike"},
    "kms:GrantOperations": {"ForAllValues:StringEquals"},
}
# The grant operations of the KMS API reference (CreateGrant, Operations).
VALID_GRANT_OPERATIONS = frozenset(
    (
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
        "Sign",
        "Verify",
        "GetPublicKey",
        "CreateGrant",
        "RetireGrant",
        "DescribeKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateMac",
        "VerifyMac",
        "DeriveSharedSecret",
    )
)
# kms:GrantIsForAWSResource is only set on these requests (KMS reference).
GRANT_FLAG_ACTIONS = {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}

# parliament findings every KMS key policy has, and why they are not defects:
ALLOWED_FINDINGS = {
    # A key policy is attached to its one key: "Resource": "*" there means "this key" and is the only
    # resource a key policy may name. parliament reads the document as an identity policy, where it
    # would mean every key of the account.
    "RESOURCE_STAR",
    # Community auditor: kms:CreateGrant is on Policy Sentry's "Permissions management" list. EC2 needs
    # it to attach a volume encrypted with the key (DESIGN.md); each statement limits it to grants for AWS
    # resources (kms:GrantIsForAWSResource) or, with grant_for_aws_resource_only lifted, to the one grant for
    # the caller's own Auto Scaling service-linked role (kms:GranteePrincipal, kms:GrantOperations).
    "PERMISSIONS_MANAGEMENT_ACTIONS",
}


def document_of(principals, only_for_aws):
    statements = _key_policy.build_statements(principals, _key_policy.DEFAULT_PREFIX, only_for_aws)
    return _key_policy.serialize({"Version": "2012-10-17", "Statement": statements})


def findings_of(text):
    """parliament's findings, with every auditor it has (community ones included)."""
    return analyze_policy_string(text, include_community_auditors=True).findings


def expand(action):
    """The KMS actions a pattern of a statement stands for."""
    return {name for name in VALID_KMS_ACTIONS if fnmatch.fnmatchcase(name.lower(), action.lower())}


@pytest.mark.parametrize("only_for_aws", [True, False], ids=["grant-for-aws-resource-only", "grant-unlimited"])
@pytest.mark.parametrize("name", sorted(PRINCIPALS))
def test_parliament_finds_nothing_but_what_every_key_policy_has(name, only_for_aws):
    text = document_of(PRINCIPALS[name], only_for_aws)
    findings = findings_of(text)
    assert {finding.issue for finding in findings} <= ALLOWED_FINDINGS, [
        (finding.issue, finding.detail) for finding in findings
    ]

    statements = json.loads(text)["Statement"]
    # One RESOURCE_STAR per statement, naming exactly that statement's actions (the wildcard expanded).
    resource_star = sorted(sorted(finding.detail) for finding in findings if finding.issue == "RESOURCE_STAR")
    expected = sorted(
        sorted(set().union(*(expand(action) for action in statement["Action"]))) for statement in statements
    )
    assert resource_star == expected
    # PERMISSIONS_MANAGEMENT_ACTIONS only for kms:CreateGrant.
    managed = [finding.location["actions"] for finding in findings if finding.issue == "PERMISSIONS_MANAGEMENT_ACTIONS"]
    assert managed == [["kms:creategrant"]]


BROKEN = {
    "unknown action": (lambda statements: statements[0].update(Action=["kms:Decrypts"]), "UNKNOWN_ACTION"),
    "misspelt condition key": (
        lambda statements: statements[1]["Condition"].update(Bool={"kms:GrantIsForAwsResources": "true"}),
        "UNKNOWN_CONDITION_FOR_ACTION",
    ),
    "grant flag on the wrong actions": (
        lambda statements: statements[0]["Condition"].update(Bool={"kms:GrantIsForAWSResource": "true"}),
        "UNKNOWN_CONDITION_FOR_ACTION",
    ),
    "boolean compared as a string": (
        lambda statements: statements[1]["Condition"].update(StringEquals={"kms:GrantIsForAWSResource": "true"}),
        "MISMATCHED_TYPE",
    ),
    "unknown operator": (
        lambda statements: statements[0]["Condition"].update(
            StringEqual=statements[0]["Condition"].pop("StringEquals")
        ),
        "UNKNOWN_OPERATOR",
    ),
    "repeated Sid": (lambda statements: statements[1].update(Sid=statements[0]["Sid"]), "DUPLICATE_SID"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_lint_catches_a_broken_statement(name):
    # The same check on statements spoilt on purpose, so that its silence above means something.
    spoil, issue = BROKEN[name]
    statements = json.loads(document_of(PRINCIPALS["organization"], True))["Statement"]
    spoil(statements)
    issues = {
        finding.issue
        for finding in findings_of(json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2))
    }
    assert issue in issues
    assert not issues <= ALLOWED_FINDINGS


@pytest.mark.parametrize("only_for_aws", [True, False])
@pytest.mark.parametrize("name", sorted(PRINCIPALS))
def test_actions_and_condition_keys_are_valid(name, only_for_aws):
    principals = PRINCIPALS[name]
    statements = _key_policy.build_statements(principals, _key_policy.DEFAULT_PREFIX, only_for_aws)
    assert len(statements) == (2 if only_for_aws else 3) * (
        bool(principals.organization_ids) + bool(principals.org_paths)
    )
    seen_values = {"aws:PrincipalOrgID": set(), "aws:PrincipalOrgPaths": set()}
    grantee_statements = 0
    for statement in statements:
        actions = set()
        for action in statement["Action"]:
            expanded = expand(action)
            assert expanded, f"{action} is not a KMS action"
            assert "*" in action or expanded == {action}
            actions |= expanded
        assert actions in (USE_ACTIONS, GRANT_ACTIONS), statement["Sid"]

        for operator, block in statement["Condition"].items():
            for key, value in block.items():
                assert key in VALID_CONDITION_KEYS, key
                assert operator in OPERATORS_OF_KEY[key], (operator, key)
                if key == "kms:GrantIsForAWSResource":
                    assert actions <= GRANT_FLAG_ACTIONS
                    assert value == "true"
                elif key == "kms:GrantOperations":
                    assert actions == GRANT_ACTIONS and set(value) <= VALID_GRANT_OPERATIONS
                elif key == "kms:GranteePrincipal":
                    assert actions == GRANT_ACTIONS
                    # the caller's own account, named by the one variable it holds, and the Auto Scaling role
                    assert all(
                        grantee.startswith(
                            "arn:aws:iam::${aws:PrincipalAccount}:role/aws-service-role/autoscaling.amazonaws.com/"
                        )
                        and grantee.count("${") == 1
                        for grantee in value
                    )
                    grantee_statements += 1
                else:
                    assert isinstance(value, list) and value
                    seen_values[key].update(value)
        grant_flag = statement["Condition"].get("Bool", {}).get("kms:GrantIsForAWSResource")
        grantee = statement["Condition"].get("StringLike", {}).get("kms:GranteePrincipal")
        # Every statement allowing kms:CreateGrant narrows it: to grants for AWS resources, or to one grantee.
        assert (grant_flag == "true") != (grantee is not None) if actions == GRANT_ACTIONS else grant_flag is None
    assert grantee_statements == (0 if only_for_aws else len(statements) // 3)
    assert seen_values == {
        "aws:PrincipalOrgID": set(principals.organization_ids),
        "aws:PrincipalOrgPaths": set(principals.org_paths),
    }


def test_the_tables_reject_what_is_not_kms():
    # The tables themselves are not a rubber stamp.
    assert expand("kms:ReEncrypt*") == {"kms:ReEncryptFrom", "kms:ReEncryptTo"}
    assert not expand("kms:Decrypts") and not expand("ec2:Decrypt")
    assert "kms:GrantIsForAwsResource" not in VALID_CONDITION_KEYS and "aws:PrincipalOrgIds" not in VALID_CONDITION_KEYS


def test_the_actions_accepted_in_owned_statements_are_kms_actions_and_no_more():
    # The ownership check takes a statement holding these as the module's own; a typo or a wider pattern
    # here would let a lookalike statement pass as one of them.
    pairs = (
        (_key_policy.ACCEPTED_USE_ACTIONS, _key_policy.USE_ACTIONS),
        (_key_policy.ACCEPTED_GRANT_ACTIONS, _key_policy.GRANT_ACTIONS),
    )
    for accepted, written in pairs:
        assert set(written) <= set(accepted)
        assert all(expand(action) for action in accepted), accepted
    use = set().union(*(expand(action) for action in _key_policy.ACCEPTED_USE_ACTIONS))
    assert use == USE_ACTIONS | expand("kms:GenerateDataKey*")
    assert not use & (GRANT_ACTIONS | {"kms:Encrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"})
    assert set().union(*(expand(action) for action in _key_policy.ACCEPTED_GRANT_ACTIONS)) == GRANT_ACTIONS


@pytest.mark.parametrize("name", sorted(PRINCIPALS))
def test_parliament_finds_nothing_in_the_widest_statements_the_module_owns(name):
    statements = _key_policy.build_statements(PRINCIPALS[name], _key_policy.DEFAULT_PREFIX)
    for statement in statements:
        kind = _key_policy.kind_of(statement, _key_policy.DEFAULT_PREFIX)
        statement["Action"] = list(kind.actions)
        assert _key_policy.owned(statement, _key_policy.DEFAULT_PREFIX)
    findings = findings_of(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    assert {finding.issue for finding in findings} <= ALLOWED_FINDINGS, [
        (finding.issue, finding.detail) for finding in findings
    ]
