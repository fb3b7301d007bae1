# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters the share_ami role uses; thin wrappers over the collection's tested module_utils."""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.validation import check_type_list

from ansible_collections.orgshare.aws.plugins.module_utils import _images


def as_list(value, name):
    """``value`` as Ansible's own list options take it (a comma-separated string is split); anything else is refused."""
    try:
        return check_type_list(value)
    except TypeError as e:
        raise AnsibleFilterError(f"{name} must be a list (or a comma-separated string), not {type(value).__name__}: {value!r}.") from e


def _described(image):
    """An amazon.aws.ec2_ami_info image in the shape DescribeImages returns it (the fields the copy rule reads)."""
    return {
        "ImageId": image.get("image_id"),
        "State": image.get("state"),
        "CreationDate": image.get("creation_date"),
        "Tags": [{"Key": key, "Value": value} for key, value in (image.get("tags") or {}).items()],
    }


def copies_of(images, source_image_ids, source_region, include_sources=False):
    """Every live copy of each source among ``images`` (amazon.aws.ec2_ami_info results), in the order
    :func:`_images.copies_of` ranks them: ``[{source_image_id, image_id, state}]``, sources in their given order.

    With ``include_sources``, each source's own entry (``image_id`` the source, ``state`` null) comes before its copies.
    """
    described = [_described(image) for image in images or []]
    found = []
    for source in source_image_ids:
        if include_sources:
            found.append({"source_image_id": source, "image_id": source, "state": None})
        found.extend(
            {"source_image_id": source, "image_id": copy["ImageId"], "state": copy["State"]}
            for copy in _images.copies_of(described, source, source_region)
        )
    return found


OWNER_GRANT_KEYS = ("key_arn", "owner_account_id", "owner_statements", "owner_task")


def owner_grant(result, region):
    """From an orgshare.aws.kms_org_grant result for a key of another account: what its owner must add, and where."""
    missing = [key for key in OWNER_GRANT_KEYS if key not in (result or {})]
    if missing:
        raise AnsibleFilterError(f"owner_grant takes a kms_org_grant result for a key of another account; this one lacks {', '.join(missing)}.")
    grant = {key: result[key] for key in OWNER_GRANT_KEYS}
    grant["region"] = region
    return grant


class FilterModule:
    """orgshare.aws filters."""

    def filters(self):
        return {"as_list": as_list, "copies_of": copies_of, "owner_grant": owner_grant}
