"""A new copy of an image is not visible at once, as the EC2 API's eventual consistency allows.

EC2 developer guide, "Eventual consistency in the Amazon EC2 API": "if you run a command to
create a resource, it will eventually be visible to other commands. This means that if you run
a command to modify or describe the resource that you just created, its ID might not have
propagated throughout the system, and you will get an error responding that the resource does
not exist." The guide gives no duration and no image-specific example; with the control API's
``image_visibility_lag_seconds`` above zero, an image made by CopyImage is, for that many
seconds, left out of DescribeImages (by ID, owner or filter) and unknown to every call that
looks the image up (DescribeImageAttribute, ModifyImageAttribute, CopyImage of it:
``InvalidAMIID.NotFound``). moto makes every image visible at once. Zero keeps every other test fast.
"""

from __future__ import annotations

import time
from typing import Any

from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.models.amis import AmiBackend

from ._support import install

IMAGE_VISIBILITY_LAG = {"seconds": 0.0}
_VISIBLE_AT_ATTR = "orgshare_visible_at"


def _visible(image: Any) -> bool:
    return time.monotonic() >= image.__dict__.get(_VISIBLE_AT_ATTR, float("-inf"))


def _copy_image(original: Any) -> Any:
    # Marks a new copy invisible for IMAGE_VISIBILITY_LAG seconds.
    def copy_image(self: Any, *args: Any, **kwargs: Any) -> Any:
        image = original(self, *args, **kwargs)
        if IMAGE_VISIBILITY_LAG["seconds"] > 0:
            image.__dict__[_VISIBLE_AT_ATTR] = time.monotonic() + IMAGE_VISIBILITY_LAG["seconds"]
        return image

    return copy_image


def _describe_images(original: Any) -> Any:
    # Leaves out images that are not visible yet; asked for by ID alone, they are InvalidAMIID.NotFound.
    # (A visible ID asked for with an invisible one is answered alone, as moto answers for unknown IDs.)
    def describe_images(
        self: Any,
        ami_ids: list[str] | None = None,
        filters: Any = None,
        exec_users: list[str] | None = None,
        owners: list[str] | None = None,
    ) -> list[Any]:
        images = original(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
        visible = [image for image in images if _visible(image)]
        if ami_ids and images and not visible:
            raise InvalidAMIIdError(ami_ids)
        return visible

    return describe_images


def apply() -> None:
    """Install the visibility patches (over the AMI and sharing patches)."""
    install(AmiBackend, "copy_image", _copy_image)
    install(AmiBackend, "describe_images", _describe_images)
