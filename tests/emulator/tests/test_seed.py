"""The seeded world: built once per module on a running emulator and checked through the API."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from emulator import Emulator, create_image, seed_world
from emulator.seed import OU_PATHS

from .helpers import NO_RETRIES, error_of


@pytest.fixture(name="emu", scope="module")
def emu_fixture():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(name="world", scope="module")
def world_fixture(emu):
    world = seed_world(emu.endpoint_url)
    assert emu.calls() == {}  # seeding is the emulator's own business: not counted
    return world


def as_boto3(credentials):
    return {
        "aws_access_key_id": credentials["aws_access_key"],
        "aws_secret_access_key": credentials["aws_secret_key"],
        "aws_session_token": credentials["aws_session_token"],
    }


def test_world_is_json_and_has_the_documented_shape(world, emu):
    assert json.loads(json.dumps(world)) == world
    assert set(world) == {
        "endpoint_url",
        "account_id",
        "regions",
        "organization",
        "organizational_units",
        "member_account",
        "dev_account",
        "outsider_account",
        "keys",
        "special_keys",
        "images",
    }
    assert (world["endpoint_url"], world["account_id"], world["regions"]) == (
        emu.endpoint_url,
        "123456789012",
        ["us-east-1", "eu-west-1"],
    )
    assert set(world["organization"]) == {"id", "arn", "root_id", "root_arn", "management_account_id"}
    assert set(world["images"]) == {"plain", "encrypted_cmk", "encrypted_aws_managed", "outsider"}


def test_organization(world, emu):
    organization = emu.client("organizations").describe_organization()["Organization"]
    assert (organization["Id"], organization["Arn"], organization["FeatureSet"]) == (
        world["organization"]["id"],
        world["organization"]["arn"],
        "ALL",
    )
    assert world["organization"]["management_account_id"] == "123456789012"
    roots = emu.client("organizations").list_roots()["Roots"]
    assert [(root["Id"], root["Arn"], root["Name"]) for root in roots] == [
        (world["organization"]["root_id"], world["organization"]["root_arn"], "Root")
    ]


def test_organizational_units_form_the_documented_tree(world, emu):
    organizations = emu.client("organizations")
    units = world["organizational_units"]
    assert list(units) == list(OU_PATHS) and len(units) == 31
    root_path = f"{world['organization']['id']}/{world['organization']['root_id']}/"
    for path, unit in units.items():
        parent_path = path.rsplit("/", 1)[0]
        parent = (
            units[parent_path] if parent_path in units else {"id": world["organization"]["root_id"], "path": root_path}
        )
        assert unit["name"] == path.rsplit("/", 1)[1]
        assert unit["parent_id"] == parent["id"] == organizations.list_parents(ChildId=unit["id"])["Parents"][0]["Id"]
        assert unit["path"] == f"{parent['path']}{unit['id']}/"
        assert re.fullmatch(r"o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}/)+", unit["path"])
        described = organizations.describe_organizational_unit(OrganizationalUnitId=unit["id"])["OrganizationalUnit"]
        assert (described["Arn"], described["Name"]) == (unit["arn"], unit["name"])
    assert units["Root/Sandbox/Prod"]["name"] == units["Root/Workloads/Prod"]["name"] == "Prod"


def test_sandbox_children_take_two_pages(world, emu):
    organizations = emu.client("organizations")
    sandbox = world["organizational_units"]["Root/Sandbox"]["id"]
    first = organizations.list_organizational_units_for_parent(ParentId=sandbox)
    assert len(first["OrganizationalUnits"]) == 20 and first.get("NextToken")
    pages = organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=sandbox)
    names = sorted(unit["Name"] for page in pages for unit in page["OrganizationalUnits"])
    assert names == sorted(["Prod", *(f"team-{n:02d}" for n in range(1, 25))])


@pytest.mark.parametrize(
    "name, path", [("member_account", "Root/Workloads/Prod"), ("dev_account", "Root/Workloads/Dev")]
)
def test_member_accounts(world, emu, name, path):
    member = world[name]
    assert member["name"] == name.split("_")[0]
    session = boto3.session.Session(**as_boto3(member["credentials"]))

    def member_client(service):
        return session.client(service, region_name="us-east-1", endpoint_url=emu.endpoint_url, config=NO_RETRIES)

    assert member_client("sts").get_caller_identity()["Account"] == member["id"]
    assert member_client("organizations").describe_organization()["Organization"]["Id"] == world["organization"]["id"]
    assert error_of(member_client("organizations").list_roots)["Code"] == "AccessDeniedException"
    parents = emu.client("organizations").list_parents(ChildId=member["id"])["Parents"]
    assert parents[0]["Id"] == member["parent_id"] == world["organizational_units"][path]["id"]
    assert member["path"] == world["organizational_units"][path]["path"]


def test_outsider_account(world, emu):
    outsider = world["outsider_account"]
    assert outsider["id"] == "210987654321"
    organizations = emu.client("organizations", account_id=outsider["id"], config=NO_RETRIES)
    assert error_of(organizations.describe_organization)["Code"] == "AWSOrganizationsNotInUseException"
    image = world["images"]["outsider"]
    seen = emu.client("ec2").describe_images(ImageIds=[image["image_id"]])["Images"][
        0
    ]  # shared with the management account
    assert seen["OwnerId"] == image["owner_id"] == outsider["id"]


def test_customer_keys(world, emu):
    for region in ("us-east-1", "eu-west-1"):
        key = world["keys"][region]
        metadata = emu.client("kms", region).describe_key(KeyId="alias/orgshare-demo")["KeyMetadata"]
        assert (metadata["KeyId"], metadata["Arn"], metadata["KeyManager"], metadata["KeyState"]) == (
            key["key_id"],
            key["key_arn"],
            "CUSTOMER",
            "Enabled",
        )
        assert f":{region}:" in key["key_arn"] and key["alias"] == "alias/orgshare-demo"


def test_special_keys(world, emu):
    special = world["special_keys"]["us-east-1"]
    kms = emu.client("kms")
    expected = {
        "disabled": ("alias/orgshare-disabled", "Disabled", "CUSTOMER"),
        "pending_deletion": ("alias/orgshare-pending-deletion", "PendingDeletion", "CUSTOMER"),
        "aws_managed": ("alias/aws/ebs", "Enabled", "AWS"),
    }
    for name, (alias, state, manager) in expected.items():
        metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
        assert (special[name]["alias"], special[name]["key_arn"], metadata["KeyState"], metadata["KeyManager"]) == (
            alias,
            metadata["Arn"],
            state,
            manager,
        )


@pytest.mark.parametrize(
    "name, key", [("plain", None), ("encrypted_cmk", "cmk"), ("encrypted_aws_managed", "aws_managed")]
)
def test_images(world, emu, name, key):
    image = world["images"][name]
    ec2 = emu.client("ec2")
    described = ec2.describe_images(ImageIds=[image["image_id"]])["Images"][0]
    assert (described["Name"], described["OwnerId"], described["State"], image["region"]) == (
        image["name"],
        "123456789012",
        "available",
        "us-east-1",
    )
    assert [mapping["Ebs"]["SnapshotId"] for mapping in described["BlockDeviceMappings"]] == image["snapshot_ids"]
    snapshot = ec2.describe_snapshots(SnapshotIds=image["snapshot_ids"])["Snapshots"][0]
    expected_arn = {
        None: None,
        "cmk": world["keys"]["us-east-1"]["key_arn"],
        "aws_managed": world["special_keys"]["us-east-1"]["aws_managed"]["key_arn"],
    }[key]
    assert (image["encrypted"], image["kms_key_arn"]) == (key is not None, expected_arn)
    assert (snapshot["Encrypted"], snapshot.get("KmsKeyId")) == (key is not None, expected_arn)


def test_create_image_with_several_snapshots(world, emu):
    del world  # the world must exist; the new image must not disturb it
    image = create_image(emu.client("ec2", "eu-west-1"), "three-volumes", encrypted=True, snapshots=3)
    described = emu.client("ec2", "eu-west-1").describe_images(ImageIds=[image["image_id"]])["Images"][0]
    assert [mapping["DeviceName"] for mapping in described["BlockDeviceMappings"]] == [
        "/dev/xvda",
        "/dev/xvdb",
        "/dev/xvdc",
    ]
    assert image["region"] == "eu-west-1" and len(set(image["snapshot_ids"])) == 3
    assert (
        image["kms_key_arn"] == emu.client("kms", "eu-west-1").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    )


def test_seeding_twice_is_refused(world, emu):
    del world
    with pytest.raises(RuntimeError, match="already seeded"):
        seed_world(emu.endpoint_url)
