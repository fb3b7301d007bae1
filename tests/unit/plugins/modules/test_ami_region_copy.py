# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ami_region_copy against the emulator: four runs, encryption, idempotency by tags, refusals.

The copies are read back with boto3 in the destination region, independently of the module.
"""

import uuid

import botocore.session
import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import ami_region_copy

from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

DEFAULTS = dict(defaults_of(ami_region_copy), source_region="us-east-1", wait_timeout=60)
SOURCE_REGION = "us-east-1"
DESTINATION = "eu-west-1"


@pytest.fixture
def new_image(emulator, world):  # pylint: disable=unused-argument
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def make(encrypted=False, kms_key_id=None):
        ec2 = emulator.client("ec2", region=SOURCE_REGION)
        return create_image(
            ec2, f"region-copy-test-{uuid.uuid4().hex[:12]}", encrypted=encrypted, kms_key_id=kms_key_id
        )["image_id"]

    return make


@pytest.fixture
def copy(runner_of):
    """Run the module's logic into DESTINATION (unless a region is given) and return its result."""
    run = runner_of(ami_region_copy, source_region=SOURCE_REGION, wait_timeout=60)

    def invoke(**kwargs):
        kwargs.setdefault("region", DESTINATION)
        return run(**kwargs)

    return invoke


@pytest.fixture
def refused(copy, refusal_of):
    return refusal_of(copy)


def copies_of(emulator, image_id, region=DESTINATION):
    """Images in ``region`` tagged as copies of ``image_id``, read with boto3."""
    filters = [{"Name": "tag:orgshare:source-image-id", "Values": [image_id]}]
    return emulator.client("ec2", region=region).describe_images(Owners=["self"], Filters=filters)["Images"]


def snapshot_keys(emulator, image, region=DESTINATION):
    ec2 = emulator.client("ec2", region=region)
    ids = [mapping["Ebs"]["SnapshotId"] for mapping in image["BlockDeviceMappings"] if "Ebs" in mapping]
    return sorted({snapshot.get("KmsKeyId") for snapshot in ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]})


def test_four_runs_with_re_encryption(copy, new_image, emulator, world, calls):
    source = new_image(encrypted=True, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"])
    key = world["keys"][DESTINATION]
    args = dict(source_image_id=source, kms_key_id=key["alias"], tags={"team": "platform"}, diff=True)

    checked = copy(check_mode=True, **args)
    assert checked["changed"] and checked["image_id"] is None and checked["state"] is None
    assert checked["encrypted"] and checked["kms_key_arn"] == key["key_arn"]
    assert "CopyImage" not in calls().get("ec2", {})
    assert copies_of(emulator, source) == []

    made = copy(**args)
    assert made["changed"] and made["image_id"].startswith("ami-") and made["state"] == "available"
    assert made["kms_key_arn"] == key["key_arn"] and made["encrypted"]
    assert made["diff"]["before"] == {}
    (found,) = copies_of(emulator, source)
    assert found["ImageId"] == made["image_id"]
    tags = {tag["Key"]: tag["Value"] for tag in found["Tags"]}
    assert tags == {
        "orgshare:source-image-id": source,
        "orgshare:source-region": SOURCE_REGION,
        "orgshare:kms-key-arn": key["key_arn"],
        "team": "platform",
    }
    assert snapshot_keys(emulator, found) == [key["key_arn"]]

    again_checked = copy(check_mode=True, **args)
    again = copy(**args)
    for result in (again_checked, again):
        assert (
            not result["changed"] and result["image_id"] == made["image_id"] and result["kms_key_arn"] == key["key_arn"]
        )
    assert again["diff"]["before"]["image_id"] == made["image_id"]
    assert calls()["ec2"]["CopyImage"] == 1
    assert len(copies_of(emulator, source)) == 1


def test_plain_copy_without_a_key_stays_unencrypted(copy, new_image, emulator):
    source = new_image()
    made = copy(source_image_id=source)
    assert made["changed"] and not made["encrypted"] and made["kms_key_arn"] is None
    (found,) = copies_of(emulator, source)
    assert snapshot_keys(emulator, found) == [None]
    assert found["Name"].startswith("region-copy-test-")  # the source's name in another region


def test_same_region_copy_makes_an_aws_managed_ami_shareable(copy, emulator, world):
    source = world["images"]["encrypted_aws_managed"]
    made = copy(
        source_image_id=source["image_id"], kms_key_id=world["keys"][SOURCE_REGION]["key_arn"], region=SOURCE_REGION
    )
    assert made["name"] == source["name"] + "-copy"
    (found,) = copies_of(emulator, source["image_id"], SOURCE_REGION)
    assert snapshot_keys(emulator, found, SOURCE_REGION) == [world["keys"][SOURCE_REGION]["key_arn"]]
    ou = world["organizational_units"]["Root/Security"]["arn"]
    # The copy can be shared (EC2 refuses any share of an image under an AWS-managed key).
    emulator.client("ec2", region=SOURCE_REGION).modify_image_attribute(
        ImageId=made["image_id"], LaunchPermission={"Add": [{"OrganizationalUnitArn": ou}]}
    )


def test_an_earlier_copy_made_elsewhere_is_found(copy, new_image, emulator, calls):
    source = new_image()
    tags = [
        {"Key": "orgshare:source-image-id", "Value": source},
        {"Key": "orgshare:source-region", "Value": SOURCE_REGION},
    ]
    earlier = emulator.client("ec2", region=DESTINATION).copy_image(
        SourceImageId=source,
        SourceRegion=SOURCE_REGION,
        Name="made-by-hand",
        TagSpecifications=[{"ResourceType": "image", "Tags": tags}],
    )["ImageId"]
    result = copy(source_image_id=source)
    assert not result["changed"] and result["image_id"] == earlier
    assert calls()["ec2"]["CopyImage"] == 1  # the hand-made one only


def test_encrypted_source_needs_a_key_naming_the_region(refused, new_image, world, calls):
    source = new_image(encrypted=True, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"])
    message = refused(source_image_id=source)
    assert f"{source} is encrypted" in message and DESTINATION in message and "kms_key_id" in message
    assert "CopyImage" not in calls().get("ec2", {})


@pytest.mark.parametrize(
    "key, fragment",
    [
        ("alias/aws/ebs", "is an AWS-managed key in eu-west-1"),
        ("alias/does-not-exist", "no such key or alias"),
    ],
)
def test_unusable_destination_keys_are_refused(refused, new_image, calls, key, fragment):
    message = refused(source_image_id=new_image(), kms_key_id=key)
    assert fragment in message
    assert "CopyImage" not in calls().get("ec2", {})


def test_disabled_destination_key_is_refused(refused, new_image, emulator):
    kms = emulator.client("kms", region=DESTINATION)
    key_id = kms.create_key(Description="disabled for a test")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    assert "is Disabled" in refused(source_image_id=new_image(), kms_key_id=key_id)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(source_image_id="ami-0000000000000dead"), "does not exist in us-east-1"),
        (dict(source_image_id="ami-1"), "'ami-1'"),
    ],
)
def test_bad_source_is_refused(refused, args, fragment):
    assert fragment in refused(**args)


@pytest.fixture
def other_key(emulator):
    """A second customer-managed key in the destination."""
    return emulator.client("kms", region=DESTINATION).create_key(Description="second key")["KeyMetadata"]["Arn"]


@pytest.mark.parametrize("first_key", [None, "world"])
def test_an_earlier_copy_under_another_key_is_not_the_copy_asked_for(
    copy, new_image, emulator, world, other_key, calls, first_key
):
    source = new_image()
    first = copy(source_image_id=source, kms_key_id=world["keys"][DESTINATION]["key_arn"] if first_key else None)

    checked = copy(source_image_id=source, kms_key_id=other_key, check_mode=True, diff=True)
    assert checked["changed"] and checked["image_id"] is None and checked["kms_key_arn"] == other_key
    assert [other["image_id"] for other in checked["other_copies"]] == [first["image_id"]]
    assert checked["diff"]["before"] == {}
    assert len(copies_of(emulator, source)) == 1

    made = copy(source_image_id=source, kms_key_id=other_key)
    assert made["changed"] and made["image_id"] != first["image_id"] and made["kms_key_arn"] == other_key
    found = {image["ImageId"]: image for image in copies_of(emulator, source)}
    assert set(found) == {first["image_id"], made["image_id"]}  # the earlier copy is left as it is
    assert snapshot_keys(emulator, found[made["image_id"]]) == [other_key]
    # AMI names are unique per region: the new copy is named after its key.
    assert found[made["image_id"]]["Name"] == found[first["image_id"]]["Name"] + "-" + other_key.rsplit("/", 1)[-1]

    again = copy(source_image_id=source, kms_key_id=other_key, check_mode=True)
    assert not again["changed"] and again["image_id"] == made["image_id"]
    # Asked for the first encryption again, the first copy is the one.
    back = copy(source_image_id=source, kms_key_id=world["keys"][DESTINATION]["key_arn"] if first_key else None)
    assert not back["changed"] and back["image_id"] == first["image_id"]
    assert calls()["ec2"]["CopyImage"] == 2


def test_the_new_copy_is_announced_with_what_happens_to_the_old_one(stand_in, new_image, other_key):
    source = new_image()
    first = ami_region_copy.ensure(stand_in(DEFAULTS, source_image_id=source, region=DESTINATION))
    module = stand_in(DEFAULTS, source_image_id=source, kms_key_id=other_key, region=DESTINATION)
    ami_region_copy.ensure(module)
    (warning,) = module.warnings
    assert first["image_id"] in warning and "unencrypted" in warning and other_key in warning
    assert "left as it is" in warning and "deregister" in warning


def test_an_explicit_name_an_earlier_copy_holds_is_refused(copy, refused, new_image, other_key, calls):
    source = new_image()
    copy(source_image_id=source, name="fixed-name")
    message = refused(source_image_id=source, kms_key_id=other_key, name="fixed-name")
    assert "'fixed-name'" in message and "unique per account and region" in message and "unencrypted" in message
    assert calls()["ec2"]["CopyImage"] == 1


def test_a_failed_copy_never_counts(copy, new_image, emulator, world):
    source = new_image()
    kms = emulator.client("kms", region=DESTINATION)
    doomed = kms.create_key(Description="deleted before the copy")["KeyMetadata"]
    tags = [
        {"Key": "orgshare:source-image-id", "Value": source},
        {"Key": "orgshare:source-region", "Value": SOURCE_REGION},
    ]
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    failed = emulator.client("ec2", region=DESTINATION).copy_image(
        SourceImageId=source,
        SourceRegion=SOURCE_REGION,
        Name="doomed",
        Encrypted=True,
        KmsKeyId=doomed["Arn"],
        TagSpecifications=[{"ResourceType": "image", "Tags": tags}],
    )["ImageId"]
    assert (
        emulator.client("ec2", region=DESTINATION).describe_images(ImageIds=[failed])["Images"][0]["State"] == "failed"
    )
    made = copy(source_image_id=source)
    assert made["changed"] and made["image_id"] != failed and made["other_copies"] == []


def test_a_pending_copy_is_found_and_told_apart_by_its_key(copy, new_image, emulator, world, other_key):
    source = new_image()
    emulator.settings(copy_pending_seconds=600)
    try:
        pending = copy(source_image_id=source, kms_key_id=world["keys"][DESTINATION]["key_arn"], wait=False)
        assert pending["state"] == "pending"
        assert (
            copy(source_image_id=source, kms_key_id=world["keys"][DESTINATION]["key_arn"], wait=False)["image_id"]
            == pending["image_id"]
        )
        other = copy(source_image_id=source, kms_key_id=other_key, check_mode=True)
        assert other["changed"] and other["other_copies"][0]["image_id"] == pending["image_id"]
    finally:
        emulator.settings(copy_pending_seconds=0)


def test_a_copy_not_visible_yet_is_waited_for(copy, new_image, emulator):
    # EC2 is eventually consistent: a new copy may be missing from DescribeImages for a while.
    source = new_image()
    emulator.settings(image_visibility_lag_seconds=3)
    try:
        made = copy(source_image_id=source)
    finally:
        emulator.settings(image_visibility_lag_seconds=0)
    assert made["changed"] and made["state"] == "available"


def test_a_disabled_earlier_copy_is_found_and_refused_with_the_fix(copy, refused, new_image, emulator, calls):
    source = new_image()
    first = copy(source_image_id=source)
    emulator.client("ec2", region=DESTINATION).disable_image(ImageId=first["image_id"])
    emulator.reset_calls()
    message = refused(source_image_id=source)
    assert f"earlier copy of {source} {first['image_id']} in {DESTINATION} is disabled" in message
    assert "EnableImage" in message and "removed all its launch permissions" in message and "deregister it" in message
    assert "CopyImage" not in calls().get("ec2", {})


def test_a_disabled_source_is_refused_with_the_fix(refused, new_image, emulator):
    source = new_image()
    emulator.client("ec2", region=SOURCE_REGION).disable_image(ImageId=source)
    message = refused(source_image_id=source)
    assert f"source AMI {source} in {SOURCE_REGION} is disabled" in message and "EnableImage" in message


DEFAULT_ON = "ap-southeast-2"  # a region no other test copies into: encryption by default is per account and region


@pytest.fixture
def encryption_by_default(emulator):
    """Turn EBS encryption by default on in DEFAULT_ON (optionally with a default key) for one test."""
    ec2 = emulator.client("ec2", region=DEFAULT_ON)

    def turn_on(default_key_id=None):
        ec2.enable_ebs_encryption_by_default()
        if default_key_id:
            ec2.modify_ebs_default_kms_key_id(KmsKeyId=default_key_id)

    yield turn_on
    ec2.reset_ebs_default_kms_key_id()
    ec2.disable_ebs_encryption_by_default()


def test_encryption_by_default_with_aws_ebs_is_refused_before_copying(refused, new_image, encryption_by_default, calls):
    encryption_by_default()
    message = refused(source_image_id=new_image(), region=DEFAULT_ON)
    assert f"EBS encryption by default is on in {DEFAULT_ON}, with the AWS-managed key" in message
    assert "could never be shared" in message and "kms_key_id" in message and "ModifyEbsDefaultKmsKeyId" in message
    assert "CopyImage" not in calls().get("ec2", {})


def test_a_customer_managed_default_key_is_used_and_reported(stand_in, new_image, emulator, encryption_by_default):
    default_key = emulator.client("kms", region=DEFAULT_ON).create_key(Description="default EBS key")["KeyMetadata"][
        "Arn"
    ]
    encryption_by_default(default_key)
    source = new_image()
    checked_module = stand_in(DEFAULTS, source_image_id=source, region=DEFAULT_ON, check_mode=True)
    checked = ami_region_copy.ensure(checked_module)
    assert checked["changed"] and checked["encrypted"] and checked["kms_key_arn"] == default_key
    assert any("encryption by default is on" in warning for warning in checked_module.warnings)
    made = ami_region_copy.ensure(stand_in(DEFAULTS, source_image_id=source, region=DEFAULT_ON))
    assert made["changed"] and made["kms_key_arn"] == default_key  # the key its snapshots actually have
    (found,) = copies_of(emulator, source, DEFAULT_ON)
    assert snapshot_keys(emulator, found, DEFAULT_ON) == [default_key]
    again = ami_region_copy.ensure(stand_in(DEFAULTS, source_image_id=source, region=DEFAULT_ON))
    assert not again["changed"] and again["image_id"] == made["image_id"]


def test_a_key_given_wins_over_the_regions_default(copy, new_image, emulator, encryption_by_default):
    encryption_by_default()
    given = emulator.client("kms", region=DEFAULT_ON).create_key(Description="region key")["KeyMetadata"]["Arn"]
    made = copy(source_image_id=new_image(), kms_key_id=given, region=DEFAULT_ON)
    assert made["kms_key_arn"] == given


@pytest.fixture
def named_image(emulator, world):  # pylint: disable=unused-argument
    """A fresh source image with a name of exactly ``length`` characters (unique per call)."""
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def make(length):
        unique_part = uuid.uuid4().hex[:12]
        return create_image(
            emulator.client("ec2", region=SOURCE_REGION), unique_part + "n" * (length - len(unique_part))
        )

    return make


def test_a_long_source_name_gets_a_copy_name_that_fits(copy, named_image, emulator, world, calls):
    source = named_image(126)  # with "-copy" (a copy in the source's region, re-encrypted) it would be 131 characters
    args = dict(
        source_image_id=source["image_id"], region=SOURCE_REGION, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"]
    )
    checked = copy(check_mode=True, **args)
    assert checked["changed"] and len(checked["name"]) == 128 and checked["name"].endswith("-copy")
    assert checked["name"].startswith(source["name"][:100])
    assert "CopyImage" not in calls().get("ec2", {})
    made = copy(**args)
    assert made["changed"] and made["name"] == checked["name"]  # check mode predicted the name
    (found,) = copies_of(emulator, source["image_id"], SOURCE_REGION)
    assert found["Name"] == checked["name"]
    again_checked = copy(check_mode=True, **args)
    again = copy(**args)
    assert not again_checked["changed"] and not again["changed"] and again["image_id"] == made["image_id"]
    assert calls()["ec2"]["CopyImage"] == 1


def test_a_source_name_that_fits_is_kept_in_another_region(copy, named_image):
    source = named_image(128)
    assert copy(source_image_id=source["image_id"], check_mode=True)["name"] == source["name"]


@pytest.mark.parametrize(
    "name, fragment",
    [("n" * 129, "is 129 characters long"), ("golden:v2", "contains ':'"), ("ab", "is 2 characters long")],
)
def test_a_name_ec2_would_refuse_is_refused_before_any_call(refused, name, fragment):
    # allow_calls=False: the module creates no AWS client at all.
    message = refused(source_image_id="ami-0123456789abcdef0", name=name, allow_calls=False)
    assert (
        message.startswith("name '") and fragment in message and "3 to 128" in message and "leave name unset" in message
    )


@pytest.fixture
def asymmetric_key(emulator):
    """An RSA key for encryption in ``region``: a key EBS cannot use."""

    def make(region=DESTINATION):
        kms = emulator.client("kms", region=region)
        return kms.create_key(Description="asymmetric", KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"][
            "Arn"
        ]

    return make


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_asymmetric_key_is_refused_before_copying(refused, new_image, emulator, asymmetric_key, calls, check_mode):
    key = asymmetric_key()
    source = new_image()
    message = refused(source_image_id=source, kms_key_id=key, check_mode=check_mode)
    assert f"kms_key_id: The key {key!r} in {DESTINATION} has KeySpec RSA_2048 and KeyUsage ENCRYPT_DECRYPT" in message
    assert (
        "only with symmetric encryption keys" in message
        and f"Set kms_key_id to a symmetric encryption customer-managed key of {DESTINATION}" in message
    )
    assert "CopyImage" not in calls().get("ec2", {})
    assert copies_of(emulator, source) == []


def test_an_asymmetric_default_key_is_refused_before_copying(
    refused, new_image, emulator, asymmetric_key, encryption_by_default, calls
):
    key = asymmetric_key(DEFAULT_ON)
    encryption_by_default(key)
    source = new_image()
    message = refused(source_image_id=source, region=DEFAULT_ON)
    assert f"EBS encryption by default is on in {DEFAULT_ON}" in message
    assert f"the region's default EBS key. The key {key!r} in {DEFAULT_ON} has KeySpec RSA_2048" in message
    assert "ModifyEbsDefaultKmsKeyId" in message and "kms_key_id" in message
    assert "CopyImage" not in calls().get("ec2", {})
    assert copies_of(emulator, source, DEFAULT_ON) == []


# --- Many AMIs into many regions in one task --------------------------------------------------------------

SECOND = "eu-central-1"  # a second destination no other test copies into
# The quota counts every pending copy of the account in a region: these tests copy where no other test leaves one.
QUOTA_REGION = "ap-south-1"


@pytest.fixture
def second_key(emulator):
    """A customer-managed key in the second destination region."""
    return emulator.client("kms", region=SECOND).create_key(Description="second region key")["KeyMetadata"]["Arn"]


@pytest.fixture
def switches(emulator):
    """Change emulator switches for one test; all are back to their defaults afterwards."""
    yield emulator.settings
    emulator.settings(copy_pending_seconds=0, concurrent_copies_per_region=0, image_visibility_lag_seconds=0)


def writes(calls):
    return {
        action: count
        for action, count in calls().get("ec2", {}).items()
        if action in ("CopyImage", "CreateTags", "ModifyImageAttribute")
    }


def entries_by_place(result):
    return {(entry["region"], entry["source_image_id"]): entry for entry in result["copies"]}


def test_three_images_into_two_regions_in_four_runs(copy, new_image, emulator, world, second_key, calls):
    sources = [new_image(encrypted=True, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"]) for _number in range(3)]
    keys = {DESTINATION: world["keys"][DESTINATION]["key_arn"], SECOND: second_key}
    args = dict(
        source_image_ids=sources,
        destination_regions=[DESTINATION, SECOND],
        kms_key_ids=keys,
        tags={"team": "platform"},
        diff=True,
    )

    def run(**extra):
        emulator.reset_calls()
        result = copy(**args, **extra)
        return result, calls()

    checked, made_calls = run(check_mode=True)
    assert checked["changed"] and len(checked["copies"]) == 6
    assert all(entry["changed"] and entry["image_id"] is None and entry["state"] is None for entry in checked["copies"])
    assert {place: entry["kms_key_arn"] for place, entry in entries_by_place(checked).items()} == {
        (region, source): keys[region] for region in keys for source in sources
    }
    assert "image_id" not in checked and checked["diff"]["before"] == {"copies": []}
    # One lookup per region and one for the sources, one key read per region: nothing else.
    assert made_calls == {"ec2": {"DescribeImages": 3}, "kms": {"DescribeKey": 2}}
    assert all(copies_of(emulator, source, region) == [] for source in sources for region in keys)

    made, made_calls = run()
    assert made["changed"] and all(
        entry["changed"] and entry["state"] == "available" and entry["error"] is None for entry in made["copies"]
    )
    # Per destination region: one lookup, three CopyImage, one poll (copies are instant here), one read of the new
    # copies' keys; one DescribeImages for the sources.
    assert made_calls == {
        "ec2": {"DescribeImages": 1 + 2 * 2, "CopyImage": 6, "DescribeSnapshots": 2},
        "kms": {"DescribeKey": 2},
    }
    for (region, source), entry in entries_by_place(made).items():
        (found,) = copies_of(emulator, source, region)
        assert found["ImageId"] == entry["image_id"] and snapshot_keys(emulator, found, region) == [keys[region]]
        tags = {tag["Key"]: tag["Value"] for tag in found["Tags"]}
        assert tags["orgshare:kms-key-arn"] == keys[region] and tags["team"] == "platform"
        assert entry["kms_key_arn"] == keys[region] and entry["started"] <= entry["finished"]
        check_entry = entries_by_place(checked)[(region, source)]
        assert (check_entry["name"], check_entry["encrypted"]) == (
            entry["name"],
            entry["encrypted"],
        )  # check mode predicted them
    assert [entry["image_id"] for entry in made["diff"]["after"]["copies"]] == [
        entry["image_id"] for entry in made["copies"]
    ]

    for result, run_calls in (run(check_mode=True), run()):
        assert not result["changed"] and not any(entry["changed"] for entry in result["copies"])
        assert {place: entry["image_id"] for place, entry in entries_by_place(result).items()} == {
            place: entry["image_id"] for place, entry in entries_by_place(made).items()
        }
        assert result["diff"]["before"] == result["diff"]["after"]
        # No write: per region one lookup and one read of the found copies' keys.
        assert run_calls == {"ec2": {"DescribeImages": 3, "DescribeSnapshots": 2}, "kms": {"DescribeKey": 2}}


def test_one_image_into_one_region_keeps_the_single_copy_result(copy, new_image):
    result = copy(source_image_ids=[new_image()], destination_regions=[DESTINATION])
    assert (
        result["image_id"] == result["copies"][0]["image_id"]
        and result["region"] == DESTINATION
        and result["other_copies"] == []
    )


def test_copies_in_flight_stay_within_the_bound_under_the_quota(copy, new_image, switches, calls):
    sources = [new_image() for _number in range(3)]
    switches(concurrent_copies_per_region=2, copy_pending_seconds=1.5)
    result = copy(source_image_ids=sources, max_concurrent_copies=2, region=QUOTA_REGION)
    assert all(entry["state"] == "available" for entry in result["copies"])
    assert calls()["ec2"]["CopyImage"] == 3  # never refused: at most 2 were ever pending
    first_two, third = (
        sorted(result["copies"], key=lambda entry: entry["started"])[:2],
        sorted(result["copies"], key=lambda entry: entry["started"])[2],
    )
    assert third["started"] >= min(entry["finished"] for entry in first_two)


def test_a_copy_refused_for_the_quota_is_tried_again_as_copies_finish(stand_in, new_image, switches, calls):
    sources = [new_image() for _number in range(3)]
    switches(concurrent_copies_per_region=2, copy_pending_seconds=1.5)
    module = stand_in(
        DEFAULTS, source_image_ids=sources, region=QUOTA_REGION
    )  # the bound is AWS's 100: the quota of 2 decides
    result = ami_region_copy.ensure(module)
    assert all(entry["state"] == "available" and entry["error"] is None for entry in result["copies"])
    assert calls()["ec2"]["CopyImage"] > 3 and len(set(entry["image_id"] for entry in result["copies"])) == 3
    (warning,) = module.warnings
    assert "ResourceLimitExceeded" in warning and QUOTA_REGION in warning and "max_concurrent_copies" in warning


def test_a_failed_copy_is_reported_with_its_reason_while_the_others_carry_on(
    stand_in, new_image, emulator, world, second_key, calls
):
    kms = emulator.client("kms", region=SOURCE_REGION)
    doomed_key = kms.create_key(Description="disabled before the copy")["KeyMetadata"]["Arn"]
    good = [new_image(), new_image()]
    doomed = new_image(encrypted=True, kms_key_id=doomed_key)
    kms.disable_key(KeyId=doomed_key.rsplit("/", 1)[-1])  # the copy cannot decrypt the source's snapshot
    keys = {DESTINATION: world["keys"][DESTINATION]["key_arn"], SECOND: second_key}
    module = stand_in(
        DEFAULTS,
        source_image_ids=good + [doomed],
        destination_regions=[DESTINATION, SECOND],
        kms_key_ids=keys,
        region=DESTINATION,
    )
    with pytest.raises(OrgShareError) as err:
        ami_region_copy.ensure(module)
    message, result = err.value.message, err.value.kwargs
    assert message.startswith("2 of 6 copies did not succeed; the others did.")
    assert result["changed"] and calls()["ec2"]["CopyImage"] == 6
    for (region, source), entry in entries_by_place(result).items():
        if source == doomed:
            assert entry["state"] == "failed" and entry["state_reason"]["code"] == "Client.InvalidKMSKey.InvalidState"
            assert (
                doomed_key in entry["state_reason"]["message"]
                and entry["error"] in message
                and region in entry["error"]
            )
        else:
            assert entry["state"] == "available" and entry["error"] is None and entry["state_reason"] is None


def test_a_copy_whose_copyimage_is_refused_is_reported_and_the_others_made(copy, new_image, emulator, calls):
    sources = [new_image() for _number in range(3)]
    emulator.set_faults(
        rate=1.0, error="InvalidParameterValue", services=["ec2"], actions=["CopyImage"], skip=1, limit=1
    )
    with pytest.raises(OrgShareError) as err:
        copy(source_image_ids=sources)
    refused = [entry for entry in err.value.kwargs["copies"] if entry["error"]]
    assert len(refused) == 1 and refused[0]["image_id"] is None and not refused[0]["changed"]
    assert (
        refused[0]["state_reason"]["code"] == "InvalidParameterValue" and "could not be started" in refused[0]["error"]
    )
    assert sum(entry["state"] == "available" for entry in err.value.kwargs["copies"]) == 2
    emulator.clear_faults()
    again = copy(source_image_ids=sources)  # the next run makes only the missing one
    assert [entry["changed"] for entry in again["copies"]] == [
        entry is refused[0] for entry in err.value.kwargs["copies"]
    ]


def test_a_run_cut_off_part_way_finds_its_pending_copies_and_waits_for_them(copy, new_image, emulator, switches, calls):
    sources = [new_image() for _number in range(3)]
    switches(copy_pending_seconds=8)
    started = copy(source_image_ids=sources, wait=False)
    assert started["changed"] and {entry["state"] for entry in started["copies"]} == {"pending"}
    checked = copy(source_image_ids=sources, check_mode=True)
    assert not checked["changed"] and {entry["state"] for entry in checked["copies"]} == {"pending"}
    waited = copy(source_image_ids=sources)
    assert not waited["changed"] and {entry["state"] for entry in waited["copies"]} == {"available"}
    assert [entry["image_id"] for entry in waited["copies"]] == [entry["image_id"] for entry in started["copies"]]
    assert calls()["ec2"]["CopyImage"] == 3
    assert all(len(copies_of(emulator, source)) == 1 for source in sources)


def test_copies_still_pending_at_the_timeout_are_named_and_found_next_time(copy, new_image, switches):
    sources = [new_image() for _number in range(2)]
    switches(copy_pending_seconds=600)
    with pytest.raises(OrgShareError) as err:
        copy(source_image_ids=sources, max_concurrent_copies=1, wait_timeout=1)
    first, second = err.value.kwargs["copies"]
    assert (
        first["state"] == "pending"
        and "was still pending after 1 seconds" in first["error"]
        and "not made twice" in first["error"]
    )
    assert (
        second["image_id"] is None
        and "was not started within 1 seconds" in second["error"]
        and "max_concurrent_copies" in second["error"]
    )
    again = copy(source_image_ids=sources, wait=False, max_concurrent_copies=2)
    assert [entry["changed"] for entry in again["copies"]] == [False, True]
    assert again["copies"][0]["image_id"] == first["image_id"]


# Time-based copies came to CopyImage (and botocore's model) after the collection's botocore floor, 1.35.0.
TIME_BASED_COPIES = "SnapshotCopyCompletionDurationMinutes" in (
    botocore.session.get_session().get_service_model("ec2").operation_model("CopyImage").input_shape.members
)


def test_time_based_copies_and_the_sources_tags_reach_ec2(copy, new_image, emulator):
    source = new_image()
    emulator.client("ec2", region=SOURCE_REGION).create_tags(Resources=[source], Tags=[{"Key": "os", "Value": "linux"}])
    args = dict(
        source_image_ids=[source],
        snapshot_copy_completion_duration_minutes=15,
        copy_image_tags=True,
        tags={"team": "platform"},
    )
    if not TIME_BASED_COPIES:  # a botocore that cannot ask for them: refused with the fix, nothing copied
        with pytest.raises(OrgShareError, match="does not know: upgrade boto3 and botocore"):
            copy(**args)
        assert copies_of(emulator, source) == []
        return
    made = copy(**args)
    (found,) = copies_of(emulator, source)
    assert {"os": "linux", "team": "platform"}.items() <= {tag["Key"]: tag["Value"] for tag in found["Tags"]}.items()
    ec2 = emulator.client("ec2", region=DESTINATION)
    snapshot_ids = [mapping["Ebs"]["SnapshotId"] for mapping in found["BlockDeviceMappings"]]
    assert {
        snapshot["CompletionDurationMinutes"]
        for snapshot in ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
    } == {15}
    assert made["copies"][0]["image_id"] == found["ImageId"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (dict(destination_regions=[DESTINATION, "eu-wset-1"]), ["destination_regions: 'eu-wset-1' is not a region"]),
        (
            dict(destination_regions=[DESTINATION, SECOND, DESTINATION]),
            [f"destination_regions names {DESTINATION} 2 times"],
        ),
        (dict(destination_regions=["cn-north-1"]), ["cn-north-1 is in the partition aws-cn", "CreateStoreImageTask"]),
        (dict(max_concurrent_copies=0), ["max_concurrent_copies is 0", "Give 1 or more"]),
        (
            dict(snapshot_copy_completion_duration_minutes=10),
            ["snapshot_copy_completion_duration_minutes is 10", "15 to 2880"],
        ),
        (dict(snapshot_copy_completion_duration_minutes=2895), ["is 2895", "steps of 15"]),
        (dict(name="one-name"), ["name is the name of one copy, but source_image_ids names 2 AMIs"]),
        (
            dict(
                destination_regions=[SECOND],
                kms_key_id="arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
            ),
            ["is a key of eu-west-1, but it is given for the copies in eu-central-1", "kms_key_ids"],
        ),
        (dict(kms_key_ids={"eu-wset-1": "alias/golden"}), ["kms_key_ids: 'eu-wset-1' is not a region"]),
        (dict(source_image_ids=[]), ["source_image_ids is empty"]),
    ],
)
def test_bad_input_is_refused_before_any_call(refused, args, fragments):
    args = dict(dict(source_image_ids=["ami-0123456789abcdef0", "ami-0123456789abcdef1"]), **args)
    message = refused(allow_calls=False, **args)
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_named_at_once(refused):
    message = refused(
        source_image_ids=["ami-0123456789abcdef0"],
        destination_regions=["eu-wset-1", SECOND, SECOND],
        max_concurrent_copies=0,
        allow_calls=False,
    )
    assert message.startswith("Nothing was changed.") and "'eu-wset-1' is not a region" in message
    assert f"names {SECOND} 2 times" in message and "max_concurrent_copies is 0" in message


def test_an_encrypted_source_needs_a_key_in_every_region(refused, new_image, emulator, world, calls):
    sources = [new_image(encrypted=True, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"]), new_image()]
    emulator.reset_calls()
    message = refused(
        source_image_ids=sources,
        destination_regions=[DESTINATION, SECOND, "ap-northeast-1"],
        kms_key_ids={DESTINATION: world["keys"][DESTINATION]["key_arn"]},
    )
    assert (
        f"The source AMI {sources[0]} is encrypted, so its copy in {SECOND}, ap-northeast-1 must be encrypted"
        in message
    )
    assert f"give {SECOND}, ap-northeast-1 a key in kms_key_ids" in message
    assert writes(calls) == {} and calls()["ec2"] == {"DescribeImages": 1}  # the sources only


def test_a_copy_into_the_source_region_that_changes_nothing_is_refused(refused, copy, new_image, world, calls):
    source = new_image()
    message = refused(source_image_ids=[source], destination_regions=[SOURCE_REGION, DESTINATION])
    assert f"{source} would be copied into its own region {SOURCE_REGION} unencrypted, as it already is" in message
    assert writes(calls) == {}
    made = copy(
        source_image_ids=[source],
        destination_regions=[SOURCE_REGION, DESTINATION],
        kms_key_ids={SOURCE_REGION: world["keys"][SOURCE_REGION]["key_arn"]},
    )
    assert [entry["encrypted"] for entry in made["copies"]] == [True, False]
    assert made["copies"][0]["name"].endswith("-copy")


def test_missing_sources_are_all_named(refused, new_image, calls):
    message = refused(source_image_ids=[new_image(), "ami-0000000000000dead", "ami-0000000000000beef"])
    assert (
        "ami-0000000000000dead does not exist in us-east-1" in message
        and "ami-0000000000000beef does not exist" in message
    )
    assert "check source_image_ids and source_region" in message and writes(calls) == {}


class _Members:
    def __init__(self, members):
        self.meta = type(
            "Meta",
            (),
            {
                "service_model": type(
                    "Model",
                    (),
                    {
                        "operation_model": lambda _self, _name: type(
                            "Operation", (), {"input_shape": type("Shape", (), {"members": members})()}
                        )()
                    },
                )()
            },
        )()


def test_options_the_installed_botocore_lacks_are_refused_with_the_fix():
    old = _Members({"SourceImageId": None, "SourceRegion": None, "Name": None})
    params = dict(snapshot_copy_completion_duration_minutes=15, copy_image_tags=True)
    problems = ami_region_copy.botocore_problems(old, params)
    assert (
        len(problems) == 2
        and "snapshot_copy_completion_duration_minutes needs CopyImage's SnapshotCopyCompletionDurationMinutes"
        in problems[0]
    )
    assert (
        "does not know: upgrade boto3 and botocore" in problems[0]
        and "copy_image_tags needs CopyImage's CopyImageTags" in problems[1]
    )
    assert (
        ami_region_copy.botocore_problems(
            old, dict(snapshot_copy_completion_duration_minutes=None, copy_image_tags=False)
        )
        == []
    )
    new = _Members({"SnapshotCopyCompletionDurationMinutes": None, "CopyImageTags": None})
    assert ami_region_copy.botocore_problems(new, params) == []


def test_keys_read_by_the_plan_are_not_described_again(copy, new_image, emulator, world, calls):
    """The plan (check mode) returns the metadata of the keys it read; the copy that follows, given it, describes no key."""
    sources = [new_image(encrypted=True, kms_key_id=world["keys"][SOURCE_REGION]["key_arn"]) for _index in range(2)]
    arns = {
        DESTINATION: world["keys"][DESTINATION]["key_arn"],
        "ap-southeast-2": emulator.client("kms", region="ap-southeast-2").create_key(Description="known keys")[
            "KeyMetadata"
        ]["Arn"],
    }
    args = dict(source_image_ids=sources, destination_regions=list(arns), kms_key_ids=arns)
    emulator.reset_calls()
    plan = copy(check_mode=True, **args)
    assert sorted(key["arn"] for key in plan["kms_keys"]) == sorted(arns.values())
    assert calls()["kms"] == {"DescribeKey": 2}

    emulator.reset_calls()
    made = copy(known_kms_keys=plan["kms_keys"], **args)
    assert "kms" not in emulator.calls()
    assert sorted(entry["region"] for entry in made["copies"] if entry["changed"]) == sorted(list(arns) * 2)
    assert made["kms_keys"] == plan["kms_keys"]
    for region, arn in arns.items():
        for source in sources:
            (found,) = copies_of(emulator, source, region)
            assert snapshot_keys(emulator, found, region) == [arn]


def test_a_copy_in_place_needs_no_connection_region(copy, new_image, world):
    """With destination_regions, the connection's region may be unset: every call names its region (STS too)."""
    source = new_image(encrypted=True)  # under aws/ebs
    plan = copy(
        region=None,
        check_mode=True,
        source_image_ids=[source],
        destination_regions=[SOURCE_REGION],
        kms_key_ids={SOURCE_REGION: world["keys"][SOURCE_REGION]["key_arn"]},
    )
    assert [(entry["region"], entry["changed"]) for entry in plan["copies"]] == [(SOURCE_REGION, True)]
