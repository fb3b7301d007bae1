# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The EC2 calls (_ec2) against the emulator: batching, what each returns, and the errors they map."""

import uuid

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


@pytest.fixture
def ec2(emulator):
    return emulator.client("ec2", region="us-east-1")


@pytest.fixture
def images(ec2, world):  # pylint: disable=unused-argument
    """``images(count, **create_image options)``: fresh AMIs of this test's own."""
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def make(count, **options):
        prefix = f"ec2-test-{uuid.uuid4().hex[:10]}"
        return [create_image(ec2, f"{prefix}-{index}", **options)["image_id"] for index in range(count)]

    return make


def test_describe_images_batches_ids_and_leaves_out_what_is_not_there(emulator, ec2, images, calls, monkeypatch):
    monkeypatch.setattr(_ec2, "FILTER_BATCH", 2)
    image_ids = images(3)
    missing = "ami-0123456789abcdef0"
    emulator.reset_calls()
    found = _ec2.describe_images(ec2, image_ids + [missing], ["self"])
    assert sorted(image["ImageId"] for image in found) == sorted(image_ids)
    assert calls()["ec2"] == {"DescribeImages": 2}  # 4 IDs, 2 a call


def test_images_found_by_tags_a_filter_of_many_values_in_batches(emulator, ec2, images, calls, monkeypatch):
    monkeypatch.setattr(_ec2, "FILTER_BATCH", 2)
    image_ids = images(3)
    tag = f"ec2-test-{uuid.uuid4().hex[:8]}"
    ec2.create_tags(Resources=image_ids, Tags=[{"Key": "test-source", "Value": tag}])
    values = [f"{tag}-other-{index}" for index in range(3)] + [tag]
    emulator.reset_calls()
    found = _ec2.describe_images_by_filters(
        ec2, [{"Name": "state", "Values": ["available"]}], ("tag:test-source", values)
    )
    assert sorted(image["ImageId"] for image in found) == sorted(image_ids)
    assert calls()["ec2"] == {"DescribeImages": 2}


def test_only_encrypted_snapshots_are_described(emulator, ec2, images, world, calls):
    (plain,) = images(1)
    (encrypted,) = images(1, encrypted=True, kms_key_id=world["keys"]["us-east-1"]["key_arn"])
    described = _ec2.describe_images(ec2, [plain, encrypted], ["self"])
    emulator.reset_calls()
    assert _ec2.encrypted_snapshots_of(ec2, [image for image in described if image["ImageId"] == plain]) == {}
    assert "ec2" not in calls()
    snapshots = _ec2.encrypted_snapshots_of(ec2, described)
    assert [snapshot["KmsKeyId"] for snapshot in snapshots.values()] == [world["keys"]["us-east-1"]["key_arn"]]
    assert calls()["ec2"] == {"DescribeSnapshots": 1}


def test_launch_permissions_are_read_and_changed_in_one_call_each(emulator, ec2, images, world, calls):
    (image_id,) = images(1)
    ou_arn = world["organizational_units"]["Root/Security"]["arn"]
    emulator.reset_calls()
    _ec2.modify_launch_permissions(ec2, image_id, {"Add": [{"OrganizationalUnitArn": ou_arn}]})
    assert _ec2.describe_launch_permissions(ec2, image_id) == [{"OrganizationalUnitArn": ou_arn}]
    assert calls()["ec2"] == {"ModifyImageAttribute": 1, "DescribeImageAttribute": 1}


def test_a_missing_image_names_what_was_being_done(ec2):
    with pytest.raises(OrgShareError) as err:
        _ec2.describe_launch_permissions(ec2, "ami-0123456789abcdef0")
    assert err.value.message == "Failed to read the launch permissions of ami-0123456789abcdef0"


def test_encryption_by_default_and_the_default_key(emulator, world):
    ec2 = emulator.client("ec2", region="eu-west-1")
    assert _ec2.ebs_encryption_by_default(ec2) == (False, None)
    ec2.enable_ebs_encryption_by_default()
    try:
        enabled, key_id = _ec2.ebs_encryption_by_default(ec2)
        assert enabled and key_id.startswith("arn:aws:kms:eu-west-1:")
    finally:
        ec2.disable_ebs_encryption_by_default()


def test_a_copy_beyond_the_quota_is_its_own_error(emulator, images):
    (source,) = images(1)
    destination = emulator.client("ec2", region="eu-west-1")
    emulator.settings(copy_pending_seconds=60, concurrent_copies_per_region=1)
    try:
        request = {"SourceImageId": source, "SourceRegion": "us-east-1", "Name": f"quota-{uuid.uuid4().hex[:8]}"}
        assert _ec2.copy_image(destination, request).startswith("ami-")
        with pytest.raises(_ec2.CopyQuotaReached) as err:
            _ec2.copy_image(destination, dict(request, Name=f"quota-{uuid.uuid4().hex[:8]}"))
        assert "as many AMI copies in flight as its quota allows (ResourceLimitExceeded)" in err.value.message
    finally:
        emulator.settings(copy_pending_seconds=0, concurrent_copies_per_region=0)
