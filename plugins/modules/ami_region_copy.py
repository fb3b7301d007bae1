#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_region_copy
version_added: 0.1.0
short_description: Copy an AMI to a region, re-encrypted with that region's customer-managed key, once
description:
  - Copies an AMI from O(source_region) to the connection's region (the destination), encrypted with
    O(kms_key_id), a customer-managed key in the destination. Launch permissions are per region and
    are never copied, so sharing in another region starts with a copy there.
  - A copy re-encrypted with a customer-managed key is also the way to share an AMI whose snapshots
    use the AWS-managed key C(aws/ebs), which can never be shared. For that, copy within the same
    region (O(source_region) equal to the destination).
  - B(Idempotent.) Each copy is tagged (through C(CopyImage) C(TagSpecifications), on the image and
    its snapshots) with C(orgshare:source-image-id), C(orgshare:source-region) and C(orgshare:kms-key-arn)
    (the key it was asked to be encrypted with, or C(unencrypted)). An earlier copy with those tags that
    is C(available) or C(pending) is found and returned instead of copying again, so a run that was
    interrupted while a copy was pending does not make a second copy. Available copies are preferred,
    then the newest; a C(failed) copy never counts.
  - B(A copy counts only when it is encrypted as asked.) An earlier copy whose snapshots are encrypted
    with another key than O(kms_key_id), or unencrypted when a key is asked for (or the other way
    round), is not the copy asked for. A new copy is made, and the earlier one is left exactly as it
    is, its launch permissions included. It is returned in RV(other_copies) and a warning says so;
    stop sharing it and deregister it once nothing uses it. The key of an available copy is read
    from its snapshots (C(DescribeSnapshots)); a pending copy whose snapshots are not there yet is
    judged by its C(orgshare:kms-key-arn) tag.
  - AMI names are unique per account and region. When an earlier copy under another key already
    holds the default name, the new copy's name gets the ID of its key (or C(-unencrypted)) appended;
    an explicit O(name) that an earlier copy holds is refused before copying.
  - B(AMI names are 3 to 128 characters) (letters, digits, spaces and C(\( \) [ ] . / - ' @ _); EC2
    RegisterImage C(Name)). A default name that would be longer (a long source name with C(-copy) or a
    key ID appended) is shortened, always the same way. The source's name is cut, the C(-copy) and key
    suffixes are kept, and C(-) with 8 hexadecimal digits of the SHA-256 of the full name goes before
    them, so that two long names that differ only in their cut part stay different. An explicit O(name)
    that is too long, too short or has other characters is refused before any call to AWS.
  - B(Only symmetric encryption keys.) Amazon EBS encrypts only with symmetric encryption KMS keys
    (Amazon EBS User Guide, "Amazon EBS encryption"). O(kms_key_id), or the region's default EBS key under
    encryption by default, with a C(KeySpec) other than C(SYMMETRIC_DEFAULT) or a C(KeyUsage) other than
    C(ENCRYPT_DECRYPT) is refused before any copy, naming the key, its spec and usage, and the region.
  - B(Encryption is decided, never left to the region's defaults.) With O(kms_key_id), the copy is always
    encrypted with it. Without it, the destination's EBS encryption by default is read before any write
    (C(GetEbsEncryptionByDefault), C(GetEbsDefaultKmsKeyId)). When it is on, the copy is encrypted with the
    region's default key (Amazon EBS User Guide, "Encryption by default"). A default key that is
    AWS-managed (C(aws/ebs)) is refused before any write, since a copy under it could never be shared. A
    customer-managed one is used as if given in O(kms_key_id), with a warning. RV(kms_key_arn) is the key
    the copy's snapshots actually have, read back once it is available.
  - Validates before copying. The source must exist in O(source_region) and be C(available). An
    encrypted source needs O(kms_key_id), which must name an enabled customer-managed key in the
    destination; the error names the region otherwise.
  - With O(wait), waits until the copy is C(available); a copy that ends C(failed) is reported with
    its reason.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  source_image_id:
    description: The AMI to copy.
    type: str
    required: true
  source_region:
    description: The region of O(source_image_id).
    type: str
    required: true
  kms_key_id:
    description:
      - Customer-managed KMS key in the destination region to encrypt the copy with (key ID, key ARN,
        alias name or alias ARN). The copy is encrypted whenever this is set.
      - Required when the source is encrypted. Without it, an unencrypted source is copied unencrypted.
      - It must be a symmetric encryption key (C(KeySpec=SYMMETRIC_DEFAULT), C(KeyUsage=ENCRYPT_DECRYPT)), the only
        kind Amazon EBS encrypts with.
    type: str
  name:
    description:
      - Name of the copy. Defaults to the source's name; for a copy in the source's own region (where
        AMI names must be unique) to the source's name followed by C(-copy). A default name over 128
        characters is shortened (see the description).
      - 3 to 128 letters, digits, spaces and C(\( \) [ ] . / - ' @ _); any other name is refused before copying.
    type: str
  description:
    description: Description of the copy. Defaults to the source's description.
    type: str
  tags:
    description:
      - Tags for the copy and its snapshots, besides the C(orgshare:) tags that make the module
        idempotent (those cannot be overridden).
    type: dict
    default: {}
  wait:
    description: Wait until the copy is C(available).
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 1800
extends_documentation_fragment:
  - orgshare.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Check mode copies nothing; it returns the earlier copy if there is one, else RV(image_id=null) and the would-be parameters.
  diff_mode:
    support: full
    details: Before is the earlier copy (or nothing), after the copy this run returns or would make.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Copy a golden AMI to eu-west-1, re-encrypted with the region's key
  orgshare.aws.ami_region_copy:
    region: eu-west-1
    source_region: us-east-1
    source_image_id: ami-0123456789abcdef0
    kms_key_id: alias/golden-ami
  register: copy

- name: Re-encrypt an AMI under aws/ebs in its own region, so that it can be shared
  orgshare.aws.ami_region_copy:
    region: us-east-1
    source_region: us-east-1
    source_image_id: ami-0123456789abcdef0
    kms_key_id: alias/golden-ami
    tags:
      team: platform
"""

RETURN = r"""
image_id:
  description: The copy (the earlier one when found); null in check mode when a copy would be made.
  returned: always
  type: str
  sample: ami-0fedcba9876543210
source_image_id:
  description: The source AMI.
  returned: always
  type: str
  sample: ami-0123456789abcdef0
source_region:
  description: The source region.
  returned: always
  type: str
  sample: us-east-1
region:
  description: The destination region.
  returned: always
  type: str
  sample: eu-west-1
name:
  description: The name of the copy.
  returned: always
  type: str
  sample: golden-2026-11
encrypted:
  description: Whether the copy is (or would be) encrypted.
  returned: always
  type: bool
  sample: true
kms_key_arn:
  description: The ARN of the key the copy is (or would be) encrypted with; null when unencrypted.
  returned: always
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
state:
  description: The state of the copy (C(available), C(pending)); null in check mode when a copy would be made.
  returned: always
  type: str
  sample: available
other_copies:
  description:
    - Earlier copies of the source in this region that are not encrypted as asked, so they do not count as
      the copy (see the description). They are left as they are.
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    image_id:
      description: The earlier copy.
      type: str
      returned: always
      sample: ami-0aaaabbbbccccdddd
    name:
      description: Its name.
      type: str
      returned: always
      sample: golden-2026-11
    state:
      description: Its state (C(available) or C(pending)).
      type: str
      returned: always
      sample: available
    kms_key_arns:
      description: The keys of its encrypted snapshots; empty when it is unencrypted (or its keys cannot be told yet).
      type: list
      elements: str
      returned: always
      sample: []
"""

import itertools
import time
import uuid

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils._arns import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import key_spec_problem
from ansible_collections.orgshare.aws.plugins.module_utils._kms import describe_key
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module

POLL_SECONDS = 15
# "Eventual consistency in the Amazon EC2 API": a resource just created may be missing from
# Describe calls for a while. A copy missing for this long after CopyImage is gone.
MISSING_GRACE_SECONDS = 60


def load_source(module, image_id, source_region):
    """The source image, which must exist in its region and be available."""
    (image_id,) = _images.check_image_ids([image_id])
    source_ec2 = module.client("ec2", region=source_region)
    found = _ec2.describe_images(source_ec2, [image_id], [])
    if not found:
        raise OrgShareError(
            f"The source AMI {image_id} does not exist in {source_region} (or is not visible to the caller): check source_image_id and source_region."
        )
    source = found[0]
    if source.get("State") == "disabled":
        raise OrgShareError(_images.disabled_problem(image_id, source_region, what="source AMI"))
    if source.get("State") != "available":
        raise OrgShareError(
            f"The source AMI {image_id} in {source_region} is {source.get('State')}, not available: wait until it is available."
        )
    return source


def load_key(kms, key_id, region):
    """The destination key's metadata; it must be an enabled customer-managed key."""
    key = describe_key(kms, key_id)
    if key.get("KeyManager") != "CUSTOMER":
        raise OrgShareError(
            f"kms_key_id {key_id!r} is an AWS-managed key in {region}: copies encrypted with it cannot be shared. "
            f"Give a customer-managed key in {region}."
        )
    spec_problem = key_spec_problem(key, key_id, region)
    if spec_problem:
        raise OrgShareError(f"kms_key_id: {spec_problem} Set kms_key_id to a symmetric encryption customer-managed key of {region}.")
    if key.get("KeyState") != "Enabled":
        raise OrgShareError(
            f"kms_key_id {key_id!r} in {region} is {key.get('KeyState')}: a copy cannot be encrypted with it; enable it first."
        )
    return key


def load_default_key(module, ec2, kms, region):
    """The region's default EBS key when encryption by default is on there (a copy gets it), else None.

    An AWS-managed default (aws/ebs) is refused before any write: a copy encrypted with it could never be shared.
    """
    enabled, default_key_id = _ec2.ebs_encryption_by_default(ec2)
    if not enabled:
        return None
    key = describe_key(kms, default_key_id)
    if key.get("KeyManager") != "CUSTOMER":
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, with the AWS-managed key {key['Arn']} as the default key: a copy made "
            f"there would be encrypted with it and could never be shared. Set kms_key_id to a customer-managed key of {region} "
            f"(for the share_ami role: share_ami_region_kms_keys['{region}']), or make a customer-managed key the region's "
            "default EBS key (ModifyEbsDefaultKmsKeyId)."
        )
    spec_problem = key_spec_problem(key, key["Arn"], region)
    if spec_problem:
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, so a copy made there would be encrypted with the region's default EBS key. "
            f"{spec_problem} "
            f"Set kms_key_id to a symmetric encryption customer-managed key of {region}, or make one the region's default EBS key "
            "(ModifyEbsDefaultKmsKeyId)."
        )
    if key.get("KeyState") != "Enabled":
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, and its default key {key['Arn']} is {key.get('KeyState')}: a copy "
            f"cannot be encrypted with it. Enable it, or set kms_key_id to a usable customer-managed key of {region}."
        )
    module.warn(
        f"EBS encryption by default is on in {region}: the copy is encrypted with the region's default key {key['Arn']}, "
        "which is returned as kms_key_arn (and granted by the share_ami role) like a key given in kms_key_id."
    )
    return key


def actual_key_arn(ec2, image):
    """The key the copy's snapshots are encrypted with, read back once it is available (None when unencrypted)."""
    snapshot_ids = _images.encrypted_snapshot_ids(image)
    snapshots = {snapshot["SnapshotId"]: snapshot for snapshot in _ec2.describe_snapshots(ec2, snapshot_ids)} if snapshot_ids else {}
    keys = _images.image_key_arns(image, snapshots)
    return keys[0] if keys else None


def find_copies(ec2, source_image_id, source_region):
    """The live copies of the source in this region, the way :func:`_images.copies_of` ranks them, and its disabled copies."""
    images = _ec2.describe_images_by_filters(
        ec2,
        [
            {"Name": f"tag:{_images.SOURCE_IMAGE_TAG}", "Values": [source_image_id]},
            {"Name": f"tag:{_images.SOURCE_REGION_TAG}", "Values": [source_region]},
            {"Name": "state", "Values": list(_images.LIVE_COPY_STATES) + ["disabled"]},
        ],
    )
    disabled = _images.copies_of(images, source_image_id, source_region, states=("disabled",))
    return _images.copies_of(images, source_image_id, source_region), disabled


def load_encryptions(ec2, copies):
    """Image ID -> how each copy is encrypted (one DescribeSnapshots for all of them)."""
    snapshot_ids = unique(snapshot_id for image in copies for snapshot_id in _images.encrypted_snapshot_ids(image))
    snapshots = {snapshot["SnapshotId"]: snapshot for snapshot in _ec2.describe_snapshots(ec2, snapshot_ids)} if snapshot_ids else {}
    return {image["ImageId"]: _images.copy_encryption(image, snapshots) for image in copies}


def wait_until_available(ec2, image_id, region, timeout, poll=POLL_SECONDS, grace=MISSING_GRACE_SECONDS):
    """Poll the copy until it is available; a failed copy or the timeout is an error.

    Polls come at 2, 4, 8 seconds, then every ``poll`` seconds: a copy found pending
    late in its run is noticed soon, a long copy costs one call per ``poll`` seconds.
    A copy missing from DescribeImages during its first ``grace`` seconds is not yet
    visible (EC2 is eventually consistent), not gone.
    """
    started = time.monotonic()
    deadline = started + timeout
    for attempt in itertools.count(1):
        found = _ec2.describe_images(ec2, [image_id], ["self"])
        state = found[0].get("State") if found else "missing"
        if state == "available":
            return found[0]
        if state == "missing" and time.monotonic() - started < grace:
            state = "not visible yet"
        elif state in ("failed", "error", "invalid", "deregistered", "disabled", "missing"):
            reason = (found[0].get("StateReason") or {}).get("Message", "no reason given") if found else "it disappeared"
            raise OrgShareError(f"The copy {image_id} in {region} is {state}: {reason}.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OrgShareError(
                f"The copy {image_id} in {region} was still {state} after {timeout} seconds; run again later (the copy will be found, not made twice)."
            )
        time.sleep(min(poll, 2 ** attempt, remaining))


def copy_result(source, params, region, image=None, key_arn=None, encrypted=None):
    """The module's result for a copy (``image``), or for the copy it would make."""
    return {
        "image_id": image["ImageId"] if image else None,
        "source_image_id": source["ImageId"],
        "source_region": params["source_region"],
        "region": region,
        "name": image.get("Name") if image else None,
        "encrypted": _images.image_encrypted(image) if image and image.get("BlockDeviceMappings") else encrypted,
        "kms_key_arn": key_arn,
        "state": image.get("State") if image else None,
    }


def other_copy_entry(image, encryption):
    """One RV(other_copies) entry: an earlier copy that is not encrypted as asked."""
    return {"image_id": image["ImageId"], "name": image.get("Name"), "state": image.get("State"), "kms_key_arns": list(encryption or [])}


def copy_request(source, params, name, key):
    """The CopyImage parameters: the orgshare tags go on the image and its snapshots."""
    tags = dict(params["tags"] or {})
    tags.update(
        {
            _images.SOURCE_IMAGE_TAG: source["ImageId"],
            _images.SOURCE_REGION_TAG: params["source_region"],
            _images.KMS_KEY_TAG: key["Arn"] if key else _images.UNENCRYPTED,
        }
    )
    request = {
        # One token per run: a CopyImage retried after a lost response returns the same copy instead of a second one.
        "ClientToken": uuid.uuid4().hex,
        "SourceImageId": source["ImageId"],
        "SourceRegion": params["source_region"],
        "Name": name,
        "Description": params["description"] if params["description"] is not None else source.get("Description", ""),
        "TagSpecifications": [
            {"ResourceType": resource, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]} for resource in ("image", "snapshot")
        ],
    }
    if key:
        request.update(Encrypted=True, KmsKeyId=key["Arn"])
    return request


def new_copy_name(params, source, region, others, encryptions, key_arn):
    """The name of the copy to make; an explicit name an earlier copy already holds is refused."""
    taken = {image.get("Name"): image for image in others}
    if params["name"]:
        holder = taken.get(params["name"])
        if holder is not None:
            raise OrgShareError(
                f"name {params['name']!r} is already the name of the earlier copy {holder['ImageId']} in {region}, which is "
                f"{_images.describe_encryption(encryptions.get(holder['ImageId']))}: AMI names are unique per account and region. "
                "Leave name unset (the new copy is then named after its key) or choose another name."
            )
        return params["name"]
    return _images.copy_name(source.get("Name", ""), key_arn, taken, suffix="-copy" if region == params["source_region"] else "")


def warn_superseded(module, others, encryptions, source, region, key_arn):
    """Say which earlier copies do not count, and what happens to them (nothing)."""
    wanted = _images.describe_encryption((key_arn,) if key_arn else ())
    for image in others:
        module.warn(
            f"The earlier copy {image['ImageId']} ({image.get('State')}) of {source['ImageId']} in {region} is "
            f"{_images.describe_encryption(encryptions.get(image['ImageId']))}, not {wanted}, so it is not the copy asked for "
            f"and a new one {'would be' if module.check_mode else 'is'} made. The earlier copy is left as it is, launch "
            "permissions included: stop sharing it and deregister it (amazon.aws.ec2_ami state=absent) once nothing uses it."
        )


def ensure(module):
    """Validate, then return the copy encrypted as asked or make one (outside check mode), optionally waiting for it."""
    params = module.params
    region = module.region
    name_problem = _images.image_name_problem(params["name"]) if params["name"] else None
    if name_problem:
        raise OrgShareError(name_problem)
    source = load_source(module, params["source_image_id"], params["source_region"])
    ec2 = module.client("ec2")
    kms = module.client("kms")
    key = load_key(kms, params["kms_key_id"], region) if params["kms_key_id"] else None
    if key is None and _images.image_encrypted(source):
        raise OrgShareError(
            f"The source AMI {source['ImageId']} is encrypted, so its copy in {region} must be encrypted with a customer-managed "
            f"key of {region}: set kms_key_id (for the share_ami role: share_ami_region_kms_keys['{region}'])."
        )
    if key is None:
        key = load_default_key(module, ec2, kms, region)
    key_arn = key["Arn"] if key else None
    will_be_encrypted = key is not None or _images.image_encrypted(source)

    copies, disabled = find_copies(ec2, source["ImageId"], params["source_region"])
    encryptions = load_encryptions(ec2, copies + disabled)
    existing, others = _images.select_copy(copies, encryptions, key_arn)
    disabled_match, _others = _images.select_copy(disabled, encryptions, key_arn)
    if existing is None and disabled_match is not None:
        raise OrgShareError(
            _images.disabled_problem(disabled_match["ImageId"], region, what=f"earlier copy of {source['ImageId']}")
            + " Or deregister it, and a new copy is made."
        )
    before = copy_result(source, params, region, existing, key_arn) if existing else {}
    if existing is not None:
        image = existing
        if params["wait"] and existing.get("State") == "pending" and not module.check_mode:
            image = wait_until_available(ec2, existing["ImageId"], region, params["wait_timeout"])
        result = dict(before, state=image.get("State"), changed=False)
    else:
        name = new_copy_name(params, source, region, others, encryptions, key_arn)
        warn_superseded(module, others, encryptions, source, region, key_arn)
        if module.check_mode:
            result = copy_result(source, params, region, key_arn=key_arn, encrypted=will_be_encrypted)
            result.update(name=name, changed=True)
        else:
            image_id = _ec2.copy_image(ec2, copy_request(source, params, name, key))
            image = {"ImageId": image_id, "Name": name, "State": "pending"}
            if params["wait"]:
                image = wait_until_available(ec2, image_id, region, params["wait_timeout"])
                key_arn = actual_key_arn(ec2, image) if will_be_encrypted else None
            result = copy_result(source, params, region, image, key_arn, encrypted=will_be_encrypted)
            result["changed"] = True
    result["other_copies"] = [other_copy_entry(image, encryptions.get(image["ImageId"])) for image in others]

    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": before, "after": {field: value for field, value in result.items() if field not in ("changed", "other_copies")}}
    return result


def main():
    argument_spec = dict(
        source_image_id=dict(type="str", required=True),
        source_region=dict(type="str", required=True),
        kms_key_id=dict(type="str"),
        name=dict(type="str"),
        description=dict(type="str"),
        tags=dict(type="dict", default={}),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
    )
    run_module(argument_spec, ensure)


if __name__ == "__main__":
    main()
