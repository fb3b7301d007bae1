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


# --- the copy of a source in a region ------------------------------------------------------

KEY_1 = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
KEY_2 = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"


def a_copy(image_id, state="available", created="2026-11-01T00:00:00.000Z", source="ami-0aaaaaaaaaaaaaaaa", source_region="us-east-1",
           snapshots=("snap-1",), encrypted=False, key_tag=None, name=None):
    tags = [{"Key": _images.SOURCE_IMAGE_TAG, "Value": source}, {"Key": _images.SOURCE_REGION_TAG, "Value": source_region}]
    if key_tag:
        tags.append({"Key": _images.KMS_KEY_TAG, "Value": key_tag})
    found = image(image_id, state=state, snapshots=snapshots, encrypted=encrypted)
    found.update(CreationDate=created, Tags=tags, Name=name or image_id)
    return found


def test_copies_of_ranks_available_then_newest_and_never_counts_failed():
    older = a_copy("ami-00000000000000001", created="2026-10-01T00:00:00.000Z")
    newer = a_copy("ami-00000000000000002", created="2026-11-01T00:00:00.000Z")
    pending = a_copy("ami-00000000000000003", state="pending", created="2026-12-01T00:00:00.000Z")
    failed = a_copy("ami-00000000000000004", state="failed", created="2026-12-02T00:00:00.000Z")
    other_source = a_copy("ami-00000000000000005", source="ami-0bbbbbbbbbbbbbbbb")
    other_region = a_copy("ami-00000000000000006", source_region="eu-central-1")
    found = _images.copies_of([failed, older, pending, other_source, newer, other_region], "ami-0aaaaaaaaaaaaaaaa", "us-east-1")
    assert [copy["ImageId"] for copy in found] == ["ami-00000000000000002", "ami-00000000000000001", "ami-00000000000000003"]


def test_copy_encryption_reads_snapshots_then_the_tag():
    encrypted = a_copy("ami-00000000000000001", snapshots=("snap-1", "snap-2"), encrypted=True)
    snapshots = {"snap-1": {"Encrypted": True, "KmsKeyId": KEY_2}, "snap-2": {"Encrypted": True, "KmsKeyId": KEY_1}}
    assert _images.copy_encryption(encrypted, snapshots) == (KEY_1, KEY_2)
    assert _images.copy_encryption(a_copy("ami-00000000000000002"), {}) == ()
    # Snapshots not described yet (a pending copy): the tag the copy was made with decides.
    assert _images.copy_encryption(a_copy("ami-00000000000000003", encrypted=True, key_tag=KEY_1), {}) == (KEY_1,)
    assert _images.copy_encryption(a_copy("ami-00000000000000004", snapshots=(), key_tag=_images.UNENCRYPTED), {}) == ()
    # The snapshots win over the tag; without either, nothing can be told.
    assert _images.copy_encryption(a_copy("ami-00000000000000005", key_tag=KEY_1), {}) == ()
    assert _images.copy_encryption(a_copy("ami-00000000000000006", snapshots=()), {}) is None


@pytest.mark.parametrize(
    "encryptions, wanted, chosen",
    [
        ({"ami-00000000000000001": (), "ami-00000000000000002": (KEY_1,)}, KEY_1, "ami-00000000000000002"),
        ({"ami-00000000000000001": (), "ami-00000000000000002": (KEY_1,)}, None, "ami-00000000000000001"),
        ({"ami-00000000000000001": (KEY_1,), "ami-00000000000000002": (KEY_1,)}, KEY_2, None),
        ({"ami-00000000000000001": None, "ami-00000000000000002": (KEY_1, KEY_2)}, KEY_1, None),
        ({"ami-00000000000000001": (KEY_2,), "ami-00000000000000002": (KEY_2,)}, KEY_2, "ami-00000000000000001"),
    ],
)
def test_only_a_copy_encrypted_as_asked_counts(encryptions, wanted, chosen):
    copies = [a_copy("ami-00000000000000001"), a_copy("ami-00000000000000002")]
    copy, others = _images.select_copy(copies, encryptions, wanted)
    assert (copy["ImageId"] if copy else None) == chosen
    assert [other["ImageId"] for other in others] == [c["ImageId"] for c in copies if c["ImageId"] != chosen]


def test_a_new_copy_avoids_the_name_an_earlier_copy_holds():
    assert _images.copy_name("golden", KEY_1, {}) == "golden"
    assert _images.copy_name("golden", KEY_1, {"golden": {}}) == "golden-11111111-1111-1111-1111-111111111111"
    assert _images.copy_name("golden", None, {"golden": {}}) == "golden-unencrypted"
    long_name = "x" * 128
    renamed = _images.copy_name(long_name, KEY_2, {long_name: {}})
    assert len(renamed) == _images.MAX_IMAGE_NAME and renamed.endswith("-22222222-2222-2222-2222-222222222222")


@pytest.mark.parametrize("encryption, words", [(None, "cannot be told"), ((), "unencrypted"), ((KEY_1,), f"encrypted with {KEY_1}")])
def test_describe_encryption(encryption, words):
    assert words in _images.describe_encryption(encryption)


@pytest.mark.parametrize("length", [125, 126, 128, 200])
@pytest.mark.parametrize("suffix", ["", "-copy"])
def test_a_default_name_always_fits_and_keeps_its_suffix(length, suffix):
    source = "s" * length
    name = _images.copy_name(source, KEY_1, {}, suffix=suffix)
    assert len(name) <= _images.MAX_IMAGE_NAME and name.endswith(suffix)
    assert _images.image_name_problem(name) is None
    if length + len(suffix) <= _images.MAX_IMAGE_NAME:
        assert name == source + suffix  # names that fit are never changed
    else:
        assert len(name) == _images.MAX_IMAGE_NAME and name.startswith("s" * 100)
    assert name == _images.copy_name(source, KEY_1, {}, suffix=suffix)  # deterministic: check mode predicts it
    renamed = _images.copy_name(source, KEY_2, {name: {}}, suffix=suffix)
    assert len(renamed) <= _images.MAX_IMAGE_NAME and renamed.endswith(suffix + "-22222222-2222-2222-2222-222222222222")
    assert renamed != name


def test_shortened_names_of_different_sources_stay_different():
    first, second = "a" * 127 + "1", "a" * 127 + "2"
    names = {_images.copy_name(source, None, {}, suffix="-copy") for source in (first, second)}
    assert len(names) == 2 and all(len(name) == 128 and name.endswith("-copy") for name in names)


@pytest.mark.parametrize("name", ["abc", "x" * 128, "Golden (v2) [prod] 2026.11/eu-west-1 o'neil@team_a"])
def test_names_ec2_accepts(name):
    assert _images.image_name_problem(name) is None


@pytest.mark.parametrize(
    "name, fragments",
    [
        ("x" * 129, ["name 'xxxx", "is 129 characters long", "3 to 128", "leave name unset"]),
        ("ab", ["is 2 characters long"]),
        ("golden:v2*", ["contains '*' ':'", "does not accept"]),
        ("café-image", ["contains 'é'"]),
    ],
)
def test_names_ec2_refuses(name, fragments):
    problem = _images.image_name_problem(name)
    for fragment in fragments:
        assert fragment in problem
