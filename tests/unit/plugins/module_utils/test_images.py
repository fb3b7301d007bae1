# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image validation decisions: IDs, ownership, state, snapshots and keys."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

CMK = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
AWS_EBS = "arn:aws:kms:us-east-1:111122223333:key/99999999-2222-3333-4444-555555555555"


def image(
    image_id="ami-0123456789abcdef0", state="available", snapshots=("snap-1",), encrypted=False, owner="111122223333"
):
    return {
        "ImageId": image_id,
        "State": state,
        "OwnerId": owner,
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": sid, "Encrypted": encrypted}} for sid in snapshots
        ]
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
    [
        ([], "image_ids is empty"),
        (["ami-123"], "'ami-123'"),
        (["snap-12345678"], "'snap-12345678'"),
        (["AMI-12345678"], "'AMI-12345678'"),
        ([""], "''"),
    ],
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
    assert (
        "ami-00000002 in eu-west-1 is owned by account 444455556666" in problems[0] and "only the owner" in problems[0]
    )
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
    keys = {
        AWS_EBS: {"KeyManager": "AWS", "KeyState": "Enabled"},
        CMK: {"KeyManager": "CUSTOMER", "KeyState": "PendingDeletion"},
    }
    problems = _images.encryption_problems(img, snapshots, keys)
    assert len(problems) == 3
    assert (
        f"snapshot snap-1 is encrypted with the AWS-managed key {AWS_EBS}" in problems[0]
        and "ami_region_copy" in problems[0]
    )
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


def a_copy(
    image_id,
    state="available",
    created="2026-11-01T00:00:00.000Z",
    source="ami-0aaaaaaaaaaaaaaaa",
    source_region="us-east-1",
    snapshots=("snap-1",),
    encrypted=False,
    key_tag=None,
    name=None,
):
    tags = [
        {"Key": _images.SOURCE_IMAGE_TAG, "Value": source},
        {"Key": _images.SOURCE_REGION_TAG, "Value": source_region},
    ]
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
    found = _images.copies_of(
        [failed, older, pending, other_source, newer, other_region], "ami-0aaaaaaaaaaaaaaaa", "us-east-1"
    )
    assert [copy["ImageId"] for copy in found] == [
        "ami-00000000000000002",
        "ami-00000000000000001",
        "ami-00000000000000003",
    ]


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
    copy, others, disabled = _images.earlier_copy(copies, "ami-0aaaaaaaaaaaaaaaa", "us-east-1", encryptions, wanted)
    assert (copy["ImageId"] if copy else None) == chosen
    assert [other["ImageId"] for other in others] == [c["ImageId"] for c in copies if c["ImageId"] != chosen]
    assert disabled is None


def test_earlier_copy_prefers_available_then_newest_and_reports_a_disabled_match():
    pending_newest = a_copy("ami-00000000000000001", state="pending", created="2026-12-01T00:00:00.000Z")
    available_old = a_copy("ami-00000000000000002", created="2026-10-01T00:00:00.000Z")
    available_new = a_copy("ami-00000000000000003", created="2026-11-01T00:00:00.000Z")
    failed = a_copy("ami-00000000000000004", state="failed", created="2026-12-02T00:00:00.000Z")
    images = [pending_newest, available_old, failed, available_new]
    unencrypted = {image["ImageId"]: () for image in images}
    copy, others, disabled = _images.earlier_copy(images, "ami-0aaaaaaaaaaaaaaaa", "us-east-1", unencrypted, None)
    assert copy is available_new and others == [available_old, pending_newest] and disabled is None
    # Only a pending copy: it counts (a run cut off part way waits for it, never copies again).
    copy, others, _disabled = _images.earlier_copy(
        [pending_newest, failed], "ami-0aaaaaaaaaaaaaaaa", "us-east-1", unencrypted, None
    )
    assert copy is pending_newest and others == []
    # A disabled copy encrypted as asked is told apart, to refuse with the fix; one under another key is not.
    off = a_copy("ami-00000000000000005", state="disabled")
    assert _images.earlier_copy([off, failed], "ami-0aaaaaaaaaaaaaaaa", "us-east-1", {off["ImageId"]: ()}, None) == (
        None,
        [],
        off,
    )
    assert _images.earlier_copy([off], "ami-0aaaaaaaaaaaaaaaa", "us-east-1", {off["ImageId"]: ()}, KEY_1) == (
        None,
        [],
        None,
    )


def test_the_source_ec2_reports_wins_over_copied_tags():
    # Tags copied onto another image (CopyImageTags of a copy) do not make it a copy of that source.
    tagged = a_copy("ami-00000000000000001")
    assert _images.is_copy_of(tagged, "ami-0aaaaaaaaaaaaaaaa", "us-east-1")
    assert _images.is_copy_of(
        dict(tagged, SourceImageId="ami-0aaaaaaaaaaaaaaaa", SourceImageRegion="us-east-1"),
        "ami-0aaaaaaaaaaaaaaaa",
        "us-east-1",
    )
    assert not _images.is_copy_of(
        dict(tagged, SourceImageId="ami-0cccccccccccccccc"), "ami-0aaaaaaaaaaaaaaaa", "us-east-1"
    )
    assert not _images.is_copy_of(dict(tagged, SourceImageRegion="eu-west-1"), "ami-0aaaaaaaaaaaaaaaa", "us-east-1")
    assert (
        _images.copies_of([dict(tagged, SourceImageId="ami-0cccccccccccccccc")], "ami-0aaaaaaaaaaaaaaaa", "us-east-1")
        == []
    )


def test_a_new_copy_avoids_the_name_an_earlier_copy_holds():
    assert _images.copy_name("golden", KEY_1, {}) == "golden"
    assert _images.copy_name("golden", KEY_1, {"golden": {}}) == "golden-11111111-1111-1111-1111-111111111111"
    assert _images.copy_name("golden", None, {"golden": {}}) == "golden-unencrypted"
    long_name = "x" * 128
    renamed = _images.copy_name(long_name, KEY_2, {long_name: {}})
    assert len(renamed) == _images.MAX_IMAGE_NAME and renamed.endswith("-22222222-2222-2222-2222-222222222222")


@pytest.mark.parametrize(
    "encryption, words", [(None, "cannot be told"), ((), "unencrypted"), ((KEY_1,), f"encrypted with {KEY_1}")]
)
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


# --- Copying many AMIs into many regions: the pure planner --------------------------------------------

PARTITIONS = {"us-east-1": "aws", "eu-west-1": "aws", "eu-central-1": "aws", "cn-north-1": "aws-cn"}
SOURCE_A, SOURCE_B = "ami-0aaaaaaaaaaaaaaaa", "ami-0bbbbbbbbbbbbbbbb"
OWNER = "111122223333"


def a_source(image_id, name, encrypted=False, owner=OWNER):
    return dict(image(image_id, encrypted=encrypted, owner=owner), Name=name)


@pytest.mark.parametrize("bound, fragment", [(0, "max_concurrent_copies is 0"), (-3, "Give 1 or more")])
def test_a_bound_below_one_is_refused(bound, fragment):
    assert fragment in _images.concurrent_copies_problem(bound) and "100" in _images.concurrent_copies_problem(bound)


@pytest.mark.parametrize("bound", [1, 20, 100, 500])
def test_bounds_of_one_and_more_are_taken(bound):
    assert _images.concurrent_copies_problem(bound) is None


@pytest.mark.parametrize("minutes", [None, 15, 30, 120, 2880])
def test_completion_durations_aws_takes(minutes):
    assert _images.completion_duration_problem(minutes) is None


@pytest.mark.parametrize("minutes", [0, 14, 20, 2895, -15])
def test_completion_durations_outside_aws_range_are_refused(minutes):
    problem = _images.completion_duration_problem(minutes)
    assert (
        f"snapshot_copy_completion_duration_minutes is {minutes}" in problem
        and "15 to 2880" in problem
        and "steps of 15" in problem
    )


def test_region_problems_name_unknown_repeated_and_other_partition_regions():
    problems = _images.region_problems(
        ["eu-west-1", "eu-wset-1", "eu-west-1", "cn-north-1", "eu-central-1"], PARTITIONS, "us-east-1"
    )
    assert len(problems) == 3
    assert "destination_regions names eu-west-1 2 times" in problems[0]
    assert "'eu-wset-1' is not a region" in problems[1] and "e.g. eu-west-1" in problems[1]
    assert "cn-north-1 is in the partition aws-cn" in problems[2] and "CreateStoreImageTask" in problems[2]
    assert _images.region_problems(["eu-west-1"], PARTITIONS, "us-east-9") == [
        "source_region: 'us-east-9' is not a region (not one the "
        "installed botocore knows): check its spelling, e.g. "
        "eu-west-1. A region newer than the installed botocore "
        "needs a newer botocore."
    ]
    assert _images.region_problems(["us-east-1", "eu-west-1"], PARTITIONS, "us-east-1") == []


def test_region_keys_prefer_the_region_entry_and_refuse_a_key_of_another_region():
    keys, problems = _images.region_keys(
        ["eu-west-1", "eu-central-1", "us-east-1"], "alias/golden", {"eu-west-1": KEY_1}
    )
    assert keys == {"eu-west-1": KEY_1, "eu-central-1": "alias/golden", "us-east-1": "alias/golden"} and problems == []
    keys, problems = _images.region_keys(["eu-west-1", "eu-central-1"], KEY_1, {"eu-central-1": KEY_2})
    assert keys["eu-west-1"] == KEY_1 and len(problems) == 1
    assert (
        f"kms_key_ids['eu-central-1'] {KEY_2!r} is a key of eu-west-1" in problems[0]
        and "KMS keys are regional" in problems[0]
    )
    _keys, problems = _images.region_keys(["eu-central-1"], KEY_1, {})
    assert problems[0].startswith(
        f"kms_key_id {KEY_1!r} is a key of eu-west-1, but it is given for the copies in eu-central-1"
    )
    assert _images.region_keys(["eu-west-1"], None, None) == ({"eu-west-1": None}, [])
    assert "kms_key_ids['eu-west-1'] is ''" in _images.region_keys(["eu-west-1"], None, {"eu-west-1": ""})[1][0]


def test_encrypted_sources_need_a_key_in_every_region():
    assert _images.missing_keys_problem([], ["eu-west-1"], True) is None
    assert _images.missing_keys_problem([SOURCE_A], [], False) is None
    one = _images.missing_keys_problem([SOURCE_A], ["eu-west-1"], True)
    assert one == (
        f"The source AMI {SOURCE_A} is encrypted, so its copy in eu-west-1 must be encrypted with a customer-managed key of "
        "eu-west-1: set kms_key_id (for the share_ami role: share_ami_region_kms_keys['eu-west-1'])."
    )
    many = _images.missing_keys_problem([SOURCE_A, SOURCE_B], ["eu-west-1", "eu-central-1"], False)
    assert f"The source AMIs {SOURCE_A}, {SOURCE_B} are encrypted, so their copies in eu-west-1, eu-central-1" in many
    assert "give eu-west-1, eu-central-1 a key in kms_key_ids" in many


def test_a_copy_into_the_sources_own_region_must_change_something():
    plain = a_source(SOURCE_A, "plain")
    problem = _images.same_region_problem(plain, (), None, "us-east-1", OWNER)
    assert f"{SOURCE_A} would be copied into its own region us-east-1 unencrypted, as it already is" in problem
    assert "kms_key_ids or kms_key_id" in problem and "leave us-east-1 out of the destinations" in problem
    assert _images.same_region_problem(plain, (), KEY_1, "us-east-1", OWNER) is None  # re-encrypted: the point of it
    assert (
        _images.same_region_problem(plain, (), None, "us-east-1", "444455556666") is None
    )  # another account's AMI: a copy of one's own
    encrypted = a_source(SOURCE_B, "encrypted", encrypted=True)
    snapshots = {"snap-1": {"Encrypted": True, "KmsKeyId": KEY_1}}
    assert _images.source_encryption(encrypted, snapshots) == (KEY_1,)
    assert _images.source_encryption(encrypted, {}) is None and _images.source_encryption(plain, {}) == ()
    assert "encrypted with " + KEY_1 in _images.same_region_problem(encrypted, (KEY_1,), KEY_1, "us-east-1", OWNER)
    assert _images.same_region_problem(encrypted, (KEY_1,), KEY_2, "us-east-1", OWNER) is None
    assert (
        _images.same_region_problem(encrypted, None, KEY_1, "us-east-1", OWNER) is None
    )  # cannot be told: not refused


def test_plan_region_finds_copies_names_new_ones_and_keeps_earlier_ones_apart():
    sources = [a_source(SOURCE_A, "golden-a"), a_source(SOURCE_B, "golden-b")]
    found = a_copy("ami-00000000000000001", source=SOURCE_A, name="golden-a", key_tag=KEY_1)
    unencrypted = a_copy("ami-00000000000000002", source=SOURCE_B, name="golden-b")
    encryptions = {"ami-00000000000000001": (KEY_1,), "ami-00000000000000002": ()}
    plans, problems = _images.plan_region(sources, "eu-west-1", "us-east-1", KEY_1, [found, unencrypted], encryptions)
    assert problems == []
    assert [(plan["source"]["ImageId"], plan["copy"] and plan["copy"]["ImageId"], plan["name"]) for plan in plans] == [
        (SOURCE_A, "ami-00000000000000001", "golden-a"),
        (SOURCE_B, None, "golden-b-11111111-1111-1111-1111-111111111111"),  # the unencrypted copy holds the name
    ]
    assert plans[1]["others"] == [unencrypted] and all(
        plan["key_arn"] == KEY_1 and plan["region"] == "eu-west-1" for plan in plans
    )
    # In the source's region, new copies are named -copy.
    plans, problems = _images.plan_region(sources, "us-east-1", "us-east-1", KEY_1, [], {})
    assert [plan["name"] for plan in plans] == ["golden-a-copy", "golden-b-copy"] and problems == []


def test_plan_region_refuses_names_ec2_would_refuse_as_duplicates():
    same_name = [a_source(SOURCE_A, "golden", owner="444455556666"), a_source(SOURCE_B, "golden", owner="555566667777")]
    _plans, problems = _images.plan_region(same_name, "eu-west-1", "us-east-1", None, [], {})
    assert problems == [
        f"{SOURCE_A} and {SOURCE_B} would all be copied into eu-west-1 as 'golden', and AMI names are unique per account "
        "and region: copy them in separate tasks, each with a name of its own."
    ]
    # A name held by a copy of another source of this collection.
    holder = a_copy("ami-00000000000000003", source=SOURCE_B, name="golden-a")
    _plans, problems = _images.plan_region(
        [a_source(SOURCE_A, "golden-a")], "eu-west-1", "us-east-1", None, [holder], {holder["ImageId"]: ()}
    )
    assert "name 'golden-a' is already the name of ami-00000000000000003 in eu-west-1 (available)" in problems[0]
    # An explicit name held by an earlier copy under another key.
    other = a_copy("ami-00000000000000004", source=SOURCE_A, name="fixed")
    _plans, problems = _images.plan_region(
        [a_source(SOURCE_A, "golden-a")], "eu-west-1", "us-east-1", KEY_1, [other], {other["ImageId"]: ()}, name="fixed"
    )
    assert (
        "name 'fixed' is already the name of the earlier copy ami-00000000000000004 in eu-west-1, which is unencrypted"
        in problems[0]
    )
    assert "Leave name unset" in problems[0]


def test_plan_region_refuses_a_disabled_copy_encrypted_as_asked():
    off = a_copy("ami-00000000000000005", state="disabled")
    plans, problems = _images.plan_region(
        [a_source(SOURCE_A, "golden-a")], "eu-west-1", "us-east-1", None, [off], {off["ImageId"]: ()}
    )
    assert plans[0]["copy"] is None
    assert (
        f"earlier copy of {SOURCE_A} ami-00000000000000005 in eu-west-1 is disabled" in problems[0]
        and "Or deregister it" in problems[0]
    )
