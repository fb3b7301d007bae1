# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The consumer's side of the audit, as pure decisions: what it can see, its keys, its Allowed AMIs, and who must act."""

from ansible_collections.orgshare.aws.plugins.module_utils._launch_check import ConsumerView
from ansible_collections.orgshare.aws.plugins.module_utils._launch_check import KeyAnswer
from ansible_collections.orgshare.aws.plugins.module_utils._launch_check import check_launch

OWNER = "111122223333"
KEY_A = f"arn:aws:kms:us-east-1:{OWNER}:key/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
KEY_B = f"arn:aws:kms:us-east-1:{OWNER}:key/bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"


def image(image_id, encrypted=True, **more):
    found = dict(
        ImageId=image_id,
        OwnerId=OWNER,
        State="available",
        Name="golden",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-1", "Encrypted": encrypted}}],
    )
    found.update(more)
    return found


def view(images, requested=None, keys=None, allowed=None, image_keys=None):
    return ConsumerView(
        "210987654321",
        "o-a1b2c3d4e5",
        "aws",
        requested,
        images,
        keys or {},
        allowed or {},
        "2026-06-01T00:00:00Z",
        image_keys or {},
    )


def codes(result):
    return sorted((finding["code"], finding["who"]) for finding in result["findings"])


def test_what_it_can_launch_has_no_finding():
    keys = {KEY_A: KeyAnswer(KEY_A, {"KeyState": "Enabled"}, None, False)}
    result = check_launch(view({"us-east-1": [image("ami-1")]}, keys=keys))
    assert result["findings"] == [] and result["images"][0]["can_launch"] is True


def test_an_image_missing_from_every_region_is_one_finding_for_the_owner():
    result = check_launch(view({"us-east-1": [], "eu-west-1": []}, requested=["ami-1"]))
    (finding,) = result["findings"]
    assert (
        finding["code"] == "not_visible"
        and finding["who"] == "owner"
        and "any of us-east-1, eu-west-1" in finding["cause"]
    )
    assert len(result["images"]) == 1


def test_allowed_amis_enabled_makes_the_consumer_a_suspect_too():
    allowed = {"us-east-1": {"State": "enabled", "ImageCriteria": [{"ImageProviders": ["amazon"]}]}}
    (finding,) = check_launch(view({"us-east-1": []}, requested=["ami-1"], allowed=allowed))["findings"]
    assert finding["who"] == "owner or consumer" and "amazon" in finding["cause"]


def test_each_image_is_judged_by_its_own_keys_when_given():
    keys = {
        KEY_A: KeyAnswer(KEY_A, {"KeyState": "Enabled"}, None, False),
        KEY_B: KeyAnswer(
            KEY_B, None, "AccessDeniedException: no resource-based policy allows the kms:DescribeKey action", False
        ),
    }
    result = check_launch(
        view(
            {"us-east-1": [image("ami-1"), image("ami-2")]}, keys=keys, image_keys={"ami-1": [KEY_A], "ami-2": [KEY_B]}
        )
    )
    assert [entry["can_launch"] for entry in result["images"]] == [True, False]
    (finding,) = result["findings"]
    assert (
        finding["code"] == "key_denies_account"
        and finding["image_ids"] == ["ami-2"]
        and finding["who"] == f"account {OWNER}"
    )


def test_a_denial_by_the_consumers_own_iam_is_the_consumers_to_fix():
    keys = {
        KEY_A: KeyAnswer(
            KEY_A, None, "AccessDeniedException: no identity-based policy allows the kms:DescribeKey action", True
        )
    }
    assert codes(check_launch(view({"us-east-1": [image("ami-1")]}, keys=keys))) == [("key_denied_by_iam", "consumer")]


def test_unknown_keys_disabled_keys_unavailable_and_deprecated_images():
    keys = {KEY_A: KeyAnswer(KEY_A, {"KeyState": "PendingDeletion"}, None, False)}
    result = check_launch(
        view(
            {
                "us-east-1": [
                    image("ami-1"),
                    image("ami-2", State="disabled", encrypted=False),
                    image("ami-3", encrypted=False, DeprecationTime="2026-01-01T00:00:00.000Z"),
                ]
            },
            keys=keys,
        )
    )
    assert codes(result) == [
        ("deprecated_image", "owner"),
        ("image_unavailable", "owner"),
        ("unusable_key", f"account {OWNER}"),
    ]
    assert [entry["can_launch"] for entry in result["images"]] == [False, False, True]
    unknown = check_launch(view({"us-east-1": [image("ami-1")]}))
    assert codes(unknown) == [("key_unknown", "consumer")] and unknown["images"][0]["can_launch"] is None


def test_allowed_amis_audit_mode_warns_and_blocks_nothing():
    allowed = {"us-east-1": {"State": "audit-mode", "ImageCriteria": [{"ImageProviders": ["amazon"]}]}}
    result = check_launch(view({"us-east-1": [image("ami-1", encrypted=False, ImageAllowed=False)]}, allowed=allowed))
    (finding,) = result["findings"]
    assert (finding["code"], finding["severity"], finding["who"]) == ("allowed_amis_blocks", "low", "consumer")
    assert OWNER in finding["fix"] and result["images"][0]["can_launch"] is True
