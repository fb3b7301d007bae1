# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ami_share_info against the emulator: what it reads, how often, what it finds, and that it never writes.

Each test makes images of its own, named with a prefix of its own, and audits only those (name_patterns).
"""

import uuid

import botocore.session
import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import ami_share_info
from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant
from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

DEFAULTS = defaults_of(ami_share_info)
GRANT = defaults_of(kms_org_grant)


@pytest.fixture
def prefix():
    return f"share-info-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_image(emulator, prefix):
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def make(region="us-east-1", kms_key_id=None, encrypted=None, tags=None, suffix=None):
        ec2 = emulator.client("ec2", region=region)
        made = create_image(
            ec2,
            f"{prefix}-{suffix or uuid.uuid4().hex[:6]}",
            encrypted=bool(kms_key_id) if encrypted is None else encrypted,
            kms_key_id=kms_key_id,
        )
        if tags:
            ec2.create_tags(
                Resources=[made["image_id"]], Tags=[{"Key": key, "Value": value} for key, value in tags.items()]
            )
        return made["image_id"]

    return make


@pytest.fixture
def new_key(emulator):
    def make(region="us-east-1"):
        return emulator.client("kms", region=region).create_key(Description="share info test")["KeyMetadata"]["Arn"]

    return make


@pytest.fixture
def shared(emulator):
    def add(image_id, *arns, region="us-east-1", group=False):
        entries = [{"OrganizationArn" if ":organization/" in arn else "OrganizationalUnitArn": arn} for arn in arns]
        entries += [{"Group": "all"}] if group else []
        emulator.client("ec2", region=region).modify_image_attribute(
            ImageId=image_id, LaunchPermission={"Add": entries}
        )

    return add


@pytest.fixture
def grant(stand_in):
    def run(key_arn, region="us-east-1", **principals):
        kms_org_grant.ensure(stand_in(GRANT, region=region, key_id=key_arn, **principals))

    return run


@pytest.fixture
def audit(stand_in, prefix):
    def run(**kwargs):
        kwargs.setdefault("name_patterns", [f"{prefix}-*"])
        module = stand_in(DEFAULTS, **kwargs)
        result = ami_share_info.ensure(module)
        result["warnings"] = module.warnings
        return result

    return run


def writes(calls):
    """What an audit must never call: the calls that change something."""
    from emulator.middleware import write_calls  # pylint: disable=import-outside-toplevel

    return write_calls(calls())


def codes(result):
    return sorted(finding["code"] for finding in result["findings"])


def test_a_clean_estate_reads_once_and_finds_nothing(audit, make_image, new_key, shared, grant, world, emulator):
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    key = new_key()
    image_id = make_image(kms_key_id=key)
    shared(image_id, prod["arn"])
    grant(key, organizational_unit_arns=[prod["arn"]])
    emulator.reset_calls()
    result = audit(trusted_organization_arns=[world["organization"]["arn"]])
    assert result["findings"] == [] and result["warnings"] == []
    (entry,) = result["images"]
    (share,) = entry["shares"]
    assert share["name_path"] == "Root/Workloads/Prod" and share["path"] == prod["path"] and share["can_launch"] is True
    assert entry["kms_key_arns"] == [key] and result["organization"]["tree_read"] is True
    assert result["caller_account_id"] == world["account_id"]
    assert writes(emulator.calls) == {}
    assert (
        audit(check_mode=True, trusted_organization_arns=[world["organization"]["arn"]]) == result
    )  # check mode changes nothing


def test_calls_are_batched_and_each_key_read_once(audit, make_image, new_key, shared, world, emulator):
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    key = new_key()
    image_ids = [make_image(kms_key_id=key) for _index in range(6)]
    for image_id in image_ids:
        shared(image_id, prod)
    emulator.reset_calls()
    result = audit(organization_tree="skip")
    calls = emulator.calls()
    assert calls["ec2"] == {"DescribeImages": 1, "DescribeImageAttribute": 6, "DescribeSnapshots": 1}
    assert calls["kms"] == {"DescribeKey": 1, "GetKeyPolicy": 1}
    assert calls["organizations"] == {"DescribeOrganization": 1}
    (finding,) = result["findings"]  # one finding for the six images: the key does not let the OU in
    assert finding["code"] == "key_denies_share" and sorted(finding["image_ids"]) == sorted(image_ids)


def test_findings_of_one_estate(audit, make_image, new_key, shared, world, emulator):
    units = world["organizational_units"]
    key = new_key()
    public = make_image(suffix="public")
    shared(public, group=True)
    aws_managed = make_image(encrypted=True, suffix="aws-ebs")  # under the region's aws/ebs key
    outside = make_image(kms_key_id=key, suffix="outside")
    shared(outside, units["Root/Sandbox/Prod"]["arn"])
    result = audit(trusted_organizational_unit_arns=[units["Root/Workloads"]["arn"]])
    assert codes(result) == [
        "aws_managed_key",
        "key_denies_share",
        "public_image",
        "share_outside_trust",
        "share_outside_trust",
    ]
    trust = [finding for finding in result["findings"] if finding["code"] == "share_outside_trust"]
    assert {finding["principal"] for finding in trust} == {"all", units["Root/Sandbox/Prod"]["arn"]}
    assert next(f for f in result["findings"] if f["code"] == "aws_managed_key")["image_ids"] == [aws_managed]
    assert result["findings"][0]["code"] == "public_image"  # most severe first


def test_a_member_account_cannot_read_the_tree_and_is_told_what_it_loses(audit, make_image, world, emulator):
    member = world["member_account"]
    ec2 = emulator.client("ec2", account_id=member["id"])
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    name = f"member-audit-{uuid.uuid4().hex[:8]}"
    image_id = create_image(ec2, name)["image_id"]
    dev = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": dev}]})
    result = audit(account_id=member["id"], name_patterns=[name])
    (warning,) = result["warnings"]
    assert "organizations:ListRoots" in warning and "OU names and full paths are unknown" in warning
    assert result["organization"]["tree_read"] is False and result["images"][0]["shares"][0]["name_path"] is None
    assert result["findings"] == []  # unencrypted: nothing to refuse
    with pytest.raises(OrgShareError, match="organization_tree is required"):
        audit(account_id=member["id"], name_patterns=[name], organization_tree="required")


def test_accounts_each_share_reaches_each_listing_once(audit, make_image, shared, world, emulator):
    units = world["organizational_units"]
    first, second = make_image(), make_image()
    shared(first, units["Root/Workloads"]["arn"])
    shared(second, units["Root/Workloads"]["arn"], units["Root/Workloads/Prod"]["arn"])
    emulator.reset_calls()
    result = audit(list_accounts=True)
    by_image = {entry["image_id"]: entry for entry in result["images"]}
    workloads = by_image[first]["shares"][0]["accounts"]
    assert {account["id"] for account in workloads} == {world["member_account"]["id"], world["dev_account"]["id"]}
    assert all(account["can_launch"] for account in workloads)
    prod = next(share for share in by_image[second]["shares"] if share["name_path"] == "Root/Workloads/Prod")
    assert [account["id"] for account in prod["accounts"]] == [world["member_account"]["id"]]
    listed = emulator.calls()["organizations"]
    assert listed["ListAccountsForParent"] == 4  # Workloads, Prod, Dev, Payments: once each, for the three shares
    assert listed["DescribeOrganizationalUnit"] <= 2 and listed["ListParents"] <= 2


def test_a_copy_not_shared_like_its_source(audit, make_image, new_key, shared, grant, world, prefix):
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    source = make_image(suffix="source")
    shared(source, prod)
    copy = make_image(
        region="eu-west-1",
        suffix="copy",
        tags={"orgshare:source-image-id": source, "orgshare:source-region": "us-east-1"},
    )
    result = audit(regions=["us-east-1", "eu-west-1"])
    (finding,) = result["findings"]
    assert finding["code"] == "region_drift" and finding["region"] == "eu-west-1" and finding["image_ids"] == [copy]
    assert finding["task"]["args"] == {
        "region": "eu-west-1",
        "image_ids": [copy],
        "organization_arns": [],
        "organizational_unit_arns": [prod],
        "purge": True,
    }


def test_stale_grants_are_judged_in_a_region_audited_whole(stand_in, new_key, grant, world, emulator):
    region = "ap-northeast-3"  # no other test has images there
    units = world["organizational_units"]
    key = new_key(region)
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    image_id = create_image(
        emulator.client("ec2", region=region), f"stale-{uuid.uuid4().hex[:6]}", encrypted=True, kms_key_id=key
    )["image_id"]
    security = [{"OrganizationalUnitArn": units["Root/Security"]["arn"]}]
    emulator.client("ec2", region=region).modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": security})
    grant(key, region=region, organizational_unit_arns=[units["Root/Security"]["arn"], units["Root/Sandbox"]["arn"]])
    result = ami_share_info.ensure(stand_in(DEFAULTS, regions=[region]))
    (finding,) = result["findings"]
    assert finding["code"] == "stale_key_grant" and units["Root/Sandbox"]["id"] in finding["cause"]
    assert finding["task"]["args"]["state"] == "absent"
    (entry,) = [entry for entry in result["kms_keys"] if entry["key_arn"] == key]
    assert entry["stale"]["principal_org_paths"] == [f"{world['organization']['id']}/*/{units['Root/Sandbox']['id']}/*"]


@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(regions=["us-nowhere-7", "mars-1"]), "'mars-1'"),
        (dict(regions=[]), "regions is empty"),
        (dict(filters={"colour": "blue"}), "'colour', which is not a DescribeImages filter"),
        (dict(filters={"owner-id": "123456789012"}), "takes no owner filter"),
        (dict(filters={"name": []}), "a filter takes a non-empty string"),
        (dict(name_patterns=["bad|name"]), "not an AMI name pattern"),
        (dict(image_ids=["ami-12"]), "Malformed AMI ID"),
        (dict(trusted_organizational_unit_arns=["ou-ab12-cd34ef56"]), "bare"),
        (dict(max_concurrency=0), "max_concurrency"),
    ],
)
def test_bad_input_fails_before_any_call(stand_in, params, fragment):
    with pytest.raises(OrgShareError) as err:
        ami_share_info.ensure(stand_in(DEFAULTS, allow_calls=False, **params))
    assert fragment in err.value.message


# --- the consumer's side ---------------------------------------------------------------------------------------------------------

# Allowed AMIs came to the EC2 API (and botocore's model) in December 2024, after the collection's botocore
# floor (1.35.0): with an older botocore the consumer's check says it could not read them (tested below and
# here), and the tests that configure them need a botocore that can.
HAS_ALLOWED_AMIS = "GetAllowedImagesSettings" in botocore.session.get_session().get_service_model("ec2").operation_names
NO_ALLOWED_AMIS_WARNING = [
    "Allowed AMIs were not checked in us-east-1: the installed botocore has no GetAllowedImagesSettings (Allowed AMIs came in"
    " December 2024; upgrade boto3 and botocore to a release from then or later)."
]


@pytest.fixture
def member(world):
    return world["member_account"]["id"]


@pytest.fixture
def allowed_images(emulator, member):
    """Set the member's Allowed AMIs in us-east-1 for one test (and turn them off again)."""
    ec2 = emulator.client("ec2", account_id=member)

    def configure(state, providers):
        ec2.enable_allowed_images_settings(AllowedImagesSettingsState=state)
        ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": providers}])

    yield configure
    ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[])
    ec2.disable_allowed_images_settings()


def test_a_member_can_launch_what_was_shared_with_its_ou(
    audit, make_image, new_key, shared, grant, world, member, emulator
):
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    key = new_key()
    image_id = make_image(kms_key_id=key)
    shared(image_id, prod)
    grant(key, organizational_unit_arns=[prod])
    emulator.reset_calls()
    result = audit(
        perspective="consumer", account_id=member, image_ids=[image_id], kms_key_arns=[key], name_patterns=None
    )
    assert result["findings"] == [] and result["warnings"] == ([] if HAS_ALLOWED_AMIS else NO_ALLOWED_AMIS_WARNING)
    (entry,) = result["images"]
    assert entry["visible"] and entry["can_launch"] is True and entry["kms_keys"][0]["describe_key"] is True
    if HAS_ALLOWED_AMIS:
        assert result["allowed_images"] == {
            "us-east-1": {"State": "disabled", "ImageCriteria": [], "ManagedBy": "account"}
        }
    assert emulator.calls()["kms"] == {"DescribeKey": 1} and writes(emulator.calls) == {}


def test_the_consumer_is_told_who_must_fix_what(audit, make_image, new_key, shared, world, member, prefix):
    dev = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    key = new_key()
    ungranted = make_image(kms_key_id=key, suffix="ungranted")
    shared(ungranted, prod)
    unshared = make_image(suffix="unshared")
    shared(unshared, dev)
    unknown = make_image(kms_key_id=new_key(), suffix="unknown-key")
    shared(unknown, prod)
    result = audit(
        perspective="consumer",
        account_id=member,
        image_ids=[ungranted, unshared, unknown],
        kms_key_arns=[key],
        name_patterns=None,
    )
    by_code = {finding["code"]: finding for finding in result["findings"]}
    assert set(by_code) == {"key_denies_account", "not_visible"}
    assert by_code["key_denies_account"]["who"] == f"account {world['account_id']}"
    assert by_code["key_denies_account"]["image_ids"] == [ungranted, unknown]  # the one key given is judged for both
    assert by_code["not_visible"]["image_ids"] == [unshared] and by_code["not_visible"]["who"] == "owner"
    assert [entry["can_launch"] for entry in result["images"]] == [False, False, False]
    without_keys = audit(perspective="consumer", account_id=member, image_ids=[unknown], name_patterns=None)
    assert [finding["code"] for finding in without_keys["findings"]] == ["key_unknown"] and without_keys["images"][0][
        "can_launch"
    ] is None


def test_the_consumers_allowed_amis(audit, make_image, shared, world, member, request):
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    image_id = make_image()
    shared(image_id, prod)
    if not HAS_ALLOWED_AMIS:
        # A botocore that cannot read Allowed AMIs cannot configure them either: the check says it was not made,
        # judges the rest, and blames nothing on a setting it could not read.
        result = audit(perspective="consumer", account_id=member, image_ids=[image_id], name_patterns=None)
        assert result["warnings"] == NO_ALLOWED_AMIS_WARNING and result["findings"] == []
        assert result["images"][0]["image_allowed"] is None and result["images"][0]["can_launch"] is True
        return
    allowed_images = request.getfixturevalue("allowed_images")
    allowed_images("audit-mode", ["amazon"])
    result = audit(perspective="consumer", account_id=member, image_ids=[image_id], name_patterns=None)
    (finding,) = result["findings"]
    assert finding["code"] == "allowed_amis_blocks" and finding["severity"] == "low" and finding["who"] == "consumer"
    assert world["account_id"] in finding["fix"] and result["images"][0]["image_allowed"] is False
    allowed_images("enabled", ["amazon"])
    result = audit(perspective="consumer", account_id=member, image_ids=[image_id], name_patterns=None)
    (finding,) = result["findings"]
    assert (
        finding["code"] == "not_visible"
        and finding["who"] == "owner or consumer"
        and "Allowed AMIs" in finding["cause"]
    )
    allowed_images("enabled", ["amazon", world["account_id"]])
    assert audit(perspective="consumer", account_id=member, image_ids=[image_id], name_patterns=None)["findings"] == []


def test_a_consumer_lists_what_is_shared_with_it(audit, make_image, shared, world, member, prefix):
    prod = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    image_ids = sorted(make_image() for _index in range(2))
    for image_id in image_ids:
        shared(image_id, prod)
    make_image()  # not shared: not listed
    result = audit(perspective="consumer", account_id=member)
    assert sorted(entry["image_id"] for entry in result["images"]) == image_ids and result["findings"] == []


def test_a_botocore_without_allowed_amis_degrades_with_a_clear_warning():
    from ansible_collections.orgshare.aws.plugins.module_utils import _estate  # pylint: disable=import-outside-toplevel

    warnings = []
    reader = _estate.ConsumerReader(lambda service, region: object(), warnings.append, 1)
    assert reader.allowed_images("us-east-1") is None
    (warning,) = warnings
    assert "GetAllowedImagesSettings" in warning and "upgrade boto3 and botocore" in warning


def test_tags_cannot_select_images_shared_with_a_consumer(stand_in):
    with pytest.raises(OrgShareError, match="tags are never shared"):
        ami_share_info.ensure(stand_in(DEFAULTS, allow_calls=False, perspective="consumer", tags={"team": "a"}))


def test_keys_read_earlier_in_the_run_are_not_described_again(
    audit, make_image, new_key, shared, grant, world, emulator, calls
):
    """The owner's audit takes key metadata another task read (known_kms_keys): GetKeyPolicy still, DescribeKey not."""
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    key = new_key()
    shared(make_image(kms_key_id=key), prod["arn"])
    grant(key, organizational_unit_arns=[prod["arn"]])
    metadata = emulator.client("kms").describe_key(KeyId=key)["KeyMetadata"]
    known = {
        "arn": key,
        "key_id": metadata["KeyId"],
        "aws_account_id": metadata["AWSAccountId"],
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
    }
    emulator.reset_calls()
    result = audit(known_kms_keys=[known])
    assert result["findings"] == []
    assert calls()["kms"] == {"GetKeyPolicy": 1}


def test_a_consumer_describes_every_key_itself(stand_in):
    known = {
        "arn": "arn:aws:kms:us-east-1:111122223333:key/k",
        "key_id": "k",
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
    }
    with pytest.raises(OrgShareError, match="known_kms_keys is for perspective=owner"):
        ami_share_info.ensure(stand_in(DEFAULTS, allow_calls=False, perspective="consumer", known_kms_keys=[known]))
