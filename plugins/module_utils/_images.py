# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Can these images be shared? Decisions over described images, snapshots and keys. Pure code.

Every function here takes what EC2 and KMS returned and says what is wrong
(as operator-facing messages) or what is true (snapshot IDs, key ARNs); the
API calls that feed them live in ``_ec2.py`` and ``_kms.py``.
"""

import hashlib
import re

from ansible_collections.orgshare.aws.plugins.module_utils._arns import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# An AMI name (EC2 API Reference, RegisterImage and CreateImage, ``Name``): "Constraints: 3-128
# alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ), periods (.), slashes (/),
# dashes (-), single quotes ('), at-signs (@), or underscores(_)". CopyImage's ``Name`` says only "The
# name of the new AMI"; a copy is an AMI like any other, so the same rule is applied to it. The docs
# do not say whether "alphanumeric" goes beyond ASCII: only ASCII letters and digits are accepted.
MIN_IMAGE_NAME = 3
MAX_IMAGE_NAME = 128
_IMAGE_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9()\[\] ./'@_-]")
IMAGE_NAME_RULE = "3 to 128 letters, digits, spaces and ( ) [ ] . / - ' @ _"
# The length of the digest that keeps a shortened default name unique ("-" and 8 hexadecimal digits).
_NAME_DIGEST = 9
_IMAGE_ID = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# Key states in which a grant cannot let anyone use the key.
UNUSABLE_KEY_STATES = ("Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable")
COPY_FIX = (
    "copy the AMI re-encrypted with a customer-managed key and share the copy (orgshare.aws.ami_region_copy with kms_key_id "
    "and source_region equal to the region; in the orgshare.aws.share_ami role, give the region a key in share_ami_region_kms_keys)"
)

# The tags with which ami_region_copy marks its copies, on the image and its snapshots. The
# key tag records the encryption the copy was asked for, so that a copy whose snapshots are
# not described yet can still be told apart.
SOURCE_IMAGE_TAG = "orgshare:source-image-id"
SOURCE_REGION_TAG = "orgshare:source-region"
KMS_KEY_TAG = "orgshare:kms-key-arn"
UNENCRYPTED = "unencrypted"
# A copy in these states is, or is becoming, usable; failed (and every other state) never counts.
LIVE_COPY_STATES = ("available", "pending")


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
        elif image.get("State") == "disabled":
            problems.append(disabled_problem(image_id, region))
        elif image.get("State") != "available":
            state = image.get("State")
            fix = "wait until it is available" if state == "pending" else "use an available image"
            problems.append(f"{image_id} in {region} is {state}, not available: {fix}.")
    return problems


def disabled_problem(image_id, region, what="AMI"):
    """A disabled image: it cannot be shared, and disabling it removed all its launch permissions (EC2 DisableImage)."""
    return (
        f"The {what} {image_id} in {region} is disabled: a disabled AMI cannot be shared or launched, and disabling it removed all "
        f"its launch permissions. Enable it (EC2 EnableImage: aws ec2 enable-image --image-id {image_id} --region {region}) "
        "and run this again to share it again."
    )


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


def tags_of(image):
    """The image's tags as a dict."""
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags") or []}


def copies_of(images, source_image_id, source_region, states=LIVE_COPY_STATES):
    """The copies of one source among ``images``: "the copy of X in region R", decided once.

    A copy is an image tagged as a copy of ``source_image_id`` from ``source_region`` whose
    state is available or pending (a failed copy never counts; ``states`` asks for others,
    such as disabled). Available copies come first, then the newest.
    """
    found = [
        image for image in images
        if tags_of(image).get(SOURCE_IMAGE_TAG) == source_image_id
        and tags_of(image).get(SOURCE_REGION_TAG) == source_region
        and image.get("State") in states
    ]
    found.sort(key=lambda image: image.get("CreationDate") or "", reverse=True)
    found.sort(key=lambda image: image.get("State") != "available")
    return found


def copy_encryption(image, snapshots):
    """How a copy is encrypted: a tuple of its key ARNs, ``()`` when unencrypted, None when it cannot be told yet.

    Its snapshots (``snapshots``: ID -> DescribeSnapshots entry) are the truth; a copy
    whose snapshots are not there yet (pending) is judged by the key tag it was made with.
    """
    snapshot_ids = [mapping["Ebs"]["SnapshotId"] for mapping in image.get("BlockDeviceMappings", []) if mapping.get("Ebs", {}).get("SnapshotId")]
    encrypted_ids = encrypted_snapshot_ids(image)
    if snapshot_ids and all(snapshot_id in snapshots for snapshot_id in encrypted_ids):
        return tuple(sorted(image_key_arns(image, snapshots)))
    tagged = tags_of(image).get(KMS_KEY_TAG)
    if tagged is None:
        return None
    return () if tagged == UNENCRYPTED else (tagged,)


def describe_encryption(encryption):
    """Words for a copy's encryption, as :func:`copy_encryption` returns it."""
    if encryption is None:
        return "of an encryption that cannot be told yet"
    if not encryption:
        return "unencrypted"
    return "encrypted with " + " and ".join(encryption)


def select_copy(copies, encryptions, wanted_key_arn):
    """``(copy, others)``: the copy that counts as the one asked for, and the copies that do not.

    ``copies`` come from :func:`copies_of`; ``encryptions`` maps image ID to
    :func:`copy_encryption`; ``wanted_key_arn`` is the key the copy must be encrypted
    with, None for an unencrypted copy. Only a copy encrypted exactly as asked counts:
    an earlier copy under another key (or unencrypted, or not to be told) is never
    taken for it.
    """
    wanted = (wanted_key_arn,) if wanted_key_arn else ()
    chosen = next((image for image in copies if encryptions.get(image["ImageId"]) == wanted), None)
    others = [image for image in copies if image is not chosen]
    return chosen, others


def image_name_problem(name, option="name"):
    """Why EC2 would refuse ``name`` as an AMI name (given in ``option``), or None."""
    refused = sorted(set(character for character in name if not _IMAGE_NAME_CHARACTERS.fullmatch(character)))
    if MIN_IMAGE_NAME <= len(name) <= MAX_IMAGE_NAME and not refused:
        return None
    cause = f"is {len(name)} characters long" if not MIN_IMAGE_NAME <= len(name) <= MAX_IMAGE_NAME else (
        "contains " + " ".join(repr(character) for character in refused) + ", which EC2 does not accept in an AMI name"
    )
    return (
        f"{option} {name if len(name) <= 40 else name[:40] + '...'!r} {cause}: an AMI name is {IMAGE_NAME_RULE} "
        f"(EC2 RegisterImage/CopyImage Name). Give a {option} that fits, or leave {option} unset for the default name, "
        "which is always made to fit."
    )


def fit_name(source_part, suffix):
    """``source_part + suffix`` when it fits in an AMI name; else the source part cut so that it fits.

    A cut name keeps the whole ``suffix`` and, before it, ``-`` and the first 8 hexadecimal digits of
    the SHA-256 of the full name, so that names that differ only in what was cut stay different.
    Deterministic: the same source and suffix always give the same name (check mode predicts it).
    """
    full = source_part + suffix
    if len(full) <= MAX_IMAGE_NAME:
        return full
    digest = "-" + hashlib.sha256(full.encode("utf-8")).hexdigest()[:_NAME_DIGEST - 1]
    return source_part[:MAX_IMAGE_NAME - len(digest) - len(suffix)] + digest + suffix


def copy_name(source_name, key_arn, taken, suffix=""):
    """The default name of a new copy: ``source_name`` followed by ``suffix`` (``-copy`` in the source's region).

    When an earlier copy holds that name (AMI names are unique per account and region), the ID of the
    key the copy is encrypted with (or ``unencrypted``) is appended too. A name over 128 characters is
    shortened by :func:`fit_name`: the source's name is cut, the suffixes are kept.
    """
    name = fit_name(source_name, suffix)
    if name not in taken:
        return name
    return fit_name(source_name, suffix + "-" + (key_arn.rsplit("/", 1)[-1] if key_arn else UNENCRYPTED))
