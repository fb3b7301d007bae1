"""Disabled AMIs: hidden, unshared and unshareable until enabled again, as EC2 does them.

EC2 API reference, DisableImage: "Sets the AMI state to disabled and removes all launch
permissions from the AMI. A disabled AMI can't be used for instance launches. A disabled AMI
can't be shared. If an AMI was public or previously shared, it is made private. [...] A disabled
AMI does not appear in DescribeImages API calls by default. Only the AMI owner can disable an
AMI. You can re-enable a disabled AMI using EnableImage." DescribeImages, IncludeDisabled:
"Specifies whether to include disabled AMIs. Default: No disabled AMIs are included in the
response." (The API reference points to the EC2 user guide's "Disable an AMI" for more.)
EnableImage makes it available again; the launch permissions removed stay removed.

moto 5.2.5 only sets the state: the image stays in DescribeImages, keeps its launch
permissions and can be shared again.

What the docs leave open, and what the emulator does:
- The error for sharing a disabled AMI: ``InvalidAMIID.Unavailable``, the code EC2 gives for
  ModifyImageAttribute on an AMI that is not available (seen for a pending AMI: "The AMI ID
  '...' is currently pending and may not be used for this operation").
- The error for a caller who does not own the image: ``AuthFailure``, as for launch permissions.
- EnableImage of an image that is not disabled leaves it as it is.
- DescribeImages with ImageIds of a disabled image, without IncludeDisabled: an empty list, as
  the parameter's "not included in the response" reads.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.amis import AmiBackend
from moto.ec2.responses.amis import AmisResponse

from ._support import ec2_error, install
from .amis import _owned_image

DISABLED = "disabled"


def _disable_image(_original: Any) -> Any:
    def disable_image(self: Any, ami_id: str) -> None:
        image = _owned_image(self, ami_id)
        image.state = DISABLED
        image.launch_permissions = []

    return disable_image


def _enable_image(_original: Any) -> Any:
    def enable_image(self: Any, ami_id: str) -> None:
        image = _owned_image(self, ami_id)
        if image.state == DISABLED:
            image.state = "available"

    return enable_image


def _modify_image_attribute(original: Any) -> Any:
    # A disabled AMI can't be shared: any Add is refused (removing nothing is harmless).
    def modify_image_attribute(
        self: Any,
        ami_id: str,
        launch_permissions_to_add: list[dict[str, str]],
        launch_permissions_to_remove: list[dict[str, str]],
    ) -> None:
        if launch_permissions_to_add and _owned_image(self, ami_id).state == DISABLED:
            raise ec2_error(
                "InvalidAMIID.Unavailable",
                f"The AMI ID '{ami_id}' is currently disabled and may not be used for this operation",
            )
        original(self, ami_id, launch_permissions_to_add, launch_permissions_to_remove)

    return modify_image_attribute


def _describe_images_response(_original: Any) -> Any:
    # moto's handler, plus IncludeDisabled: disabled AMIs only when asked, and only the caller's own.
    def describe_images(self: Any) -> ActionResult:
        self.error_on_dryrun()
        images = self.ec2_backend.describe_images(
            ami_ids=self._get_param("ImageIds", []),
            filters=self._filters_from_querystring(),
            exec_users=self._get_param("ExecutableUsers", []),
            owners=self._get_param("Owners", []),
        )
        include_disabled = self._get_bool_param("IncludeDisabled", False)
        shown = [
            image
            for image in images
            if image.state != DISABLED or (include_disabled and image.owner_id == self.ec2_backend.account_id)
        ]
        return ActionResult({"Images": shown})

    return describe_images


def apply() -> None:
    """Install the disabled-AMI patches (over the AMI patches)."""
    install(AmiBackend, "disable_image", _disable_image)
    install(AmiBackend, "enable_image", _enable_image)
    install(AmiBackend, "modify_image_attribute", _modify_image_attribute)
    install(AmisResponse, "describe_images", _describe_images_response)
