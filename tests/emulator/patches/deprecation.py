"""AMI deprecation, as EC2 keeps it: EnableImageDeprecation, DisableImageDeprecation and DescribeImages' DeprecationTime.

EC2 API reference, EnableImageDeprecation: "Enables deprecation of the specified AMI at the specified date and time";
``DeprecateAt``: "If you specify a value for seconds, Amazon EC2 rounds the seconds to the nearest minute. You can't
specify a date in the past. The upper limit for DeprecateAt is 10 years from now". DisableImageDeprecation "Cancels the
deprecation". EC2 user guide, "Deprecate an Amazon EC2 AMI": only the owner deprecates an AMI; a deprecated AMI can
still be launched (by its ID) and shared; DescribeImages reports ``DeprecationTime``, and "If you are the AMI owner, all
deprecated AMIs appear in the response regardless of what you specify for" ``IncludeDeprecated``, while other accounts see
a deprecated AMI only with ``IncludeDeprecated`` true or when they ask for it by ID (DescribeImages, IncludeDeprecated).

Where the docs are silent: another account's call is ``AuthFailure`` (what EC2 answers a non-owner changing an AMI), a
past or too distant date ``InvalidParameterValue``; the past is judged before rounding, so a time a few seconds ahead may
round to the minute just gone (the AMI is then deprecated at once).

moto 5.2.5 has neither action and reports no DeprecationTime.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.responses.amis import AmisResponse

from ._support import add_action, ec2_error, install

_TEN_YEARS = datetime.timedelta(days=3653)


def _now() -> datetime.datetime:
    """The emulator's clock (tests may replace it)."""
    return datetime.datetime.now(datetime.timezone.utc)


def _owned_image(response: Any, image_id: str) -> Any:
    images = response.ec2_backend.describe_images(ami_ids=[image_id])
    image = images[0]
    if image.owner_id != response.current_account:
        raise ec2_error("AuthFailure", f"Not authorized for image:{image_id}")
    return image


def _rounded(moment: datetime.datetime) -> datetime.datetime:
    """To the nearest minute."""
    base = moment.replace(second=0, microsecond=0)
    return base + datetime.timedelta(minutes=1) if moment.second >= 30 else base


def _timestamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def is_deprecated(image: Any, now: datetime.datetime | None = None) -> bool:
    """Whether the image's deprecation time has come."""
    when = getattr(image, "deprecation_time", None)
    if not when:
        return False
    moment = datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=datetime.timezone.utc)
    return moment <= (now or _now())


def enable_image_deprecation(self: Any) -> ActionResult:
    """EnableImageDeprecation: the owner sets the (rounded) time."""
    image_id, deprecate_at = self._get_param("ImageId"), self._get_param("DeprecateAt")
    image = _owned_image(self, image_id)
    if not isinstance(deprecate_at, datetime.datetime):
        deprecate_at = datetime.datetime.fromisoformat(str(deprecate_at).replace("Z", "+00:00"))
    deprecate_at = deprecate_at if deprecate_at.tzinfo else deprecate_at.replace(tzinfo=datetime.timezone.utc)
    now = _now()
    if deprecate_at < now or deprecate_at > now + _TEN_YEARS:
        raise ec2_error(
            "InvalidParameterValue",
            f"DeprecateAt {_timestamp(deprecate_at)} must be in the future and at most 10 years away.",
        )
    self.error_on_dryrun()
    image.deprecation_time = _timestamp(_rounded(deprecate_at))
    return ActionResult({"Return": True})


def disable_image_deprecation(self: Any) -> ActionResult:
    """DisableImageDeprecation: the owner cancels it."""
    image = _owned_image(self, self._get_param("ImageId"))
    self.error_on_dryrun()
    image.deprecation_time = None
    return ActionResult({"Return": True})


def _describe_images(original: Any) -> Any:
    # Other accounts see a deprecated AMI only with IncludeDeprecated or by ID; the owner always does.
    def describe_images(self: Any) -> Any:
        result = original(self)
        if self._get_param("ImageIds") or self._get_bool_param("IncludeDeprecated", False):
            return result
        images = [
            image
            for image in result.result["Images"]
            if image.owner_id == self.current_account or not is_deprecated(image)
        ]
        return ActionResult({**result.result, "Images": images})

    return describe_images


def apply() -> None:
    """Install AMI deprecation."""
    add_action(AmisResponse, "enable_image_deprecation", enable_image_deprecation)
    add_action(AmisResponse, "disable_image_deprecation", disable_image_deprecation)
    install(AmisResponse, "describe_images", _describe_images)
