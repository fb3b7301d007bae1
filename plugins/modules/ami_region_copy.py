#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_region_copy
version_added: 0.1.0
short_description: Copy AMIs to regions, re-encrypted with each region's customer-managed key, once
description:
  - Copies AMIs from O(source_region) into one or more destination regions (O(destination_regions), by default the
    connection's region), encrypted with a customer-managed key of each destination (O(kms_key_ids), O(kms_key_id)).
    Launch permissions are per region and are never copied, so sharing in another region starts with a copy there.
  - B(Many AMIs into many regions in one task.) Every missing copy of every region is started at once, at most
    O(max_concurrent_copies) in flight per destination region, and all of them are waited for together, with one
    C(DescribeImages) per region per poll. EC2 refuses a copy beyond its quota of concurrent AMI copies per destination
    Region with C(ResourceLimitExceeded) (EC2 User Guide, "Copy an AMI", which limits destination Regions "to 100
    concurrent AMI copies"; the account's other copies count too); such a copy is tried again as copies finish, with the
    polls backing off, and the run carries on. RV(copies) has one entry per source and region, with when each copy
    started and finished.
  - B(A failed copy does not stop the others.) A copy that ends C(failed) is reported in RV(copies) with the
    C(StateReason) EC2 gives while the other copies carry on; the task then fails, naming every copy that did not
    succeed, with RV(copies) in its result.
  - A copy in the source's own region (O(source_region) among the destinations) re-encrypts, the way to share an
    AMI whose snapshots use the AWS-managed key C(aws/ebs), which can never be shared. A copy of the caller's own AMI
    there that would be encrypted exactly as the source is adds nothing, and is refused before any copy.
  - B(Idempotent.) Each copy is tagged (through C(CopyImage) C(TagSpecifications), on the image and
    its snapshots) with C(orgshare:source-image-id), C(orgshare:source-region) and C(orgshare:kms-key-arn)
    (the key it was asked to be encrypted with, or C(unencrypted)). In each destination region, one lookup by
    those tags (200 source IDs per call) finds the earlier copies; one that is C(available) or C(pending) is
    returned instead of copying again, so a run that was cut off while copies were pending finds them and waits
    for them; no AMI is ever copied twice into a region. Available copies are preferred, then the newest; a
    C(failed) copy never counts. Where EC2 reports a copy's C(SourceImageId) and C(SourceImageRegion), they must
    agree with its tags (tags copied from another image never make it a copy).
  - B(A copy counts only when it is encrypted as asked.) An earlier copy whose snapshots are encrypted
    with another key than the region's, or unencrypted when a key is asked for (or the other way
    round), is not the copy asked for. A new copy is made, and the earlier one is left exactly as it
    is, its launch permissions included. It is returned in C(other_copies) and a warning says so;
    stop sharing it and deregister it once nothing uses it. The key of an available copy is read
    from its snapshots (C(DescribeSnapshots)); a pending copy whose snapshots are not there yet is
    judged by its C(orgshare:kms-key-arn) tag.
  - AMI names are unique per account and region. When an earlier copy under another key already
    holds the default name, the new copy's name gets the ID of its key (or C(-unencrypted)) appended;
    an explicit O(name) that an earlier copy holds, or a name that two sources would get in one region,
    is refused before copying.
  - B(AMI names are 3 to 128 characters) (letters, digits, spaces and C(\( \) [ ] . / - ' @ _); EC2
    RegisterImage C(Name)). A default name that would be longer (a long source name with C(-copy) or a
    key ID appended) is shortened, always the same way. The source's name is cut, the C(-copy) and key
    suffixes are kept, and C(-) with 8 hexadecimal digits of the SHA-256 of the full name goes before
    them, so that two long names that differ only in their cut part stay different. An explicit O(name)
    that is too long, too short or has other characters is refused before any call to AWS.
  - B(Only symmetric encryption keys.) Amazon EBS encrypts only with symmetric encryption KMS keys
    (Amazon EBS User Guide, "Amazon EBS encryption"). A region's key, or its default EBS key under
    encryption by default, with a C(KeySpec) other than C(SYMMETRIC_DEFAULT) or a C(KeyUsage) other than
    C(ENCRYPT_DECRYPT) is refused before any copy, naming the key, its spec and usage, and the region.
  - B(Encryption is decided, never left to the region's defaults.) With a key for the region, the copies there
    are always encrypted with it. Without one, the region's EBS encryption by default is read before any write
    (C(GetEbsEncryptionByDefault), C(GetEbsDefaultKmsKeyId)). When it is on, the copies are encrypted with the
    region's default key (Amazon EBS User Guide, "Encryption by default"). A default key that is
    AWS-managed (C(aws/ebs)) is refused before any write, since a copy under it could never be shared. A
    customer-managed one is used as if given for the region, with a warning. C(kms_key_arn) is the key
    a copy's snapshots actually have, read back once it is available.
  - B(Everything is validated before the first copy), and every problem found is named at once. The
    destination regions must be regions (as the installed botocore knows them), each named once, in the source
    region's partition; every source must exist in O(source_region) and be C(available); an encrypted source
    needs a key in every destination region; each key must be an enabled customer-managed key of its region;
    O(max_concurrent_copies) and O(snapshot_copy_completion_duration_minutes) must be in range.
  - With O(wait), waits until every copy is C(available). Without it, the task ends once every copy is started
    (it still waits for room under O(max_concurrent_copies) to start them). Long waits work under Ansible's
    C(async) and C(poll), so that a play, or an AWX job, shows progress while the copies run.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  source_image_id:
    description:
      - The AMI to copy. Exactly one of O(source_image_id) and O(source_image_ids) is required.
    type: str
  source_image_ids:
    description:
      - The AMIs to copy, all from O(source_region). Repeats are ignored.
      - Exactly one of O(source_image_id) and O(source_image_ids) is required.
    type: list
    elements: str
    version_added: 0.2.0
  source_region:
    description: The region of the source AMIs.
    type: str
    required: true
  destination_regions:
    description:
      - The regions to copy the AMIs into, each named once, in the partition of O(source_region) (C(CopyImage) copies
        only within a partition). With O(source_region) among them, the copies there re-encrypt the sources.
      - Without it, the connection's region (O(region)) is the one destination.
    type: list
    elements: str
    version_added: 0.2.0
  kms_key_id:
    description:
      - Customer-managed KMS key to encrypt the copies with (key ID, key ARN, alias name or alias ARN), in every
        destination region that O(kms_key_ids) gives no key. KMS keys are regional, so for several regions give an
        alias name that exists in each of them, or use O(kms_key_ids); a key ARN of another region is refused.
      - A region's copies are encrypted whenever it has a key. An encrypted source needs a key in every destination
        region. Without one, an unencrypted source is copied unencrypted (unless encryption by default is on there).
      - It must be a symmetric encryption key (C(KeySpec=SYMMETRIC_DEFAULT), C(KeyUsage=ENCRYPT_DECRYPT)), the only
        kind Amazon EBS encrypts with.
    type: str
  kms_key_ids:
    description:
      - The key of each destination region, region name to key (key ID, key ARN, alias name or alias ARN). It wins
        over O(kms_key_id) for the regions it names; regions it names that are not destinations are not used.
      - The same rules as for O(kms_key_id) apply to each key.
    type: dict
    default: {}
    version_added: 0.2.0
  name:
    description:
      - Name of the copy, for one source AMI. Defaults to the source's name; for a copy in the source's own region
        (where AMI names must be unique) to the source's name followed by C(-copy). A default name over 128
        characters is shortened (see the description).
      - 3 to 128 letters, digits, spaces and C(\( \) [ ] . / - ' @ _); any other name is refused before copying.
    type: str
  description:
    description: Description of the copies. Defaults to each source's description.
    type: str
  tags:
    description:
      - Tags for the copies and their snapshots, besides the C(orgshare:) tags that make the module
        idempotent (those cannot be overridden).
    type: dict
    default: {}
  copy_image_tags:
    description:
      - Copy the source's user-defined tags onto each copy (C(CopyImage) C(CopyImageTags)). O(tags) and the
        C(orgshare:) tags are set as well. Copies found from earlier runs are left as they are.
      - Needs a botocore whose EC2 model has C(CopyImageTags); an older one is refused with what to upgrade.
    type: bool
    default: false
    version_added: 0.2.0
  snapshot_copy_completion_duration_minutes:
    description:
      - Make time-based copies, each snapshot completed within this many minutes (C(CopyImage)
        C(SnapshotCopyCompletionDurationMinutes)), 15 to 2880 (48 hours) in steps of 15 (Amazon EBS User Guide,
        "Time-based copies for Amazon EBS snapshots and EBS-backed AMIs"). They cost more than copies made on a
        best-effort basis, which is what copies are without this.
      - Needs a botocore whose EC2 model has C(SnapshotCopyCompletionDurationMinutes); an older one is refused with
        what to upgrade.
    type: int
    version_added: 0.2.0
  max_concurrent_copies:
    description:
      - At most this many copies in flight (C(pending)) per destination region, the copies of this run and the earlier
        ones it found pending together. At least 1.
      - The default is EC2's quota of concurrent AMI copies per destination Region (EC2 User Guide, "Copy an AMI",
        "Cross-Region copying", which limits destination Regions "to 100 concurrent AMI copies"). Copies refused for the
        quota all the same (other copies of the account count too) are tried again as copies finish.
    type: int
    default: 100
    version_added: 0.2.0
  wait:
    description:
      - Wait until every copy is C(available). Without it, the task ends once every copy is started.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds, for all the copies together.
    type: int
    default: 1800
extends_documentation_fragment:
  - orgshare.aws.attributes
  - orgshare.aws.known_kms_keys
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: >-
      Check mode copies nothing; it returns every copy as a real run would, the earlier ones found and, for the copies
      to be made, C(image_id=null) with their name and encryption.
  diff_mode:
    support: full
    details: >-
      Before are the earlier copies that count, after the copies this run returns or would make. For one source copied
      into one region, each side is that copy (before is empty when there was none); otherwise each side is
      C(copies), a list.
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

- name: Copy this week's AMIs into three regions at once, each with its region's key
  orgshare.aws.ami_region_copy:
    source_region: us-east-1
    source_image_ids:
      - ami-0123456789abcdef0
      - ami-0fedcba9876543210
    destination_regions: [eu-west-1, eu-central-1, ap-southeast-2]
    kms_key_ids:
      eu-west-1: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
      eu-central-1: alias/golden-ami
      ap-southeast-2: alias/golden-ami
    tags:
      team: platform
  async: 7200  # copies take minutes to hours: the play shows progress while they run
  poll: 30
  register: copies

- name: The copies made in eu-west-1
  ansible.builtin.debug:
    msg: "{{ copies.copies | selectattr('region', 'equalto', 'eu-west-1') | map(attribute='image_id') }}"

- name: Re-encrypt an AMI under aws/ebs in its own region, so that it can be shared
  orgshare.aws.ami_region_copy:
    region: us-east-1
    source_region: us-east-1
    source_image_id: ami-0123456789abcdef0
    kms_key_id: alias/golden-ami

- name: Time-based copies, each snapshot within 2 hours, with the sources' tags
  orgshare.aws.ami_region_copy:
    source_region: us-east-1
    source_image_ids: [ami-0123456789abcdef0]
    destination_regions: [eu-west-1]
    kms_key_id: alias/golden-ami
    snapshot_copy_completion_duration_minutes: 120
    copy_image_tags: true
"""

RETURN = r"""
copies:
  description:
    - One entry per source AMI and destination region, in the order of O(destination_regions), then of the sources.
    - In a failed result too, when copies did not succeed.
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    source_image_id:
      description: The source AMI.
      type: str
      returned: always
      sample: ami-0123456789abcdef0
    region:
      description: The destination region.
      type: str
      returned: always
      sample: eu-west-1
    image_id:
      description: The copy (the earlier one when found); null in check mode when a copy would be made, or when it could not be started.
      type: str
      returned: always
      sample: ami-0fedcba9876543210
    name:
      description: The name of the copy.
      type: str
      returned: always
      sample: golden-2026-11
    state:
      description:
        - The state of the copy as last seen (C(available), C(pending), C(failed)); null in check mode when a copy would
          be made, or when it could not be started.
      type: str
      returned: always
      sample: available
    encrypted:
      description: Whether the copy is (or would be) encrypted.
      type: bool
      returned: always
      sample: true
    kms_key_arn:
      description: The ARN of the key the copy is (or would be) encrypted with; null when unencrypted.
      type: str
      returned: always
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    changed:
      description: Whether this run made the copy (in check mode, would make it).
      type: bool
      returned: always
      sample: true
    started:
      description:
        - When the copy started (UTC, ISO 8601), that is when this run's C(CopyImage) answered, or the C(CreationDate) of an
          earlier copy. Null for a copy not started.
      type: str
      returned: always
      sample: "2026-11-02T10:00:00.000Z"
    finished:
      description:
        - When this run saw the copy end (available or failed), UTC, ISO 8601. Null when it did not see it end (the copy
          was available already, is still pending, or was not started).
      type: str
      returned: always
      sample: "2026-11-02T10:41:15.250Z"
    state_reason:
      description: For a copy that EC2 reports failed, or whose C(CopyImage) was refused, what EC2 gave as the reason; else null.
      type: dict
      returned: always
      sample: {"code": "Client.InvalidKMSKey.InvalidState", "message": "The KMS key ... is Disabled"}
      contains:
        code:
          description: The code.
          type: str
          returned: always
        message:
          description: The message.
          type: str
          returned: always
    error:
      description: Why the copy did not succeed (failed, refused, timed out, not started); null when it did.
      type: str
      returned: always
      sample: null
    other_copies:
      description:
        - Earlier copies of the source in the region that are not encrypted as asked, so they do not count as
          the copy (see the description). They are left as they are.
      type: list
      elements: dict
      returned: always
      contains: &other_copy_fields
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
source_region:
  description: The source region.
  returned: always
  type: str
  sample: us-east-1
image_id:
  description: The copy (the earlier one when found); null in check mode when a copy would be made.
  returned: when one source AMI is copied into one region
  type: str
  sample: ami-0fedcba9876543210
source_image_id:
  description: The source AMI.
  returned: when one source AMI is copied into one region
  type: str
  sample: ami-0123456789abcdef0
region:
  description: The destination region.
  returned: when one source AMI is copied into one region
  type: str
  sample: eu-west-1
name:
  description: The name of the copy.
  returned: when one source AMI is copied into one region
  type: str
  sample: golden-2026-11
encrypted:
  description: Whether the copy is (or would be) encrypted.
  returned: when one source AMI is copied into one region
  type: bool
  sample: true
kms_key_arn:
  description: The ARN of the key the copy is (or would be) encrypted with; null when unencrypted.
  returned: when one source AMI is copied into one region
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
state:
  description: The state of the copy (C(available), C(pending)); null in check mode when a copy would be made.
  returned: when one source AMI is copied into one region
  type: str
  sample: available
other_copies:
  description:
    - Earlier copies of the source in this region that are not encrypted as asked, so they do not count as
      the copy (see the description). They are left as they are. The same as RV(copies[].other_copies).
  returned: when one source AMI is copied into one region
  type: list
  elements: dict
  version_added: 0.2.0
  contains: *other_copy_fields
kms_keys:
  description:
    - The metadata of every KMS key this run described (C(DescribeKey)) or took from O(known_kms_keys), in the shape
      O(known_kms_keys) of a later task takes it.
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    arn:
      description: The key ARN.
      type: str
      returned: always
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    key_id:
      description: The key ID.
      type: str
      returned: always
      sample: 1234abcd-12ab-34cd-56ef-1234567890ab
    aws_account_id:
      description: The account that owns the key.
      type: str
      returned: always
      sample: "111122223333"
    key_manager:
      description: C(CUSTOMER) for a customer-managed key, C(AWS) for an AWS-managed one.
      type: str
      returned: always
      sample: CUSTOMER
    key_state:
      description: The key's state (C(Enabled), C(Disabled), C(PendingDeletion)...).
      type: str
      returned: always
      sample: Enabled
    key_spec:
      description: The key's spec; Amazon EBS encrypts only with C(SYMMETRIC_DEFAULT).
      type: str
      returned: always
      sample: SYMMETRIC_DEFAULT
    key_usage:
      description: The key's usage; Amazon EBS encrypts only with C(ENCRYPT_DECRYPT).
      type: str
      returned: always
      sample: ENCRYPT_DECRYPT
"""

import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore/boto3 itself.

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils._api import known_regions
from ansible_collections.orgshare.aws.plugins.module_utils._api import map_bounded
from ansible_collections.orgshare.aws.plugins.module_utils._api import raise_first_error
from ansible_collections.orgshare.aws.plugins.module_utils._copies import CopyJob
from ansible_collections.orgshare.aws.plugins.module_utils._copies import RegionCopies
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._kms import caller_account_id
from ansible_collections.orgshare.aws.plugins.module_utils._kms import KeyDirectory
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module

# CopyImage parameters that only newer botocore releases know, by the option that sets them.
NEWER_PARAMETERS = {
    "snapshot_copy_completion_duration_minutes": "SnapshotCopyCompletionDurationMinutes",
    "copy_image_tags": "CopyImageTags",
}
# What a copy is, in the diff and (for one source copied into one region) at the top of the result.
COPY_FIELDS = ("image_id", "source_image_id", "region", "name", "encrypted", "kms_key_arn", "state")

ARGUMENT_SPEC = dict(
    source_image_id=dict(type="str"),
    source_image_ids=dict(type="list", elements="str"),
    source_region=dict(type="str", required=True),
    destination_regions=dict(type="list", elements="str"),
    kms_key_id=dict(type="str"),
    kms_key_ids=dict(type="dict", default={}, no_log=False),
    name=dict(type="str"),
    description=dict(type="str"),
    tags=dict(type="dict", default={}),
    copy_image_tags=dict(type="bool", default=False),
    snapshot_copy_completion_duration_minutes=dict(type="int"),
    max_concurrent_copies=dict(type="int", default=_images.DEFAULT_CONCURRENT_COPIES),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
    known_kms_keys=dict(type="list", elements="dict", default=[], no_log=False),
)


def refuse(problems):
    """Raise the problems found (all of them), if any."""
    if len(problems) == 1:
        raise OrgShareError(problems[0])
    _images.raise_problems(problems)


def input_problems(params, image_ids, destinations, key_problems):
    """What is wrong with the options themselves, found before any call to AWS (``key_problems`` from :func:`_images.region_keys`)."""
    problems = []
    if params["name"] and len(image_ids) > 1:
        problems.append(
            f"name is the name of one copy, but source_image_ids names {len(image_ids)} AMIs: leave name unset (each copy is then named "
            "after its source) or copy one AMI per task."
        )
    elif params["name"]:
        problems.append(_images.image_name_problem(params["name"]))
    partitions = known_regions("ec2")
    problems.extend(_images.region_problems(destinations, partitions, params["source_region"]))
    problems.extend(
        _images.unknown_region_problem(region, "kms_key_ids")
        for region in params["kms_key_ids"] or {}
        if region not in partitions
    )
    problems.append(_images.concurrent_copies_problem(params["max_concurrent_copies"]))
    problems.append(_images.completion_duration_problem(params["snapshot_copy_completion_duration_minutes"]))
    problems.extend(key_problems)
    return [problem for problem in problems if problem]


def botocore_problems(client, params):
    """Options set whose CopyImage parameter the installed botocore does not know (its EC2 model is older than the parameter)."""
    members = client.meta.service_model.operation_model("CopyImage").input_shape.members
    return [
        f"{option} needs CopyImage's {parameter}, which the installed botocore {botocore.__version__} does not know: upgrade boto3 "
        f"and botocore on the host that runs the module, or leave {option} unset."
        for option, parameter in NEWER_PARAMETERS.items()
        if params[option] and parameter not in members
    ]


def load_sources(ec2, image_ids, source_region, option):
    """The source images (one batched DescribeImages), each of which must exist in its region and be available."""
    found = {image["ImageId"]: image for image in _ec2.describe_images(ec2, image_ids, [])}
    problems = []
    for image_id in image_ids:
        source = found.get(image_id)
        if source is None:
            problems.append(
                f"The source AMI {image_id} does not exist in {source_region} (or is not visible to the caller): check {option} and source_region."
            )
        elif source.get("State") == "disabled":
            problems.append(_images.disabled_problem(image_id, source_region, what="source AMI"))
        elif source.get("State") != "available":
            problems.append(
                f"The source AMI {image_id} in {source_region} is {source.get('State')}, not available: wait until it is available."
            )
    refuse(problems)
    return [found[image_id] for image_id in image_ids]


def load_key(kms, directory, key_id, region, option="kms_key_id"):
    """The destination key's metadata (given in ``option``); it must be an enabled customer-managed key."""
    key = directory.describe(kms, key_id)
    if not _keys.is_customer_managed(key):
        raise OrgShareError(
            f"{option} {key_id!r} is an AWS-managed key in {region}, and {_keys.AWS_MANAGED_REASON}: no copy encrypted with it "
            f"could be. Give a customer-managed key in {region}."
        )
    spec_problem = _keys.key_spec_problem(key, key_id, region)
    if spec_problem:
        raise OrgShareError(
            f"{option}: {spec_problem} Set {option} to a symmetric encryption customer-managed key of {region}."
        )
    if not _keys.can_encrypt_now(key):
        raise OrgShareError(
            f"{option} {key_id!r} in {region} is {key.get('KeyState')}: a copy cannot be encrypted with it; enable it first."
        )
    return key


def load_default_key(ec2, kms, directory, region):
    """``(key, warning)``: the region's default EBS key when encryption by default is on there (a copy gets it), else None.

    An AWS-managed default (aws/ebs) is refused before any write: a copy encrypted with it could never be shared.
    """
    enabled, default_key_id = _ec2.ebs_encryption_by_default(ec2)
    if not enabled:
        return None, None
    key = directory.describe(kms, default_key_id)
    if not _keys.is_customer_managed(key):
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, with the AWS-managed key {key['Arn']} as the default key: a copy made "
            f"there would be encrypted with it and could never be shared: {_keys.AWS_MANAGED_REASON}. Set kms_key_id to a customer-managed key of {region} "
            f"(for the share_ami role: share_ami_region_kms_keys['{region}']), or make a customer-managed key the region's "
            "default EBS key (ModifyEbsDefaultKmsKeyId)."
        )
    spec_problem = _keys.key_spec_problem(key, key["Arn"], region)
    if spec_problem:
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, so a copy made there would be encrypted with the region's default EBS key. "
            f"{spec_problem} "
            f"Set kms_key_id to a symmetric encryption customer-managed key of {region}, or make one the region's default EBS key "
            "(ModifyEbsDefaultKmsKeyId)."
        )
    if not _keys.can_encrypt_now(key):
        raise OrgShareError(
            f"EBS encryption by default is on in {region}, and its default key {key['Arn']} is {key.get('KeyState')}: a copy "
            f"cannot be encrypted with it. Enable it, or set kms_key_id to a usable customer-managed key of {region}."
        )
    warning = (
        f"EBS encryption by default is on in {region}: the copies are encrypted with the region's default key {key['Arn']}, "
        "which is returned as kms_key_arn (and granted by the share_ami role) like a key given in kms_key_id."
    )
    return key, warning


def survey_region(ec2, kms, directory, region, key_ref, key_option, source_image_ids, source_region):
    """What one destination region holds: the key its copies get (None: unencrypted), a warning about it, and every earlier
    copy of the sources there (one batched lookup by the tags the copies carry) with how each is encrypted.

    ``key_ref`` is the key given for the region (in the option ``key_option``), None for none."""
    key, warning = (
        (load_key(kms, directory, key_ref, region, key_option), None)
        if key_ref
        else load_default_key(ec2, kms, directory, region)
    )
    images = _ec2.describe_images_by_filters(
        ec2,
        [
            {"Name": f"tag:{_images.SOURCE_REGION_TAG}", "Values": [source_region]},
            {"Name": "state", "Values": list(_images.LIVE_COPY_STATES) + ["disabled"]},
        ],
        (f"tag:{_images.SOURCE_IMAGE_TAG}", source_image_ids),
    )
    snapshots = _ec2.encrypted_snapshots_of(ec2, images)
    return {
        "key_arn": key["Arn"] if key else None,
        "warning": warning,
        "images": images,
        "encryptions": {image["ImageId"]: _images.copy_encryption(image, snapshots) for image in images},
    }


def same_region_problems(module, source_ec2, sources, region, key_arn):
    """Copies into the sources' own region that would add nothing (see :func:`_images.same_region_problem`)."""
    account_id = caller_account_id(module.client("sts", region=region))
    owned = [source for source in sources if source.get("OwnerId") == account_id]
    snapshots = _ec2.encrypted_snapshots_of(source_ec2, owned)
    problems = (
        _images.same_region_problem(source, _images.source_encryption(source, snapshots), key_arn, region, account_id)
        for source in owned
    )
    return [problem for problem in problems if problem]


def copy_request(plan, params, source_region):
    """The CopyImage parameters of a planned copy: the orgshare tags go on the image and its snapshots."""
    source, key_arn = plan["source"], plan["key_arn"]
    tags = dict(params["tags"] or {})
    tags.update(
        {
            _images.SOURCE_IMAGE_TAG: source["ImageId"],
            _images.SOURCE_REGION_TAG: source_region,
            _images.KMS_KEY_TAG: key_arn or _images.UNENCRYPTED,
        }
    )
    request = {
        "SourceImageId": source["ImageId"],
        "SourceRegion": source_region,
        "Name": plan["name"],
        "Description": params["description"] if params["description"] is not None else source.get("Description", ""),
        "TagSpecifications": [
            {"ResourceType": resource, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
            for resource in ("image", "snapshot")
        ],
    }
    if key_arn:
        request.update(Encrypted=True, KmsKeyId=key_arn)
    if params["copy_image_tags"]:
        request["CopyImageTags"] = True
    if params["snapshot_copy_completion_duration_minutes"] is not None:
        request["SnapshotCopyCompletionDurationMinutes"] = params["snapshot_copy_completion_duration_minutes"]
    return request


def warn_superseded(module, plan, encryptions):
    """Say which earlier copies do not count, and what happens to them (nothing)."""
    wanted = _images.describe_encryption((plan["key_arn"],) if plan["key_arn"] else ())
    for image in plan["others"]:
        module.warn(
            f"The earlier copy {image['ImageId']} ({image.get('State')}) of {plan['source']['ImageId']} in {plan['region']} is "
            f"{_images.describe_encryption(encryptions.get(image['ImageId']))}, not {wanted}, so it is not the copy asked for "
            f"and a new one {'would be' if module.check_mode else 'is'} made. The earlier copy is left as it is, launch "
            "permissions included: stop sharing it and deregister it (amazon.aws.ec2_ami state=absent) once nothing uses it."
        )


def job_for(plan, params, source_region):
    """What the run does for a planned copy: make it, wait for the earlier copy still pending, or nothing (None)."""
    copy = plan["copy"]
    if copy is None:
        return CopyJob(plan["source"]["ImageId"], request=copy_request(plan, params, source_region))
    if copy.get("State") == "pending":
        return CopyJob(plan["source"]["ImageId"], image_id=copy["ImageId"], started=copy.get("CreationDate"))
    return None


def copy_entry(plan, encryptions, job=None, check_mode=False):
    """One RV(copies) entry: the copy of a source in a region, as found, made or (check mode) to be made."""
    found = plan["copy"]
    image = (job.image if job else None) or found
    made = job is not None and found is None
    return {
        "source_image_id": plan["source"]["ImageId"],
        "region": plan["region"],
        "image_id": job.image_id if made else (found["ImageId"] if found else None),
        "name": image.get("Name") if image else plan["name"],
        "encrypted": _images.image_encrypted(image)
        if image and image.get("BlockDeviceMappings")
        else plan["key_arn"] is not None,
        "kms_key_arn": (job.key_arn if job else None) or plan["key_arn"],
        "state": job.state if job else (found.get("State") if found else None),
        "changed": found is None and (check_mode or bool(job and job.changed)),
        "started": job.started if job else (found.get("CreationDate") if found else None),
        "finished": job.finished if job else None,
        "state_reason": job.state_reason if job else None,
        "error": job.error if job else None,
        "other_copies": [
            {
                "image_id": other["ImageId"],
                "name": other.get("Name"),
                "state": other.get("State"),
                "kms_key_arns": list(encryptions.get(other["ImageId"]) or []),
            }
            for other in plan["others"]
        ],
    }


def run_copies(module, clients, plans_by_region, params, source_region):
    """Make the missing copies of every region at once, each region within the bound, and wait for them (with O(wait))."""
    deadline = time.monotonic() + params["wait_timeout"]
    runners = []
    for region, plans in plans_by_region.items():
        for plan in plans:
            plan["job"] = job_for(plan, params, source_region)
        jobs = [plan["job"] for plan in plans if plan["job"] is not None]
        if jobs:
            runners.append(
                RegionCopies(
                    clients[region][0],
                    region,
                    jobs,
                    params["max_concurrent_copies"],
                    params["wait"],
                    deadline,
                    params["wait_timeout"],
                )
            )
    raise_first_error(map_bounded(lambda runner: runner.run(), runners, len(runners)))
    for runner in runners:
        if runner.refusals:
            module.warn(
                f"EC2 refused {runner.refusals} CopyImage call(s) in {runner.region} for its quota of concurrent AMI copies "
                f"(ResourceLimitExceeded), with at most {runner.most_in_flight} copies of this run in flight there: they were tried "
                "again as copies finished. Other copies of the account use the quota too; a lower max_concurrent_copies avoids the refusals."
            )


def destinations_of(module):
    """The destination regions: O(destination_regions), else the connection's region."""
    regions = module.params["destination_regions"]
    if regions == []:
        raise OrgShareError(
            "destination_regions is empty: give at least one region, or leave it out to copy into the connection's region."
        )
    if not regions and not module.region:
        raise OrgShareError(
            "No destination region: set destination_regions, or the connection's region (region, or AWS_REGION)."
        )
    return regions or [module.region]


def survey_regions(clients, directory, destinations, keys, params, image_ids):
    """Every destination region surveyed (:func:`survey_region`), the regions side by side; the first failure is raised."""

    def survey(region):
        key_option = _images.key_option(region, params["kms_key_ids"])
        ec2, kms = clients[region]
        return survey_region(ec2, kms, directory, region, keys[region], key_option, image_ids, params["source_region"])

    outcomes = map_bounded(survey, destinations, len(destinations))
    raise_first_error(outcomes)
    return {region: outcome.value for region, outcome in zip(destinations, outcomes)}


def plan_copies(module, source_ec2, sources, surveys):
    """Region -> the plans of its copies (:func:`_images.plan_region`); every problem found in any region is raised together."""
    source_region, problems, plans_by_region = module.params["source_region"], [], {}
    if source_region in surveys:
        problems.extend(
            same_region_problems(module, source_ec2, sources, source_region, surveys[source_region]["key_arn"])
        )
    for region, survey in surveys.items():
        plans_by_region[region], region_problems = _images.plan_region(
            sources,
            region,
            source_region,
            survey["key_arn"],
            survey["images"],
            survey["encryptions"],
            module.params["name"],
        )
        problems.extend(region_problems)
    refuse(problems)
    for region, plans in plans_by_region.items():
        if surveys[region]["warning"]:
            module.warn(surveys[region]["warning"])
        for plan in plans:
            if plan["copy"] is None:
                warn_superseded(module, plan, surveys[region]["encryptions"])
    return plans_by_region


def ensure(module):
    """Validate everything, then return the copies encrypted as asked, making the missing ones (outside check mode)."""
    params = module.params
    source_region = params["source_region"]
    option = "source_image_ids" if params["source_image_ids"] is not None else "source_image_id"
    image_ids = _images.check_image_ids(
        params["source_image_ids"] if params["source_image_ids"] is not None else [params["source_image_id"]], option
    )
    destinations = destinations_of(module)
    keys, key_problems = _images.region_keys(destinations, params["kms_key_id"], params["kms_key_ids"])
    refuse(input_problems(params, image_ids, destinations, key_problems))
    directory = KeyDirectory(params["known_kms_keys"])
    clients = {
        region: (module.client("ec2", region=region), module.client("kms", region=region)) for region in destinations
    }
    refuse(botocore_problems(clients[destinations[0]][0], params))

    source_ec2 = clients[source_region][0] if source_region in clients else module.client("ec2", region=source_region)
    sources = load_sources(source_ec2, image_ids, source_region, option)
    encrypted_ids = [source["ImageId"] for source in sources if _images.image_encrypted(source)]
    without_key = [region for region in destinations if not keys[region]]
    refuse(
        [
            problem
            for problem in [
                _images.missing_keys_problem(
                    encrypted_ids, without_key, single_region=not params["destination_regions"]
                )
            ]
            if problem
        ]
    )
    surveys = survey_regions(clients, directory, destinations, keys, params, image_ids)
    plans_by_region = plan_copies(module, source_ec2, sources, surveys)

    before = [
        copy_entry(plan, surveys[region]["encryptions"])
        for region, plans in plans_by_region.items()
        for plan in plans
        if plan["copy"]
    ]
    if not module.check_mode:
        run_copies(module, clients, plans_by_region, params, source_region)
    entries = [
        copy_entry(plan, surveys[region]["encryptions"], plan.get("job"), module.check_mode)
        for region, plans in plans_by_region.items()
        for plan in plans
    ]
    result = {
        "changed": any(entry["changed"] for entry in entries),
        "source_region": source_region,
        "copies": entries,
        "kms_keys": directory.summaries(),
    }
    single = len(entries) == 1
    if single:
        result.update({field: entries[0][field] for field in COPY_FIELDS}, other_copies=entries[0]["other_copies"])
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = copy_diff(before, entries, source_region, single)
    failed = [entry for entry in entries if entry["error"]]
    if failed:
        summary = "" if single else f"{len(failed)} of {len(entries)} copies did not succeed; the others did. "
        raise OrgShareError(summary + " ".join(entry["error"] for entry in failed), **result)
    return result


def copy_diff(before, entries, source_region, single):
    """Before: the earlier copies that count; after: the copies this run returns or would make.

    For one source copied into one region, each side is that copy's fields (before: ``{}`` when there was none).
    """

    def fields(entry):
        return dict({field: entry[field] for field in COPY_FIELDS}, source_region=source_region)

    if single:
        return {"before": fields(before[0]) if before else {}, "after": fields(entries[0])}
    return {
        "before": {"copies": [fields(entry) for entry in before]},
        "after": {"copies": [fields(entry) for entry in entries]},
    }


def main():
    run_module(
        ARGUMENT_SPEC,
        ensure,
        module_args=dict(
            mutually_exclusive=[("source_image_id", "source_image_ids")],
            required_one_of=[("source_image_id", "source_image_ids")],
        ),
    )


if __name__ == "__main__":
    main()
