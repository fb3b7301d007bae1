# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Can these images be shared? Decisions over described images, snapshots and keys. Pure code.

Every function here takes what EC2 and KMS returned and says what is wrong
(as operator-facing messages) or what is true (snapshot IDs, key ARNs); the
API calls that feed them live in ``_ec2.py`` and ``_kms.py``.
"""

import re

from ansible_collections.orgshare.aws.plugins.module_utils._arns import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

_IMAGE_ID = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# Key states in which a grant cannot let anyone use the key.
UNUSABLE_KEY_STATES = ("Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable")
COPY_FIX = (
    "copy the AMI re-encrypted with a customer-managed key (orgshare.aws.ami_region_copy with kms_key_id, "
    "or the orgshare.aws.share_ami role) and share the copy"
)


def check_image_ids(image_ids):
    """The image IDs without repeats, in input order; refuses an empty list or a malformed ID."""
    if not image_ids:
        raise OrgShareError("image_ids is empty: give at least one AMI ID (ami-...).")
    malformed = [image_id for image_id in image_ids if not isinstance(image_id, str) or not _IMAGE_ID.match(image_id)]
    if malformed:
        raise OrgShareError(
            "Malformed AMI ID(s): " + ", ".join(repr(image_id) for image_id in malformed) + "; an AMI ID is ami- followed by 8 or 17 hexadecimal digits."
        )
    return unique(image_ids)


def image_problems(image_ids, owned, visible, region):
    """Messages for every requested image that cannot be shared by the caller.

    ``owned`` maps image ID to image for the caller's own images; ``visible`` the
    same for images the caller can see but does not own.
    """
    problems = []
    for image_id in image_ids:
        image = owned.get(image_id)
        if image is None:
            other = visible.get(image_id)
            if other is not None:
                problems.append(
                    f"{image_id} in {region} is owned by account {other.get('OwnerId')}, not by the caller: only the owner of an AMI "
                    "can read or change its launch permissions; run this with the owner's credentials."
                )
            else:
                problems.append(
                    f"{image_id} does not exist in {region} (or is not visible to the caller): check the ID and the region; "
                    "launch permissions are per region, so share the AMI (or its copy) in the region where it lives."
                )
        elif image.get("State") != "available":
            state = image.get("State")
            fix = "wait until it is available" if state == "pending" else "use an available image"
            problems.append(f"{image_id} in {region} is {state}, not available: {fix}.")
    return problems


def encrypted_snapshot_ids(image):
    """The snapshots DescribeImages reports as encrypted: the only ones with a key to look up."""
    return unique(
        mapping["Ebs"]["SnapshotId"]
        for mapping in image.get("BlockDeviceMappings", [])
        if mapping.get("Ebs", {}).get("SnapshotId") and mapping["Ebs"].get("Encrypted")
    )


def image_encrypted(image):
    """True when any EBS volume of the image is encrypted (as DescribeImages reports it)."""
    return any(mapping.get("Ebs", {}).get("Encrypted") for mapping in image.get("BlockDeviceMappings", []))


def image_key_arns(image, snapshots):
    """The KMS key ARNs of the image's encrypted snapshots (``snapshots``: ID -> DescribeSnapshots entry)."""
    return unique(
        snapshots[snapshot_id]["KmsKeyId"]
        for snapshot_id in encrypted_snapshot_ids(image)
        if snapshot_id in snapshots and snapshots[snapshot_id].get("Encrypted") and snapshots[snapshot_id].get("KmsKeyId")
    )


def encryption_problems(image, snapshots, keys):
    """Messages for snapshots that make the image unshareable: an AWS-managed key, or a key that cannot be used.

    ``keys`` maps each key ARN to its DescribeKey metadata.
    """
    problems = []
    image_id = image["ImageId"]
    for snapshot_id in encrypted_snapshot_ids(image):
        snapshot = snapshots.get(snapshot_id)
        if snapshot is None:
            problems.append(f"{image_id}: its snapshot {snapshot_id} cannot be described, so its encryption cannot be checked.")
            continue
        key_arn = snapshot.get("KmsKeyId")
        if not snapshot.get("Encrypted") or not key_arn:
            continue
        key = keys.get(key_arn, {})
        if key.get("KeyManager") == "AWS":
            problems.append(
                f"{image_id}: snapshot {snapshot_id} is encrypted with the AWS-managed key {key_arn}, and snapshots encrypted with an "
                f"AWS-managed key can never be shared; {COPY_FIX}."
            )
        elif key.get("KeyState") in UNUSABLE_KEY_STATES:
            problems.append(
                f"{image_id}: snapshot {snapshot_id} is encrypted with {key_arn}, which is {key['KeyState']}: nobody it is shared with "
                "could launch it; enable the key (or cancel its deletion) first, or copy the AMI under another customer-managed key."
            )
    return problems


def raise_problems(problems):
    """One OrgShareError listing every problem found (validation is all-or-nothing), or nothing."""
    if problems:
        raise OrgShareError("Nothing was changed. " + " ".join(problems))
