# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the audit reads (_estate): its input checks, and the owner's reader against the emulator."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _estate
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

KEY = "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111"
ORG_ARN = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OU_ARN = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-11111111"


def test_regions_without_repeats_and_their_partition():
    assert _estate.check_regions(["eu-west-1", "us-east-1", "eu-west-1"]) == (["eu-west-1", "us-east-1"], "aws")
    assert _estate.check_regions(["cn-north-1"]) == (["cn-north-1"], "aws-cn")


@pytest.mark.parametrize(
    "regions, message",
    [
        ([], "regions is empty"),
        (["eu-wset-1"], "Unknown region(s): 'eu-wset-1'"),
        (["us-east-1", "cn-north-1"], "regions spans the partitions aws, aws-cn"),
    ],
)
def test_regions_refused(regions, message):
    with pytest.raises(OrgShareError) as err:
        _estate.check_regions(regions)
    assert err.value.message.startswith(message)


def test_trust_from_arns_and_account_ids():
    assert _estate.check_trust({}) is None
    trust = _estate.check_trust(
        {
            "trusted_organization_arns": [ORG_ARN, ORG_ARN],
            "trusted_organizational_unit_arns": [OU_ARN],
            "trusted_account_ids": ["210987654321"],
        }
    )
    assert (trust.organization_ids, trust.unit_ids, trust.account_ids) == (
        ["o-a1b2c3d4e5"],
        ["ou-ab12-11111111"],
        ["210987654321"],
    )
    with pytest.raises(OrgShareError, match="is not a valid OU ARN"):
        _estate.check_trust({"trusted_organizational_unit_arns": [ORG_ARN]})


def test_key_arns_only_and_image_keys():
    assert _estate.check_key_arns([KEY, KEY]) == [KEY]
    with pytest.raises(OrgShareError, match=r"kms_key_arns entry 1 \('alias/golden'\) is not a key ARN"):
        _estate.check_key_arns(["alias/golden"])
    assert _estate.check_image_keys(None) == {}
    assert _estate.check_image_keys({"ami-0123456789abcdef0": KEY}) == {"ami-0123456789abcdef0": [KEY]}
    with pytest.raises(OrgShareError, match="must be a dict of AMI IDs"):
        _estate.check_image_keys([KEY])


@pytest.fixture
def reader(emulator):
    warnings = []
    made = []

    def make_client(service, region):
        made.append((service, region))
        return emulator.client(service, region=region or "us-east-1")

    owner = _estate.OwnerReader(make_client, warnings.append, 4)
    owner.made, owner.warnings = made, warnings
    return owner


def test_the_owner_reads_images_permissions_snapshots_and_keys_once(reader, world, calls):
    image = world["images"]["encrypted_cmk"]
    views, snapshots = reader.region_images("us-east-1", [], [image["image_id"]])
    (view,) = views
    assert (
        view.image["ImageId"] == image["image_id"]
        and view.permissions_error is None
        and view.launch_permissions is not None
    )
    assert [snapshot["KmsKeyId"] for snapshot in snapshots.values()] == [image["kms_key_arn"]]
    keys = reader.keys([image["kms_key_arn"]], world["account_id"])
    key = keys[image["kms_key_arn"]]
    assert key.metadata["KeyManager"] == "CUSTOMER" and key.policy and key.error is None
    reader.keys([image["kms_key_arn"]], world["account_id"])  # read again: described from the directory
    assert calls()["ec2"] == {"DescribeImages": 1, "DescribeImageAttribute": 1, "DescribeSnapshots": 1}
    assert calls()["kms"] == {"DescribeKey": 1, "GetKeyPolicy": 2}
    assert reader.made == [("ec2", "us-east-1"), ("kms", "us-east-1")] and reader.warnings == []


def test_an_aws_managed_key_is_described_and_its_policy_not_read(reader, world, calls):
    image = world["images"]["encrypted_aws_managed"]
    key_arn = image["kms_key_arn"]
    key = reader.keys([key_arn], world["account_id"])[key_arn]
    assert key.metadata["KeyManager"] == "AWS" and key.policy is None and key.error is None
    assert calls()["kms"] == {"DescribeKey": 1}


def test_a_key_that_cannot_be_described_is_kept_with_the_cause(reader, world):
    missing = f"arn:aws:kms:us-east-1:{world['account_id']}:key/00000000-0000-0000-0000-000000000000"
    key = reader.keys([missing], world["account_id"])[missing]
    assert key.metadata is None and key.policy is None and "NotFoundException" in key.error
