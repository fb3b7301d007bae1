"""The consumer side of a share, in-process: RunInstances, CopyImage and CreateVolume by other accounts.

Each test states the AWS behaviour (patches/consumer.py cites the pages); each fails on unpatched
moto 5.2.5, which launches any image ID instantly ``running`` and never looks at keys.
"""

from __future__ import annotations

import json

import pytest

from emulator.middleware import change_settings
from emulator.seed import create_image
from emulator.server import DEFAULT_SETTINGS

from .helpers import assume, client, error_of

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = "123456789012"
OUTSIDER = "210987654321"
LAUNCH_FAILURE = {"Code": "Client.InternalError", "Message": "Client.InternalError: Client error on launch"}
# What the EBS and EC2 guides list for consumers of a shared key (and what the collection grants).
USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*"]


@pytest.fixture(name="org")
def org_fixture() -> dict:
    """An organization of this account: a member in OU Prod, a dev account in its sibling OU Dev."""
    organizations = client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    world = {"id": organization["Id"], "arn": organization["Arn"]}
    for name in ("prod", "dev"):
        unit = organizations.create_organizational_unit(ParentId=root_id, Name=name)["OrganizationalUnit"]
        account = organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        organizations.move_account(AccountId=account, SourceParentId=root_id, DestinationParentId=unit["Id"])
        world[name] = {
            "account": account,
            "arn": unit["Arn"],
            "path": f"{organization['Id']}/{root_id}/{unit['Id']}/",
            "credentials": assume(account),
        }
    world["outsider"] = {"account": OUTSIDER, "credentials": assume(OUTSIDER)}
    yield world
    change_settings(DEFAULT_SETTINGS)


def key_for(*paths: str, deny_account: str | None = None) -> dict:
    """A customer key whose policy lets principals under ``paths`` use it as the EC2 guide's example does."""
    statements = [
        {
            "Sid": "Admin",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if paths:
        under = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [path + "*" for path in paths]}}
        statements += [
            {
                "Sid": "Use",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": USE_ACTIONS,
                "Resource": "*",
                "Condition": under,
            },
            {
                "Sid": "Grant",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {**under, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    if deny_account:
        statements.append(
            {"Sid": "NotThem", "Effect": "Deny", "Principal": {"AWS": deny_account}, "Action": "kms:*", "Resource": "*"}
        )
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return client("kms").create_key(Description="shared key", Policy=policy)["KeyMetadata"]


def shared_image(*permissions: dict, key: dict | None = None, region: str = "us-east-1") -> str:
    image = create_image(
        client("ec2", region), "shared", encrypted=key is not None, kms_key_id=key["Arn"] if key else None
    )
    if permissions:
        client("ec2", region).modify_image_attribute(
            ImageId=image["image_id"], LaunchPermission={"Add": list(permissions)}
        )
    return image["image_id"]


def launch(credentials: dict, image_id: str, region: str = "us-east-1") -> dict:
    """RunInstances as the account of ``credentials``; the instance as the answer and the next read show it."""
    ec2 = client("ec2", region, **credentials)
    answered = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[answered["InstanceId"]])["Reservations"][0]["Instances"][0]
    reason = described.get("StateReason") or {}
    return {
        "answered": answered["State"]["Name"],
        "state": described["State"]["Name"],
        "reason": reason if reason.get("Code") else None,
    }


def refused(credentials: dict, image_id: str, region: str = "us-east-1") -> str:
    ec2 = client("ec2", region, **credentials)
    return error_of(ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Code"]


def test_only_accounts_a_launch_permission_covers_may_launch(org):
    image_id = shared_image()
    for who in ("prod", "dev", "outsider"):
        assert refused(org[who]["credentials"], image_id) == "InvalidAMIID.NotFound"
    assert refused({}, "ami-00000000000000000") == "InvalidAMIID.NotFound"  # no such image, even for the owner
    assert launch({}, image_id)["state"] == "running"  # the owner may
    client("ec2").modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": org["prod"]["arn"]}]}
    )
    assert launch(org["prod"]["credentials"], image_id) == {"answered": "pending", "state": "running", "reason": None}
    assert refused(org["dev"]["credentials"], image_id) == "InvalidAMIID.NotFound"
    client("ec2").modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": org["arn"]}]})
    assert launch(org["dev"]["credentials"], image_id)["state"] == "running"
    assert refused(org["outsider"]["credentials"], image_id) == "InvalidAMIID.NotFound"
    client("ec2").modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": OUTSIDER}]})
    assert launch(org["outsider"]["credentials"], image_id)["state"] == "running"


def test_a_key_the_consumer_may_not_use_terminates_its_instance_at_launch(org):
    bare = key_for()
    image_id = shared_image({"OrganizationalUnitArn": org["prod"]["arn"]}, key=bare)
    assert launch(org["prod"]["credentials"], image_id) == {
        "answered": "pending",
        "state": "terminated",
        "reason": LAUNCH_FAILURE,
    }
    assert launch({}, image_id)["state"] == "running"  # the owner's own key
    granted = key_for(org["prod"]["path"])
    image_id = shared_image(
        {"OrganizationalUnitArn": org["prod"]["arn"]}, {"OrganizationalUnitArn": org["dev"]["arn"]}, key=granted
    )
    assert launch(org["prod"]["credentials"], image_id)["state"] == "running"
    assert launch(org["dev"]["credentials"], image_id)["reason"] == LAUNCH_FAILURE  # sees the AMI, not the key


def test_an_explicit_deny_wins_and_a_disabled_key_fails_every_launch(org):
    key = key_for(org["prod"]["path"], deny_account=org["prod"]["account"])
    image_id = shared_image({"OrganizationalUnitArn": org["prod"]["arn"]}, key=key)
    assert launch(org["prod"]["credentials"], image_id)["reason"] == LAUNCH_FAILURE
    key = key_for(org["prod"]["path"])
    image_id = shared_image({"OrganizationalUnitArn": org["prod"]["arn"]}, key=key)
    client("kms").disable_key(KeyId=key["KeyId"])
    assert launch(org["prod"]["credentials"], image_id)["reason"] == LAUNCH_FAILURE
    assert launch({}, image_id)["reason"] == LAUNCH_FAILURE


def test_an_image_that_is_not_available_cannot_be_launched(org):
    image_id = shared_image({"OrganizationalUnitArn": org["prod"]["arn"]})
    change_settings({"copy_pending_seconds": 30})
    copy_id = client("ec2", "eu-west-1").copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="copy")[
        "ImageId"
    ]
    assert refused({}, copy_id, region="eu-west-1") == "InvalidAMIID.Unavailable"
    client("ec2").disable_image(ImageId=image_id)
    assert refused({}, image_id) == "InvalidAMIID.Unavailable"
    assert (
        refused(org["prod"]["credentials"], image_id) == "InvalidAMIID.NotFound"
    )  # disabling removed the launch permission


def test_a_consumer_copy_under_a_key_it_may_not_use_fails(org):
    for key, state in ((key_for(), "failed"), (key_for(org["prod"]["path"]), "available")):
        image_id = shared_image({"OrganizationalUnitArn": org["prod"]["arn"]}, key=key)
        member = client("ec2", "us-east-1", **org["prod"]["credentials"])
        copy_id = member.copy_image(
            SourceImageId=image_id, SourceRegion="us-east-1", Name=f"mine-{state}", Encrypted=True
        )["ImageId"]
        copy = member.describe_images(ImageIds=[copy_id])["Images"][0]
        assert copy["State"] == state and copy["OwnerId"] == org["prod"]["account"]
        if state == "failed":
            assert key["Arn"] in copy["StateReason"]["Message"] and "kms:Decrypt" in copy["StateReason"]["Message"]


def test_a_volume_from_another_accounts_snapshot_needs_the_snapshot_shared_and_the_key(org):
    for key, expected in ((key_for(org["prod"]["path"]), "available"), (key_for(), "gone")):
        image = create_image(client("ec2"), "volumes", encrypted=True, kms_key_id=key["Arn"])
        snapshot_id = image["snapshot_ids"][0]
        member = client("ec2", "us-east-1", **org["prod"]["credentials"])
        create = {"SnapshotId": snapshot_id, "AvailabilityZone": "us-east-1a"}
        assert error_of(member.create_volume, **create)["Code"] == "InvalidSnapshot.NotFound"
        client("ec2").modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            OperationType="add",
            UserIds=[org["prod"]["account"]],
        )
        volume = member.create_volume(**create)
        assert volume["Encrypted"] and volume["KmsKeyId"] == key["Arn"] and volume["SnapshotId"] == snapshot_id
        if expected == "available":
            assert member.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]["State"] == "available"
        else:
            assert volume["State"] == "creating"
            assert error_of(member.describe_volumes, VolumeIds=[volume["VolumeId"]])["Code"] == "InvalidVolume.NotFound"
        assert (
            error_of(client("ec2", "us-east-1", **org["dev"]["credentials"]).create_volume, **create)["Code"]
            == "InvalidSnapshot.NotFound"
        )
