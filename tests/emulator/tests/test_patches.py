"""The fidelity patches, in-process under moto.mock_aws (as the collection's unit tests use them).

Each test states the AWS behaviour; each fails on unpatched moto 5.2.5.
"""

from __future__ import annotations

import json

import pytest

from emulator.patches import apply_patches
from emulator.patches.amis import AWS_MANAGED_KEY_MESSAGE
from emulator.seed import create_image

from .helpers import assume, client, error_of

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = "123456789012"
ORG_ARN = f"arn:aws:organizations::{ACCOUNT}:organization/o-abcdefghij"
OU_ARN = f"arn:aws:organizations::{ACCOUNT}:ou/o-abcdefghij/ou-ab12-abcdefgh"
OU2_ARN = f"arn:aws:organizations::{ACCOUNT}:ou/o-abcdefghij/ou-ab12-ijklmnop"


def customer_key(region: str = "us-east-1") -> dict:
    return client("kms", region).create_key(Description="customer key")["KeyMetadata"]


def aws_ebs_arn(region: str = "us-east-1") -> str:
    return client("kms", region).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def snapshot_of(snapshot_id: str, region: str = "us-east-1") -> dict:
    return client("ec2", region).describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]


def image_of(image_id: str, region: str = "us-east-1") -> dict:
    return client("ec2", region).describe_images(ImageIds=[image_id])["Images"][0]


def launch_permissions(image_id: str) -> list:
    return client("ec2").describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]


def test_apply_patches_is_idempotent():
    from moto.ec2.models.amis import AmiBackend  # pylint: disable=import-outside-toplevel

    installed = AmiBackend.register_image
    assert getattr(installed, "_orgshare_emulator_patch", False)
    apply_patches()
    assert AmiBackend.register_image is installed


# --- 1. RegisterImage honours BlockDeviceMappings ----------------------------------------------------


def test_register_image_reports_the_given_mappings_and_snapshot_encryption():
    key = customer_key()
    image = create_image(client("ec2"), "cmk-image", encrypted=True, kms_key_id=key["KeyId"], snapshots=2)
    described = image_of(image["image_id"])
    assert described["RootDeviceName"] == "/dev/xvda"
    assert described["RootDeviceType"] == "ebs"
    assert [mapping["DeviceName"] for mapping in described["BlockDeviceMappings"]] == ["/dev/xvda", "/dev/xvdb"]
    for mapping, snapshot_id in zip(described["BlockDeviceMappings"], image["snapshot_ids"]):
        # Real DescribeImages reports no KmsKeyId for EBS mappings: that comes from DescribeSnapshots.
        assert mapping["Ebs"] == {
            "SnapshotId": snapshot_id,
            "Encrypted": True,
            "VolumeSize": 8,
            "VolumeType": "gp3",
            "DeleteOnTermination": True,
        }
    assert image["kms_key_arn"] == key["Arn"]


def test_register_image_fabricates_no_snapshot():
    ec2 = client("ec2")
    image = create_image(ec2, "plain-image")
    owned = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert [snapshot["SnapshotId"] for snapshot in owned] == image["snapshot_ids"]
    assert image_of(image["image_id"])["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is False


def test_register_image_with_an_unknown_snapshot_fails():
    mappings = [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}]
    error = error_of(
        client("ec2").register_image, Name="bad-image", RootDeviceName="/dev/xvda", BlockDeviceMappings=mappings
    )
    assert error["Code"] == "InvalidSnapshot.NotFound"


def test_snapshot_of_a_registered_image_is_in_use():
    ec2 = client("ec2")
    image = create_image(ec2, "in-use")
    assert error_of(ec2.delete_snapshot, SnapshotId=image["snapshot_ids"][0])["Code"] == "InvalidSnapshot.InUse"


# --- 2. Snapshots keep KmsKeyId ----------------------------------------------------------------------


def test_volume_and_snapshot_report_the_full_key_arn():
    ec2, key = client("ec2"), customer_key()
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a", Encrypted=True, KmsKeyId=key["KeyId"])
    assert volume["KmsKeyId"] == key["Arn"]
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    assert snapshot_of(snapshot["SnapshotId"])["KmsKeyId"] == key["Arn"]
    assert snapshot_of(snapshot["SnapshotId"])["Encrypted"] is True


def test_encrypted_volume_without_key_uses_aws_ebs():
    ec2 = client("ec2")
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a", Encrypted=True)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    assert snapshot_of(snapshot["SnapshotId"])["KmsKeyId"] == aws_ebs_arn()


def test_volume_from_an_encrypted_snapshot_keeps_its_key():
    ec2, key = client("ec2"), customer_key()
    image = create_image(ec2, "source", encrypted=True, kms_key_id=key["Arn"])
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=image["snapshot_ids"][0])
    assert (volume["Encrypted"], volume["KmsKeyId"]) == (True, key["Arn"])


@pytest.mark.parametrize(
    "source_encrypted, params, expected",
    [
        (False, {"Encrypted": True}, "aws/ebs"),
        (False, {"Encrypted": True, "KmsKeyId": "alias/destination"}, "customer"),
        (True, {}, "aws/ebs"),
        (False, {}, None),
    ],
)
def test_copy_snapshot_honours_encryption(source_encrypted, params, expected):
    source_key = customer_key()
    destination_key = customer_key("eu-west-1")
    client("kms", "eu-west-1").create_alias(AliasName="alias/destination", TargetKeyId=destination_key["KeyId"])
    source = create_image(
        client("ec2"), "source", encrypted=source_encrypted, kms_key_id=source_key["Arn"] if source_encrypted else None
    )
    copied = client("ec2", "eu-west-1").copy_snapshot(
        SourceSnapshotId=source["snapshot_ids"][0], SourceRegion="us-east-1", **params
    )
    described = snapshot_of(copied["SnapshotId"], "eu-west-1")
    wanted = {"aws/ebs": aws_ebs_arn("eu-west-1"), "customer": destination_key["Arn"], None: None}[expected]
    assert (described["Encrypted"], described.get("KmsKeyId")) == (expected is not None, wanted)


def test_copy_snapshot_key_requires_encrypted():
    source = create_image(client("ec2"), "source")
    error = error_of(
        client("ec2").copy_snapshot,
        SourceSnapshotId=source["snapshot_ids"][0],
        SourceRegion="us-east-1",
        KmsKeyId=customer_key()["Arn"],
    )
    assert error["Code"] == "InvalidParameterDependency"


# --- 3. CopyImage honours Encrypted, KmsKeyId, TagSpecifications -------------------------------------


def test_copy_image_reencrypts_into_new_destination_snapshots():
    source_key, destination_key = customer_key(), customer_key("eu-west-1")
    source = create_image(client("ec2"), "source", encrypted=True, kms_key_id=source_key["Arn"], snapshots=2)
    client("ec2").modify_image_attribute(
        ImageId=source["image_id"], LaunchPermission={"Add": [{"UserId": "111122223333"}]}
    )
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy",
        SourceImageId=source["image_id"],
        SourceRegion="us-east-1",
        Encrypted=True,
        KmsKeyId=destination_key["Arn"],
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "origin", "Value": source["image_id"]}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "copied", "Value": "yes"}]},
        ],
    )["ImageId"]
    copied = image_of(copy_id, "eu-west-1")
    assert (copied["SourceImageId"], copied["SourceImageRegion"]) == (source["image_id"], "us-east-1")
    assert copied["Tags"] == [{"Key": "origin", "Value": source["image_id"]}]
    new_snapshots = [mapping["Ebs"]["SnapshotId"] for mapping in copied["BlockDeviceMappings"]]
    assert len(new_snapshots) == 2 and not set(new_snapshots) & set(source["snapshot_ids"])
    for snapshot_id in new_snapshots:
        described = snapshot_of(snapshot_id, "eu-west-1")
        assert (described["Encrypted"], described["KmsKeyId"]) == (True, destination_key["Arn"])
        assert described["Tags"] == [{"Key": "copied", "Value": "yes"}]
    # Launch permissions are never copied.
    assert (
        client("ec2", "eu-west-1").describe_image_attribute(ImageId=copy_id, Attribute="launchPermission")[
            "LaunchPermissions"
        ]
        == []
    )


@pytest.mark.parametrize("source_encrypted, params", [(False, {"Encrypted": True}), (True, {})])
def test_copy_image_without_key_uses_destination_aws_ebs(source_encrypted, params):
    source = create_image(client("ec2"), "source", encrypted=source_encrypted)
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1", **params
    )["ImageId"]
    snapshot_id = image_of(copy_id, "eu-west-1")["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert snapshot_of(snapshot_id, "eu-west-1")["KmsKeyId"] == aws_ebs_arn("eu-west-1")


def test_copy_image_keeps_an_unencrypted_source_unencrypted():
    source = create_image(client("ec2"), "source")
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1"
    )["ImageId"]
    mapping = image_of(copy_id, "eu-west-1")["BlockDeviceMappings"][0]
    assert mapping["Ebs"]["Encrypted"] is False
    assert "KmsKeyId" not in snapshot_of(mapping["Ebs"]["SnapshotId"], "eu-west-1")


@pytest.mark.parametrize("copy_image_tags, expected", [(False, []), (True, [{"Key": "team", "Value": "payments"}])])
def test_copy_image_copies_tags_only_when_asked(copy_image_tags, expected):
    source = create_image(client("ec2"), "source")
    client("ec2").create_tags(Resources=[source["image_id"]], Tags=[{"Key": "team", "Value": "payments"}])
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1", CopyImageTags=copy_image_tags
    )["ImageId"]
    assert image_of(copy_id, "eu-west-1").get("Tags", []) == expected


def test_copy_image_with_an_unusable_key_ends_failed():
    key = customer_key("eu-west-1")
    client("kms", "eu-west-1").disable_key(KeyId=key["KeyId"])
    source = create_image(client("ec2"), "source")
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1", Encrypted=True, KmsKeyId=key["Arn"]
    )["ImageId"]
    assert image_of(copy_id, "eu-west-1")["State"] == "failed"


@pytest.mark.parametrize("make_unusable", ["disable_key", "schedule_key_deletion"])
def test_copy_of_a_source_whose_key_is_unusable_ends_failed_with_its_reason(make_unusable):
    key = customer_key()
    source = create_image(client("ec2"), "source", encrypted=True, kms_key_id=key["Arn"])
    getattr(client("kms"), make_unusable)(KeyId=key["KeyId"])
    destination_key = customer_key("eu-west-1")
    copy_id = client("ec2", "eu-west-1").copy_image(
        Name="copy",
        SourceImageId=source["image_id"],
        SourceRegion="us-east-1",
        Encrypted=True,
        KmsKeyId=destination_key["Arn"],
    )["ImageId"]
    copied = image_of(copy_id, "eu-west-1")
    assert copied["State"] == "failed"
    assert (
        key["Arn"] in copied["StateReason"]["Message"] and source["snapshot_ids"][0] in copied["StateReason"]["Message"]
    )


def test_copy_image_names_are_unique_per_account_and_region():
    source = create_image(client("ec2"), "source")
    copy = dict(Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1")
    first = client("ec2", "eu-west-1").copy_image(**copy)["ImageId"]
    error = error_of(client("ec2", "eu-west-1").copy_image, **copy)
    assert error["Code"] == "InvalidAMIName.Duplicate" and first in error["Message"]
    client("ec2", "eu-central-1").copy_image(**copy)  # another region: the name is free there


def test_a_failed_copy_does_not_hold_its_name():
    key = customer_key("eu-west-1")
    client("kms", "eu-west-1").disable_key(KeyId=key["KeyId"])
    source = create_image(client("ec2"), "source")
    copy = dict(Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1")
    client("ec2", "eu-west-1").copy_image(**copy, Encrypted=True, KmsKeyId=key["Arn"])
    assert image_of(client("ec2", "eu-west-1").copy_image(**copy)["ImageId"], "eu-west-1")["State"] == "available"


def test_copy_image_key_requires_encrypted():
    source = create_image(client("ec2"), "source")
    error = error_of(
        client("ec2", "eu-west-1").copy_image,
        Name="copy",
        SourceImageId=source["image_id"],
        SourceRegion="us-east-1",
        KmsKeyId=customer_key("eu-west-1")["Arn"],
    )
    assert error["Code"] == "InvalidParameterDependency"


# --- 4. AWS-managed keys -----------------------------------------------------------------------------


def test_aws_managed_keys_report_key_manager_aws():
    kms = client("kms")
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId=customer_key()["KeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"


def test_aws_ebs_created_by_ebs_reports_key_manager_aws():
    client("ec2", "eu-west-1").create_volume(Size=8, AvailabilityZone="eu-west-1a", Encrypted=True)
    assert client("kms", "eu-west-1").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"


# --- 5. ModifyImageAttribute launch permissions ------------------------------------------------------


def test_organization_and_ou_permissions_add_and_remove_in_one_call():
    ec2 = client("ec2")
    image_id = create_image(ec2, "shared")["image_id"]
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": ORG_ARN}, {"OrganizationalUnitArn": OU_ARN}]}
    )
    ec2.modify_image_attribute(
        ImageId=image_id,
        LaunchPermission={"Add": [{"OrganizationalUnitArn": OU2_ARN}], "Remove": [{"OrganizationArn": ORG_ARN}]},
    )
    assert launch_permissions(image_id) == [{"OrganizationalUnitArn": OU_ARN}, {"OrganizationalUnitArn": OU2_ARN}]


def test_flat_form_carries_several_arns():
    ec2 = client("ec2")
    image_id = create_image(ec2, "shared")["image_id"]
    ec2.modify_image_attribute(
        ImageId=image_id, Attribute="launchPermission", OperationType="add", OrganizationalUnitArns=[OU_ARN, OU2_ARN]
    )
    assert launch_permissions(image_id) == [{"OrganizationalUnitArn": OU_ARN}, {"OrganizationalUnitArn": OU2_ARN}]


@pytest.mark.parametrize(
    "permission",
    [
        {"OrganizationArn": "o-abcdefghij"},
        {"OrganizationArn": f"arn:aws:organizations::{ACCOUNT}:organization/o-short"},
        {"OrganizationArn": OU_ARN},
        {"OrganizationalUnitArn": "ou-ab12-abcdefgh"},
        {"OrganizationalUnitArn": ORG_ARN},
        {"OrganizationalUnitArn": "arn:aws:organizations::12345:ou/o-abcdefghij/ou-ab12-abcdefgh"},
    ],
)
@pytest.mark.parametrize("operation", ["Add", "Remove"])
def test_malformed_organization_arns_are_rejected(permission, operation):
    ec2 = client("ec2")
    image_id = create_image(ec2, "shared")["image_id"]
    error = error_of(ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={operation: [permission]})
    assert (error["Code"], error["status"]) == ("InvalidAMIAttributeItemValue", 400)
    assert launch_permissions(image_id) == []


def test_other_partitions_are_accepted():
    ec2 = client("ec2")
    image_id = create_image(ec2, "shared")["image_id"]
    gov_arn = ORG_ARN.replace("arn:aws:", "arn:aws-us-gov:")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": gov_arn}]})
    assert launch_permissions(image_id) == [{"OrganizationArn": gov_arn}]


@pytest.mark.parametrize("permission", [{"OrganizationArn": ORG_ARN}, {"UserId": "111122223333"}])
def test_images_under_the_aws_managed_key_cannot_be_shared(permission):
    ec2 = client("ec2")
    image_id = create_image(ec2, "aws-managed", encrypted=True)["image_id"]
    error = error_of(ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={"Add": [permission]})
    assert error == {"Code": "InvalidParameter", "Message": AWS_MANAGED_KEY_MESSAGE, "status": 400}
    assert (
        AWS_MANAGED_KEY_MESSAGE
        == "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot."
    )
    assert launch_permissions(image_id) == []


def test_encrypted_images_cannot_be_public():
    ec2 = client("ec2")
    encrypted_id = create_image(ec2, "cmk", encrypted=True, kms_key_id=customer_key()["Arn"])["image_id"]
    error = error_of(ec2.modify_image_attribute, ImageId=encrypted_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert (error["Code"], error["status"]) == ("UnsupportedOperation", 400)
    ec2.modify_image_attribute(ImageId=encrypted_id, LaunchPermission={"Add": [{"OrganizationArn": ORG_ARN}]})
    plain_id = create_image(ec2, "plain")["image_id"]
    ec2.modify_image_attribute(ImageId=plain_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert image_of(plain_id)["Public"] is True


def test_describe_image_attribute_of_an_unknown_image_is_not_found():
    error = error_of(
        client("ec2").describe_image_attribute, ImageId="ami-0123456789abcdef0", Attribute="launchPermission"
    )
    assert (error["Code"], error["status"]) == ("InvalidAMIID.NotFound", 400)


def test_describe_images_unknown_or_other_region_is_not_found():
    image_id = create_image(client("ec2"), "home")["image_id"]
    assert (
        error_of(client("ec2").describe_images, ImageIds=["ami-0123456789abcdef0"])["Code"] == "InvalidAMIID.NotFound"
    )
    assert error_of(client("ec2", "eu-west-1").describe_images, ImageIds=[image_id])["Code"] == "InvalidAMIID.NotFound"


# --- 6. PutKeyPolicy ----------------------------------------------------------------------------------


def _policy_of_size(size: int) -> str:
    statement = {
        "Sid": "",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    padding = size - len(policy.encode())
    return policy.replace('"Sid": ""', '"Sid": "' + "x" * padding + '"')


def test_put_key_policy_rejects_malformed_json():
    kms, key_id = client("kms"), customer_key()["KeyId"]
    before = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    error = error_of(kms.put_key_policy, KeyId=key_id, PolicyName="default", Policy='{"Statement": [')
    assert (error["Code"], error["status"]) == ("MalformedPolicyDocumentException", 400)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == before


def test_put_key_policy_limit_is_32768_bytes():
    kms, key_id = client("kms"), customer_key()["KeyId"]
    largest = _policy_of_size(32768)
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=largest)
    error = error_of(kms.put_key_policy, KeyId=key_id, PolicyName="default", Policy=_policy_of_size(32769))
    assert error["Code"] == "LimitExceededException"
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == largest


def test_get_key_policy_returns_the_bytes_written():
    kms, key_id = client("kms"), customer_key()["KeyId"]
    policy = '{\n  "Version" : "2012-10-17",\t"Statement":[ {"Sid":"é","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}'
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy


# --- 7. Organizations from member accounts ----------------------------------------------------------


@pytest.fixture(name="org")
def org_fixture() -> dict:
    organizations = client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root = organizations.list_roots()["Roots"][0]
    unit = organizations.create_organizational_unit(ParentId=root["Id"], Name="Workloads")["OrganizationalUnit"]
    member_id = organizations.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    return {"organization": organization, "root": root, "unit": unit, "member_id": member_id}


MANAGEMENT_ONLY_CALLS = {
    "ListRoots": lambda org: ("list_roots", {}),
    "ListParents": lambda org: ("list_parents", {"ChildId": org["member_id"]}),
    "ListChildren": lambda org: ("list_children", {"ParentId": org["root"]["Id"], "ChildType": "ORGANIZATIONAL_UNIT"}),
    "ListOrganizationalUnitsForParent": lambda org: (
        "list_organizational_units_for_parent",
        {"ParentId": org["root"]["Id"]},
    ),
    "DescribeOrganizationalUnit": lambda org: (
        "describe_organizational_unit",
        {"OrganizationalUnitId": org["unit"]["Id"]},
    ),
    "ListAccounts": lambda org: ("list_accounts", {}),
}


@pytest.mark.parametrize("operation", sorted(MANAGEMENT_ONLY_CALLS))
def test_member_accounts_cannot_read_the_tree(org, operation):
    method, params = MANAGEMENT_ONLY_CALLS[operation](org)
    getattr(client("organizations"), method)(**params)  # the management account can
    member = client("organizations", **assume(org["member_id"]))
    error = error_of(getattr(member, method), **params)
    assert error == {
        "Code": "AccessDeniedException",
        "Message": "You don't have permissions to access this resource.",
        "status": 400,
    }


def test_delegated_administrators_can_read_the_tree(org):
    client("organizations").register_delegated_administrator(
        AccountId=org["member_id"], ServicePrincipal="ssm.amazonaws.com"
    )
    member = client("organizations", **assume(org["member_id"]))
    assert member.list_roots()["Roots"] == [org["root"]]


def test_member_accounts_can_describe_the_organization(org):
    member = client("organizations", **assume(org["member_id"]))
    assert member.describe_organization()["Organization"]["Id"] == org["organization"]["Id"]


def test_accounts_in_no_organization_get_not_in_use():
    outsider = client("organizations", **assume("210987654321"))
    for call in (outsider.describe_organization, outsider.list_roots):
        assert error_of(call)["Code"] == "AWSOrganizationsNotInUseException"


def test_list_children_pages_by_twenty(org):
    organizations = client("organizations")
    created = [
        organizations.create_organizational_unit(ParentId=org["unit"]["Id"], Name=f"team-{n:02d}")[
            "OrganizationalUnit"
        ]["Id"]
        for n in range(25)
    ]
    first = organizations.list_children(ParentId=org["unit"]["Id"], ChildType="ORGANIZATIONAL_UNIT")
    assert len(first["Children"]) == 20 and first["NextToken"]
    pages = organizations.get_paginator("list_children").paginate(
        ParentId=org["unit"]["Id"], ChildType="ORGANIZATIONAL_UNIT"
    )
    assert [child["Id"] for page in pages for child in page["Children"]] == created
    small = organizations.list_children(ParentId=org["unit"]["Id"], ChildType="ORGANIZATIONAL_UNIT", MaxResults=3)
    assert len(small["Children"]) == 3
    assert (
        error_of(
            organizations.list_children,
            ParentId=org["unit"]["Id"],
            ChildType="ORGANIZATIONAL_UNIT",
            NextToken="garbage",
        )["Code"]
        == "InvalidInputException"
    )


# --- Images shared with other accounts -----------------------------------------------------------


def test_shared_images_are_visible_to_the_accounts_they_are_shared_with(org):
    ec2 = client("ec2")
    image_id = create_image(ec2, "to-share")["image_id"]
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "secret", "Value": "owner-only"}])
    organizations = client("organizations")
    organizations.move_account(
        AccountId=org["member_id"], SourceParentId=org["root"]["Id"], DestinationParentId=org["unit"]["Id"]
    )
    member_ec2 = client("ec2", **assume(org["member_id"]))
    assert error_of(member_ec2.describe_images, ImageIds=[image_id])["Code"] == "InvalidAMIID.NotFound"
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": org["unit"]["Arn"]}]}
    )
    seen = member_ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert seen["OwnerId"] == ACCOUNT
    assert seen.get("Tags", []) == []  # tags are never shared
    assert [image["ImageId"] for image in member_ec2.describe_images(Owners=[ACCOUNT])["Images"]] == [image_id]
    # Only the owner reads or changes launch permissions.
    assert (
        error_of(member_ec2.describe_image_attribute, ImageId=image_id, Attribute="launchPermission")["Code"]
        == "AuthFailure"
    )
    assert (
        error_of(
            member_ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]}
        )["Code"]
        == "AuthFailure"
    )
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Remove": [{"OrganizationalUnitArn": org["unit"]["Arn"]}]}
    )
    assert error_of(member_ec2.describe_images, ImageIds=[image_id])["Code"] == "InvalidAMIID.NotFound"


def test_consumer_can_copy_a_shared_image(org):
    ec2 = client("ec2")
    image = create_image(ec2, "to-share", encrypted=True, kms_key_id=customer_key()["Arn"])
    ec2.modify_image_attribute(
        ImageId=image["image_id"], LaunchPermission={"Add": [{"OrganizationArn": org["organization"]["Arn"]}]}
    )
    member_ec2 = client("ec2", **assume(org["member_id"]))
    copy_id = member_ec2.copy_image(Name="my-copy", SourceImageId=image["image_id"], SourceRegion="us-east-1")[
        "ImageId"
    ]
    copied = member_ec2.describe_images(ImageIds=[copy_id])["Images"][0]
    assert copied["OwnerId"] == org["member_id"]
    snapshot = member_ec2.describe_snapshots(SnapshotIds=[copied["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]])[
        "Snapshots"
    ][0]
    assert snapshot["OwnerId"] == org["member_id"] and snapshot["Encrypted"] is True
