# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image validation decisions: IDs, ownership, state, snapshots and keys."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

CMK = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
AWS_EBS = "arn:aws:kms:us-east-1:111122223333:key/99999999-2222-3333-4444-555555555555"


def image(image_id="ami-0123456789abcdef0", state="available", snapshots=("snap-1",), encrypted=False, owner="111122223333"):
    return {
        "ImageId": image_id,
        "State": state,
        "OwnerId": owner,
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": sid, "Encrypted": encrypted}} for sid in snapshots]
        + [{"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}],
    }


@pytest.mark.parametrize(
    "ids, expected",
    [
        (["ami-12345678"], ["ami-12345678"]),
        (["ami-0123456789abcdef0", "ami-12345678", "ami-0123456789abcdef0"], ["ami-0123456789abcdef0", "ami-12345678"]),
    ],
)
def test_check_image_ids(ids, expected):
    assert _images.check_image_ids(ids) == expected


@pytest.mark.parametrize(
    "ids, fragment",
    [([], "image_ids is empty"), (["ami-123"], "'ami-123'"), (["snap-12345678"], "'snap-12345678'"), (["AMI-12345678"], "'AMI-12345678'"), ([""], "''")],
)
def test_check_image_ids_refuses(ids, fragment):
    with pytest.raises(OrgShareError) as err:
        _images.check_image_ids(ids)
    assert fragment in err.value.message


def test_image_problems_names_each_image_and_the_cause():
    ids = ["ami-00000001", "ami-00000002", "ami-00000003", "ami-00000004", "ami-00000005"]
    owned = {
        "ami-00000001": image("ami-00000001"),
        "ami-00000004": image("ami-00000004", state="pending"),
        "ami-00000005": image("ami-00000005", state="failed"),
    }
    visible = {"ami-00000002": image("ami-00000002", owner="444455556666")}
    problems = _images.image_problems(ids, owned, visible, "eu-west-1")
    assert len(problems) == 4
    assert "ami-00000002 in eu-west-1 is owned by account 444455556666" in problems[0] and "only the owner" in problems[0]
    assert "ami-00000003 does not exist in eu-west-1" in problems[1]
    assert "ami-00000004 in eu-west-1 is pending" in problems[2] and "wait until it is available" in problems[2]
    assert "ami-00000005 in eu-west-1 is failed" in problems[3]


def test_snapshots_and_encryption_flags():
    img = image(snapshots=("snap-1", "snap-2", "snap-1"), encrypted=True)
    assert _images.encrypted_snapshot_ids(img) == ["snap-1", "snap-2"]
    assert _images.encrypted_snapshot_ids(image(snapshots=("snap-1",))) == []  # nothing to look up for plain images
    assert _images.image_encrypted(img)
    assert not _images.image_encrypted(image())
    snapshots = {"snap-1": {"Encrypted": True, "KmsKeyId": CMK}, "snap-2": {"Encrypted": True, "KmsKeyId": CMK}}
    assert _images.image_key_arns(img, snapshots) == [CMK]
    assert _images.image_key_arns(image(), {"snap-1": {"Encrypted": False}}) == []


def test_encryption_problems():
    img = image(snapshots=("snap-1", "snap-2", "snap-3", "snap-4"), encrypted=True)
    snapshots = {
        "snap-1": {"Encrypted": True, "KmsKeyId": AWS_EBS},
        "snap-2": {"Encrypted": True, "KmsKeyId": CMK},
        "snap-3": {"Encrypted": False},
    }
    keys = {AWS_EBS: {"KeyManager": "AWS", "KeyState": "Enabled"}, CMK: {"KeyManager": "CUSTOMER", "KeyState": "PendingDeletion"}}
    problems = _images.encryption_problems(img, snapshots, keys)
    assert len(problems) == 3
    assert f"snapshot snap-1 is encrypted with the AWS-managed key {AWS_EBS}" in problems[0] and "ami_region_copy" in problems[0]
    assert f"snapshot snap-2 is encrypted with {CMK}, which is PendingDeletion" in problems[1]
    assert "snap-4 cannot be described" in problems[2]
    keys[CMK]["KeyState"] = "Enabled"
    assert len(_images.encryption_problems(img, snapshots, keys)) == 2


def test_raise_problems():
    _images.raise_problems([])
    with pytest.raises(OrgShareError) as err:
        _images.raise_problems(["a.", "b."])
    assert err.value.message == "Nothing was changed. a. b."
