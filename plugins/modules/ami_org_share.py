#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_org_share
version_added: 0.1.0
short_description: Share AMIs with AWS Organizations and OUs, or stop sharing them
description:
  - Adds or removes organization and organizational unit (OU) launch permissions on one or many AMIs
    in the connection's region, with at most one C(ModifyImageAttribute) call per image carrying all
    of its adds and removes, and none when nothing changes.
  - Account (C(UserId)) and public (C(Group=all)) launch permissions are never added, removed or
    purged by this module.
  - B(Everything is validated before the first write), across all images; if any image fails, no
    image is modified and the message lists every problem found. It checks the ARNs (a bare
    C(o-...)/C(ou-...) ID is refused, as EC2 refuses it too), that each image exists in this region,
    is owned by the caller (only the owner can share an AMI) and is C(available), and, with
    O(check_encryption), that no snapshot is encrypted with an AWS-managed key (such snapshots can
    never be shared) or with a key that is disabled, pending deletion or pending import. It also counts
    each image's launch-permission entries after the change against the AMI sharing quota
    (O(sharing_quota)).
  - If a C(ModifyImageAttribute) call still fails after its retries, the images already changed by
    this run are put back as they were, so a failure never leaves some images changed and others not.
  - Built for hundreds of images in one task. C(DescribeImages) and C(DescribeSnapshots) are batched
    (200 IDs per call), C(DescribeKey) is called once per distinct key, and the per-image
    C(DescribeImageAttribute) and C(ModifyImageAttribute) calls run at most O(max_concurrency) at a
    time, each retried with jittered backoff on throttling (C(RequestLimitExceeded)) and 5xx errors.
    For N images that all change, that is about 2N calls plus a few; N plus a few when none does.
  - Launch permissions are per region and are not copied with an AMI; tags are never shared. To share
    in another region, copy the AMI there first (M(orgshare.aws.ami_region_copy)).
author:
  - orgshare.aws maintainers (@orgshare)
options:
  image_ids:
    description:
      - The AMIs to share, in the connection's region. Repeats are ignored.
    type: list
    elements: str
    required: true
    aliases: [image_id]
  organization_arns:
    description:
      - Organization ARNs, C(arn:<partition>:organizations::<management account>:organization/o-...).
      - M(orgshare.aws.org_arn_info) returns them for an organization ID.
    type: list
    elements: str
    default: []
  organizational_unit_arns:
    description:
      - OU ARNs, C(arn:<partition>:organizations::<management account>:ou/o-.../ou-...).
      - M(orgshare.aws.org_arn_info) returns them for OU IDs or name paths such as C(Root/Workloads/Prod).
      - At least one organization or OU must be listed, in this option or in O(organization_arns), unless
        O(purge=true) (which, with none listed, stops sharing with every organization and OU).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) adds the listed organizations and OUs to each image's launch permissions.
      - V(absent) removes the listed ones where present.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove every organization and OU launch permission that is not
        listed, so that the listed ones are exactly the organizations and OUs the images are shared with.
      - Account and public launch permissions are kept either way.
      - Ignored (with a warning) when O(state=absent).
    type: bool
    default: false
  check_encryption:
    description:
      - Read the snapshots behind each image (C(DescribeSnapshots)) and their keys (C(DescribeKey)) to
        refuse images that cannot be shared or used, and to return the customer-managed key ARNs
        (RV(kms_key_arns)) that M(orgshare.aws.kms_org_grant) must open to the organization or OU.
      - With O(state=absent) the keys are still read and returned, but nothing is refused because of them.
      - When V(false), RV(images[].kms_key_arns) and RV(kms_key_arns) are empty lists.
    type: bool
    default: true
  max_concurrency:
    description:
      - How many per-image calls may run at once. EC2 throttles per account and region, so raise this
        with care; throttled calls are retried with jittered backoff.
    type: int
    default: 4
  sharing_quota:
    description:
      - The most accounts, organizations and OUs one AMI may be shared with in a region, the EC2 quota
        C(AMI sharing) (1,000 unless raised for the account through Service Quotas; EC2 User Guide,
        "AMI quotas"). The accounts inside an organization or OU do not count, nor does public sharing.
      - Before the first write (and in check mode), each image's entries after the change are counted, its
        account entries (which this module never changes) included; if any image would go over this
        quota, no image is changed and the message names each such image, its count now and after, and
        what to do. A change that only removes entries is never refused.
      - Set it to the account's applied quota when it has been raised.
    type: int
    default: 1000
    version_added: 0.2.0
extends_documentation_fragment:
  - orgshare.aws.attributes
  - orgshare.aws.known_kms_keys
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Check mode reads exactly what a real run reads and returns exactly what it would return, without any write call.
  diff_mode:
    support: full
    details: Before and after, per image, the organization and OU ARNs it is shared with.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Share two AMIs with an OU
  orgshare.aws.ami_org_share:
    region: eu-west-1
    image_ids:
      - ami-0123456789abcdef0
      - ami-0fedcba9876543210
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
  register: shared

- name: Let the OU use the keys of those AMIs
  orgshare.aws.kms_org_grant:
    region: eu-west-1
    key_id: "{{ item }}"
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
  loop: "{{ shared.kms_key_arns }}"

- name: Share with exactly the whole organization, dropping every other organization/OU share
  orgshare.aws.ami_org_share:
    image_id: ami-0123456789abcdef0
    organization_arns:
      - arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5
    purge: true

- name: Stop sharing with the OU
  orgshare.aws.ami_org_share:
    image_ids: [ami-0123456789abcdef0]
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    state: absent
"""

RETURN = r"""
images:
  description: One entry per image, in the order of O(image_ids).
  returned: always
  type: list
  elements: dict
  contains:
    image_id:
      description: The AMI ID.
      type: str
      returned: always
      sample: ami-0123456789abcdef0
    name:
      description: The AMI name.
      type: str
      returned: always
      sample: golden-2026-11
    owner_id:
      description: The account that owns the AMI (the caller).
      type: str
      returned: always
      sample: "111122223333"
    region:
      description: The region of the AMI.
      type: str
      returned: always
      sample: eu-west-1
    organization_arns:
      description: The organization ARNs the AMI is shared with after this run, sorted.
      type: list
      elements: str
      returned: always
      sample: [arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5]
    organizational_unit_arns:
      description: The OU ARNs the AMI is shared with after this run, sorted.
      type: list
      elements: str
      returned: always
      sample: [arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56]
    added:
      description: What this run adds (or would add in check mode).
      type: dict
      returned: always
      contains:
        organization_arns:
          description: Organization ARNs added.
          type: list
          elements: str
          returned: always
          sample: []
        organizational_unit_arns:
          description: OU ARNs added.
          type: list
          elements: str
          returned: always
          sample: [arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56]
    removed:
      description: What this run removes (or would remove in check mode).
      type: dict
      returned: always
      contains:
        organization_arns:
          description: Organization ARNs removed.
          type: list
          elements: str
          returned: always
          sample: []
        organizational_unit_arns:
          description: OU ARNs removed.
          type: list
          elements: str
          returned: always
          sample: []
    encrypted:
      description: Whether any EBS snapshot of the AMI is encrypted.
      type: bool
      returned: always
      sample: true
    kms_key_arns:
      description: The customer-managed KMS key ARNs of the AMI's encrypted snapshots (empty when O(check_encryption=false)).
      type: list
      elements: str
      returned: always
      sample: [arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab]
    changed:
      description: Whether this image's launch permissions change.
      type: bool
      returned: always
      sample: true
kms_key_arns:
  description:
    - The customer-managed key ARNs of all the images, without repeats, ready to loop
      M(orgshare.aws.kms_org_grant) over.
  returned: always
  type: list
  elements: str
  sample: [arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab]
diff:
  description: Per image, the organization and OU ARNs it is shared with before and after the run.
  returned: when run with C(--diff)
  type: dict
  contains:
    before:
      description: Image ID to C({organization_arns, organizational_unit_arns}) before.
      type: dict
      returned: always
      sample: {"ami-0123456789abcdef0": {"organization_arns": [], "organizational_unit_arns": []}}
    after:
      description: Image ID to C({organization_arns, organizational_unit_arns}) after.
      type: dict
      returned: always
      sample:
        ami-0123456789abcdef0:
          organization_arns: []
          organizational_unit_arns: [arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56]
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

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils._api import aws_cause
from ansible_collections.orgshare.aws.plugins.module_utils._api import denied_hint
from ansible_collections.orgshare.aws.plugins.module_utils._api import error_code
from ansible_collections.orgshare.aws.plugins.module_utils._api import map_bounded
from ansible_collections.orgshare.aws.plugins.module_utils._api import partition_of_region
from ansible_collections.orgshare.aws.plugins.module_utils._api import raise_first_error
from ansible_collections.orgshare.aws.plugins.module_utils._arns import check_same_partition
from ansible_collections.orgshare.aws.plugins.module_utils._arns import check_share_targets
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._kms import KeyDirectory
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import Targets
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import DEFAULT_SHARING_QUOTA
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import plan_launch_permissions
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import sharing_quota_problem
from ansible_collections.orgshare.aws.plugins.module_utils._module import by_state
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module


ARGUMENT_SPEC = dict(
    image_ids=dict(type="list", elements="str", required=True, aliases=["image_id"]),
    organization_arns=dict(type="list", elements="str", default=[]),
    organizational_unit_arns=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    purge=dict(type="bool", default=False),
    check_encryption=dict(type="bool", default=True),
    max_concurrency=dict(type="int", default=4),
    sharing_quota=dict(type="int", default=DEFAULT_SHARING_QUOTA),
    known_kms_keys=dict(type="list", elements="dict", default=[], no_log=False),
)


def load_images(ec2, image_ids, region):
    """The caller's images, in input order; refuses missing, foreign and unavailable ones, all at once."""
    owned = {image["ImageId"]: image for image in _ec2.describe_images(ec2, image_ids, ["self"])}
    missing = [image_id for image_id in image_ids if image_id not in owned]
    # Only on the failure path: tell "owned by someone else" apart from "not here".
    visible = {image["ImageId"]: image for image in _ec2.describe_images(ec2, missing, [])} if missing else {}
    _images.raise_problems(_images.image_problems(image_ids, owned, visible, region))
    return [owned[image_id] for image_id in image_ids]


def load_encryption(ec2, kms, images, enforce, directory):
    """``(snapshots by ID, key metadata by ARN)``; with ``enforce``, refuses images that cannot be shared or used.

    Each key is described once, unless ``directory`` (a :class:`KeyDirectory`) already holds it."""
    snapshots = _ec2.encrypted_snapshots_of(ec2, images)
    key_arns = unique(
        snapshot["KmsKeyId"]
        for snapshot in snapshots.values()
        if snapshot.get("Encrypted") and snapshot.get("KmsKeyId")
    )
    keys = {key_arn: directory.describe(kms, key_arn) for key_arn in key_arns}
    if enforce:
        _images.raise_problems(
            [problem for image in images for problem in _images.encryption_problems(image, snapshots, keys)]
        )
    return snapshots, keys


# The code EC2 answers ModifyImageAttribute with for an image whose snapshots are under an
# AWS-managed key ("Snapshots encrypted with the AWS Managed CMK can't be shared").
AWS_MANAGED_KEY_REFUSAL = "InvalidParameter"


def refusal_sentence(ec2, image_ids, region, error, encrypted, check_encryption):
    """What failed and why (AWS's code and message), then what to do about it, for images that failed alike."""
    exception = getattr(error, "exception", None)
    cause = aws_cause(exception) or getattr(error, "message", None) or str(error)
    sentence = f"Changing the launch permissions of {', '.join(image_ids)} in {region} failed with {cause.rstrip('.')}"
    sentence += denied_hint(ec2, exception) + "."
    if error_code(exception) == AWS_MANAGED_KEY_REFUSAL and encrypted:
        sentence += f" A snapshot under an AWS-managed key (aws/ebs) can never be shared: {_images.COPY_FIX}."
        if not check_encryption:
            sentence += " With check_encryption: true (the default), such images are found before any write."
    return sentence


def apply_plans(ec2, images, plans, max_concurrency, region, check_encryption):
    """One ModifyImageAttribute per changing image; on a failure, put back the images already changed.

    The failure leads with the image and what AWS answered, then the fix, then what became of the
    images already changed. AWS's answer is in the message itself, so it is raised without the
    botocore exception (which fail_json_aws would append after the rest).
    """
    encrypted = {image["ImageId"]: _images.image_encrypted(image) for image in images}
    changes = [(image["ImageId"], plan) for image, plan in zip(images, plans) if plan.changed]

    def modify(change):
        image_id, plan = change
        _ec2.modify_launch_permissions(ec2, image_id, plan.modify_request())

    outcomes = map_bounded(modify, changes, max_concurrency)
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    if not failed:
        return
    done = [(image_id, plan.inverse()) for (image_id, plan), outcome in zip(changes, outcomes) if outcome.error is None]
    not_restored = [outcome for outcome in map_bounded(modify, done, max_concurrency) if outcome.error is not None]
    # Images that failed for the same reason share one sentence.
    alike = {}
    for outcome in failed:
        exception = getattr(outcome.error, "exception", None)
        key = (aws_cause(exception) or str(outcome.error), encrypted[outcome.item[0]])
        alike.setdefault(key, []).append(outcome)
    sentences = [
        refusal_sentence(
            ec2, [outcome.item[0] for outcome in group], region, group[0].error, is_encrypted, check_encryption
        )
        for (_cause, is_encrypted), group in alike.items()
    ]
    if not_restored:
        sentences.append(
            f"The images changed before the failure could not all be restored: {', '.join(outcome.item[0] for outcome in not_restored)} "
            "keep(s) the new launch permissions; run the task again to converge."
        )
    else:
        sentences.append(f"The {len(done)} image(s) already changed were restored, so no image was left changed.")
    raise OrgShareError(" ".join(sentences))


def image_result(image, plan, region, snapshots, keys):
    key_arns = [arn for arn in _images.image_key_arns(image, snapshots) if _keys.is_customer_managed(keys.get(arn))]
    return {
        "image_id": image["ImageId"],
        "name": image.get("Name"),
        "owner_id": image.get("OwnerId"),
        "region": region,
        **plan.after.as_dict(),
        "added": plan.added.as_dict(),
        "removed": plan.removed.as_dict(),
        "encrypted": _images.image_encrypted(image),
        "kms_key_arns": key_arns,
        "changed": plan.changed,
    }


def share(module, state, purge, enforce_keys):
    """Validate everything, plan every image, then (outside check mode) write what changes."""
    params = module.params
    desired = Targets(*check_share_targets(params["organization_arns"], params["organizational_unit_arns"]))
    image_ids = _images.check_image_ids(params["image_ids"])
    if not desired and not purge:
        raise OrgShareError(
            "No organization or OU was given: set organization_arns or organizational_unit_arns "
            "(or, to stop sharing with every organization and OU, purge=true with none listed)."
        )
    if params["max_concurrency"] < 1:
        raise OrgShareError(f"max_concurrency must be at least 1, not {params['max_concurrency']}.")
    quota = params["sharing_quota"]
    if quota < 1:
        raise OrgShareError(
            f"sharing_quota must be at least 1, not {quota}: it is the account's AMI sharing quota "
            f"({DEFAULT_SHARING_QUOTA} unless raised)."
        )
    directory = KeyDirectory(params["known_kms_keys"])
    region = module.region
    check_same_partition(
        desired.organization_arns + desired.organizational_unit_arns, region, partition_of_region(region)
    )

    ec2 = module.client("ec2")
    images = load_images(ec2, image_ids, region)
    snapshots, keys = {}, {}
    if params["check_encryption"]:
        snapshots, keys = load_encryption(ec2, module.client("kms"), images, enforce_keys, directory)
    outcomes = map_bounded(
        lambda image: _ec2.describe_launch_permissions(ec2, image["ImageId"]), images, params["max_concurrency"]
    )
    raise_first_error(outcomes)
    plans = [plan_launch_permissions(outcome.value, desired, state, purge) for outcome in outcomes]
    _images.raise_problems(
        [
            problem
            for problem in (
                sharing_quota_problem(image["ImageId"], region, outcome.value, plan, quota)
                for image, outcome, plan in zip(images, outcomes, plans)
            )
            if problem
        ]
    )
    if not module.check_mode:
        apply_plans(ec2, images, plans, params["max_concurrency"], region, params["check_encryption"])

    results = [image_result(image, plan, region, snapshots, keys) for image, plan in zip(images, plans)]
    outcome = {
        "changed": any(plan.changed for plan in plans),
        "images": results,
        "kms_key_arns": unique(arn for result in results for arn in result["kms_key_arns"]),
        "kms_keys": directory.summaries(),
    }
    if module._diff:  # pylint: disable=protected-access
        outcome["diff"] = {
            "before": {image["ImageId"]: plan.before.as_dict() for image, plan in zip(images, plans)},
            "after": {image["ImageId"]: plan.after.as_dict() for image, plan in zip(images, plans)},
        }
    return outcome


def ensure_present(module):
    """Add the listed organizations/OUs (and, with purge, drop the others); refuse images consumers could not use."""
    return share(module, "present", module.params["purge"], enforce_keys=True)


def ensure_absent(module):
    """Remove the listed organizations/OUs; keys are reported but not judged, since nobody gains access."""
    return share(module, "absent", False, enforce_keys=False)


ensure = by_state(ensure_present, ensure_absent)


def main():
    run_module(ARGUMENT_SPEC, ensure)


if __name__ == "__main__":
    main()
