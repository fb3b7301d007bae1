"""Allowed AMIs: which other accounts' AMIs an account may discover and launch, per account and region, as EC2 keeps it.

EC2 user guide, "Control the discovery and use of AMIs in Amazon EC2 with Allowed AMIs"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-allowed-amis.html), and the EC2 API reference pages
EnableAllowedImagesSettings, DisableAllowedImagesSettings, GetAllowedImagesSettings,
ReplaceImageCriteriaInAllowedImagesSettings, ImageCriterion / ImageCriterionRequest and DescribeImages:

- The setting is per account and region, ``disabled`` until the account enables it. EnableAllowedImagesSettings takes
  ``enabled`` ("only AMIs matching these criteria are discoverable and can be used by your account to launch instances")
  or ``audit-mode`` ("No restrictions are placed on AMI discoverability or usage", but "each AMI displays either
  "ImageAllowed": true or "ImageAllowed": false"); DisableAllowedImagesSettings answers ``disabled``.
- ReplaceImageCriteriaInAllowedImagesSettings "Sets or replaces the criteria": up to 10 ImageCriterion; each with up to
  200 ImageProviders (``amazon``, ``aws-marketplace``, ``aws-backup-vault``, a 12-digit account ID, or ``none`` - "Allow
  AMIs created by your own account only. When none is specified, no other values can be specified"), up to 50
  ImageNames (1-128 characters of letters, digits, ``( ) [ ] . / - ' @ _ * ?`` and spaces, ``*`` and ``?`` wildcards),
  up to 50 MarketplaceProductCodes, a CreationDateCondition (MaximumDaysSinceCreated) and a DeprecationTimeCondition
  (MaximumDaysSinceDeprecated). GetAllowedImagesSettings answers State, ImageCriteria and ManagedBy (``account``: no
  declarative policy is modelled).
- "The Allowed AMIs feature does not restrict the AMIs owned by your account."
- DescribeImages: "When Allowed AMIs is set to enabled, only allowed images are returned in the results, with the
  imageAllowed field set to true for each image. In audit-mode, the imageAllowed field is set to true for images that
  meet the account's Allowed AMIs criteria, and false for images that don't meet the criteria." With the setting
  disabled the field is absent.
- RunInstances with an AMI that is not allowed, in ``enabled``: the docs say it "can't be discovered or used" and name no
  error code; the emulator answers ``InvalidAMIID.NotFound``, what EC2 answers for an AMI the caller cannot see.

Our reading where the docs are not explicit: an image is allowed when it matches at least one criterion, and it matches a
criterion when it meets every parameter the criterion gives (each a list of alternatives); a criterion with
ImageWatermarks or ScanResultCondition (not modelled) matches nothing; ``amazon`` and ``aws-marketplace`` match images
whose owner alias is that (moto's default public AMIs are ``amazon``'s); ``aws-backup-vault`` matches nothing here. Wrong
values are refused with ``InvalidParameterValue`` (the docs name no code). Off unless an account turns it on, as in AWS;
the emulator has no switch of its own for it.

moto 5.2.5 has none of these actions (botocore answers them with an error moto cannot route) and never sets ImageAllowed.
"""

from __future__ import annotations

import copy
import datetime
import fnmatch
import re
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.instances import InstanceResponse

from ._support import add_action, ec2_error, install

STATES = ("enabled", "audit-mode")
_PROVIDERS = ("amazon", "aws-marketplace", "aws-backup-vault", "none")
_ACCOUNT = re.compile(r"^\d{12}$")
_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./'@_*?-]{1,128}$")
_PRODUCT_CODE = re.compile(r"^[A-Za-z0-9]{1,25}$")
_SETTINGS_ATTR = "orgshare_allowed_images"
_NOT_MODELLED = ("ImageWatermarks", "ScanResultCondition")
_LIMITS = {"ImageProviders": 200, "ImageNames": 50, "MarketplaceProductCodes": 50}


def settings_of(ec2_backend: Any) -> dict[str, Any]:
    """The account's Allowed AMIs settings in the backend's region: ``{"State", "ImageCriteria"}``."""
    return ec2_backend.__dict__.setdefault(_SETTINGS_ATTR, {"State": "disabled", "ImageCriteria": []})


def _invalid(message: str) -> Exception:
    return ec2_error("InvalidParameterValue", message)


def _check_criterion(criterion: dict[str, Any], index: int) -> dict[str, Any]:
    for field, limit in _LIMITS.items():
        if len(criterion.get(field) or []) > limit:
            raise _invalid(f"ImageCriterion.{index}: at most {limit} values for {field}.")
    providers = criterion.get("ImageProviders") or []
    bad = [value for value in providers if value not in _PROVIDERS and not _ACCOUNT.match(value)]
    if bad:
        raise _invalid(
            f"ImageCriterion.{index}: {', '.join(bad)} is not an image provider (amazon, aws-marketplace, aws-backup-vault, "
            "none or a 12-digit account ID)."
        )
    if "none" in providers and len(providers) > 1:
        raise _invalid(f"ImageCriterion.{index}: when none is specified, no other image provider can be specified.")
    names = [
        name for name in criterion.get("ImageNames") or [] if not _NAME.match(name) or "?" in name and len(name) < 3
    ]
    codes = [code for code in criterion.get("MarketplaceProductCodes") or [] if not _PRODUCT_CODE.match(code)]
    if names or codes:
        raise _invalid(f"ImageCriterion.{index}: {', '.join(names + codes)} is not a valid image name or product code.")
    return {key: value for key, value in criterion.items() if value not in (None, [], {})}


def _as_datetime(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _days_since(value: Any) -> float | None:
    moment = _as_datetime(value)
    return None if moment is None else (datetime.datetime.now(datetime.timezone.utc) - moment).total_seconds() / 86400


def _matches(image: Any, criterion: dict[str, Any]) -> bool:
    if any(criterion.get(field) for field in _NOT_MODELLED):
        return False
    providers = criterion.get("ImageProviders")
    if providers and not any(
        provider == image.owner_id or provider == getattr(image, "owner_alias", None) and provider != "none"
        for provider in providers
    ):
        return False
    names = criterion.get("ImageNames")
    if names and not any(fnmatch.fnmatchcase(image.name or "", name.replace("[", "[[]")) for name in names):
        return False
    codes = criterion.get("MarketplaceProductCodes")
    if codes and not set(codes) & set(getattr(image, "product_codes", None) or ()):
        return False
    created = (criterion.get("CreationDateCondition") or {}).get("MaximumDaysSinceCreated")
    if created is not None and (_days_since(image.creation_date) or 0) > created:
        return False
    deprecated = (criterion.get("DeprecationTimeCondition") or {}).get("MaximumDaysSinceDeprecated")
    since = _days_since(getattr(image, "deprecation_time", None))
    return not (deprecated is not None and since is not None and since > deprecated)


def image_allowed(ec2_backend: Any, image: Any) -> bool:
    """Whether the account of ``ec2_backend`` may discover and use ``image`` under its criteria (its own images always)."""
    if image.owner_id == ec2_backend.account_id:
        return True
    return any(_matches(image, criterion) for criterion in settings_of(ec2_backend)["ImageCriteria"])


def enable_allowed_images_settings(self: Any) -> ActionResult:
    """EnableAllowedImagesSettings: ``enabled`` or ``audit-mode``."""
    state = self._get_param("AllowedImagesSettingsState")
    if state not in STATES:
        raise _invalid(f"AllowedImagesSettingsState {state!r} is not one of {', '.join(STATES)}.")
    self.error_on_dryrun()
    settings_of(self.ec2_backend)["State"] = state
    return ActionResult({"AllowedImagesSettingsState": state})


def disable_allowed_images_settings(self: Any) -> ActionResult:
    """DisableAllowedImagesSettings: the criteria stay, they no longer apply."""
    self.error_on_dryrun()
    settings_of(self.ec2_backend)["State"] = "disabled"
    return ActionResult({"AllowedImagesSettingsState": "disabled"})


def replace_image_criteria_in_allowed_images_settings(self: Any) -> ActionResult:
    """ReplaceImageCriteriaInAllowedImagesSettings: the criteria, checked, replace the account's."""
    criteria = self._get_param("ImageCriteria", []) or []
    if len(criteria) > 10:
        raise _invalid("The ImageCriteria can include up to 10 ImageCriterion.")
    checked = [_check_criterion(criterion, index) for index, criterion in enumerate(criteria, 1)]
    self.error_on_dryrun()
    settings_of(self.ec2_backend)["ImageCriteria"] = checked
    return ActionResult({"ReturnValue": True})


def get_allowed_images_settings(self: Any) -> ActionResult:
    """GetAllowedImagesSettings: State, ImageCriteria and ManagedBy (``account``)."""
    self.error_on_dryrun()
    settings = settings_of(self.ec2_backend)
    return ActionResult(
        {"State": settings["State"], "ImageCriteria": copy.deepcopy(settings["ImageCriteria"]), "ManagedBy": "account"}
    )


def _describe_images(original: Any) -> Any:
    # DescribeImages: enabled leaves out what is not allowed and marks the rest ImageAllowed true; audit-mode marks each.
    def describe_images(self: Any) -> Any:
        result = original(self)
        state = settings_of(self.ec2_backend)["State"]
        if state == "disabled":
            return result
        marked = []
        for image in result.result["Images"]:
            allowed = image_allowed(self.ec2_backend, image)
            if state == "enabled" and not allowed:
                continue
            view = copy.copy(image)  # only this answer carries the flag
            view.image_allowed = allowed
            marked.append(view)
        return ActionResult({**result.result, "Images": marked})

    return describe_images


def _run_instances(original: Any) -> Any:
    # RunInstances of another account's AMI that is not allowed, with the setting enabled: not discoverable, not usable.
    def run_instances(self: Any) -> Any:
        image_id = self._get_param("ImageId")
        if image_id and settings_of(self.ec2_backend)["State"] == "enabled":
            try:
                images = self.ec2_backend.describe_images(ami_ids=[image_id])
            except InvalidAMIIdError:
                images = []
            if images and not image_allowed(self.ec2_backend, images[0]):
                raise InvalidAMIIdError(image_id)
        return original(self)

    return run_instances


def apply() -> None:
    """Install Allowed AMIs (over the sharing and consumer patches)."""
    add_action(AmisResponse, "enable_allowed_images_settings", enable_allowed_images_settings)
    add_action(AmisResponse, "disable_allowed_images_settings", disable_allowed_images_settings)
    add_action(
        AmisResponse,
        "replace_image_criteria_in_allowed_images_settings",
        replace_image_criteria_in_allowed_images_settings,
    )
    add_action(AmisResponse, "get_allowed_images_settings", get_allowed_images_settings)
    install(AmisResponse, "describe_images", _describe_images)
    install(InstanceResponse, "run_instances", _run_instances)
