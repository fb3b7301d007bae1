# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ami_org_share against the emulator: four runs, purge, absent, validation, rollback, batch call counts.

Launch permissions are read back with boto3 directly, independently of the module.
"""

import uuid

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import ami_org_share

from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

DEFAULTS = defaults_of(ami_org_share)
ORG_ARN = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OU_ARN = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"


@pytest.fixture
def ec2(emulator):
    return emulator.client("ec2", region="us-east-1")


@pytest.fixture
def new_image(ec2, world):  # pylint: disable=unused-argument
    """Register a fresh AMI (each test gets images nobody else touches)."""
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def make(encrypted=False, kms_key_id=None, snapshots=1):
        return create_image(
            ec2,
            f"ami-org-share-test-{uuid.uuid4().hex[:12]}",
            encrypted=encrypted,
            kms_key_id=kms_key_id,
            snapshots=snapshots,
        )["image_id"]

    return make


@pytest.fixture
def share(runner_of):
    """Run the module's logic and return its result."""
    return runner_of(ami_org_share)


@pytest.fixture
def refused(share, refusal_of):
    return refusal_of(share)


def launch_permissions(ec2, image_id):
    """The image's launch permissions, read back with boto3, order-free."""
    entries = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    return sorted(tuple(sorted(entry.items())) for entry in entries)


def ec2_calls(calls):
    return calls().get("ec2", {})


def test_four_runs(share, new_image, ec2, world, calls):
    image_id = new_image()
    ou = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    org = world["organization"]["arn"]
    args = dict(image_ids=[image_id], organizational_unit_arns=[ou], organization_arns=[org], diff=True)

    checked = share(check_mode=True, **args)
    assert checked["changed"]
    assert "ModifyImageAttribute" not in ec2_calls(calls)
    assert launch_permissions(ec2, image_id) == []

    real = share(**args)
    assert real["changed"]
    assert real == checked  # check mode predicted the real result exactly
    assert launch_permissions(ec2, image_id) == sorted([(("OrganizationArn", org),), (("OrganizationalUnitArn", ou),)])
    (entry,) = real["images"]
    assert entry["added"] == {"organization_arns": [org], "organizational_unit_arns": [ou]}
    assert entry["organization_arns"] == [org] and entry["organizational_unit_arns"] == [ou]
    assert real["diff"]["before"][image_id] == {"organization_arns": [], "organizational_unit_arns": []}
    assert real["diff"]["after"][image_id] == {"organization_arns": [org], "organizational_unit_arns": [ou]}

    calls_before = ec2_calls(calls).get("ModifyImageAttribute", 0)
    again_checked = share(check_mode=True, **args)
    again = share(**args)
    assert not again_checked["changed"] and not again["changed"]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert ec2_calls(calls).get("ModifyImageAttribute", 0) == calls_before == 1


def test_purge_keeps_account_and_public_permissions(share, new_image, ec2, world):
    image_id = new_image()
    ous = world["organizational_units"]
    ec2.modify_image_attribute(
        ImageId=image_id,
        LaunchPermission={
            "Add": [
                {"UserId": "999988887777"},
                {"Group": "all"},
                {"OrganizationalUnitArn": ous["Root/Security"]["arn"]},
            ]
        },
    )
    result = share(image_ids=[image_id], organizational_unit_arns=[ous["Root/Workloads/Dev"]["arn"]], purge=True)
    assert result["images"][0]["removed"]["organizational_unit_arns"] == [ous["Root/Security"]["arn"]]
    assert launch_permissions(ec2, image_id) == sorted(
        [
            (("UserId", "999988887777"),),
            (("Group", "all"),),
            (("OrganizationalUnitArn", ous["Root/Workloads/Dev"]["arn"]),),
        ]
    )


def test_absent_removes_only_the_listed(share, new_image, ec2, world):
    image_id = new_image()
    ous = world["organizational_units"]
    keep, drop = ous["Root/Security"]["arn"], ous["Root/Workloads/Dev"]["arn"]
    added = [{"OrganizationalUnitArn": keep}, {"OrganizationalUnitArn": drop}, {"UserId": "999988887777"}]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": added})
    result = share(image_ids=[image_id], organizational_unit_arns=[drop], state="absent")
    assert result["changed"]
    assert launch_permissions(ec2, image_id) == sorted(
        [(("OrganizationalUnitArn", keep),), (("UserId", "999988887777"),)]
    )
    again = share(image_ids=[image_id], organizational_unit_arns=[drop], state="absent")
    assert not again["changed"]


def test_customer_key_is_reported_and_aws_managed_key_refused(share, refused, world, ec2):
    images = world["images"]
    ou = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    both = [images["encrypted_cmk"]["image_id"], images["plain"]["image_id"]]
    result = share(image_ids=both, organizational_unit_arns=[ou], check_mode=True)
    cmk = world["keys"]["us-east-1"]["key_arn"]
    assert result["images"][0]["encrypted"] and result["images"][0]["kms_key_arns"] == [cmk]
    assert not result["images"][1]["encrypted"] and result["images"][1]["kms_key_arns"] == []
    assert result["kms_key_arns"] == [cmk]

    aws_managed = images["encrypted_aws_managed"]
    message = refused(image_ids=[aws_managed["image_id"]], organizational_unit_arns=[ou])
    assert aws_managed["image_id"] in message and aws_managed["snapshot_ids"][0] in message
    assert world["special_keys"]["us-east-1"]["aws_managed"]["key_arn"] in message
    assert "AWS-managed" in message and "ami_region_copy" in message
    assert launch_permissions(ec2, aws_managed["image_id"]) == []


def test_disabled_and_pending_deletion_keys_are_refused(share, refused, new_image, world):
    special = world["special_keys"]["us-east-1"]
    ou = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    for which, state in (("disabled", "Disabled"), ("pending_deletion", "PendingDeletion")):
        image_id = new_image(encrypted=True, kms_key_id=special[which]["key_arn"])
        message = refused(image_ids=[image_id], organizational_unit_arns=[ou])
        assert f"which is {state}" in message and image_id in message
        # Removing a share is still allowed: the key only matters to consumers.
        result = share(image_ids=[image_id], organizational_unit_arns=[ou], state="absent")
        assert not result["changed"]


def test_one_bad_image_means_no_image_changes(refused, new_image, ec2, world):
    good = [new_image(), new_image()]
    outsider = world["images"]["outsider"]["image_id"]
    missing = "ami-0000000000000dead"
    ou = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    message = refused(image_ids=good + [outsider, missing], organizational_unit_arns=[ou])
    assert f"{outsider} in us-east-1 is owned by account {world['outsider_account']['id']}" in message
    assert f"{missing} does not exist in us-east-1" in message
    assert message.startswith("Nothing was changed.")
    assert all(launch_permissions(ec2, image_id) == [] for image_id in good)


def test_a_disabled_image_is_found_and_refused_with_the_fix(refused, new_image, ec2, world, calls):
    # DescribeImages leaves disabled AMIs out unless IncludeDisabled: it is not "missing".
    image_id = new_image()
    ec2.disable_image(ImageId=image_id)
    message = refused(
        image_ids=[image_id], organizational_unit_arns=[world["organizational_units"]["Root/Security"]["arn"]]
    )
    assert f"{image_id} in us-east-1 is disabled" in message and "does not exist" not in message
    assert "EnableImage" in message and "removed all its launch permissions" in message
    assert "ModifyImageAttribute" not in calls().get("ec2", {})


def test_image_in_another_region_is_not_found_here(refused, world):
    image_id = world["images"]["plain"]["image_id"]
    message = refused(
        image_ids=[image_id],
        organizational_unit_arns=[world["organizational_units"]["Root/Security"]["arn"]],
        region="eu-west-1",
    )
    assert f"{image_id} does not exist in eu-west-1" in message


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(image_ids=["ami-0123456789abcdef0"], organizational_unit_arns=["ou-ab12-cd34ef56"]), "bare OU ID"),
        (dict(image_ids=["ami-0123456789abcdef0"], organization_arns=["o-a1b2c3d4e5"]), "bare organization ID"),
        (
            dict(
                image_ids=["ami-0123456789abcdef0"],
                organization_arns=["arn:aws:organizations::12345:organization/o-a1b2c3d4e5"],
            ),
            "'12345'",
        ),
        (dict(image_ids=["ami-12"], organization_arns=[]), "'ami-12'"),
        (
            dict(
                image_ids=["ami-0123456789abcdef0"],
                organization_arns=["arn:aws-cn:organizations::111122223333:organization/o-a1b2c3d4e5"],
            ),
            "is in partition aws-cn, but region us-east-1 is in partition aws",
        ),
        (dict(image_ids=[]), "image_ids is empty"),
        (
            dict(image_ids=["ami-0123456789abcdef0"], organization_arns=[ORG_ARN], max_concurrency=0),
            "max_concurrency must be at least 1",
        ),
        (dict(image_ids=["ami-0123456789abcdef0"]), "No organization or OU was given"),
        # ansible-core hands a module "" for a null entry of a list of strings (2.19 and later; older ones refuse it).
        (
            dict(image_ids=["ami-0123456789abcdef0"], organization_arns=[""]),
            "An empty string was given for the organization ARN: entry 1 of organization_arns is empty or null; remove it, or give",
        ),
        (
            dict(
                image_ids=["ami-0123456789abcdef0"], organization_arns=[ORG_ARN], organizational_unit_arns=[OU_ARN, ""]
            ),
            "entry 2 of organizational_unit_arns is empty or null; remove it, or give the OU ARN",
        ),
        (
            dict(image_ids=["ami-0123456789abcdef0"], organizational_unit_arns=[OU_ARN.upper()]),
            f"{OU_ARN.upper()!r} has capital letters, but IDs and ARNs are lowercase in AWS Organizations: give {OU_ARN!r}.",
        ),
        (
            dict(image_ids=["ami-0123456789abcdef0"], organization_arns=[ORG_ARN.upper()]),
            f"lowercase in AWS Organizations: give {ORG_ARN!r}.",
        ),
        (
            dict(image_ids=["ami-0123456789abcdef0"], organization_arns=["O-A1B2C3D4E5"]),
            "even in lowercase it is not usable: 'o-a1b2c3d4e5' is a bare organization ID",
        ),
    ],
)
def test_bad_input_is_refused_before_any_call(refused, calls, args, fragment):
    assert fragment in refused(allow_calls=False, **args)
    assert calls() == {}


def test_many_images_in_one_task(share, new_image, ec2, world, calls, emulator):
    cmk = world["keys"]["us-east-1"]["key_arn"]
    image_ids = [
        new_image(encrypted=(index % 2 == 0), kms_key_id=cmk if index % 2 == 0 else None) for index in range(50)
    ]
    ou = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    emulator.reset_calls()

    result = share(image_ids=image_ids, organizational_unit_arns=[ou], max_concurrency=8)
    assert [entry["image_id"] for entry in result["images"]] == image_ids
    assert all(entry["changed"] for entry in result["images"])
    assert result["kms_key_arns"] == [cmk]
    counted = ec2_calls(calls)
    assert counted == {
        "DescribeImages": 1,
        "DescribeSnapshots": 1,
        "DescribeImageAttribute": 50,
        "ModifyImageAttribute": 50,
    }
    assert calls()["kms"] == {"DescribeKey": 1}
    assert all(launch_permissions(ec2, image_id) == [(("OrganizationalUnitArn", ou),)] for image_id in image_ids)

    emulator.reset_calls()
    again = share(image_ids=image_ids, organizational_unit_arns=[ou], max_concurrency=8)
    assert not again["changed"]
    assert ec2_calls(calls) == {"DescribeImages": 1, "DescribeSnapshots": 1, "DescribeImageAttribute": 50}


def test_throttling_is_retried(share, new_image, ec2, world, emulator):
    image_ids = [new_image() for _index in range(5)]
    ou = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    emulator.set_faults(rate=0.4, error="throttle", services=["ec2"], seed=3)
    try:
        result = share(image_ids=image_ids, organizational_unit_arns=[ou])
    finally:
        emulator.clear_faults()
    assert all(entry["changed"] for entry in result["images"])
    assert sum(emulator.faults_injected().get("ec2", {}).values()) > 0
    assert all(launch_permissions(ec2, image_id) == [(("OrganizationalUnitArn", ou),)] for image_id in image_ids)


def test_failed_write_rolls_back_the_images_already_changed(refused, new_image, ec2, world, emulator):
    image_ids = [new_image() for _index in range(3)]
    ou = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    # The second ModifyImageAttribute fails with an error that is not retried.
    emulator.set_faults(
        rate=1.0, error="UnauthorizedOperation", services=["ec2"], actions=["ModifyImageAttribute"], skip=1, limit=1
    )
    try:
        message = refused(image_ids=image_ids, organizational_unit_arns=[ou], max_concurrency=1)
    finally:
        emulator.clear_faults()
    assert message.startswith(
        f"Changing the launch permissions of {image_ids[1]} in us-east-1 failed with UnauthorizedOperation"
    )
    assert message.endswith("The 2 image(s) already changed were restored, so no image was left changed.")
    assert all(launch_permissions(ec2, image_id) == [] for image_id in image_ids)


def test_aws_managed_key_refused_by_ec2_leads_with_the_cause_then_the_fix(refused, new_image, ec2, world, calls):
    """check_encryption=false skips the up-front check, so EC2 refuses the write: the message says why, then what to do."""
    plain = new_image()
    aws_managed = world["images"]["encrypted_aws_managed"]["image_id"]
    ou = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    message = refused(
        image_ids=[plain, aws_managed], organizational_unit_arns=[ou], check_encryption=False, max_concurrency=1
    )
    cause = (
        "Changing the launch permissions of " + aws_managed + " in us-east-1 failed with InvalidParameter: "
        "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot."
    )
    assert message.startswith(cause)
    fix = message.index("orgshare.aws.ami_region_copy")
    assert message.index("check_encryption: true") > fix
    assert message.endswith("The 1 image(s) already changed were restored, so no image was left changed.")
    assert ec2_calls(calls)["ModifyImageAttribute"] == 3  # the plain image, the refused one, the plain one put back
    assert launch_permissions(ec2, plain) == [] and launch_permissions(ec2, aws_managed) == []


def test_a_refusal_that_is_not_about_keys_gets_no_key_advice(refused, new_image, world, emulator):
    image_id = new_image()
    ou = world["organizational_units"]["Root/Workloads/Dev"]["arn"]
    emulator.set_faults(rate=1.0, error="UnauthorizedOperation", services=["ec2"], actions=["ModifyImageAttribute"])
    try:
        message = refused(image_ids=[image_id], organizational_unit_arns=[ou], check_encryption=False)
    finally:
        emulator.clear_faults()
    assert message.startswith(
        f"Changing the launch permissions of {image_id} in us-east-1 failed with UnauthorizedOperation"
    )
    assert "it needs ec2:ModifyImageAttribute" in message
    assert "ami_region_copy" not in message and "check_encryption" not in message
    assert message.endswith("The 0 image(s) already changed were restored, so no image was left changed.")


def test_purge_with_absent_warns_and_removes_only_the_listed(stand_in, new_image, ec2, world):
    image_id = new_image()
    ous = world["organizational_units"]
    keep, drop = ous["Root/Security"]["arn"], ous["Root/Workloads/Dev"]["arn"]
    ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": keep}, {"OrganizationalUnitArn": drop}]}
    )
    module = stand_in(DEFAULTS, image_ids=[image_id], organizational_unit_arns=[drop], state="absent", purge=True)
    result = ami_org_share.ensure(module)
    assert result["images"][0]["removed"] == {"organization_arns": [], "organizational_unit_arns": [drop]}
    assert launch_permissions(ec2, image_id) == [(("OrganizationalUnitArn", keep),)]
    assert module.warnings == ["purge only applies with state=present; it is ignored with state=absent."]


def test_plain_images_need_no_snapshot_or_key_lookup(share, new_image, calls, emulator):
    image_ids = [new_image(), new_image()]
    emulator.reset_calls()  # making the images described their snapshots
    result = share(image_ids=image_ids, organization_arns=[ORG_ARN], check_mode=True)
    assert result["kms_key_arns"] == []
    assert "DescribeSnapshots" not in ec2_calls(calls) and "kms" not in calls()


def test_check_encryption_off_skips_snapshots_and_keys(share, world, calls):
    image_id = world["images"]["encrypted_cmk"]["image_id"]
    result = share(
        image_ids=[image_id],
        organizational_unit_arns=[world["organizational_units"]["Root/Security"]["arn"]],
        check_encryption=False,
        check_mode=True,
    )
    assert (
        result["images"][0]["encrypted"] and result["images"][0]["kms_key_arns"] == [] and result["kms_key_arns"] == []
    )
    assert "DescribeSnapshots" not in ec2_calls(calls) and "kms" not in calls()


def share_with_accounts(ec2, image_id, count, batch=250):
    """Share the image with ``count`` accounts, in batches of the flat form (UserIds takes many)."""
    accounts = [f"{200000000000 + number}" for number in range(count)]
    for start in range(0, count, batch):
        ec2.modify_image_attribute(
            ImageId=image_id, Attribute="launchPermission", OperationType="add", UserIds=accounts[start : start + batch]
        )


@pytest.mark.parametrize("check_mode", [True, False])
def test_going_over_the_sharing_quota_is_refused_before_any_write(refused, new_image, ec2, world, emulator, check_mode):
    crowded, plain = new_image(), new_image()
    share_with_accounts(ec2, crowded, 999)
    before = launch_permissions(ec2, crowded)
    ous = [
        world["organizational_units"]["Root/Security"]["arn"],
        world["organizational_units"]["Root/Workloads/Dev"]["arn"],
    ]
    emulator.reset_calls()
    message = refused(image_ids=[plain, crowded], organizational_unit_arns=ous, check_mode=check_mode)
    assert message.startswith("Nothing was changed.")
    assert (
        f"{crowded} in us-east-1 would be shared with 1001 accounts, organizations and OUs (now 999 → after 1001"
        in message
    )
    assert "quota of 1000" in message and "parent OU or the organization" in message and "sharing_quota" in message
    assert plain not in message
    assert "ModifyImageAttribute" not in emulator.calls().get("ec2", {})
    assert launch_permissions(ec2, crowded) == before and launch_permissions(ec2, plain) == []


def test_up_to_the_sharing_quota_is_shared_and_a_raised_quota_is_honoured(share, new_image, ec2, world):
    image_id = new_image()
    share_with_accounts(ec2, image_id, 998)
    ous = world["organizational_units"]
    result = share(
        image_ids=[image_id], organizational_unit_arns=[ous["Root/Security"]["arn"], ous["Root/Workloads/Dev"]["arn"]]
    )
    assert result["changed"] and len(launch_permissions(ec2, image_id)) == 1000
    # One more OU is over the default quota; with the quota the account has (as if raised), it is planned.
    more = [ous["Root/Security"]["arn"], ous["Root/Workloads/Dev"]["arn"], ous["Root/Workloads/Prod"]["arn"]]
    with pytest.raises(OrgShareError):
        share(image_ids=[image_id], organizational_unit_arns=more, check_mode=True)
    assert share(image_ids=[image_id], organizational_unit_arns=more, check_mode=True, sharing_quota=1500)["changed"]


def test_a_sharing_quota_below_one_is_refused_before_any_call(refused, world):
    ou = world["organizational_units"]["Root/Security"]["arn"]
    message = refused(image_ids=["ami-12345678"], organizational_unit_arns=[ou], sharing_quota=0, allow_calls=False)
    assert "sharing_quota must be at least 1, not 0" in message


def test_keys_are_returned_for_the_next_task_and_taken_from_the_last(share, new_image, world, emulator, calls):
    key_arn = world["keys"]["us-east-1"]["key_arn"]
    images = [new_image(encrypted=True, kms_key_id=key_arn) for _index in range(2)]
    emulator.reset_calls()
    checked = share(image_ids=images, organizational_unit_arns=[OU_ARN], check_mode=True)
    assert [key["arn"] for key in checked["kms_keys"]] == [key_arn]
    assert calls()["kms"] == {"DescribeKey": 1}  # one key under both images: described once
    emulator.reset_calls()
    shared = share(image_ids=images, organizational_unit_arns=[OU_ARN], known_kms_keys=checked["kms_keys"])
    assert shared["changed"] and shared["kms_key_arns"] == [key_arn] and shared["kms_keys"] == checked["kms_keys"]
    assert "kms" not in calls()
