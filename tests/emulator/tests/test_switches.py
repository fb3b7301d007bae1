"""The emulator's switches for AWS behaviours that decide success (README, "Control API"), in-process.

Each test states the AWS behaviour; each fails on unpatched moto 5.2.5. The switches are off by
default; a test turns on the one it needs with ``change_settings`` and the fixture puts them back.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from emulator.middleware import change_settings, current_settings
from emulator.seed import create_image
from emulator.server import DEFAULT_SETTINGS

from .helpers import assume, client, error_of

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = "123456789012"
ORG_ARN = f"arn:aws:organizations::{ACCOUNT}:organization/o-abcdefghij"
MEMBER = "210987654321"


@pytest.fixture(name="switch", autouse=True)
def switch_fixture():
    """``switch(name=value)`` changes a switch for one test; all are back to their defaults afterwards."""
    yield change_settings
    change_settings(DEFAULT_SETTINGS)


def key_arn(alias: str, region: str = "us-east-1") -> str:
    return client("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def customer_key(region: str = "us-east-1") -> dict:
    return client("kms", region).create_key(Description="customer key")["KeyMetadata"]


def snapshot_of(snapshot_id: str, region: str = "us-east-1") -> dict:
    return client("ec2", region).describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]


def copy_snapshot_ids(image_id: str, region: str) -> list[str]:
    mappings = client("ec2", region).describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"]
    return [mapping["Ebs"]["SnapshotId"] for mapping in mappings]


# --- 1. EBS encryption by default, per account and region ------------------------------------------


def test_encryption_by_default_is_off_until_enabled_per_region_and_account():
    ec2 = client("ec2")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["Encrypted"] is False
    assert ec2.enable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")
    assert (volume["Encrypted"], volume["KmsKeyId"]) == (True, key_arn("alias/aws/ebs"))
    # Another region of the account, and the same region of another account, are untouched.
    assert client("ec2", "eu-west-1").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert client("ec2", "eu-west-1").create_volume(Size=8, AvailabilityZone="eu-west-1a")["Encrypted"] is False
    member = client("ec2", **assume(MEMBER))
    assert member.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.disable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["Encrypted"] is False


def test_default_key_is_aws_ebs_until_modified_and_reset():
    ec2, key = client("ec2"), customer_key()
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key_arn("alias/aws/ebs")
    assert ec2.modify_ebs_default_kms_key_id(KmsKeyId=key["KeyId"])["KmsKeyId"] == key["Arn"]
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key["Arn"]
    ec2.enable_ebs_encryption_by_default()
    assert ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["KmsKeyId"] == key["Arn"]
    assert ec2.reset_ebs_default_kms_key_id()["KmsKeyId"] == key_arn("alias/aws/ebs")
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key_arn("alias/aws/ebs")


def test_modify_default_key_checks_the_key_asynchronously():
    unknown = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    assert client("ec2").modify_ebs_default_kms_key_id(KmsKeyId=unknown)["KmsKeyId"] == unknown


def test_copy_image_into_a_region_with_encryption_by_default_encrypts_under_its_default_key():
    source = create_image(client("ec2"), "plain-source")
    destination, key = client("ec2", "eu-west-1"), customer_key("eu-west-1")
    destination.enable_ebs_encryption_by_default()
    destination.modify_ebs_default_kms_key_id(KmsKeyId=key["Arn"])
    copy_id = destination.copy_image(Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1")["ImageId"]
    for snapshot_id in copy_snapshot_ids(copy_id, "eu-west-1"):
        described = snapshot_of(snapshot_id, "eu-west-1")
        assert (described["Encrypted"], described["KmsKeyId"]) == (True, key["Arn"])
    assert (
        destination.describe_images(ImageIds=[copy_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["Encrypted"]
        is True
    )


def test_the_switch_presets_regions_and_the_api_overrides_it(switch):
    assert switch({"ebs_encryption_by_default": ["eu-west-1"]})["ebs_encryption_by_default"] == {"eu-west-1": True}
    source = create_image(client("ec2"), "plain-source")
    destination = client("ec2", "eu-west-1")
    assert destination.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    copy_id = destination.copy_image(Name="copy", SourceImageId=source["image_id"], SourceRegion="us-east-1")["ImageId"]
    copied_snapshot = snapshot_of(copy_snapshot_ids(copy_id, "eu-west-1")[0], "eu-west-1")
    assert copied_snapshot["KmsKeyId"] == key_arn("alias/aws/ebs", "eu-west-1")
    copied = destination.copy_snapshot(SourceSnapshotId=source["snapshot_ids"][0], SourceRegion="us-east-1")
    assert snapshot_of(copied["SnapshotId"], "eu-west-1")["Encrypted"] is True
    # The account's own choice wins over the preset.
    destination.disable_ebs_encryption_by_default()
    assert destination.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    copy_id = destination.copy_image(Name="copy-2", SourceImageId=source["image_id"], SourceRegion="us-east-1")[
        "ImageId"
    ]
    assert snapshot_of(copy_snapshot_ids(copy_id, "eu-west-1")[0], "eu-west-1")["Encrypted"] is False


@pytest.mark.parametrize("value", ["eu-west-1", [1], {"eu-west-1": "yes"}])
def test_the_switch_refuses_other_values(switch, value):
    with pytest.raises(ValueError):
        switch({"ebs_encryption_by_default": value})
    assert current_settings()["ebs_encryption_by_default"] == {}


def test_the_switch_takes_a_dict_of_regions(switch):
    switch({"ebs_encryption_by_default": {"us-east-1": True, "eu-west-1": False}})
    assert client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert client("ec2", "eu-west-1").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False


# --- 2. Key-policy read lag ---------------------------------------------------------------------------


def policy(sid: str, principal: str = "arn:aws:iam::123456789012:root") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}
            ],
        }
    )


def read_policy(key_id: str) -> str:
    return client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]


def test_get_key_policy_returns_the_previous_document_during_the_lag(switch):
    kms, key = client("kms"), customer_key()
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy("first"))
    switch({"key_policy_read_lag_seconds": 0.6})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy("second"))
    kms.put_key_policy(KeyId=key["Arn"], PolicyName="default", Policy=policy("third"))
    assert read_policy(key["Arn"]) == policy("first")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"  # DescribeKey is unaffected
    time.sleep(0.7)
    assert read_policy(key["KeyId"]) == policy("third")


def test_without_the_lag_a_write_is_read_back_at_once():
    kms, key = client("kms"), customer_key()
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy("only"))
    assert read_policy(key["KeyId"]) == policy("only")


# --- 3. Image-visibility lag after CopyImage ----------------------------------------------------------


def test_a_new_copy_is_invisible_during_the_lag(switch):
    source = create_image(client("ec2"), "visible-source")
    switch({"image_visibility_lag_seconds": 0.8})
    destination = client("ec2", "eu-west-1")
    copy_id = destination.copy_image(Name="lagging-copy", SourceImageId=source["image_id"], SourceRegion="us-east-1")[
        "ImageId"
    ]
    assert error_of(destination.describe_images, ImageIds=[copy_id])["Code"] == "InvalidAMIID.NotFound"
    assert destination.describe_images(Owners=["self"])["Images"] == []
    assert destination.describe_images(Filters=[{"Name": "name", "Values": ["lagging-copy"]}])["Images"] == []
    error = error_of(destination.describe_image_attribute, ImageId=copy_id, Attribute="launchPermission")
    assert error["Code"] == "InvalidAMIID.NotFound"
    # The source, made before, is seen as ever.
    assert [image["ImageId"] for image in client("ec2").describe_images(Owners=["self"])["Images"]] == [
        source["image_id"]
    ]
    time.sleep(0.9)
    assert destination.describe_images(ImageIds=[copy_id])["Images"][0]["Name"] == "lagging-copy"
    assert [image["ImageId"] for image in destination.describe_images(Owners=["self"])["Images"]] == [copy_id]
    assert (
        destination.describe_image_attribute(ImageId=copy_id, Attribute="launchPermission")["LaunchPermissions"] == []
    )


# --- 4. Disabled AMIs ---------------------------------------------------------------------------------


def test_a_disabled_ami_is_hidden_unshared_and_unshareable_until_enabled():
    ec2 = client("ec2")
    image_id = create_image(ec2, "to-disable")["image_id"]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    member = client("ec2", **assume(MEMBER))
    assert [image["ImageId"] for image in member.describe_images(ImageIds=[image_id])["Images"]] == [image_id]
    assert ec2.disable_image(ImageId=image_id)["Return"] is True
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert ec2.describe_images(ImageIds=[image_id])["Images"] == []
    described = ec2.describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"]
    assert [(image["ImageId"], image["State"]) for image in described] == [(image_id, "disabled")]
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    assert member.describe_images(Owners=[ACCOUNT], IncludeDisabled=True)["Images"] == []  # the consumer lost it
    error = error_of(ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    assert error["Code"] == "InvalidAMIID.Unavailable"
    assert ec2.enable_image(ImageId=image_id)["Return"] is True
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})


def test_only_the_owner_disables_an_ami():
    ec2 = client("ec2")
    image_id = create_image(ec2, "not-yours")["image_id"]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    assert error_of(client("ec2", **assume(MEMBER)).disable_image, ImageId=image_id)["Code"] == "AuthFailure"


# --- 5. At most 1,000 sharing entities per AMI (always on) ---------------------------------------------


def test_an_ami_is_shared_with_at_most_1000_entities():
    ec2 = client("ec2")
    image_id = create_image(ec2, "widely-shared")["image_id"]
    accounts = [{"UserId": f"{100000000000 + number}"} for number in range(999)]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": accounts + [{"Group": "all"}]})
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": ORG_ARN}]}
    )  # the 1,000th
    error = error_of(ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    assert error["Code"] == "ResourceLimitExceeded"
    # Swapping one entity for another in one call stays within the quota; adding one already there changes nothing.
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}], "Remove": [accounts[0]]}
    )
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [accounts[1]]})
    assert (
        len(ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]) == 1001
    )


# --- 6. Concurrent AMI copies per destination Region, and time-based copies -------------------------


def copy_into(region: str, source_id: str, name: str, **params: Any) -> str:
    return client("ec2", region).copy_image(Name=name, SourceImageId=source_id, SourceRegion="us-east-1", **params)[
        "ImageId"
    ]


def test_copies_beyond_the_quota_of_a_destination_region_are_refused_until_one_completes(switch):
    source = create_image(client("ec2"), "many-copies")["image_id"]
    switch({"concurrent_copies_per_region": 2, "copy_pending_seconds": 0.8})
    first, second = copy_into("eu-west-1", source, "copy-1"), copy_into("eu-west-1", source, "copy-2")
    error = error_of(
        client("ec2", "eu-west-1").copy_image, Name="copy-3", SourceImageId=source, SourceRegion="us-east-1"
    )
    assert error["Code"] == "ResourceLimitExceeded" and "2 concurrent AMI copies" in error["Message"]
    assert (
        len(client("ec2", "eu-west-1").describe_images(Owners=["self"])["Images"]) == 2
    )  # the refused call made nothing
    copy_into("ap-southeast-2", source, "copy-elsewhere")  # each destination region has its own quota
    time.sleep(0.9)
    assert {image_of_region(image_id, "eu-west-1")["State"] for image_id in (first, second)} == {"available"}
    copy_into("eu-west-1", source, "copy-3")


def test_without_the_switch_copies_are_unlimited(switch):
    source = create_image(client("ec2"), "unlimited-copies")["image_id"]
    switch({"copy_pending_seconds": 600})
    copies = [copy_into("eu-west-1", source, f"copy-{number}") for number in range(5)]
    assert {image_of_region(image_id, "eu-west-1")["State"] for image_id in copies} == {"pending"}


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_the_copy_quota_switch_takes_a_whole_number(switch, value):
    with pytest.raises(ValueError):
        switch({"concurrent_copies_per_region": value})
    assert current_settings()["concurrent_copies_per_region"] == 0


@pytest.mark.parametrize("minutes", [0, 10, 20, 2895, 3000])
def test_a_completion_duration_outside_15_to_2880_minutes_in_steps_of_15_is_refused(minutes):
    source = create_image(client("ec2"), "timed-copy")["image_id"]
    error = error_of(
        client("ec2", "eu-west-1").copy_image,
        Name="copy",
        SourceImageId=source,
        SourceRegion="us-east-1",
        SnapshotCopyCompletionDurationMinutes=minutes,
    )
    assert error["Code"] == "InvalidParameterValue" and str(minutes) in error["Message"]
    assert client("ec2", "eu-west-1").describe_images(Owners=["self"])["Images"] == []


@pytest.mark.parametrize("minutes", [15, 2880])
def test_a_time_based_copy_reports_its_duration_on_its_snapshots(minutes):
    source = create_image(client("ec2"), "timed-copy")["image_id"]
    copy_id = copy_into("eu-west-1", source, "timed", SnapshotCopyCompletionDurationMinutes=minutes)
    (snapshot_id,) = copy_snapshot_ids(copy_id, "eu-west-1")
    assert snapshot_of(snapshot_id, "eu-west-1")["CompletionDurationMinutes"] == minutes


def image_of_region(image_id: str, region: str) -> dict:
    return client("ec2", region).describe_images(ImageIds=[image_id])["Images"][0]
