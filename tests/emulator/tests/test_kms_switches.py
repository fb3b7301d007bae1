"""Key policy principals, keys EBS can use, and keys used from another account, in-process.

Each test states the AWS behaviour (the patches cite the pages); each fails on unpatched moto 5.2.5.
``put_key_policy_checks_principals`` is a switch, off by default; the others are always on, as in AWS.
"""

from __future__ import annotations

import json

import pytest

from emulator.middleware import change_settings, current_settings
from emulator.seed import create_image
from emulator.server import DEFAULT_SETTINGS

from .helpers import assume, client, error_of

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = "123456789012"
OTHER = "210987654321"
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
ASG_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
# AWS Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes": the
# operations of the grant a consumer gives its Auto Scaling service-linked role.
ASG_OPERATIONS = [
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "DescribeKey",
    "CreateGrant",
]


@pytest.fixture(name="switch", autouse=True)
def switch_fixture():
    """``switch({name: value})`` changes a switch for one test; all are back to their defaults afterwards."""
    yield change_settings
    change_settings(DEFAULT_SETTINGS)


def statement(principal, sid="Use", effect="Allow", action="kms:*", condition=None, element="Principal") -> dict:
    body = {"Sid": sid, "Effect": effect, element: principal, "Action": action, "Resource": "*"}
    if condition:
        body["Condition"] = condition
    return body


def document(*statements: dict) -> str:
    admin = statement({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, sid="Admin")
    return json.dumps({"Version": "2012-10-17", "Statement": [admin, *statements]})


def put_policy(key_id: str, policy: str, **credentials) -> dict:
    return client("kms", **credentials).put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)


def read_policy(key_id: str, **credentials) -> dict:
    return json.loads(client("kms", **credentials).get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def new_key(**kwargs) -> dict:
    return client("kms").create_key(Description="test key", **kwargs)["KeyMetadata"]


# --- 1. Principals must exist (put_key_policy_checks_principals) ----------------------------------------


def test_a_role_or_user_that_does_not_exist_is_refused_once_the_switch_is_on(switch):
    key, missing = new_key(), {"AWS": f"arn:aws:iam::{ACCOUNT}:role/not-yet"}
    put_policy(key["KeyId"], document(statement(missing)))  # off: stored as moto does
    assert current_settings()["put_key_policy_checks_principals"] is False
    assert switch({"put_key_policy_checks_principals": True})["put_key_policy_checks_principals"] is True
    for principal in (
        missing,
        {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:user/nobody"]},
        {"AWS": f"arn:aws:iam::{OTHER}:role/not-yet"},
    ):
        error = error_of(put_policy, key["KeyId"], document(statement(principal)))
        assert (error["Code"], error["Message"]) == ("MalformedPolicyDocumentException", INVALID_PRINCIPALS)
    error = error_of(put_policy, key["KeyId"], document(statement(missing, effect="Deny", element="NotPrincipal")))
    assert error["Code"] == "MalformedPolicyDocumentException"
    client("iam").create_role(RoleName="not-yet", AssumeRolePolicyDocument="{}")
    client("iam", **assume(OTHER)).create_role(RoleName="not-yet", AssumeRolePolicyDocument="{}")
    client("iam").create_user(UserName="nobody", Path="/team/")
    allowed = [
        f"arn:aws:iam::{ACCOUNT}:role/not-yet",
        f"arn:aws:iam::{OTHER}:role/not-yet",
        f"arn:aws:iam::{ACCOUNT}:user/team/nobody",
    ]
    put_policy(key["KeyId"], document(statement({"AWS": allowed})))
    assert read_policy(key["KeyId"])["Statement"][1]["Principal"] == {"AWS": allowed}


def test_accounts_everyone_services_and_sessions_are_not_checked(switch):
    switch({"put_key_policy_checks_principals": True})
    key = new_key()
    principals = [
        {"AWS": "*"},
        "*",
        {"AWS": OTHER},
        {"AWS": "999999999999"},
        {"AWS": "arn:aws:iam::999999999999:root"},
        {"Service": "autoscaling.amazonaws.com"},
        {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/SomeRole/session"},
    ]
    for principal in principals:
        put_policy(key["KeyId"], document(statement(principal)))
    assert read_policy(key["KeyId"])["Statement"][1]["Principal"] == principals[-1]
    # ...while an IAM role of one of those accounts is looked up.
    error = error_of(put_policy, key["KeyId"], document(statement({"AWS": "arn:aws:iam::999999999999:role/SomeRole"})))
    assert error["Message"] == INVALID_PRINCIPALS


def test_a_unique_id_is_refused(switch):
    role = client("iam").create_role(RoleName="named", AssumeRolePolicyDocument="{}")["Role"]
    switch({"put_key_policy_checks_principals": True})
    key = new_key()
    for unique_id in (role["RoleId"], "AIDACKCEVSQ6C2EXAMPLE", "not-a-principal"):
        assert (
            error_of(put_policy, key["KeyId"], document(statement({"AWS": unique_id})))["Message"] == INVALID_PRINCIPALS
        )


def test_create_key_checks_the_principals_of_its_policy(switch):
    policy = document(statement({"AWS": f"arn:aws:iam::{ACCOUNT}:role/absent"}))
    client("kms").create_key(Policy=policy)  # off
    switch({"put_key_policy_checks_principals": True})
    error = error_of(client("kms").create_key, Policy=policy)
    assert (error["Code"], error["Message"]) == ("MalformedPolicyDocumentException", INVALID_PRINCIPALS)
    new_key()  # without a Policy: the default policy


def test_an_account_made_by_organizations_has_its_access_role(switch, org):
    switch({"put_key_policy_checks_principals": True})
    key = new_key()
    put_policy(
        key["KeyId"], document(statement({"AWS": f"arn:aws:iam::{org['member']}:role/OrganizationAccountAccessRole"}))
    )
    error = error_of(
        put_policy,
        key["KeyId"],
        document(statement({"AWS": f"arn:aws:iam::{OTHER}:role/OrganizationAccountAccessRole"})),
    )
    assert error["Message"] == INVALID_PRINCIPALS


def test_the_document_checks_come_first(switch):
    switch({"put_key_policy_checks_principals": True})
    key = new_key()
    padding = statement({"AWS": f"arn:aws:iam::{ACCOUNT}:role/absent"}, sid="x" * 40000)
    assert error_of(put_policy, key["KeyId"], document(padding))["Code"] == "LimitExceededException"


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_the_switch_takes_only_true_or_false(switch, value):
    with pytest.raises(ValueError):
        switch({"put_key_policy_checks_principals": value})
    assert current_settings()["put_key_policy_checks_principals"] is False


def test_a_deleted_role_or_user_turns_into_its_unique_id_in_every_key_policy(switch):
    iam = client("iam")
    role = iam.create_role(RoleName="leaving", AssumeRolePolicyDocument="{}")["Role"]
    user = iam.create_user(UserName="leaver")["User"]
    assert user["UserId"].startswith("AIDA") and role["RoleId"].startswith("AROA")
    condition = {"ArnEquals": {"aws:PrincipalArn": role["Arn"]}}
    key, foreign_key = new_key(), client("kms", **assume(OTHER)).create_key()["KeyMetadata"]
    put_policy(
        key["KeyId"],
        document(
            statement({"AWS": [role["Arn"], user["Arn"]]}), statement({"AWS": "*"}, sid="ByArn", condition=condition)
        ),
    )
    foreign_policy = json.dumps({"Statement": [statement({"AWS": role["Arn"]})]})
    put_policy(foreign_key["KeyId"], foreign_policy, **assume(OTHER))
    iam.delete_role(RoleName="leaving")
    iam.delete_user(UserName="leaver")
    statements = read_policy(key["KeyId"])["Statement"]
    assert statements[1]["Principal"] == {"AWS": [role["RoleId"], user["UserId"]]}
    assert statements[2]["Condition"] == condition  # a condition keeps the ARN (IAM: aws:PrincipalArn survives)
    assert read_policy(foreign_key["KeyId"], **assume(OTHER))["Statement"][0]["Principal"] == {"AWS": role["RoleId"]}
    # Writing such a policy back is what the check refuses; recreating the role does not bring it back.
    iam.create_role(RoleName="leaving", AssumeRolePolicyDocument="{}")
    switch({"put_key_policy_checks_principals": True})
    policy = json.dumps(read_policy(key["KeyId"]))
    assert error_of(put_policy, key["KeyId"], policy)["Message"] == INVALID_PRINCIPALS


# --- 2. EBS takes only symmetric encryption keys (always on) -----------------------------------------------


@pytest.fixture(
    name="unusable_key",
    params=[("RSA_2048", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC"), ("ECC_NIST_P256", "SIGN_VERIFY")],
)
def unusable_key_fixture(request) -> dict:
    """A KMS key EBS cannot encrypt with: asymmetric, or symmetric for another use."""
    spec, usage = request.param
    return new_key(KeySpec=spec, KeyUsage=usage)


def test_create_volume_under_a_key_ebs_cannot_use_answers_and_the_volume_never_appears(unusable_key):
    ec2 = client("ec2")
    created = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a", Encrypted=True, KmsKeyId=unusable_key["Arn"])
    assert created["State"] == "creating"
    assert error_of(ec2.describe_volumes, VolumeIds=[created["VolumeId"]])["Code"] == "InvalidVolume.NotFound"
    usable = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a", Encrypted=True, KmsKeyId=new_key()["Arn"])
    assert ec2.describe_volumes(VolumeIds=[usable["VolumeId"]])["Volumes"][0]["State"] == "available"


def test_copy_snapshot_under_an_asymmetric_key_ends_in_error(unusable_key):
    ec2 = client("ec2")
    source = create_image(ec2, "plain")["snapshot_ids"][0]
    copied = ec2.copy_snapshot(
        SourceSnapshotId=source, SourceRegion="us-east-1", Encrypted=True, KmsKeyId=unusable_key["Arn"]
    )
    described = ec2.describe_snapshots(SnapshotIds=[copied["SnapshotId"]])["Snapshots"][0]
    assert described["State"] == "error"
    assert "symmetric" in described["StateMessage"]


def test_copy_image_under_an_asymmetric_key_fails(unusable_key):
    ec2 = client("ec2")
    source = create_image(ec2, "plain")["image_id"]
    copy_id = ec2.copy_image(
        Name="copy", SourceImageId=source, SourceRegion="us-east-1", Encrypted=True, KmsKeyId=unusable_key["Arn"]
    )["ImageId"]
    image = ec2.describe_images(ImageIds=[copy_id])["Images"][0]
    assert image["State"] == "failed"
    assert image["StateReason"]["Code"] == "Client.InvalidKMSKey.InvalidState"
    assert unusable_key["Arn"] in image["StateReason"]["Message"] and "symmetric" in image["StateReason"]["Message"]


def test_an_asymmetric_default_key_is_accepted_and_what_it_encrypts_fails():
    ec2, key = client("ec2"), new_key(KeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT")
    assert ec2.modify_ebs_default_kms_key_id(KmsKeyId=key["KeyId"])["KmsKeyId"] == key["Arn"]
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a", Encrypted=True)
    assert error_of(ec2.describe_volumes, VolumeIds=[volume["VolumeId"]])["Code"] == "InvalidVolume.NotFound"
    source = create_image(ec2, "plain")["image_id"]
    copy_id = ec2.copy_image(Name="copy", SourceImageId=source, SourceRegion="us-east-1", Encrypted=True)["ImageId"]
    assert ec2.describe_images(ImageIds=[copy_id])["Images"][0]["State"] == "failed"
    assert (
        ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["State"] != "creating"
    )  # unencrypted: no key involved


# --- 3. Keys used from another account (always on) ---------------------------------------------------------


@pytest.fixture(name="org")
def org_fixture() -> dict:
    """An organization of this account with an OU holding a new member account: its id and PrincipalOrgPaths values."""
    organizations = client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root_id, Name="Consumers")["OrganizationalUnit"]
    member = organizations.create_account(AccountName="consumer", Email="consumer@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    organizations.move_account(AccountId=member, SourceParentId=root_id, DestinationParentId=unit["Id"])
    return {"id": organization["Id"], "member": member, "unit_path": f"{organization['Id']}/{root_id}/{unit['Id']}/"}


def test_describe_key_of_another_account_follows_its_key_policy(org):
    key, member = new_key(), client("kms", **assume(org["member"]))
    error = error_of(member.describe_key, KeyId=key["Arn"])
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:sts::{org['member']}:assumed-role/OrganizationAccountAccessRole/emulator-tests is not "
        f"authorized to perform: kms:DescribeKey on resource: {key['Arn']} because no resource-based policy "
        "allows the kms:DescribeKey action"
    )
    in_unit = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [org["unit_path"] + "*"]}}
    put_policy(key["KeyId"], document(statement({"AWS": "*"}, action="kms:DescribeKey", condition=in_unit)))
    assert member.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    client("kms").create_alias(AliasName="alias/shared", TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/shared"
    assert member.describe_key(KeyId=alias_arn)["KeyMetadata"]["KeyId"] == key["KeyId"]
    # An account outside the organization is still refused; a key ID alone names a key of the caller's own account.
    assert error_of(client("kms", **assume(OTHER)).describe_key, KeyId=key["Arn"])["Code"] == "AccessDeniedException"
    assert error_of(member.describe_key, KeyId=key["KeyId"])["Code"] == "NotFoundException"
    missing = key["Arn"][:-12] + "000000000000"
    assert error_of(member.describe_key, KeyId=missing)["Code"] == "NotFoundException"


def test_an_explicit_deny_says_so(org):
    key, member = new_key(), client("kms", **assume(org["member"]))
    put_policy(
        key["KeyId"],
        document(
            statement({"AWS": "*"}, action="kms:DescribeKey"),
            statement({"AWS": org["member"]}, sid="NotThem", effect="Deny", action="kms:*"),
        ),
    )
    assert error_of(member.describe_key, KeyId=key["Arn"])["Message"].endswith(
        "with an explicit deny in a resource-based policy"
    )


def test_create_grant_of_another_account_follows_the_grantee_and_operations_the_policy_allows(org):
    key, member = new_key(), client("kms", **assume(org["member"]))
    grantee = f"arn:aws:iam::{org['member']}:{ASG_ROLE}"
    scoped = {
        "StringEquals": {"aws:PrincipalOrgID": org["id"], "kms:GranteePrincipal": f"arn:aws:iam::*:{ASG_ROLE}"},
        "ForAllValues:StringEquals": {"kms:GrantOperations": ASG_OPERATIONS},
    }
    scoped["StringLike"] = {"kms:GranteePrincipal": scoped["StringEquals"].pop("kms:GranteePrincipal")}
    put_policy(
        key["KeyId"], document(statement({"AWS": "*"}, sid="AsgGrant", action="kms:CreateGrant", condition=scoped))
    )
    grant = member.create_grant(KeyId=key["Arn"], GranteePrincipal=grantee, Operations=ASG_OPERATIONS)
    grants = client("kms").list_grants(KeyId=key["KeyId"])["Grants"]
    assert [(listed["GrantId"], listed["GranteePrincipal"]) for listed in grants] == [(grant["GrantId"], grantee)]
    other_grantee = f"arn:aws:iam::{org['member']}:role/SomethingElse"
    assert (
        error_of(member.create_grant, KeyId=key["Arn"], GranteePrincipal=other_grantee, Operations=["Decrypt"])["Code"]
        == "AccessDeniedException"
    )
    error = error_of(
        member.create_grant, KeyId=key["Arn"], GranteePrincipal=grantee, Operations=["Decrypt", "RetireGrant"]
    )
    assert error["Code"] == "AccessDeniedException" and "kms:CreateGrant" in error["Message"]
    assert (
        error_of(
            client("kms", **assume(OTHER)).create_grant,
            KeyId=key["Arn"],
            GranteePrincipal=grantee,
            Operations=["Decrypt"],
        )["Code"]
        == "AccessDeniedException"
    )


def test_a_direct_create_grant_is_not_for_an_aws_resource(org):
    key, member = new_key(), client("kms", **assume(org["member"]))
    for_aws = {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": {"aws:PrincipalOrgID": org["id"]}}
    put_policy(key["KeyId"], document(statement({"AWS": "*"}, action="kms:CreateGrant", condition=for_aws)))
    grantee = f"arn:aws:iam::{org['member']}:{ASG_ROLE}"
    assert (
        error_of(member.create_grant, KeyId=key["Arn"], GranteePrincipal=grantee, Operations=["Decrypt"])["Code"]
        == "AccessDeniedException"
    )


def test_key_policies_are_read_and_written_only_in_the_keys_account(org):
    key, member = new_key(), client("kms", **assume(org["member"]))
    put_policy(key["KeyId"], document(statement({"AWS": org["member"]})))
    assert member.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert error_of(member.get_key_policy, KeyId=key["Arn"], PolicyName="default")["Code"] == "NotFoundException"
    error = error_of(member.put_key_policy, KeyId=key["Arn"], PolicyName="default", Policy=document())
    assert error["Code"] == "NotFoundException"
    assert len(read_policy(key["KeyId"])["Statement"]) == 2
