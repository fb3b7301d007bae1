"""CopyImage within EC2's limits: concurrent copies per destination Region, and time-based copies.

EC2 User Guide, "Copy an AMI", "Cross-Region copying", Limits: "Destination Regions are limited to
100 concurrent AMI copies." A copy is in flight while it is ``pending``. The guide names no error
code for going over the quota; the emulator answers ``ResourceLimitExceeded``, EC2's code for a
quota reached (as for the AMI sharing quota), with its own message. With the control API's
``concurrent_copies_per_region`` above zero, a CopyImage into a region (of an account) that already
has that many copies pending is refused; zero, the default, leaves copies unlimited, so that tests
which do not ask for the quota never meet it. The quota counts copies of every source Region.

Time-based copies (CopyImage ``SnapshotCopyCompletionDurationMinutes``): Amazon EBS User Guide,
"Time-based copies for Amazon EBS snapshots and EBS-backed AMIs": "you specify a completion
duration, between 15 minutes and 48 hours, in which the copy is to be completed. The completion
duration must be specified in 15 minute increments." Always checked, as AWS does; the docs name no
error code, and the emulator answers ``InvalidParameterValue``, EC2's code for a value out of its
range. The copies' snapshots report the duration asked for (DescribeSnapshots
``CompletionDurationMinutes``, "Only for snapshot copies created with time-based snapshot copy
operations"). moto 5.2.5 ignores the parameter and never limits copies.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.amis import AmiBackend
from moto.ec2.responses.amis import AmisResponse

from ._support import ec2_error, install

CONCURRENT_COPIES = {"per_region": 0}
COMPLETION_MINUTES_STEP = 15
COMPLETION_MINUTES_MAX = 48 * 60


def pending_copies(backend: Any) -> int:
    """The copies pending in ``backend``'s region of its account (every pending image there is a copy)."""
    return sum(
        1 for image in list(backend.amis.values()) if image.owner_id == backend.account_id and image.state == "pending"
    )


def _copy_image(original: Any) -> Any:
    # Refuses a copy beyond the concurrent-copy quota of the destination region.
    def copy_image(self: Any, *args: Any, **kwargs: Any) -> Any:
        limit = CONCURRENT_COPIES["per_region"]
        if limit and pending_copies(self) >= limit:
            raise ec2_error(
                "ResourceLimitExceeded",
                f"You have reached the maximum of {limit} concurrent AMI copies into {self.region_name}. "
                "Wait for copies in progress to complete, then try again.",
            )
        return original(self, *args, **kwargs)

    return copy_image


def _copy_image_response(original: Any) -> Any:
    # Checks SnapshotCopyCompletionDurationMinutes and records it on the new snapshots.
    def copy_image(self: Any) -> ActionResult:
        minutes = self._get_int_param("SnapshotCopyCompletionDurationMinutes")
        if minutes is not None and not (
            COMPLETION_MINUTES_STEP <= minutes <= COMPLETION_MINUTES_MAX and minutes % COMPLETION_MINUTES_STEP == 0
        ):
            raise ec2_error(
                "InvalidParameterValue",
                f"The completion duration {minutes} is not valid: it must be between "
                f"{COMPLETION_MINUTES_STEP} and {COMPLETION_MINUTES_MAX} minutes, in "
                f"{COMPLETION_MINUTES_STEP} minute increments.",
            )
        result = original(self)
        if minutes is not None:
            image = self.ec2_backend.amis[result.result["ImageId"]]
            for mapping in image.block_device_mappings:
                snapshot = self.ec2_backend.snapshots.get(mapping.get("Ebs", {}).get("SnapshotId"))
                if snapshot is not None:
                    snapshot.completion_duration_minutes = minutes
        return result

    return copy_image


def apply() -> None:
    """Install the copy limits (over the AMI patches)."""
    install(AmiBackend, "copy_image", _copy_image)
    install(AmisResponse, "copy_image", _copy_image_response)
