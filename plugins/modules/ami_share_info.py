#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_share_info
version_added: 0.2.0
short_description: Audit AMI sharing - who each AMI is shared with, who can launch it, and what is broken
description:
  - Read-only. Never writes, in any mode; the IAM policy C(docs/iam-audit-policy.json) holds only read actions and is enough.
  - Answers, for the caller's AMIs in one or more regions, whom each one is shared with (accounts, organizations, OUs, public),
    which snapshots and KMS keys are under it, and, for every organization and OU share, whether each key lets the principals
    of that organization or OU launch it. The key policies are evaluated by the collection's own evaluator (the one the local
    emulator uses to decide launches), for a principal with that organization's C(aws:PrincipalOrgID) and the OU's
    C(aws:PrincipalOrgPaths), with everything EC2 does with the key for a launch (C(kms:DescribeKey), C(kms:CreateGrant) for
    an AWS resource, C(kms:Decrypt), C(kms:ReEncrypt*), C(kms:GenerateDataKey), C(kms:GenerateDataKeyWithoutPlaintext)).
  - Returns findings, each with a severity, the resource, the cause, the fix, who must make it and, where the collection can
    make it, the task that does (RV(findings[].task)). See RV(findings) for the list. A finding about one key and one principal
    names every image it concerns, so that a thousand images under one key make one finding and one task.
  - Built for estates. Per region, C(DescribeImages) of the caller's images (every page; batched by ID), one
    C(DescribeImageAttribute) per image, at most O(max_concurrency) at a time, and C(DescribeSnapshots) of the encrypted
    snapshots only (200 per call); per key, once per run, C(DescribeKey) and (for the caller's own customer-managed keys that can
    be used at all) C(GetKeyPolicy). Every call is retried with jittered backoff on throttling.
  - The organization. C(DescribeOrganization) works from any member account. With the management account or a delegated
    administrator, the module also reads (O(organization_tree)) each OU shared with (C(DescribeOrganizationalUnit)), its parents
    (C(ListParents)) and their names, for OU names, name paths (C(Root/Workloads/Prod)) and full C(aws:PrincipalOrgPaths) paths;
    OUs that no longer exist; where the accounts shared with sit; and, with O(list_accounts), the accounts each share reaches
    (C(ListAccountsForParent) and C(ListOrganizationalUnitsForParent) down the tree). Each listing is made once per run. When the
    tree cannot be read, the audit goes on with a warning that names the missing permissions and what is lost.
  - Copies in other regions are found as the P(orgshare.aws.share_ami#role) role finds them (the tags
    M(orgshare.aws.ami_region_copy) writes), among the images of the regions audited; a copy whose organizations and OUs differ
    from its source's is reported (region drift).
  - From a consumer account (O(perspective=consumer)), the same module answers "can this account launch these AMIs, and if not,
    why, and who must fix it" - whether each AMI is visible to it (C(DescribeImages), with C(ExecutableUsers=self) when no
    O(image_ids) are given), whether it is available, whether each key under it (O(kms_key_arns)) answers C(DescribeKey) for
    it (a key policy can only be read in the key's account), and whether its Allowed AMIs setting
    (C(GetAllowedImagesSettings)) admits it. Each finding's RV(findings[].who) says who must act, C(owner), C(consumer) or the
    key's account. This is one module rather than two because both sides share the scope options, the findings and the
    report the C(orgshare.aws.audit) playbook writes; only the credentials differ.
  - Stale key grants (the statements M(orgshare.aws.kms_org_grant) wrote, for organizations or OUs no image under the key is shared
    with any more) are only judged in regions where every image of the caller was read, that is without O(image_ids),
    O(name_patterns), O(tags) and O(filters); elsewhere RV(kms_keys[].stale) is null.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  perspective:
    description:
      - V(owner) audits the caller's own AMIs (see above).
      - V(consumer) audits the AMIs shared with the caller, as the account that would launch them.
    type: str
    choices: [owner, consumer]
    default: owner
  regions:
    description:
      - The regions to audit. Defaults to the connection's region.
      - A region the installed botocore does not know for EC2 is refused, as are regions of more than one partition.
    type: list
    elements: str
  image_ids:
    description:
      - Audit only these AMIs (in whichever of O(regions) they are). Repeats are ignored.
    type: list
    elements: str
  name_patterns:
    description:
      - Audit only the AMIs whose name matches one of these patterns, with C(*) for any run of characters and C(?) for any one.
    type: list
    elements: str
  tags:
    description:
      - Audit only the AMIs with these tags (tag key to value, or to a list of values; the value may hold C(*) and C(?)).
      - Refused with O(perspective=consumer), since tags are never shared and a consumer sees only its own tags on other accounts' AMIs.
    type: dict
  filters:
    description:
      - More C(DescribeImages) filters, filter name to value or list of values (as M(amazon.aws.ec2_ami_info) takes them),
        for example C(creation-date) with the value C(2026-*). An unknown filter name is refused, and so are owner filters.
    type: dict
  organization_tree:
    description:
      - V(auto) reads the organization tree when the credentials may (management account or delegated administrator) and warns,
        naming what is missing, when they may not.
      - V(required) fails when it cannot be read.
      - V(skip) never reads it (C(DescribeOrganization) only).
    type: str
    choices: [auto, required, skip]
    default: auto
  list_accounts:
    description:
      - List the accounts each organization and OU share of the caller's organization reaches (RV(images[].shares[].accounts)),
        each with whether it can launch the image, judged by its own place in the organization. Takes the organization tree.
    type: bool
    default: false
  trusted_organization_arns:
    description:
      - Organizations (ARNs) the AMIs may be shared with. When any O(trusted_organization_arns), O(trusted_organizational_unit_arns)
        or O(trusted_account_ids) is given, every share outside them is a finding (C(share_outside_trust)), public ones too.
      - An OU of a trusted organization is trusted.
    type: list
    elements: str
    default: []
  trusted_organizational_unit_arns:
    description:
      - OUs (ARNs) the AMIs may be shared with; the OUs below them too (recognised only when the tree can be read).
    type: list
    elements: str
    default: []
  trusted_account_ids:
    description:
      - Accounts the AMIs may be shared with. An account inside a trusted organization or OU is trusted too, when the tree
        shows where it sits.
    type: list
    elements: str
    default: []
  auto_scaling:
    description:
      - Whether the consumers launch through EC2 Auto Scaling. Then a key that does not let an organization or OU create the
        grant Auto Scaling needs (for the consumer's C(AWSServiceRoleForAutoScaling)) is a finding (C(auto_scaling_grant_missing)).
        RV(images[].shares[].kms_keys[].auto_scaling_grant) is returned either way.
    type: bool
    default: false
  statement_id_prefix:
    description:
      - The C(Sid) prefix of the key-policy statements M(orgshare.aws.kms_org_grant) writes, to recognise them for stale grants.
    type: str
    default: OrgShare
  kms_key_arns:
    description:
      - With O(perspective=consumer), the key ARNs under the AMIs' snapshots, as the owner's audit (RV(images[].kms_key_arns)) or
        M(orgshare.aws.ami_org_share) (RV(orgshare.aws.ami_org_share#module:kms_key_arns)) lists them. C(DescribeImages) does not
        report them to a consumer. An encrypted AMI not in O(image_kms_key_arns) is judged against every one of these keys in its
        region. Without any, an encrypted AMI's keys are reported as unknown (C(key_unknown)).
    type: list
    elements: str
    default: []
  image_kms_key_arns:
    description:
      - With O(perspective=consumer), AMI ID to the key ARNs under that AMI's snapshots, for AMIs under different keys in one
        region. From the owner's audit,
        C(audit.images | items2dict(key_name='image_id', value_name='kms_key_arns')).
    type: dict
  max_concurrency:
    description:
      - How many per-image and per-key calls may run at once in a region.
    type: int
    default: 4
notes:
  - The module never writes, in check mode or not; C(changed) is always false.
  - O(known_kms_keys) serves the owner's audit only; from a consumer account every key is described, since whether it answers
    C(DescribeKey) for the consumer is what is checked.
  - A key of another account (a central key account) cannot have its policy read from here; the finding names the account, the
    statements its policy must hold (RV(findings[].owner_statements)) and the M(orgshare.aws.kms_org_grant) task to run with its
    credentials.
  - The accounts' own IAM policies, service control policies and resource control policies are not evaluated; see the README,
    "What consumers need".
extends_documentation_fragment:
  - orgshare.aws.attributes
  - orgshare.aws.known_kms_keys
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing in what it does.
  diff_mode:
    support: none
    details: The module only reads; there is never a change to show.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: From a member account, can it launch what was shared with it?
  orgshare.aws.ami_share_info:
    perspective: consumer
    image_ids: [ami-0123456789abcdef0]
    kms_key_arns: [arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab]
  register: launchable

- name: Audit every AMI of this account in three regions, with OU names, against the trusted organization
  orgshare.aws.ami_share_info:
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    trusted_organization_arns:
      - arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5
  register: audit

- name: One line per finding
  ansible.builtin.debug:
    msg: "{{ audit.findings | map(attribute='severity') | zip(audit.findings | map(attribute='cause')) | map('join', ': ') }}"

- name: Fail on high findings
  ansible.builtin.assert:
    that: audit.summary.findings.critical + audit.summary.findings.high == 0
    fail_msg: "{{ audit.findings | selectattr('severity', 'in', ['critical', 'high']) | map(attribute='cause') }}"

- name: The golden images only, with the accounts each share reaches
  orgshare.aws.ami_share_info:
    name_patterns: ["golden-*"]
    tags: {team: platform}
    list_accounts: true
  register: golden
"""

RETURN = r"""
perspective:
  description: The perspective of the audit, C(owner) or C(consumer).
  returned: always
  type: str
  sample: owner
caller_account_id:
  description: The account of the credentials.
  returned: always
  type: str
  sample: "111122223333"
allowed_images:
  description:
    - With O(perspective=consumer), region to this account's Allowed AMIs settings (C(State), C(ImageCriteria), C(ManagedBy)),
      null where they could not be read.
  returned: with O(perspective=consumer)
  type: dict
  sample: {"us-east-1": {"State": "disabled", "ImageCriteria": [], "ManagedBy": "account"}}
organization:
  description: The caller's organization as far as it could be read; null when the caller is in none.
  returned: with O(perspective=owner)
  type: dict
  contains:
    id:
      description: The organization ID.
      type: str
      returned: always
      sample: o-a1b2c3d4e5
    arn:
      description: The organization ARN.
      type: str
      returned: always
      sample: arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5
    management_account_id:
      description: The management account.
      type: str
      returned: always
      sample: "111122223333"
    root_id:
      description: The root's ID, null when the tree could not be read.
      type: str
      returned: always
      sample: r-ab12
    tree_read:
      description: Whether the organization tree could be read (OU names and paths, deleted OUs, accounts).
      type: bool
      returned: always
      sample: true
images:
  description: One entry per image and region, in the order the regions were given.
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The image's region.
      type: str
      returned: always
      sample: eu-west-1
    image_id:
      description: The AMI ID.
      type: str
      returned: always
      sample: ami-0123456789abcdef0
    image_arn:
      description: The AMI's ARN.
      type: str
      returned: always
      sample: arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0
    name:
      description: The AMI name.
      type: str
      returned: always
      sample: golden-2026-11
    state:
      description: The AMI state (C(available), C(disabled), ...).
      type: str
      returned: always
      sample: available
    owner_id:
      description: The owner account.
      type: str
      returned: always
      sample: "111122223333"
    creation_date:
      description: When it was made.
      type: str
      returned: always
      sample: "2026-11-02T10:00:00.000Z"
    deprecation_time:
      description: When it is (or was) deprecated, null when never.
      type: str
      returned: always
      sample: null
    public:
      description: Whether it is public.
      type: bool
      returned: always
      sample: false
    visible:
      description: With O(perspective=consumer), whether the account can see the AMI at all.
      type: bool
      returned: with O(perspective=consumer)
      sample: true
    image_allowed:
      description: With O(perspective=consumer), DescribeImages' C(ImageAllowed) (null while Allowed AMIs is disabled).
      type: bool
      returned: with O(perspective=consumer)
      sample: null
    encrypted:
      description: With O(perspective=consumer), whether a snapshot of the AMI is encrypted.
      type: bool
      returned: with O(perspective=consumer)
      sample: true
    can_launch:
      description:
        - With O(perspective=consumer), whether the account can launch it; null when it cannot be told (keys unknown). A key that
          answers C(DescribeKey) counts as usable - the one key check a consumer can make.
      type: bool
      returned: with O(perspective=consumer)
      sample: true
    copy_of:
      description: For a copy made by M(orgshare.aws.ami_region_copy), C({image_id, region}) of its source; else null.
      type: dict
      returned: with O(perspective=owner)
      sample: {"image_id": "ami-0fedcba9876543210", "region": "us-east-1"}
    launch_permissions:
      description: The launch permissions by kind (null when they could not be read).
      type: dict
      returned: with O(perspective=owner)
      sample:
        account_ids: []
        organization_arns: []
        organizational_unit_arns: [arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56]
        public: false
    snapshots:
      description: The EBS snapshots of the image, C({snapshot_id, device_name, encrypted, kms_key_arn}).
      type: list
      elements: dict
      returned: with O(perspective=owner)
      sample:
        - snapshot_id: snap-0123456789abcdef0
          device_name: /dev/xvda
          encrypted: true
          kms_key_arn: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    kms_key_arns:
      description: The keys of its encrypted snapshots.
      type: list
      elements: str
      returned: with O(perspective=owner)
      sample: [arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab]
    kms_keys:
      description:
        - With O(perspective=consumer), per key of its region in O(kms_key_arns), C({key_arn, describe_key, key_state, can_launch,
          reason}) - whether C(DescribeKey) answered for this account, and what that means for a launch.
      type: list
      elements: dict
      returned: with O(perspective=consumer)
      sample: []
    shares:
      description: One entry per launch permission, with whether its principals can launch the image.
      type: list
      elements: dict
      returned: with O(perspective=owner)
      contains:
        kind:
          description: C(account), C(organization), C(organizational_unit) or C(public).
          type: str
          returned: always
          sample: organizational_unit
        arn:
          description: The organization or OU ARN (null for accounts and public).
          type: str
          returned: always
          sample: arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
        id:
          description: The account, organization or OU ID (C(all) for public).
          type: str
          returned: always
          sample: ou-ab12-cd34ef56
        organization_id:
          description: The organization of an organization or OU share.
          type: str
          returned: always
          sample: o-a1b2c3d4e5
        name:
          description: The OU's name, when the tree could be read.
          type: str
          returned: always
          sample: Prod
        name_path:
          description: The OU's name path from the root, when the tree could be read.
          type: str
          returned: always
          sample: Root/Workloads/Prod
        path:
          description: The OU's C(aws:PrincipalOrgPaths) path, when the tree could be read.
          type: str
          returned: always
          sample: o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/
        in_caller_organization:
          description: Whether it is in the caller's organization (null when the caller's organization is unknown).
          type: bool
          returned: always
          sample: true
        trusted:
          description: Whether it is among the trusted ones; null when none was given.
          type: bool
          returned: always
          sample: null
        can_launch:
          description:
            - Whether its principals can launch the image, as far as the key policies say; null when it cannot be told (a key of
              another account, an unreadable policy, an OU path unknown without the tree).
          type: bool
          returned: always
          sample: true
        kms_keys:
          description: Per key under the image, whether the principals can launch through it.
          type: list
          elements: dict
          returned: always
          contains:
            key_arn:
              description: The key.
              type: str
              returned: always
              sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
            can_launch:
              description: Whether the key lets them launch; null when it cannot be told.
              type: bool
              returned: always
              sample: true
            reason:
              description: Why, as the key-policy evaluator says it.
              type: str
              returned: always
              sample: the key policy allows every KMS action a launch needs
            auto_scaling_grant:
              description: Whether they may create the grant EC2 Auto Scaling needs (null when they cannot launch at all).
              type: bool
              returned: always
              sample: false
        accounts:
          description: With O(list_accounts), the accounts it reaches, C({id, name, can_launch}); else null.
          type: list
          elements: dict
          returned: always
          sample: null
    findings:
      description: The IDs of the findings (RV(findings[].id)) about this image.
      type: list
      elements: str
      returned: always
      sample: []
kms_keys:
  description: One entry per key under the images.
  returned: with O(perspective=owner)
  type: list
  elements: dict
  contains:
    key_arn:
      description: The key ARN.
      type: str
      returned: always
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    region:
      description: The key's region.
      type: str
      returned: always
      sample: eu-west-1
    account_id:
      description: The key's account.
      type: str
      returned: always
      sample: "111122223333"
    key_manager:
      description: C(CUSTOMER) or C(AWS); null when it could not be described.
      type: str
      returned: always
      sample: CUSTOMER
    key_state:
      description: The key state; null when it could not be described.
      type: str
      returned: always
      sample: Enabled
    policy_read:
      description: Whether its policy was read.
      type: bool
      returned: always
      sample: true
    opens_to:
      description: The organization IDs and C(aws:PrincipalOrgPaths) values the collection's statements open it to (null when not read).
      type: dict
      returned: always
      sample: {"organization_ids": [], "principal_org_paths": ["o-a1b2c3d4e5/*/ou-ab12-cd34ef56/*"]}
    stale:
      description: Of those, the ones no image under the key is shared with any more; null where not judged.
      type: dict
      returned: always
      sample: {"organization_ids": [], "principal_org_paths": []}
    image_ids:
      description: The images under it that are shared.
      type: list
      elements: str
      returned: always
      sample: [ami-0123456789abcdef0]
findings:
  description:
    - What is broken or risky, most severe first. Codes and severities; C(public_image) (critical); C(share_outside_trust),
      C(key_denies_share) (high); C(aws_managed_key), C(unusable_key) (high when shared); C(foreign_key), C(key_policy_unreadable),
      C(unknown_principal), C(outside_organization), C(disabled_image_shared), C(region_drift), C(launch_permissions_unreadable),
      C(snapshots_unreadable) (medium); C(auto_scaling_grant_missing), C(deprecated_image_shared), C(stale_key_grant) (low).
    - With O(perspective=consumer) - C(not_visible), C(image_unavailable), C(key_denies_account), C(key_denied_by_iam),
      C(unusable_key) (high); C(allowed_amis_blocks) (high when Allowed AMIs is enabled, low in audit mode); C(key_unknown)
      (medium); C(deprecated_image) (low).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: A stable ID (code, region, resource, principal).
      type: str
      returned: always
      sample: "key_denies_share:eu-west-1:arn:aws:kms:eu-west-1:111122223333:key/1234abcd:arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"
    code:
      description: What kind of finding.
      type: str
      returned: always
      sample: key_denies_share
    severity:
      description: C(critical), C(high), C(medium), C(low) or C(info).
      type: str
      returned: always
      sample: high
    region:
      description: The region.
      type: str
      returned: always
      sample: eu-west-1
    resource:
      description: The ARN of what is wrong (image, key, organization, OU) or an account ID.
      type: str
      returned: always
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    principal:
      description: The organization, OU or account concerned, when there is one.
      type: str
      returned: always
      sample: arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    image_ids:
      description: The images it concerns.
      type: list
      elements: str
      returned: always
      sample: [ami-0123456789abcdef0]
    cause:
      description: What is wrong, in words.
      type: str
      returned: always
      sample: "Shared with Root/Workloads/Prod (ou-ab12-cd34ef56), but the key policy of ... does not let its principals use the key"
    fix:
      description: How to fix it.
      type: str
      returned: always
      sample: "Let Root/Workloads/Prod (ou-ab12-cd34ef56) use the key: orgshare.aws.kms_org_grant on ... with that principal"
    who:
      description:
        - Who must make the fix - C(owner) (the AMI's account), C(consumer) (this account, with O(perspective=consumer)),
          C(account <id>) (a key's owner), or C(owner or consumer).
      type: str
      returned: always
      sample: owner
    task:
      description: The collection task that makes the fix, C({module, args}), or null when the collection has none.
      type: dict
      returned: always
      sample:
        module: orgshare.aws.kms_org_grant
        args:
          region: eu-west-1
          key_id: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
          organizational_unit_arns: [arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56]
    owner_statements:
      description: For C(foreign_key), the statements the key's policy must hold.
      type: list
      elements: dict
      returned: when code is foreign_key
      sample: []
    source_image_id:
      description: For C(region_drift), the copy's source AMI.
      type: str
      returned: when code is region_drift
      sample: ami-0fedcba9876543210
    source_region:
      description: For C(region_drift), the source AMI's region.
      type: str
      returned: when code is region_drift
      sample: us-east-1
summary:
  description: Counts.
  returned: always
  type: dict
  contains:
    images:
      description: How many images (image and region) were audited.
      type: int
      returned: always
      sample: 3
    regions:
      description: The regions with images.
      type: list
      elements: str
      returned: always
      sample: [us-east-1]
    findings:
      description: How many findings of each severity.
      type: dict
      returned: always
      sample: {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}
"""

from ansible_collections.orgshare.aws.plugins.module_utils import _estate
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_check
from ansible_collections.orgshare.aws.plugins.module_utils import _share_audit
from ansible_collections.orgshare.aws.plugins.module_utils._images import check_image_ids
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import DEFAULT_PREFIX
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import check_prefix
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module


ARGUMENT_SPEC = dict(
    perspective=dict(type="str", choices=["owner", "consumer"], default="owner"),
    regions=dict(type="list", elements="str"),
    image_ids=dict(type="list", elements="str"),
    name_patterns=dict(type="list", elements="str"),
    tags=dict(type="dict"),
    filters=dict(type="dict"),
    organization_tree=dict(type="str", choices=["auto", "required", "skip"], default="auto"),
    list_accounts=dict(type="bool", default=False),
    trusted_organization_arns=dict(type="list", elements="str", default=[]),
    trusted_organizational_unit_arns=dict(type="list", elements="str", default=[]),
    trusted_account_ids=dict(type="list", elements="str", default=[]),
    auto_scaling=dict(type="bool", default=False),
    statement_id_prefix=dict(type="str", default=DEFAULT_PREFIX),
    kms_key_arns=dict(type="list", elements="str", default=[], no_log=False),
    image_kms_key_arns=dict(type="dict", no_log=False),
    max_concurrency=dict(type="int", default=4),
    known_kms_keys=dict(type="list", elements="dict", default=[], no_log=False),
)


def check_params(module):
    """Every option checked before the first call; returns ``(regions, partition)``."""
    params = module.params
    if params["max_concurrency"] < 1:
        raise OrgShareError(f"max_concurrency must be at least 1, not {params['max_concurrency']}.")
    if params.get("image_ids") is not None:
        params["image_ids"] = check_image_ids(params["image_ids"])
    check_prefix(params["statement_id_prefix"])
    _share_audit.scope_filters(params.get("name_patterns"), params.get("tags"), params.get("filters"))
    _estate.check_trust(params)
    _estate.check_key_arns(params.get("kms_key_arns"))
    _estate.check_image_keys(params.get("image_kms_key_arns"))
    if params.get("perspective") == "consumer" and params.get("known_kms_keys"):
        raise OrgShareError(
            "known_kms_keys is for perspective=owner: from a consumer account, whether each key answers DescribeKey for it is "
            "what the audit checks, so every key is described."
        )
    if params.get("perspective") == "consumer" and params.get("tags"):
        raise OrgShareError(
            "tags cannot select images shared with this account: tags are never shared, so a consumer sees only the tags "
            "it put on them itself. Use image_ids or name_patterns."
        )
    return _estate.check_regions(params["regions"] if params.get("regions") is not None else [module.region])


def organization_result(organization):
    if organization is None:
        return None
    return {
        "id": organization.id,
        "arn": organization.arn,
        "management_account_id": organization.management_account_id,
        "root_id": organization.root_id,
        "tree_read": organization.tree_read,
    }


def reader_and_caller(module, reader_type, regions, **options):
    """A reader of ``reader_type`` on the module's clients (the first region by default) and the caller's account."""
    default_region = regions[0]
    caller = _kms.caller_account_id(module.client("sts", region=default_region))
    reader = reader_type(
        lambda service, region: module.client(service, region=region or default_region),
        module.warn,
        module.params["max_concurrency"],
        **options,
    )
    return reader, caller


def audit_as_owner(module, regions, partition):
    """The owner's audit: read the estate, judge it."""
    reader, caller = reader_and_caller(
        module, _estate.OwnerReader, regions, known_kms_keys=module.params["known_kms_keys"]
    )
    estate = _estate.read_owner_estate(reader, module.params, regions, partition, caller)
    return dict(
        caller_account_id=caller, organization=organization_result(estate.organization), **_share_audit.audit(estate)
    )


def audit_as_consumer(module, regions, partition):
    """The consumer's audit: what it can see, whether each key answers for it, its Allowed AMIs."""
    reader, caller = reader_and_caller(module, _estate.ConsumerReader, regions)
    view = _estate.read_consumer_view(reader, module.params, regions, partition, caller)
    return dict(caller_account_id=caller, allowed_images=view.allowed, **_launch_check.check_launch(view))


def ensure(module):
    """The module's whole job, from either side."""
    regions, partition = check_params(module)
    if module.params["perspective"] == "consumer":
        return dict(perspective="consumer", **audit_as_consumer(module, regions, partition))
    return dict(perspective="owner", **audit_as_owner(module, regions, partition))


def main():
    run_module(ARGUMENT_SPEC, ensure, changed=False)


if __name__ == "__main__":
    main()
