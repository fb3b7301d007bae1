"""Allowed AMIs and AMI deprecation, in-process, as the EC2 user guide and API reference describe them.

patches/allowed_images.py and patches/deprecation.py cite the pages. Each test fails on unpatched moto 5.2.5, which
has none of these actions, never sets ImageAllowed and reports no DeprecationTime.
"""

from __future__ import annotations

import datetime

import pytest

from emulator.patches import deprecation
from emulator.seed import create_image

from .helpers import assume, client, error_of

pytestmark = pytest.mark.usefixtures("aws")

OWNER = "123456789012"
CONSUMER = "210987654321"


@pytest.fixture(name="shared_image")
def shared_image_fixture() -> str:
    """An image of the owner shared with the consumer account."""
    image_id = create_image(client("ec2"), "golden-allowed")["image_id"]
    client("ec2").modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": CONSUMER}]})
    return image_id


@pytest.fixture(name="consumer")
def consumer_fixture() -> object:
    return client("ec2", **assume(CONSUMER))


def visible(ec2: object, image_id: str) -> list[dict]:
    return [image for image in ec2.describe_images(ExecutableUsers=["self"])["Images"] if image["ImageId"] == image_id]


def launch(ec2: object, image_id: str) -> str:
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0][
        "InstanceId"
    ]


def test_settings_start_disabled_and_are_per_account_and_region(consumer):
    assert {
        key: value for key, value in consumer.get_allowed_images_settings().items() if key != "ResponseMetadata"
    } == {"State": "disabled", "ImageCriteria": [], "ManagedBy": "account"}
    assert (
        consumer.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")["AllowedImagesSettingsState"]
        == "enabled"
    )
    assert client("ec2").get_allowed_images_settings()["State"] == "disabled"
    assert client("ec2", region="eu-west-1", **assume(CONSUMER)).get_allowed_images_settings()["State"] == "disabled"
    assert consumer.disable_allowed_images_settings()["AllowedImagesSettingsState"] == "disabled"


def test_disabled_sets_no_image_allowed_field(consumer, shared_image):
    (image,) = visible(consumer, shared_image)
    assert "ImageAllowed" not in image


def test_audit_mode_marks_images_and_restricts_nothing(consumer, shared_image):
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}])
    (image,) = visible(consumer, shared_image)
    assert image["ImageAllowed"] is False
    assert launch(consumer, shared_image)
    consumer.replace_image_criteria_in_allowed_images_settings(
        ImageCriteria=[{"ImageProviders": ["amazon"]}, {"ImageProviders": [OWNER]}]
    )
    assert visible(consumer, shared_image)[0]["ImageAllowed"] is True
    # The owner's own images are never restricted.
    own = create_image(client("ec2", **assume(CONSUMER)), "consumer-own")["image_id"]
    assert consumer.describe_images(ImageIds=[own])["Images"][0]["ImageAllowed"] is True


def test_enabled_hides_and_refuses_what_is_not_allowed(consumer, shared_image):
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["111122223333"]}])
    assert visible(consumer, shared_image) == []
    assert consumer.describe_images(ImageIds=[shared_image])["Images"] == []
    assert error_of(launch, consumer, shared_image)["Code"] == "InvalidAMIID.NotFound"
    consumer.replace_image_criteria_in_allowed_images_settings(
        ImageCriteria=[{"ImageProviders": ["111122223333", OWNER]}]
    )
    assert visible(consumer, shared_image)[0]["ImageAllowed"] is True
    assert launch(consumer, shared_image)
    consumer.disable_allowed_images_settings()
    assert "ImageAllowed" not in visible(consumer, shared_image)[0]


def test_every_parameter_of_a_criterion_must_match(consumer, shared_image):
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    cases = [
        ({"ImageProviders": [OWNER], "ImageNames": ["golden-*"]}, True),
        ({"ImageProviders": [OWNER], "ImageNames": ["silver-*"]}, False),
        ({"ImageNames": ["golden-?llowed"]}, True),
        ({"ImageProviders": [OWNER], "CreationDateCondition": {"MaximumDaysSinceCreated": 1}}, True),
        ({"ImageProviders": [OWNER], "MarketplaceProductCodes": ["abcdefg"]}, False),
        ({"ImageProviders": ["none"]}, False),
    ]
    for criterion, allowed in cases:
        consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[criterion])
        assert visible(consumer, shared_image)[0]["ImageAllowed"] is allowed, criterion


@pytest.mark.parametrize(
    "criteria, fragment",
    [
        ([{"ImageProviders": ["none", OWNER]}], "when none is specified"),
        ([{"ImageProviders": ["amazon.com"]}], "is not an image provider"),
        ([{"ImageProviders": [OWNER]}] * 11, "up to 10"),
        ([{"ImageNames": ["bad|name"]}], "not a valid image name"),
    ],
)
def test_bad_criteria_are_refused(consumer, criteria, fragment):
    error = error_of(consumer.replace_image_criteria_in_allowed_images_settings, ImageCriteria=criteria)
    assert error["Code"] == "InvalidParameterValue" and fragment in error["Message"]
    assert consumer.get_allowed_images_settings()["ImageCriteria"] == []


def test_bad_state_is_refused(consumer):
    assert (
        error_of(consumer.enable_allowed_images_settings, AllowedImagesSettingsState="on")["Code"]
        == "InvalidParameterValue"
    )


def test_deprecation_is_the_owners_rounded_to_the_minute_and_can_be_cancelled(shared_image, consumer):
    ec2 = client("ec2")
    at = datetime.datetime(2030, 1, 2, 3, 4, 40, tzinfo=datetime.timezone.utc)
    ec2.enable_image_deprecation(ImageId=shared_image, DeprecateAt=at)
    assert ec2.describe_images(ImageIds=[shared_image])["Images"][0]["DeprecationTime"] == "2030-01-02T03:05:00.000Z"
    assert error_of(consumer.enable_image_deprecation, ImageId=shared_image, DeprecateAt=at)["Code"] == "AuthFailure"
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    assert (
        error_of(ec2.enable_image_deprecation, ImageId=shared_image, DeprecateAt=past)["Code"]
        == "InvalidParameterValue"
    )
    ec2.disable_image_deprecation(ImageId=shared_image)
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[shared_image])["Images"][0]


def test_a_deprecated_image_is_hidden_from_other_accounts_unless_asked_for(shared_image, consumer, monkeypatch):
    ec2 = client("ec2")
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=10, microsecond=0)
    monkeypatch.setattr(deprecation, "_now", lambda: now)
    # Ten seconds into a minute, a time one second ahead rounds down to the minute just gone: deprecated at once.
    ec2.enable_image_deprecation(ImageId=shared_image, DeprecateAt=now + datetime.timedelta(seconds=1))
    image_time = ec2.describe_images(ImageIds=[shared_image])["Images"][0]["DeprecationTime"]
    assert image_time == now.replace(second=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert visible(consumer, shared_image) == []
    assert [
        image["ImageId"]
        for image in consumer.describe_images(ExecutableUsers=["self"], IncludeDeprecated=True)["Images"]
    ] == [shared_image]
    assert consumer.describe_images(ImageIds=[shared_image])["Images"][0]["DeprecationTime"] == image_time
    assert [image["ImageId"] for image in ec2.describe_images(Owners=["self"])["Images"]] == [
        shared_image
    ]  # the owner always sees it
    assert launch(consumer, shared_image)  # deprecated, but still launchable by ID
