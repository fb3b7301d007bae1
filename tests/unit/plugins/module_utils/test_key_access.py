# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The key-policy evaluator: AWS's documented examples, the statements kms_org_grant writes, properties.

The example statements are copied from the AWS pages they are named after; the expected answers
are what those pages (and IAM's evaluation, condition-operator and set-operator pages) say.
"""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _key_access
from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._key_access import PolicyDocumentError
from ansible_collections.orgshare.aws.plugins.module_utils._key_access import RequestContext
from ansible_collections.orgshare.aws.plugins.module_utils._key_access import account_context
from ansible_collections.orgshare.aws.plugins.module_utils._key_access import can_launch
from ansible_collections.orgshare.aws.plugins.module_utils._key_access import evaluate

KEY_ACCOUNT = "111122223333"
CONSUMER = "444455556666"
OUTSIDER = "777788889999"
KEY_ARN = f"arn:aws:kms:us-east-1:{KEY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY_ARN = f"arn:aws:kms:us-east-1:{KEY_ACCOUNT}:key/0987dcba-09ba-dc87-65fe-0987654321ba"
ALL_LAUNCH = [
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]

# EC2 User Guide, "Allow organizations and OUs to use a KMS key" (allow-org-ou-to-use-key.html).
EC2_DOC_ACTIONS = [
    "kms:Describe*",
    "kms:List*",
    "kms:Get*",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
]
EC2_ORG_STATEMENT = {
    "Sid": "Allow access for organization root",
    "Effect": "Allow",
    "Principal": "*",
    "Action": EC2_DOC_ACTIONS,
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123example"}},
}
EC2_OU_STATEMENT = {
    "Sid": "Allow access for specific OUs and their descendants",
    "Effect": "Allow",
    "Principal": "*",
    "Action": EC2_DOC_ACTIONS,
    "Resource": "*",
    "Condition": {
        "StringEquals": {"aws:PrincipalOrgID": "o-123example"},
        "ForAnyValue:StringLike": {
            "aws:PrincipalOrgPaths": [
                "o-123example/r-ab12/ou-ab12-33333333/*",
                "o-123example/r-ab12/ou-ab12-22222222/*",
            ],
        },
    },
}
# KMS Developer Guide, "Default key policy": the statement that hands the key's account to IAM.
ENABLE_IAM = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{KEY_ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
# The actions the EBS User Guide ("Share the KMS key used to encrypt a shared Amazon EBS snapshot") lists for users
# of a shared key, written for one external account, with CreateGrant limited by kms:GrantIsForAWSResource as its tip says.
EBS_USE = {
    "Sid": "Allow use of the key",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
    "Action": [
        "kms:DescribeKey",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncrypt*",
        "kms:Decrypt",
    ],
    "Resource": "*",
}
EBS_GRANT = {
    "Sid": "Allow attachment of persistent resources",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
}
DENY_OUTSIDE_ORG = {
    "Sid": "DenyOutsideOrg",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:*",
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-123example"}},
}


def policy(*statements):
    return {
        "Version": "2012-10-17",
        "Id": "key-policy",
        "Statement": [copy.deepcopy(statement) for statement in statements],
    }


def member(path, account=CONSUMER, **extra):
    return account_context(account, org_path=path, extra=extra)


def grant_flag(value):
    return account_context(CONSUMER, extra={"kms:GrantIsForAWSResource": value})


def allow(**fields):
    statement = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    statement.update(fields)
    return statement


def deny(**fields):
    return dict(allow(**fields), Effect="Deny")


IN_OU_33 = member("o-123example/r-ab12/ou-ab12-33333333/")
IN_CHILD_OF_33 = member("o-123example/r-ab12/ou-ab12-33333333/ou-ab12-44444444/")
IN_SIBLING_OU = member("o-123example/r-ab12/ou-ab12-11111111/")
UNDER_ROOT = member("o-123example/r-ab12/")
OU_33_PATTERN = "o-123example/*/ou-ab12-33333333/*"
OTHER_ORG = member("o-999example/r-cd34/ou-cd34-33333333/")
NO_ORG = account_context(OUTSIDER)


# --- the request context -------------------------------------------------------------------------


def test_account_context_is_the_root_principal_of_the_account_with_its_org_keys():
    context = account_context(CONSUMER, org_path="o-123example/r-ab12/ou-ab12-33333333/")
    assert context.principal_arn == f"arn:aws:iam::{CONSUMER}:root"
    assert context.principal_org_id == "o-123example"
    assert context.condition_keys() == {
        "aws:principalarn": f"arn:aws:iam::{CONSUMER}:root",
        "aws:principalaccount": CONSUMER,
        "kms:calleraccount": CONSUMER,
        "aws:principalorgid": "o-123example",
        "aws:principalorgpaths": ["o-123example/r-ab12/ou-ab12-33333333/"],
    }
    assert account_context(CONSUMER, partition="aws-cn").principal_arn == f"arn:aws-cn:iam::{CONSUMER}:root"


def test_an_account_outside_any_organization_has_no_org_keys():
    assert set(NO_ORG.condition_keys()) == {"aws:principalarn", "aws:principalaccount", "kms:calleraccount"}


def test_a_role_context_reads_its_account_from_the_arn_and_extra_keys_win():
    role = RequestContext(f"arn:aws:iam::{CONSUMER}:role/Launcher", extra={"kms:CallerAccount": OUTSIDER})
    assert role.principal_account == CONSUMER
    assert role.condition_keys()["kms:calleraccount"] == OUTSIDER
    assert role.with_extra({"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}).extra == {
        "kms:CallerAccount": OUTSIDER,
        "kms:ViaService": "ec2.eu-west-1.amazonaws.com",
    }
    assert role.extra == {"kms:CallerAccount": OUTSIDER}


# --- AWS's documented examples -----------------------------------------------------------------


@pytest.mark.parametrize("context", [IN_OU_33, IN_SIBLING_OU, UNDER_ROOT])
def test_ec2_guide_org_statement_lets_every_member_use_the_key_but_not_create_grants(context):
    result = can_launch(policy(EC2_ORG_STATEMENT), context)
    assert not result.allowed
    assert [check.action for check in result.denied()] == ["kms:CreateGrant"]
    decision = evaluate(policy(EC2_ORG_STATEMENT), "kms:Decrypt", context)
    assert decision == (
        True,
        "allowed by statement 'Allow access for organization root' (1 of 1)",
        "Allow access for organization root",
        1,
        (),
    )


@pytest.mark.parametrize("context", [OTHER_ORG, NO_ORG])
def test_ec2_guide_org_statement_lets_no_one_else_in(context):
    decision = evaluate(policy(EC2_ORG_STATEMENT), "kms:Decrypt", context)
    assert decision == (False, "no statement allows it (implicit deny)", None, None, ())


@pytest.mark.parametrize(
    "context, allowed",
    [
        (IN_OU_33, True),
        (IN_CHILD_OF_33, True),
        (member("o-123example/r-ab12/ou-ab12-22222222/"), True),
        (IN_SIBLING_OU, False),
        (UNDER_ROOT, False),
        (OTHER_ORG, False),
        (NO_ORG, False),
    ],
)
def test_ec2_guide_ou_statement_lets_in_the_ous_and_their_descendants_only(context, allowed):
    for action in [
        "kms:DescribeKey",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:Encrypt",
        "kms:GetPublicKey",
        "kms:ListAliases",
    ]:
        assert evaluate(policy(EC2_OU_STATEMENT), action, context).allowed is allowed, action
    assert not evaluate(policy(EC2_OU_STATEMENT), "kms:CreateGrant", context).allowed
    assert not evaluate(policy(EC2_OU_STATEMENT), "kms:ScheduleKeyDeletion", context).allowed


def test_ebs_guide_statements_let_the_external_account_and_its_roles_launch():
    shared = policy(ENABLE_IAM, EBS_USE, EBS_GRANT)
    role = RequestContext(f"arn:aws:iam::{CONSUMER}:role/Launcher")
    for context in (account_context(CONSUMER), role):
        result = can_launch(shared, context, KEY_ARN)
        assert result.allowed, result.reason
        assert result.reason == "the key policy allows every KMS action a launch needs"
        assert [check.action for check in result.checks] == ALL_LAUNCH
        assert result.checks[1].decision.sid == "Allow attachment of persistent resources"
    assert not can_launch(shared, account_context(OUTSIDER), KEY_ARN).allowed


def test_ebs_guide_create_grant_is_only_for_aws_resources():
    shared = policy(EBS_USE, EBS_GRANT)
    for flag, allowed in (("true", True), ("false", False), (None, False)):
        extra = {} if flag is None else {"kms:GrantIsForAWSResource": flag}
        assert evaluate(shared, "kms:CreateGrant", account_context(CONSUMER, extra=extra)).allowed is allowed, flag
    direct = evaluate(
        shared, "kms:CreateGrant", account_context(CONSUMER, extra={"kms:GrantIsForAWSResource": "false"})
    )
    assert direct.reason == "no statement allows it (implicit deny)"


def test_default_key_policy_gives_the_key_account_everything_and_others_nothing():
    default = policy(ENABLE_IAM)
    for principal in (
        f"arn:aws:iam::{KEY_ACCOUNT}:root",
        f"arn:aws:iam::{KEY_ACCOUNT}:role/Admin",
        f"arn:aws:iam::{KEY_ACCOUNT}:user/ops",
    ):
        for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:Decrypt"):
            assert evaluate(default, action, RequestContext(principal), KEY_ARN).sid == "Enable IAM User Permissions"
            assert evaluate(default, action, RequestContext(principal), KEY_ARN).allowed
    assert not can_launch(default, account_context(CONSUMER)).allowed


def test_the_account_principal_may_be_a_bare_account_id():
    by_id = policy(dict(ENABLE_IAM, Principal={"AWS": [OUTSIDER, KEY_ACCOUNT]}))
    assert evaluate(by_id, "kms:Decrypt", RequestContext(f"arn:aws:iam::{KEY_ACCOUNT}:role/Admin")).allowed
    assert not evaluate(by_id, "kms:Decrypt", account_context(CONSUMER)).allowed


def test_an_explicit_deny_on_aws_principal_org_id_wins_over_every_allow():
    guarded = policy(ENABLE_IAM, allow(Sid="Everyone"), DENY_OUTSIDE_ORG)
    assert evaluate(guarded, "kms:Decrypt", IN_SIBLING_OU).allowed
    other = evaluate(guarded, "kms:Decrypt", OTHER_ORG)
    assert other == (False, "explicit deny by statement 'DenyOutsideOrg' (3 of 3)", "DenyOutsideOrg", 3, ())
    # A principal outside any organization has no aws:PrincipalOrgID, and a negated operator is true then.
    assert evaluate(guarded, "kms:Decrypt", NO_ORG).reason == "explicit deny by statement 'DenyOutsideOrg' (3 of 3)"
    # Even the key's own account, when it is outside the organization.
    assert not evaluate(guarded, "kms:PutKeyPolicy", account_context(KEY_ACCOUNT)).allowed


@pytest.mark.parametrize(
    "values, context, allowed",
    [
        ("o-123example/*/ou-ab12-33333333/*", IN_OU_33, True),
        ("o-123example/*/ou-ab12-33333333/*", IN_CHILD_OF_33, True),
        ("o-123example/*/ou-ab12-33333333/*", member("o-123example/r-ab12/ou-ab12-55555555/ou-ab12-33333333/"), True),
        ("o-123example/*/ou-ab12-33333333/*", IN_SIBLING_OU, False),
        ("o-123example/*/ou-ab12-33333333/*", member("o-999example/r-ab12/ou-ab12-33333333/"), False),
        ("o-123example/r-ab12/ou-ab12-33333333/", IN_OU_33, True),  # an exact path: that OU only
        ("o-123example/r-ab12/ou-ab12-33333333/", IN_CHILD_OF_33, False),
        ("o-123example/r-ab12/ou-ab12-3333333?/", IN_OU_33, True),
        ("o-123example/r-ab12/ou-ab12-3333333?/", member("o-123example/r-ab12/ou-ab12-333333333/"), False),
        ("O-123EXAMPLE/*", IN_OU_33, False),  # StringLike is case-sensitive
        (["o-123example/r-ab12/ou-ab12-11111111/*", "o-123example/*/ou-ab12-33333333/*"], IN_OU_33, True),
        ([], IN_OU_33, False),
        ("o-123example/*", NO_ORG, False),
    ],
)
def test_for_any_value_string_like_on_principal_org_paths(values, context, allowed):
    statement = allow(Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": values}})
    assert evaluate(policy(statement), "kms:Decrypt", context).allowed is allowed


def test_principal_org_paths_with_several_paths_needs_one_to_match():
    two_paths = RequestContext(
        f"arn:aws:iam::{CONSUMER}:root",
        CONSUMER,
        "o-123example",
        ["o-123example/r-ab12/ou-ab12-11111111/", "o-123example/r-ab12/ou-ab12-33333333/"],
    )
    any_value = policy(
        allow(Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-123example/*/ou-ab12-33333333/*"}})
    )
    all_values = policy(allow(Condition={"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": OU_33_PATTERN}}))
    assert evaluate(any_value, "kms:Decrypt", two_paths).allowed
    assert not evaluate(all_values, "kms:Decrypt", two_paths).allowed


@pytest.mark.parametrize("value", ["true", True, "True", ["true"], ["false", "true"]])
@pytest.mark.parametrize("flag", ["true", True])
def test_bool_grant_is_for_aws_resource_takes_strings_and_json_booleans(value, flag):
    granted = policy(allow(Action="kms:CreateGrant", Condition={"Bool": {"kms:GrantIsForAWSResource": value}}))
    assert evaluate(granted, "kms:CreateGrant", grant_flag(flag)).allowed
    # Only the list that also holds "false" lets in a request whose flag is false.
    assert evaluate(granted, "kms:CreateGrant", grant_flag(False)).allowed is (value == ["false", "true"])


def test_bool_with_a_value_that_is_no_boolean_is_not_understood():
    statement = allow(Condition={"Bool": {"kms:GrantIsForAWSResource": "yes"}})
    decision = evaluate(policy(statement), "kms:CreateGrant", grant_flag("true"))
    assert not decision.allowed
    assert "is not true or false" in decision.not_understood[0]


def test_not_action_denies_everything_but_what_it_lists():
    only_use = {
        "Sid": "OnlyUse",
        "Effect": "Deny",
        "Principal": "*",
        "NotAction": ["kms:Decrypt", "kms:Describe*"],
        "Resource": "*",
    }
    guarded = policy(allow(Sid="All"), only_use)
    assert evaluate(guarded, "kms:Decrypt", IN_OU_33).allowed
    assert evaluate(guarded, "kms:DescribeKey", IN_OU_33).allowed
    assert evaluate(guarded, "kms:Encrypt", IN_OU_33).reason == "explicit deny by statement 'OnlyUse' (2 of 2)"
    only_deletion = {"Effect": "Allow", "Principal": "*", "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*"}
    assert evaluate(policy(only_deletion), "kms:Decrypt", IN_OU_33).allowed
    assert not evaluate(policy(only_deletion), "KMS:scheduleKEYdeletion", IN_OU_33).allowed


def _not_principal_deny(*principals):
    return {
        "Sid": "OnlyThese",
        "Effect": "Deny",
        "NotPrincipal": {"AWS": list(principals)},
        "Action": "kms:*",
        "Resource": "*",
    }


def test_not_principal_with_deny_exempts_the_account_named():
    guarded = policy(allow(), _not_principal_deny(f"arn:aws:iam::{CONSUMER}:root"))
    assert evaluate(guarded, "kms:Decrypt", account_context(CONSUMER)).allowed
    assert (
        evaluate(guarded, "kms:Decrypt", account_context(OUTSIDER)).reason
        == "explicit deny by statement 'OnlyThese' (2 of 2)"
    )


def test_not_principal_exempts_a_role_only_with_its_account():
    role_arn = f"arn:aws:iam::{CONSUMER}:role/Launcher"
    role = RequestContext(role_arn)
    assert not evaluate(policy(allow(), _not_principal_deny(role_arn)), "kms:Decrypt", role).allowed
    assert not evaluate(
        policy(allow(), _not_principal_deny(f"arn:aws:iam::{CONSUMER}:root")), "kms:Decrypt", role
    ).allowed
    assert evaluate(policy(allow(), _not_principal_deny(CONSUMER, role_arn)), "kms:Decrypt", role).allowed


def test_not_principal_with_allow_never_grants():
    statement = {"Sid": "Odd", "Effect": "Allow", "NotPrincipal": {"AWS": OUTSIDER}, "Action": "kms:*", "Resource": "*"}
    decision = evaluate(policy(statement), "kms:Decrypt", IN_OU_33)
    assert not decision.allowed
    assert decision.not_understood == (
        "statement 'Odd' (1 of 1) is not understood (it uses NotPrincipal with Allow, "
        "which IAM does not support), so it never grants",
    )


def test_principal_types_other_than_aws_never_match_an_account():
    services = policy(
        allow(Principal={"Service": ["ec2.amazonaws.com", "autoscaling.amazonaws.com"]}),
        allow(Principal={"Federated": "cognito-identity.amazonaws.com"}),
    )
    implicit = (False, "no statement allows it (implicit deny)", None, None, ())
    assert evaluate(services, "kms:Decrypt", account_context(CONSUMER)) == implicit
    assert evaluate(policy(allow(Principal={"AWS": "*"})), "kms:Decrypt", account_context(CONSUMER)).allowed
    assert evaluate(policy(allow(Principal={"AWS": ["*"]})), "kms:Decrypt", account_context(CONSUMER)).allowed


def test_a_deleted_principal_matches_no_one_and_a_wildcard_principal_is_not_understood():
    assert (
        evaluate(policy(allow(Principal={"AWS": "AROAEXAMPLEID123456789"})), "kms:Decrypt", IN_OU_33).not_understood
        == ()
    )
    assert not evaluate(policy(allow(Principal={"AWS": "AROAEXAMPLEID123456789"})), "kms:Decrypt", IN_OU_33).allowed
    wildcard = evaluate(
        policy(allow(Principal={"AWS": f"arn:aws:iam::{CONSUMER}:role/*"})),
        "kms:Decrypt",
        RequestContext(f"arn:aws:iam::{CONSUMER}:role/Launcher"),
    )
    assert not wildcard.allowed
    assert "has a wildcard" in wildcard.reason


def test_if_exists_matches_a_missing_key_and_checks_a_present_one():
    via_ec2 = policy(allow(Condition={"StringEqualsIfExists": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}))
    assert evaluate(via_ec2, "kms:Decrypt", IN_OU_33).allowed
    assert evaluate(
        via_ec2, "kms:Decrypt", member("o-x/r-y/", **{"kms:ViaService": "ec2.us-east-1.amazonaws.com"})
    ).allowed
    assert not evaluate(
        via_ec2, "kms:Decrypt", member("o-x/r-y/", **{"kms:ViaService": "rds.us-east-1.amazonaws.com"})
    ).allowed
    strict = policy(allow(Condition={"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}))
    assert not evaluate(strict, "kms:Decrypt", IN_OU_33).allowed


def test_for_all_values_on_a_missing_key_matches_and_for_any_value_does_not():
    grant_ops = [
        "Decrypt",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
        "CreateGrant",
        "DescribeKey",
    ]
    all_of = policy(
        allow(Action="kms:CreateGrant", Condition={"ForAllValues:StringEquals": {"kms:GrantOperations": grant_ops}})
    )
    any_of = policy(
        allow(Action="kms:CreateGrant", Condition={"ForAnyValue:StringEquals": {"kms:GrantOperations": grant_ops}})
    )
    missing = account_context(CONSUMER)
    subset = account_context(CONSUMER, extra={"kms:GrantOperations": ["Decrypt", "CreateGrant"]})
    superset = account_context(CONSUMER, extra={"kms:GrantOperations": ["Decrypt", "Encrypt"]})
    empty = account_context(CONSUMER, extra={"kms:GrantOperations": []})
    requests = (missing, empty, subset, superset)
    assert [evaluate(all_of, "kms:CreateGrant", context).allowed for context in requests] == [True, True, True, False]
    assert [evaluate(any_of, "kms:CreateGrant", context).allowed for context in requests] == [False, False, True, True]


def test_negated_set_operators():
    no_encrypt = policy(
        allow(Condition={"ForAllValues:StringNotEquals": {"kms:GrantOperations": ["Encrypt", "GenerateDataKey"]}})
    )
    assert evaluate(
        no_encrypt, "kms:CreateGrant", account_context(CONSUMER, extra={"kms:GrantOperations": ["Decrypt"]})
    ).allowed
    with_encrypt = account_context(CONSUMER, extra={"kms:GrantOperations": ["Decrypt", "Encrypt"]})
    assert not evaluate(no_encrypt, "kms:CreateGrant", with_encrypt).allowed
    some_other = policy(allow(Condition={"ForAnyValue:StringNotLike": {"aws:PrincipalOrgPaths": OU_33_PATTERN}}))
    assert not evaluate(some_other, "kms:Decrypt", IN_OU_33).allowed
    assert evaluate(some_other, "kms:Decrypt", IN_SIBLING_OU).allowed
    # ForAnyValue is false for a missing key, negated or not; ForAllValues true.
    assert not evaluate(some_other, "kms:Decrypt", NO_ORG).allowed
    assert evaluate(no_encrypt, "kms:CreateGrant", account_context(CONSUMER)).allowed


@pytest.mark.parametrize(
    "null, context, allowed",
    [
        ("true", NO_ORG, True),
        ("true", IN_OU_33, False),
        ("false", IN_OU_33, True),
        ("false", NO_ORG, False),
        (True, NO_ORG, True),
    ],
)
def test_null_checks_whether_the_key_is_missing(null, context, allowed):
    statement = allow(Condition={"Null": {"aws:PrincipalOrgID": null}})
    assert evaluate(policy(statement), "kms:Decrypt", context).allowed is allowed


def test_string_operators_and_their_case():
    def decided(operator, value, context=IN_OU_33):
        return evaluate(
            policy(allow(Condition={operator: {"aws:PrincipalOrgID": value}})), "kms:Decrypt", context
        ).allowed

    assert decided("StringEquals", "o-123example") and not decided("StringEquals", "O-123EXAMPLE")
    assert decided("StringEqualsIgnoreCase", "O-123EXAMPLE") and not decided(
        "StringNotEqualsIgnoreCase", "O-123EXAMPLE"
    )
    assert (
        decided("StringLike", "o-123*")
        and decided("StringLike", "o-123exampl?")
        and not decided("StringLike", "o-123exampl")
    )
    assert decided("StringNotLike", "o-999*") and not decided("StringNotLike", ["o-999*", "o-123*"])
    assert decided("StringNotEquals", ["o-999example", "o-888example"])
    assert not decided("StringNotEquals", ["o-999example", "o-123example"])
    assert decided("StringNotEquals", "o-123example", NO_ORG) and not decided("StringEquals", "o-123example", NO_ORG)
    # A condition key's name is not case-sensitive, its operator's is (an unknown spelling never grants).
    any_case = policy(allow(Condition={"StringEquals": {"AWS:principalorgid": "o-123example"}}))
    assert evaluate(any_case, "kms:Decrypt", IN_OU_33).allowed
    assert not decided("stringequals", "o-123example")


def test_arn_operators_match_each_field_with_wildcards():
    role = RequestContext(f"arn:aws:iam::{CONSUMER}:role/team/Launcher")

    def decided(operator, value):
        return evaluate(policy(allow(Condition={operator: {"aws:PrincipalArn": value}})), "kms:Decrypt", role).allowed

    assert decided("ArnLike", f"arn:aws:iam::{CONSUMER}:role/*") and decided(
        "ArnEquals", "arn:aws:iam::*:role/team/Launcher"
    )
    assert decided("ArnLike", "arn:*:iam::*:role/team/*") and not decided("ArnLike", f"arn:aws:iam::{OUTSIDER}:role/*")
    assert decided("ArnNotLike", f"arn:aws:iam::{OUTSIDER}:*")
    assert not decided("ArnNotEquals", f"arn:aws:iam::{CONSUMER}:role/team/Launcher")
    # A pattern of fewer than six fields is not an ARN: not understood, even negated.
    assert not decided("ArnLike", f"arn:aws:iam::{CONSUMER}") and not decided("ArnNotLike", f"arn:aws:iam::{OUTSIDER}")


def test_actions_match_without_regard_to_case_and_with_wildcards():
    statement = allow(Action=["kms:ReEncrypt*", "kms:GenerateDataKey*", "KMS:describekey", "kms:Decryp?"])
    for action in (
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:DescribeKey",
        "kms:decrypt",
        "KMS:DECRYPT",
    ):
        assert evaluate(policy(statement), action, IN_OU_33).allowed, action
    for action in ("kms:Encrypt", "kms:CreateGrant", "kms:GenerateMac", "kms:Decrypts", "ec2:ReEncryptFrom"):
        assert not evaluate(policy(statement), action, IN_OU_33).allowed, action


def test_resource_star_is_this_key_and_a_key_arn_needs_the_key_to_compare():
    named = policy(allow(Resource=[KEY_ARN]))
    assert evaluate(named, "kms:Decrypt", IN_OU_33, KEY_ARN).allowed
    assert not evaluate(named, "kms:Decrypt", IN_OU_33, OTHER_KEY_ARN).allowed
    unknown = evaluate(named, "kms:Decrypt", IN_OU_33)
    assert not unknown.allowed and "no key ARN was given" in unknown.reason
    assert evaluate(
        policy(allow(Resource=f"arn:aws:kms:*:{KEY_ACCOUNT}:key/*")), "kms:Decrypt", IN_OU_33, KEY_ARN
    ).allowed
    not_other = policy({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "NotResource": OTHER_KEY_ARN})
    assert evaluate(not_other, "kms:Decrypt", IN_OU_33, KEY_ARN).allowed
    assert not evaluate(not_other, "kms:Decrypt", IN_OU_33, OTHER_KEY_ARN).allowed


def test_keys_and_operators_are_anded_and_values_ored():
    both = {
        "StringEquals": {"aws:PrincipalOrgID": ["o-999example", "o-123example"], "aws:PrincipalAccount": CONSUMER},
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-123example/*/ou-ab12-33333333/*"},
    }
    assert evaluate(policy(allow(Condition=both)), "kms:Decrypt", IN_OU_33).allowed
    same_ou_other_account = member(IN_OU_33.principal_org_paths[0], account=OUTSIDER)
    assert not evaluate(policy(allow(Condition=both)), "kms:Decrypt", same_ou_other_account).allowed
    assert not evaluate(policy(allow(Condition=both)), "kms:Decrypt", IN_SIBLING_OU).allowed


def test_kms_caller_account_is_the_principal_account():
    statement = allow(Condition={"StringEquals": {"kms:CallerAccount": CONSUMER}})
    assert evaluate(policy(statement), "kms:Decrypt", RequestContext(f"arn:aws:iam::{CONSUMER}:user/ops")).allowed
    assert not evaluate(policy(statement), "kms:Decrypt", account_context(OUTSIDER)).allowed


def test_a_plain_operator_on_a_multivalued_key_is_not_understood():
    two_paths = RequestContext(f"arn:aws:iam::{CONSUMER}:root", CONSUMER, "o-x", ["o-x/r-y/ou-a/", "o-x/r-y/ou-b/"])
    decision = evaluate(
        policy(allow(Condition={"StringLike": {"aws:PrincipalOrgPaths": "o-x/*"}})), "kms:Decrypt", two_paths
    )
    assert not decision.allowed
    assert "has no ForAnyValue/ForAllValues" in decision.reason


# --- what it does not understand never grants ----------------------------------------------------


@pytest.mark.parametrize(
    "statement, why",
    [
        (
            allow(Sid="Num", Condition={"NumericLessThan": {"kms:RecipientAttestation:ImageSha384": "1"}}),
            "its condition operator 'NumericLessThan' is not one this evaluator knows",
        ),
        (
            allow(Sid="Num", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
            "its condition operator 'DateGreaterThan' is not one this evaluator knows",
        ),
        (
            allow(Sid="Num", Condition={"ForAnyValue:Null": {"aws:PrincipalOrgID": "false"}}),
            "its condition operator 'ForAnyValue:Null' is not one this evaluator knows",
        ),
        (
            allow(Sid="Num", Condition={"StringEquals": {"aws:PrincipalArn": "${aws:username}"}}),
            "its StringEquals value for aws:PrincipalArn '${aws:username}' has the policy variable ${aws:username}, "
            "which the request does not set",
        ),
        (
            allow(Sid="Num", Condition={"StringEquals": {"aws:PrincipalOrgID": {"o": 1}}}),
            'its StringEquals value for aws:PrincipalOrgID {"o":1} is not a string or a list of them',
        ),
        (allow(Sid="Num", Condition=["StringEquals"]), 'its Condition ["StringEquals"] is not a map of operators'),
        (allow(Sid="Num", Principal={"AWS": 12}), "its Principal AWS 12 is not a string or a list of strings"),
        (allow(Sid="Num", Principal={"Group": "all"}), "its Principal has the principal type 'Group'"),
        (dict(allow(Sid="Num"), Version="2012-10-17"), "it has the element(s) 'Version'"),
        ({"Sid": "Num", "Effect": "Allow", "Principal": "*", "Resource": "*"}, "it has neither Action nor NotAction"),
        (
            {"Sid": "Num", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
            "it has neither Principal nor NotPrincipal",
        ),
        (dict(allow(Sid="Num"), NotResource="*"), "it has both Resource and NotResource"),
    ],
)
def test_an_allow_it_does_not_understand_never_grants(statement, why):
    decision = evaluate(policy(statement), "kms:Decrypt", IN_OU_33)
    assert decision == (
        False,
        f"no statement allows it (implicit deny); statement 'Num' (1 of 1) is not understood ({why}), "
        "so it never grants",
        None,
        None,
        (f"statement 'Num' (1 of 1) is not understood ({why}), so it never grants",),
    )


def test_a_deny_it_does_not_understand_is_taken_as_matching():
    unknown_deny = deny(Sid="Guard", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    decision = evaluate(policy(allow(Sid="All"), unknown_deny), "kms:Decrypt", IN_OU_33)
    assert decision.allowed is False
    assert decision.sid == "Guard" and decision.index == 2
    assert decision.reason == (
        "explicit deny by statement 'Guard' (2 of 2), taken as matching because it is not fully understood: "
        "its condition operator 'IpAddress' is not one this evaluator knows"
    )


def test_a_deny_that_surely_does_not_apply_stays_out_even_when_partly_unknown():
    other_action = deny(
        Sid="Guard", Action="kms:ScheduleKeyDeletion", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    )
    decision = evaluate(policy(allow(Sid="All"), other_action), "kms:Decrypt", IN_OU_33)
    assert decision == (True, "allowed by statement 'All' (1 of 2)", "All", 1, ())


def test_a_statement_with_an_unknown_effect_counts_as_a_deny():
    guarded = policy(allow(Sid="All"), dict(allow(), Effect="deny"), "not a statement")
    decision = evaluate(guarded, "kms:Decrypt", IN_OU_33)
    assert not decision.allowed
    assert decision.reason.startswith(
        'explicit deny by statement 2 of 3, taken as matching because it is not fully understood: its Effect is "deny"'
    )
    assert len(decision.not_understood) == 2


def test_a_surely_matching_deny_is_reported_before_one_not_understood():
    guarded = policy(deny(Sid="Unknown", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), DENY_OUTSIDE_ORG)
    assert evaluate(guarded, "kms:Decrypt", OTHER_ORG).sid == "DenyOutsideOrg"
    assert evaluate(guarded, "kms:Decrypt", IN_OU_33).sid == "Unknown"


# --- documents, actions, results -------------------------------------------------------------------


def test_the_policy_may_be_json_text_or_hold_a_lone_statement():
    text = json.dumps(policy(EC2_OU_STATEMENT))
    assert evaluate(text, "kms:Decrypt", IN_OU_33) == evaluate(policy(EC2_OU_STATEMENT), "kms:Decrypt", IN_OU_33)
    assert evaluate({"Statement": EC2_OU_STATEMENT}, "kms:Decrypt", IN_OU_33).allowed
    assert (
        evaluate({"Version": "2012-10-17"}, "kms:Decrypt", IN_OU_33).reason == "no statement allows it (implicit deny)"
    )


@pytest.mark.parametrize(
    "document, message",
    [
        ("{not json", "The key policy is not valid JSON"),
        ("[]", "The key policy is [], not a JSON object."),
        ({"Statement": "Allow"}, 'The key policy\'s Statement is "Allow", neither a statement nor a list of them.'),
    ],
)
def test_what_is_no_policy_at_all_is_refused(document, message):
    with pytest.raises(PolicyDocumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        evaluate(document, "kms:Decrypt", IN_OU_33)


@pytest.mark.parametrize("action", [None, "Decrypt", 3])
def test_an_action_must_name_its_service(action):
    with pytest.raises(ValueError, match="is not a service:Action name"):
        evaluate(policy(allow()), action, IN_OU_33)


def test_launch_actions_are_what_the_ebs_guide_lists():
    assert _key_access.launch_actions() == ALL_LAUNCH
    assert dict(_key_access.LAUNCH_ACTIONS[1].condition_keys) == {"kms:GrantIsForAWSResource": "true"}


def test_can_launch_sets_via_service_from_the_key_region_unless_the_context_does():
    via = policy(allow(Condition={"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}))
    assert can_launch(via, IN_OU_33, KEY_ARN).allowed
    assert not can_launch(via, IN_OU_33).allowed
    elsewhere = member(IN_OU_33.principal_org_paths[0], **{"kms:ViaService": "ec2.eu-west-1.amazonaws.com"})
    assert not can_launch(via, elsewhere, KEY_ARN).allowed
    china = policy(allow(Condition={"StringEquals": {"kms:ViaService": "ec2.cn-north-1.amazonaws.com.cn"}}))
    assert can_launch(china, IN_OU_33, f"arn:aws-cn:kms:cn-north-1:{KEY_ACCOUNT}:key/abcd").allowed


def test_results_as_dicts():
    result = can_launch(policy(EC2_ORG_STATEMENT), IN_OU_33)
    as_dict = result.as_dict()
    assert as_dict["allowed"] is False
    assert as_dict["reason"] == "the key policy does not allow kms:CreateGrant (no statement allows it (implicit deny))"
    assert [entry["action"] for entry in as_dict["actions"]] == ALL_LAUNCH
    assert as_dict["actions"][0] == {
        "action": "kms:DescribeKey",
        "allowed": True,
        "sid": "Allow access for organization root",
        "index": 1,
        "reason": "allowed by statement 'Allow access for organization root' (1 of 1)",
        "not_understood": [],
    }
    json.dumps(as_dict)


# --- the statements kms_org_grant writes ---------------------------------------------------------

ORG_ID = "o-a1b2c3d4e5"
OU_ID = "ou-ab12-cd34ef56"
SIBLING_OU_ID = "ou-ab12-11111111"
OU_ARN = f"arn:aws:organizations::{KEY_ACCOUNT}:ou/{ORG_ID}/{OU_ID}"
ORG_ARN = f"arn:aws:organizations::{KEY_ACCOUNT}:organization/{ORG_ID}"
GRANTED_OU = account_context(CONSUMER, org_path=f"{ORG_ID}/r-ab12/{OU_ID}/")
NESTED_IN_GRANTED = account_context(CONSUMER, org_path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/{OU_ID}/ou-ab12-22222222/")
SIBLING = account_context(CONSUMER, org_path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/")
ORG_ROOT_MEMBER = account_context(CONSUMER, org_path=f"{ORG_ID}/r-ab12/")
ANOTHER_ORG = account_context(CONSUMER, org_path=f"o-z9y8x7w6v5/r-ab12/{OU_ID}/")
# The data-key actions the guides list that a statement may hold beyond what this version writes (kept when rewritten).
DATA_KEY_ACTIONS = [action for action in _key_policy.ACCEPTED_USE_ACTIONS if action not in _key_policy.USE_ACTIONS]


def written_policy(organization_arns=(), ou_arns=(), extra_actions=(), **options):
    principals = _key_policy.requested_principals(list(organization_arns), list(ou_arns))
    kept = {"OrgUse": list(extra_actions), "OuUse": list(extra_actions)}
    return policy(
        ENABLE_IAM, *_key_policy.build_statements(principals, _key_policy.DEFAULT_PREFIX, kept_actions=kept, **options)
    )


def covered_by_written_actions(action):
    """Independently of the evaluator: whether the actions this version writes name ``action`` (a trailing * only)."""
    written = _key_policy.USE_ACTIONS + _key_policy.GRANT_ACTIONS
    return any(action == pattern or pattern.endswith("*") and action.startswith(pattern[:-1]) for pattern in written)


@pytest.mark.parametrize("context", [GRANTED_OU, NESTED_IN_GRANTED])
def test_written_ou_statements_allow_exactly_the_actions_they_name(context):
    result = can_launch(written_policy(ou_arns=[OU_ARN]), context, KEY_ARN)
    expected = {action: covered_by_written_actions(action) for action in ALL_LAUNCH}
    assert {check.action: check.decision.allowed for check in result.checks} == expected
    assert result.allowed == all(map(covered_by_written_actions, ALL_LAUNCH))
    assert result.checks[1].decision.sid == "OrgShareOuCreateGrant"


@pytest.mark.parametrize("context", [GRANTED_OU, NESTED_IN_GRANTED])
def test_written_ou_statements_with_the_data_key_actions_let_the_ou_launch(context):
    result = can_launch(written_policy(ou_arns=[OU_ARN], extra_actions=DATA_KEY_ACTIONS), context, KEY_ARN)
    assert result.allowed, result.reason
    assert {check.decision.sid for check in result.checks} == {"OrgShareOuUse", "OrgShareOuCreateGrant"}


@pytest.mark.parametrize("context", [SIBLING, ORG_ROOT_MEMBER, ANOTHER_ORG, NO_ORG])
def test_written_ou_statements_let_no_one_outside_the_ou_launch(context):
    result = can_launch(written_policy(ou_arns=[OU_ARN], extra_actions=DATA_KEY_ACTIONS), context, KEY_ARN)
    assert not any(check.decision.allowed for check in result.checks)
    assert all(check.decision.reason == "no statement allows it (implicit deny)" for check in result.checks)


def test_written_org_statements_let_every_member_and_only_members_launch():
    written = written_policy(organization_arns=[ORG_ARN], extra_actions=DATA_KEY_ACTIONS)
    for context in (GRANTED_OU, SIBLING, ORG_ROOT_MEMBER):
        assert can_launch(written, context, KEY_ARN).allowed
    for context in (ANOTHER_ORG, NO_ORG):
        assert not can_launch(written, context, KEY_ARN).allowed


# The grant the Amazon EC2 Auto Scaling User Guide ("Required AWS KMS key policy for use with encrypted volumes",
# cross-account example) has the consumer create for its own service-linked role.
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


def auto_scaling_role(account=CONSUMER, name="AWSServiceRoleForAutoScaling", partition="aws"):
    return f"arn:{partition}:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/{name}"


def direct_grant(
    grantee,
    operations=tuple(AUTO_SCALING_OPERATIONS),
    path=f"{ORG_ID}/r-ab12/{OU_ID}/",
    account=CONSUMER,
    principal="role/Deployer",
):
    """A consumer's own CreateGrant call (no AWS service in between): the condition keys KMS sets for it."""
    extra = {
        "kms:GrantIsForAWSResource": "false",
        "kms:GranteePrincipal": grantee,
        "kms:GrantOperations": list(operations),
    }
    return RequestContext(
        f"arn:aws:iam::{account}:{principal}",
        None,
        path.split("/", 1)[0] if path else None,
        [path] if path else [],
        extra,
    )


def test_written_create_grant_is_for_aws_resources_only_by_default():
    written = written_policy(ou_arns=[OU_ARN])
    assert not evaluate(written, "kms:CreateGrant", direct_grant(auto_scaling_role())).allowed
    assert (
        evaluate(written, "kms:CreateGrant", GRANTED_OU.with_extra({"kms:GrantIsForAWSResource": "true"})).sid
        == "OrgShareOuCreateGrant"
    )


@pytest.mark.parametrize(
    "context",
    [
        direct_grant(auto_scaling_role()),
        direct_grant(auto_scaling_role(name="AWSServiceRoleForAutoScaling_golden")),
        direct_grant(auto_scaling_role(), operations=["Decrypt", "DescribeKey"]),
        direct_grant(auto_scaling_role(), principal="root"),
        direct_grant(auto_scaling_role(), path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/{OU_ID}/ou-ab12-22222222/"),
    ],
    ids=["the guide's grant", "a custom-suffix role", "fewer operations", "the account itself", "an OU below"],
)
def test_lifted_an_ou_member_may_grant_its_own_auto_scaling_role(context):
    decision = evaluate(written_policy(ou_arns=[OU_ARN], grant_for_aws_resource_only=False), "kms:CreateGrant", context)
    assert decision.allowed and decision.sid == "OrgShareOuAutoScalingGrant", decision.reason
    assert decision.not_understood == ()


@pytest.mark.parametrize(
    "context",
    [
        direct_grant(f"arn:aws:iam::{CONSUMER}:role/Admin"),
        direct_grant(f"arn:aws:iam::{CONSUMER}:root"),
        direct_grant(auto_scaling_role(account=OUTSIDER)),
        direct_grant(auto_scaling_role(account=OUTSIDER), account=OUTSIDER, path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/"),
        direct_grant(
            f"arn:aws:iam::{OUTSIDER}:role/x:iam::{CONSUMER}:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling"
        ),
        direct_grant(auto_scaling_role(name="AWSServiceRoleForAutoScalingPlans")),
        direct_grant(auto_scaling_role(partition="aws-cn")),
        direct_grant(auto_scaling_role(), operations=AUTO_SCALING_OPERATIONS + ["RetireGrant"]),
        direct_grant(auto_scaling_role(), operations=["Sign"]),
        direct_grant(auto_scaling_role(), path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/"),
        direct_grant(auto_scaling_role(), path=f"o-z9y8x7w6v5/r-ab12/{OU_ID}/"),
        direct_grant(auto_scaling_role(), path=None),
    ],
    ids=[
        "another grantee",
        "the account as grantee",
        "another account's role",
        "that account, outside the OU",
        "a path that spells the role",
        "another service's role",
        "another partition",
        "an operation more",
        "an operation outside the list",
        "a sibling OU",
        "another organization",
        "no organization",
    ],
)
def test_lifted_no_other_grant_is_allowed(context):
    written = written_policy(ou_arns=[OU_ARN], organization_arns=[], grant_for_aws_resource_only=False)
    decision = evaluate(written, "kms:CreateGrant", context)
    assert not decision.allowed and decision.sid is None, decision.reason
    assert decision.not_understood == ()


def test_lifted_ec2_still_creates_its_grants_for_the_members():
    written = written_policy(ou_arns=[OU_ARN], grant_for_aws_resource_only=False)
    for context in (GRANTED_OU, NESTED_IN_GRANTED):
        result = can_launch(written, context, KEY_ARN)
        assert result.checks[1].action == "kms:CreateGrant" and result.checks[1].decision.sid == "OrgShareOuCreateGrant"
    assert not can_launch(written, SIBLING, KEY_ARN).checks[1].decision.allowed


def test_lifted_organization_statement_lets_every_member_grant_its_own_role_only():
    written = written_policy(organization_arns=[ORG_ARN], grant_for_aws_resource_only=False)
    sibling = direct_grant(
        auto_scaling_role(account=OUTSIDER), account=OUTSIDER, path=f"{ORG_ID}/r-ab12/{SIBLING_OU_ID}/"
    )
    assert evaluate(written, "kms:CreateGrant", sibling).sid == "OrgShareOrgAutoScalingGrant"
    assert not evaluate(
        written,
        "kms:CreateGrant",
        direct_grant(auto_scaling_role(), path=f"{ORG_ID}/r-ab12/")._replace(principal_account=OUTSIDER),
    ).allowed
    assert not evaluate(written, "kms:CreateGrant", direct_grant(auto_scaling_role(), path=None)).allowed


def test_lifted_statement_in_a_policy_without_version_grants_nothing():
    # IAM "IAM JSON policy elements: Version": without 2012-10-17 a variable is literal text, which no ARN matches.
    written = written_policy(ou_arns=[OU_ARN], grant_for_aws_resource_only=False)
    del written["Version"]
    decision = evaluate(written, "kms:CreateGrant", direct_grant(auto_scaling_role()))
    assert not decision.allowed and decision.not_understood == ()


# --- policy variables (IAM "IAM policy elements: Variables and tags") ----------------------------------


def variable_statement(condition=None, resource="*", effect="Allow"):
    statement = {"Sid": "Vars", "Effect": effect, "Principal": "*", "Action": "kms:Decrypt", "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    "condition, extra, allowed",
    [
        ({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:root"}}, {}, True),
        ({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::${AWS:principalaccount}:root"}}, {}, True),
        ({"StringEquals": {"kms:CallerAccount": "${aws:PrincipalAccount}"}}, {"kms:CallerAccount": OUTSIDER}, False),
        ({"StringNotEquals": {"kms:CallerAccount": "${aws:PrincipalAccount}"}}, {}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:*"}}, {}, True),
        (
            {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OUTSIDER}:${{kms:ViaService}}"}},
            {"kms:ViaService": "root"},
            False,
        ),
        (
            {"StringLike": {"kms:ViaService": "ec2.${aws:RequestedRegion}.amazonaws.com"}},
            {"aws:RequestedRegion": "us-east-1", "kms:ViaService": "ec2.us-east-1.amazonaws.com"},
            True,
        ),
        # A default stands in when the request does not set the key, and only then.
        (
            {"StringEquals": {"kms:ViaService": "${aws:username, 'ec2.us-east-1.amazonaws.com'}"}},
            {"kms:ViaService": "ec2.us-east-1.amazonaws.com"},
            True,
        ),
        (
            {"StringEquals": {"kms:ViaService": "${aws:username, 'ec2.us-east-1.amazonaws.com'}"}},
            {"kms:ViaService": "ec2.us-east-1.amazonaws.com", "aws:username": "alice"},
            False,
        ),
        # ${*}, ${?} and ${$} are the literal characters, no wildcards.
        ({"StringLike": {"kms:EncryptionContext:Name": "a${*}"}}, {"kms:EncryptionContext:Name": "a*"}, True),
        ({"StringLike": {"kms:EncryptionContext:Name": "a${*}"}}, {"kms:EncryptionContext:Name": "ab"}, False),
        ({"StringLike": {"kms:EncryptionContext:Name": "a${?}*"}}, {"kms:EncryptionContext:Name": "a?bc"}, True),
        ({"StringLike": {"kms:EncryptionContext:Name": "a${?}*"}}, {"kms:EncryptionContext:Name": "abc"}, False),
        (
            {"StringEquals": {"kms:EncryptionContext:Name": "${$}{aws:username}"}},
            {"kms:EncryptionContext:Name": "${aws:username}"},
            True,
        ),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:${*}"}}, {}, False),
        # A substituted value is text: its characters are no wildcards in StringEquals either.
        (
            {"StringEquals": {"kms:ViaService": "${kms:EncryptionContext:Name}"}},
            {"kms:EncryptionContext:Name": "ec2.*", "kms:ViaService": "ec2.us-east-1.amazonaws.com"},
            False,
        ),
    ],
    ids=[
        "account",
        "key name in any case",
        "another account",
        "negated",
        "ArnLike",
        "ArnEquals",
        "StringLike",
        "default",
        "no default when set",
        "${*}",
        "${*} is no wildcard",
        "${?}",
        "${?} is no wildcard",
        "${$}",
        "${*} in an ARN",
        "substituted text",
    ],
)
def test_policy_variables_are_substituted_from_the_request(condition, extra, allowed):
    decision = evaluate(policy(variable_statement(condition)), "kms:Decrypt", account_context(CONSUMER, extra=extra))
    assert decision.allowed == allowed, decision.reason
    assert decision.not_understood == ()


@pytest.mark.parametrize(
    "condition, extra, why",
    [
        (
            {"StringEquals": {"aws:PrincipalArn": "${aws:username}"}},
            {},
            "'${aws:username}' has the policy variable ${aws:username}, which the request does not set",
        ),
        (
            {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "${aws:PrincipalOrgPaths}"}},
            {},
            "has the policy variable ${aws:PrincipalOrgPaths}, whose value in the request is a list",
        ),
        (
            {"StringLike": {"kms:ViaService": "${kms:EncryptionContext:Name}"}},
            {"kms:EncryptionContext:Name": "ec2.*"},
            "whose value 'ec2.*' holds a wildcard character",
        ),
        ({"StringEquals": {"kms:ViaService": "${aws:username"}}, {}, "has a policy variable that is not closed"),
        (
            {"StringEquals": {"kms:ViaService": "${not a key}"}},
            {},
            "has the policy variable ${not a key}, which names no condition key",
        ),
        (
            {"Bool": {"kms:GrantIsForAWSResource": "${aws:SecureTransport}"}},
            {"aws:SecureTransport": "true"},
            "holds a policy variable, which IAM does not take there",
        ),
    ],
    ids=["unset", "multivalued", "wildcard value", "not closed", "no key name", "Bool"],
)
def test_a_policy_variable_it_cannot_substitute_is_not_understood(condition, extra, why):
    context = member(f"{ORG_ID}/r-ab12/{OU_ID}/", **extra)
    allowed = evaluate(policy(variable_statement(condition)), "kms:Decrypt", context)
    assert not allowed.allowed and why in allowed.not_understood[0], allowed.not_understood
    denied = evaluate(
        policy(ENABLE_IAM, variable_statement(condition, effect="Deny")),
        "kms:Decrypt",
        account_context(KEY_ACCOUNT, extra=extra),
    )
    assert not denied.allowed and denied.sid == "Vars" and "taken as matching" in denied.reason


def test_a_policy_variable_in_the_resource():
    statement = variable_statement(resource="arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*")
    assert evaluate(policy(statement), "kms:Decrypt", account_context(KEY_ACCOUNT), KEY_ARN).allowed
    assert not evaluate(policy(statement), "kms:Decrypt", account_context(CONSUMER), KEY_ARN).allowed
    unset = evaluate(
        policy(variable_statement(resource="arn:aws:kms:us-east-1:111122223333:key/${aws:username}")),
        "kms:Decrypt",
        account_context(KEY_ACCOUNT),
        KEY_ARN,
    )
    assert not unset.allowed and "which the request does not set" in unset.not_understood[0]


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_without_version_2012_variables_are_literal_text(version):
    document = policy(variable_statement({"StringEquals": {"kms:ViaService": "${aws:username}"}}))
    if version:
        document["Version"] = version
    else:
        del document["Version"]
    literal = account_context(CONSUMER, extra={"kms:ViaService": "${aws:username}"})
    assert evaluate(document, "kms:Decrypt", literal).allowed
    named = evaluate(
        document, "kms:Decrypt", account_context(CONSUMER, extra={"aws:username": "alice", "kms:ViaService": "alice"})
    )
    assert not named.allowed and named.not_understood == ()
    assert not _key_access.has_policy_variables(document) and _key_access.has_policy_variables(json.dumps(policy()))


def test_an_explicit_deny_wins_over_the_written_statements():
    written = written_policy(ou_arns=[OU_ARN], extra_actions=DATA_KEY_ACTIONS)
    written["Statement"].append(
        {
            "Sid": "NoDecryptFor4444",
            "Effect": "Deny",
            "Principal": {"AWS": CONSUMER},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    result = can_launch(written, GRANTED_OU, KEY_ARN)
    assert not result.allowed
    assert [(check.action, check.decision.sid) for check in result.denied()] == [("kms:Decrypt", "NoDecryptFor4444")]
    assert can_launch(written, account_context("121212121212", org_path=f"{ORG_ID}/r-ab12/{OU_ID}/"), KEY_ARN).allowed


def test_the_written_document_as_kms_stores_it_decides_the_same():
    written = written_policy(organization_arns=[ORG_ARN], ou_arns=[OU_ARN], extra_actions=DATA_KEY_ACTIONS)
    text = _key_policy.serialize(written)
    for context in (GRANTED_OU, SIBLING, ANOTHER_ORG, NO_ORG):
        assert can_launch(text, context, KEY_ARN) == can_launch(written, context, KEY_ARN)


# --- properties ----------------------------------------------------------------------------------

ORGS = ["o-123example", "o-999example"]
PATHS = [
    "o-123example/r-ab12/",
    "o-123example/r-ab12/ou-ab12-33333333/",
    "o-123example/r-ab12/ou-ab12-33333333/ou-ab12-44444444/",
    "o-123example/r-ab12/ou-ab12-11111111/",
    "o-999example/r-cd34/ou-cd34-33333333/",
]
known_conditions = st.sampled_from(
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-123example"}},
        {"StringNotEquals": {"aws:PrincipalOrgID": ORGS}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-123example/*/ou-ab12-33333333/*", "o-999example/*"]}},
        {"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": "o-123example/*"}},
        {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        {"BoolIfExists": {"kms:GrantIsForAWSResource": False}},
        {"Null": {"aws:PrincipalOrgID": "true"}},
        {"StringEqualsIfExists": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}},
        {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{CONSUMER}:*"}},
    ]
)
unknown_conditions = st.sampled_from(
    [
        {"NumericLessThan": {"kms:GrantConstraintType": "1"}},
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"stringEquals": {"aws:PrincipalOrgID": "o-123example"}},
        {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": "${aws:username}"}},
    ]
)
principals = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": CONSUMER},
        {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
        {"Service": "ec2.amazonaws.com"},
        {"AWS": [CONSUMER, OUTSIDER]},
    ]
)
action_patterns = st.lists(
    st.sampled_from(
        [
            "kms:*",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:CreateGrant",
            "kms:Describe*",
            "KMS:decrypt",
        ]
    ),
    min_size=1,
    max_size=3,
)


def statements(effects, conditions):
    return st.builds(
        lambda effect, principal, actions, condition, not_action: {
            "Effect": effect,
            "Principal": principal,
            ("NotAction" if not_action else "Action"): actions,
            "Resource": "*",
            **({"Condition": condition} if condition else {}),
        },
        effects,
        principals,
        action_patterns,
        st.one_of(st.none(), conditions),
        st.booleans(),
    )


any_statements = statements(st.sampled_from(["Allow", "Deny"]), st.one_of(known_conditions, unknown_conditions))
contexts = st.builds(
    lambda account, path, flag: account_context(
        account, org_path=path, extra={} if flag is None else {"kms:GrantIsForAWSResource": flag}
    ),
    st.sampled_from([CONSUMER, OUTSIDER]),
    st.one_of(st.none(), st.sampled_from(PATHS)),
    st.sampled_from([None, "true", "false"]),
)
actions = st.sampled_from(ALL_LAUNCH + ["kms:Encrypt", "kms:ScheduleKeyDeletion"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(any_statements, max_size=5),
    statements(st.just("Deny"), st.one_of(known_conditions, unknown_conditions)),
    contexts,
    actions,
)
def test_adding_a_deny_never_turns_a_denial_into_an_allow(existing, added, context, action):
    if not evaluate(policy(*existing), action, context).allowed:
        assert not evaluate(policy(*existing, added), action, context).allowed


@settings(max_examples=300, deadline=None)
@given(
    st.lists(statements(st.sampled_from(["Allow", "Deny"]), unknown_conditions), min_size=1, max_size=5),
    contexts,
    actions,
)
def test_a_policy_whose_every_statement_has_an_unknown_operator_never_allows(existing, context, action):
    for statement in existing:
        statement.setdefault("Condition", {}).update({"NumericEquals": {"kms:RequestId": "0"}})
    assert not evaluate(policy(*existing), action, context).allowed


@settings(max_examples=300, deadline=None)
@given(st.lists(any_statements, max_size=5), contexts, actions, st.randoms(use_true_random=False))
def test_statement_order_does_not_change_whether_it_is_allowed(existing, context, action, random):
    shuffled = list(existing)
    random.shuffle(shuffled)
    assert evaluate(policy(*existing), action, context).allowed == evaluate(policy(*shuffled), action, context).allowed


@settings(max_examples=300, deadline=None)
@given(st.lists(any_statements, max_size=5), contexts, actions)
def test_making_a_known_condition_unknown_never_turns_a_denial_into_an_allow(existing, context, action):
    """Fail closed: whatever the evaluator stops understanding can only take permissions away."""
    before = evaluate(policy(*existing), action, context)
    spoiled = copy.deepcopy(existing)
    for statement in spoiled:
        if "Condition" in statement:
            statement["Condition"] = {"Numeric" + operator: block for operator, block in statement["Condition"].items()}
    after = evaluate(policy(*spoiled), action, context)
    assert not after.allowed or before.allowed
    if after.allowed:
        assert "Condition" not in spoiled[after.index - 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(any_statements, max_size=5), contexts, actions)
def test_the_decision_names_a_statement_that_has_its_effect(existing, context, action):
    decision = evaluate(policy(*existing), action, context)
    if decision.index is None:
        assert not decision.allowed and decision.reason.startswith("no statement allows it (implicit deny)")
    else:
        assert existing[decision.index - 1]["Effect"] == ("Allow" if decision.allowed else "Deny")
