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

from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
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
# The states in which a copy will never become available.
FAILED_COPY_STATES = ("failed", "error", "invalid", "deregistered", "disabled")

# DescribeImages and DescribeSnapshots take up to 200 values per filter.
FILTER_BATCH = 200
# EC2 User Guide, "Copy an AMI", "Cross-Region copying", Limits: "Destination Regions are limited to
# 100 concurrent AMI copies." A CopyImage beyond the quota is refused with ResourceLimitExceeded.
DEFAULT_CONCURRENT_COPIES = 100
# CopyImage SnapshotCopyCompletionDurationMinutes, "in 15 minute increments" (EC2 API Reference); Amazon
# EBS User Guide, "Time-based copies for Amazon EBS snapshots and EBS-backed AMIs": "you specify a
# completion duration, between 15 minutes and 48 hours, ... in 15 minute increments".
COMPLETION_MINUTES_STEP = 15
COMPLETION_MINUTES_MAX = 48 * 60
_KMS_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:(?:key|alias)/")


def check_image_ids(image_ids, option="image_ids"):
    """The image IDs without repeats, in input order; refuses an empty list (naming ``option``) or a malformed ID."""
    if not image_ids:
        raise OrgShareError(f"{option} is empty: give at least one AMI ID (ami-...).")
    malformed = [image_id for image_id in image_ids if not isinstance(image_id, str) or not _IMAGE_ID.match(image_id)]
    if malformed:
        raise OrgShareError(
            "Malformed AMI ID(s): "
            + ", ".join(repr(image_id) for image_id in malformed)
            + "; an AMI ID is ami- followed by 8 or 17 hexadecimal digits."
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
        if snapshot_id in snapshots
        and snapshots[snapshot_id].get("Encrypted")
        and snapshots[snapshot_id].get("KmsKeyId")
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
            problems.append(
                f"{image_id}: its snapshot {snapshot_id} cannot be described, so its encryption cannot be checked."
            )
            continue
        key_arn = snapshot.get("KmsKeyId")
        if not snapshot.get("Encrypted") or not key_arn:
            continue
        key = keys.get(key_arn, {})
        if _keys.is_aws_managed(key):
            problems.append(
                f"{image_id}: snapshot {snapshot_id} is encrypted with the AWS-managed key {key_arn}, and {_keys.AWS_MANAGED_REASON}; "
                f"{COPY_FIX}."
            )
        elif _keys.unusable_state(key):
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


def is_copy_of(image, source_image_id, source_region):
    """Whether ``image`` is tagged as a copy of ``source_image_id`` from ``source_region``.

    EC2 reports the source of a copy itself (DescribeImages ``SourceImageId`` and
    ``SourceImageRegion``); where it does, it must agree with the tags, so that tags copied
    onto another image (CopyImage ``CopyImageTags`` of a copy) never make it a copy of that source.
    """
    tags = tags_of(image)
    return (
        tags.get(SOURCE_IMAGE_TAG) == source_image_id
        and tags.get(SOURCE_REGION_TAG) == source_region
        and image.get("SourceImageId", source_image_id) == source_image_id
        and image.get("SourceImageRegion", source_region) == source_region
    )


def copies_of(images, source_image_id, source_region, states=LIVE_COPY_STATES):
    """The copies of one source among ``images`` (:func:`is_copy_of`) in ``states``, ranked.

    A failed copy never counts; ``states`` asks for others, such as disabled. Available
    copies come first, then the newest.
    """
    found = [
        image for image in images if is_copy_of(image, source_image_id, source_region) and image.get("State") in states
    ]
    found.sort(key=lambda image: image.get("CreationDate") or "", reverse=True)
    found.sort(key=lambda image: image.get("State") != "available")
    return found


def copy_encryption(image, snapshots):
    """How a copy is encrypted: a tuple of its key ARNs, ``()`` when unencrypted, None when it cannot be told yet.

    Its snapshots (``snapshots``: ID -> DescribeSnapshots entry) are the truth; a copy
    whose snapshots are not there yet (pending) is judged by the key tag it was made with.
    """
    snapshot_ids = [
        mapping["Ebs"]["SnapshotId"]
        for mapping in image.get("BlockDeviceMappings", [])
        if mapping.get("Ebs", {}).get("SnapshotId")
    ]
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


def earlier_copy(images, source_image_id, source_region, encryptions, wanted_key_arn):
    """``(copy, others, disabled)``: which earlier copy of a source in a region counts, decided in one place.

    ``images`` are the images found in the region (any source), ``encryptions`` maps image ID to
    :func:`copy_encryption`, ``wanted_key_arn`` is the key the copy must be encrypted with (None
    for an unencrypted copy). ``copy`` is the live copy (:func:`copies_of`: available before
    pending, then the newest) encrypted exactly as asked, or None; ``others`` are the live copies
    that do not count (another key, unencrypted, or not to be told yet), in rank order; ``disabled``
    is, when no live copy counts, a disabled copy encrypted as asked (to refuse with the fix), else None.
    """
    wanted = (wanted_key_arn,) if wanted_key_arn else ()

    def encrypted_as_asked(image):
        return encryptions.get(image["ImageId"]) == wanted

    live = copies_of(images, source_image_id, source_region)
    chosen = next((image for image in live if encrypted_as_asked(image)), None)
    disabled = None
    if chosen is None:
        disabled = next(
            (
                image
                for image in copies_of(images, source_image_id, source_region, states=("disabled",))
                if encrypted_as_asked(image)
            ),
            None,
        )
    return chosen, [image for image in live if image is not chosen], disabled


def image_name_problem(name, option="name"):
    """Why EC2 would refuse ``name`` as an AMI name (given in ``option``), or None."""
    refused = sorted(set(character for character in name if not _IMAGE_NAME_CHARACTERS.fullmatch(character)))
    if MIN_IMAGE_NAME <= len(name) <= MAX_IMAGE_NAME and not refused:
        return None
    cause = (
        f"is {len(name)} characters long"
        if not MIN_IMAGE_NAME <= len(name) <= MAX_IMAGE_NAME
        else (
            "contains "
            + " ".join(repr(character) for character in refused)
            + ", which EC2 does not accept in an AMI name"
        )
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
    digest = "-" + hashlib.sha256(full.encode("utf-8")).hexdigest()[: _NAME_DIGEST - 1]
    return source_part[: MAX_IMAGE_NAME - len(digest) - len(suffix)] + digest + suffix


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


def concurrent_copies_problem(bound, option="max_concurrent_copies"):
    """Why ``bound`` cannot bound the copies in flight per destination region, or None."""
    if bound >= 1:
        return None
    return (
        f"{option} is {bound}: at least one copy must be in flight in each destination region for any copy to be made. "
        f"Give 1 or more (the default, {DEFAULT_CONCURRENT_COPIES}, is EC2's quota of concurrent AMI copies per destination Region)."
    )


def completion_duration_problem(minutes, option="snapshot_copy_completion_duration_minutes"):
    """Why EC2 would refuse ``minutes`` as a time-based copy's completion duration, or None (None too when unset)."""
    if minutes is None or (
        COMPLETION_MINUTES_STEP <= minutes <= COMPLETION_MINUTES_MAX and minutes % COMPLETION_MINUTES_STEP == 0
    ):
        return None
    return (
        f"{option} is {minutes}: a time-based copy completes within 15 to {COMPLETION_MINUTES_MAX} minutes (48 hours), given in "
        'steps of 15 minutes (Amazon EBS User Guide, "Time-based copies"). Give 15, 30, 45, ... or '
        f"{COMPLETION_MINUTES_MAX}, or leave it unset for a copy made on a best-effort basis."
    )


def region_problems(regions, partitions, source_region, option="destination_regions"):
    """Messages for the regions CopyImage cannot copy into from ``source_region``, or for ``source_region`` itself.

    ``partitions`` maps every region botocore knows to its partition. A region it does not know,
    one named twice, or one in another partition than the source region (CopyImage copies within a
    partition; CreateStoreImageTask and CreateRestoreImageTask cross partitions) is refused.
    """
    problems = []
    if source_region not in partitions:
        problems.append(unknown_region_problem(source_region, "source_region"))
    for region in unique(regions):
        count = regions.count(region)
        if count > 1:
            problems.append(f"{option} names {region} {count} times: name each destination region once.")
        if region not in partitions:
            problems.append(unknown_region_problem(region, option))
        elif source_region in partitions and partitions[region] != partitions[source_region]:
            problems.append(
                f"{option}: {region} is in the partition {partitions[region]}, the source region {source_region} in "
                f"{partitions[source_region]}, and CopyImage copies only within a partition. Copy across partitions with "
                "EC2 CreateStoreImageTask and CreateRestoreImageTask, or leave it out."
            )
    return problems


def unknown_region_problem(region, option):
    """``region``, given in ``option``, is not a region botocore knows."""
    return (
        f"{option}: {region!r} is not a region (not one the installed botocore knows): check its spelling, e.g. eu-west-1. "
        "A region newer than the installed botocore needs a newer botocore."
    )


def region_keys(regions, kms_key_id, kms_key_ids):
    """``(keys, problems)``: the key each destination region's copies are encrypted with, and keys given for the wrong region.

    ``kms_key_ids`` (region -> key) wins over ``kms_key_id``, which serves every other region; None means
    no key. A key ARN names one region (KMS keys are regional; a multi-Region key's replica has its own
    ARN in each region): given for another region, it is refused.
    """
    kms_key_ids = kms_key_ids or {}
    keys = {region: kms_key_ids.get(region, kms_key_id) for region in regions}
    problems = []
    for region, key in keys.items():
        match = _KMS_ARN_REGION.match(key or "")
        if match and match.group("region") != region:
            problems.append(
                f"{key_option(region, kms_key_ids)} {key!r} is a key of {match.group('region')}, but it is given for the copies in {region}: KMS keys are "
                f"regional. Give {region} its own key in kms_key_ids (a multi-Region key's replica there has its own ARN), or "
                "an alias name that exists in every destination region."
            )
    for region, key in kms_key_ids.items():
        if not isinstance(key, str) or not key:
            problems.append(f"kms_key_ids[{region!r}] is {key!r}: give a key ID, key ARN, alias name or alias ARN.")
    return keys, problems


def key_option(region, kms_key_ids):
    """The option that gives ``region`` its key (:func:`region_keys`), as messages name it."""
    return f"kms_key_ids[{region!r}]" if region in (kms_key_ids or {}) else "kms_key_id"


def missing_keys_problem(encrypted_ids, regions, single_region):
    """The encrypted sources (``encrypted_ids``) need a key in each of ``regions`` (those without one), or None.

    ``single_region``: the module copies into one region (its connection's), where kms_key_id is the fix.
    """
    if not encrypted_ids or not regions:
        return None
    one = len(encrypted_ids) == 1
    sources = f"The source AMI {encrypted_ids[0]} is" if one else f"The source AMIs {', '.join(encrypted_ids)} are"
    copies = "its copy" if one else "their copies"
    if single_region:
        (region,) = regions
        return (
            f"{sources} encrypted, so {copies} in {region} must be encrypted with a customer-managed key of {region}: set "
            f"kms_key_id (for the share_ami role: share_ami_region_kms_keys['{region}'])."
        )
    return (
        f"{sources} encrypted, so {copies} in {', '.join(regions)} must be encrypted with a customer-managed key of each region: "
        f"give {', '.join(regions)} a key in kms_key_ids (region: key), or set kms_key_id to an alias name that exists in every "
        f"destination region (for the share_ami role: add {', '.join(regions)} to share_ami_region_kms_keys)."
    )


def source_encryption(image, snapshots):
    """How a source image is encrypted, like :func:`copy_encryption` tells it of a copy (its snapshots only)."""
    if not image_encrypted(image):
        return ()
    if not all(snapshot_id in snapshots for snapshot_id in encrypted_snapshot_ids(image)):
        return None
    return tuple(sorted(image_key_arns(image, snapshots)))


def same_region_problem(source, encryption, wanted_key_arn, region, caller_account_id):
    """Why copying ``source`` into its own ``region`` under ``wanted_key_arn`` makes no sense, or None.

    Such a copy is for re-encrypting, or for owning a copy of another account's AMI. A copy of the
    caller's own AMI that would be encrypted exactly as the source is (``encryption``, as
    :func:`source_encryption` tells it; None when it cannot be told) would add nothing but a second AMI.
    """
    wanted = (wanted_key_arn,) if wanted_key_arn else ()
    if source.get("OwnerId") != caller_account_id or encryption != wanted:
        return None
    return (
        f"{source['ImageId']} would be copied into its own region {region} {describe_encryption(wanted)}, as it already is: "
        "such a copy adds only a second AMI. A copy in the source region is for re-encrypting: give "
        f"{region} another customer-managed key (kms_key_ids or kms_key_id), or leave {region} out of the destinations."
    )


def plan_region(sources, region, source_region, key_arn, images, encryptions, name=None):
    """``(plans, problems)``: how each source's copy in ``region`` stands, and what stops the run before any copy.

    ``sources`` are the described source images; ``key_arn`` the key every copy in ``region`` is
    encrypted with (None: unencrypted); ``images`` the images found there as copies of any source,
    ``encryptions`` their :func:`copy_encryption` by image ID; ``name`` an explicit name (one source).
    A plan is ``{"source", "region", "key_arn", "copy", "others", "name"}``: ``copy`` is the earlier
    copy that counts (:func:`earlier_copy`) or None when one is to be made, then named ``name``.
    Names are unique per account and region: a new name held by a copy of another source, or given
    to two new copies, is a problem.
    """
    plans, problems, new_names = [], [], {}
    names_held = {image.get("Name"): image for image in images}
    for source in sources:
        copy, others, disabled = earlier_copy(images, source["ImageId"], source_region, encryptions, key_arn)
        plan = {
            "source": source,
            "region": region,
            "key_arn": key_arn,
            "copy": copy,
            "others": others,
            "name": copy.get("Name") if copy else None,
        }
        plans.append(plan)
        if copy is not None:
            continue
        if disabled is not None:
            what = f"earlier copy of {source['ImageId']}"
            problems.append(
                disabled_problem(disabled["ImageId"], region, what=what) + " Or deregister it, and a new copy is made."
            )
            continue
        taken = {image.get("Name"): image for image in others}
        if name:
            plan["name"] = name
        else:
            plan["name"] = copy_name(
                source.get("Name", ""), key_arn, taken, suffix="-copy" if region == source_region else ""
            )
        holder = names_held.get(plan["name"])
        if holder is not None:
            held_by = (
                f"the earlier copy {holder['ImageId']} in {region}, which is {describe_encryption(encryptions.get(holder['ImageId']))}"
                if holder in others
                else f"{holder['ImageId']} in {region} ({holder.get('State')}), another copy this collection made there"
            )
            fix = (
                "Leave name unset (the new copy is then named after its key) or choose another name."
                if name
                else "Rename or deregister that image, or copy this source alone with a name of its own."
            )
            problems.append(
                f"name {plan['name']!r} is already the name of {held_by}: AMI names are unique per account and region. {fix}"
            )
        new_names.setdefault(plan["name"], []).append(source["ImageId"])
    for new_name, image_ids in new_names.items():
        if len(image_ids) > 1:
            problems.append(
                f"{' and '.join(image_ids)} would all be copied into {region} as {new_name!r}, and AMI names are unique per account and "
                "region: copy them in separate tasks, each with a name of its own."
            )
    return plans, problems
