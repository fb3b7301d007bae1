#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: kms_org_grant
version_added: 0.1.0
short_description: Let AWS Organizations or OUs use a customer-managed KMS key
description:
  - Consumers of an AMI whose snapshots are encrypted need the key policy of the snapshots' key to
    let them use it. This module adds (or removes) exactly that, for the principals of whole
    organizations or of OUs, and nothing else.
  - C(PutKeyPolicy) replaces the whole policy, so the module reads the policy, merges its own
    statements into it and writes it back. Every statement it does not own is kept as it was, in its
    place, and is never read for principals.
  - It writes at most six statements. C(<prefix>OrgUse), C(<prefix>OrgCreateGrant) and C(<prefix>OrgAutoScalingGrant)
    are for whole organizations (C(StringEquals) on C(aws:PrincipalOrgID)). C(<prefix>OuUse), C(<prefix>OuCreateGrant)
    and C(<prefix>OuAutoScalingGrant) are for OUs (C(ForAnyValue:StringLike) on C(aws:PrincipalOrgPaths)).
    The I(Use) statements allow C(kms:Decrypt), C(kms:DescribeKey), C(kms:ReEncrypt*), C(kms:GenerateDataKey)
    and C(kms:GenerateDataKeyWithoutPlaintext), what the Amazon EBS User Guide lists for the users of a
    shared key ("Share the KMS key used to encrypt a shared Amazon EBS snapshot"; the Amazon EC2 User Guide's
    "Allow organizations and OUs to use a KMS key" writes the two data-key actions as C(kms:GenerateDataKey*)).
    Statements written by an earlier version without C(kms:GenerateDataKey) are rewritten with it on the
    next run. The I(CreateGrant) statements allow C(kms:CreateGrant) for grants that an AWS service creates
    (C(Bool) C(kms:GrantIsForAWSResource=true)). The I(AutoScalingGrant) statements, only with
    O(grant_for_aws_resource_only=false), allow the one grant consumers create for EC2 Auto Scaling (see that
    option). A C(Principal) of C(*) only ever appears together with these organization conditions.
  - It owns exactly the statements it writes, recognised by their exact C(Sid) (one of the six above,
    case-sensitive) and by their shape. That shape is C(Effect=Allow), C(Principal) C(*) (or C({"AWS":"*"})),
    C(Resource) C(*), no C(NotAction), C(NotPrincipal) or C(NotResource), an C(Action) that is a non-empty
    subset of the actions above (for the I(Use) statements also C(kms:GenerateDataKey*), which is kept
    when present), and exactly the condition of its kind with
    valid organization IDs or C(aws:PrincipalOrgPaths) values (the I(CreateGrant) statements may also have
    C(Bool) C(kms:GrantIsForAWSResource=true), which is always written; without it, they are what earlier versions
    wrote for O(grant_for_aws_resource_only=false), and the next run rewrites them; the I(AutoScalingGrant)
    statements have exactly the grantee and operations conditions described under that option). Any other statement is not the module's, whatever its C(Sid)
    starts with, so a C(Deny) or an operator's statement named C(OrgShareBreakGlass...) is kept as it is.
  - A statement that has one of the six C(Sid)s but another shape is never rewritten nor removed; the
    module fails before any write (in check mode too), naming the statement, the key and what differs.
    Rename or remove that statement, or choose another O(statement_id_prefix). Two statements of the
    right shape with the same C(Sid) are merged into one.
  - An OU is one OU however its C(aws:PrincipalOrgPaths) value is spelt. Its exact path
    (C(o-x/r-y/ou-a/ou-b/*)), the pattern an OU ARN becomes (C(o-x/*/ou-b/*)) and the exact path without the
    final C(*) (C(o-x/r-y/ou-a/ou-b/)) all name C(ou-b), the last OU of the value, in organization C(o-x); a final
    C(*) means the OUs below it are in too. With O(state=absent), every managed value naming a listed OU goes,
    whichever spelling and reach it has; values of the OUs below it stay. With O(state=present), an OU already
    granted with the same reach under another spelling is already there, and nothing is added.
  - Policies are compared semantically, so formatting, a lone string instead of a list, or another
    order of values are not changes; nothing is written when nothing changes.
  - The policy is written as JSON indented by two spaces when that fits KMS's limit of 32,768 bytes, and
    compactly otherwise, so that white space alone never takes a policy over the limit.
  - Refuses, before any write, AWS-managed keys (their policy cannot be changed and snapshots
    encrypted with them cannot be shared), keys that are disabled, pending deletion or pending
    import (with O(state=present)), aliases that do not exist, bare organization/OU IDs, statements
    that have an owned C(Sid) but another shape, and a resulting policy over 32,768 bytes even written
    compactly (the message says how many bytes the managed statements and the rest of the policy take).
  - Concurrent runs on one key converge. KMS has no conditional write, so after writing, the module
    reads the policy back, at once and again after a short pause. If another writer has replaced it,
    the same change is merged onto the newest policy and written again (up to eight times), so two
    jobs granting different OUs on one key at the same moment both end up in the policy. A throttled
    write is never re-sent as it was; the policy is read and merged afresh first.
    KMS is eventually consistent, so a read-back that is still the policy this write replaced is taken
    for "not visible yet", never for another writer. It is read again with a bounded backoff (up to 30
    seconds) instead of merged onto, so a statement another writer added meanwhile is never lost. What no client can
    detect without a conditional write is a writer that read the policy before this module's write and
    lands its own write after the module's last read-back; the next run of either job repairs that.
  - The key is the one in the connection's region. Each replica of a multi-Region key has its own
    policy, so grant each one in its own region.
  - Refuses, with O(state=present) and before any write, a key that Amazon EBS cannot encrypt with, one whose
    C(KeySpec) is not C(SYMMETRIC_DEFAULT) or whose C(KeyUsage) is not C(ENCRYPT_DECRYPT) (asymmetric, HMAC or
    signing keys; the Amazon EC2 API Reference, for C(CopyImage) and C(ModifyEbsDefaultKmsKeyId), says "Amazon EBS does
    not support asymmetric KMS keys"). Use a symmetric encryption key.
  - A key of another account (a key ARN or alias ARN naming an account other than the one of the credentials,
    found with STS C(GetCallerIdentity), which needs no permission) cannot be granted from this account, since KMS
    C(GetKeyPolicy) and C(PutKeyPolicy) have no cross-account use, only C(DescribeKey) has (when the key policy
    allows it). The module finds this out before reading any policy and returns, as data, the owning account
    (RV(owner_account_id)), the statements it would write for the listed principals (RV(owner_statements), built
    exactly as a grant on the key's own account builds them) and the arguments of the same task to run with that
    account's credentials (RV(owner_task)). A key ID or an alias name always names a key of the caller's own account,
    and is never looked up with STS. What happens then is O(foreign_key).
  - When KMS refuses the new policy because a statement the module did not write names a principal that no
    longer exists (C(MalformedPolicyDocumentException), "Policy contains a statement with one or more invalid
    principals"), the module fails naming each such statement (by C(Sid), or by position without one) and its
    principals given by unique ID (C(AIDA...), C(AROA...), which is how a key policy shows a role or user that has been
    deleted), or, when there is none, its IAM role and user ARNs (one of which may have been deleted). Remove or
    correct that principal and run again; the module never edits statements it did not write. In check mode, such
    unique IDs in statements the module did not write give a warning, since the write may be refused.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  key_id:
    description:
      - The key, as a key ID, key ARN, alias name (C(alias/my-key)) or alias ARN.
    type: str
    required: true
    aliases: [key_arn]
  organization_arns:
    description:
      - Organizations whose principals may use the key, as organization ARNs (the same values
        M(orgshare.aws.ami_org_share) takes).
    type: list
    elements: str
    default: []
  organizational_unit_arns:
    description:
      - OUs whose principals (in the OU and every OU below it) may use the key, as OU ARNs. Each becomes
        the path pattern C(o-x/*/ou-y/*), which matches the OU wherever it sits in the tree.
    type: list
    elements: str
    default: []
  organizational_unit_paths:
    description:
      - Exact C(aws:PrincipalOrgPaths) values, as M(orgshare.aws.org_arn_info) returns them in
        C(principal_org_paths) (C(o-x/r-y/ou-a/ou-b/*)), more precise than the pattern derived from
        an OU ARN.
      - At least one principal must be given, here or in O(organization_arns) or O(organizational_unit_arns),
        unless O(purge=true) (which, with none listed, takes every organization and OU out of the managed statements).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) lets the listed principals use the key; V(absent) takes them out (an OU by every spelling
        of its value, see above).
      - A managed statement left with no principal is removed.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also take out of the managed statements every organization and OU path
        that is not listed. Statements the module does not own are never touched.
    type: bool
    default: false
  grant_for_aws_resource_only:
    description:
      - Limit C(kms:CreateGrant) to grants that AWS services create on the consumer's behalf
        (C(Bool) condition C(kms:GrantIsForAWSResource=true)), which is all that launching an
        instance from the AMI with EC2 needs.
      - Set V(false) when consumers launch through EC2 Auto Scaling with its service-linked role. That
        role is given access through a grant the consumer creates directly, which is not a grant for an AWS
        resource. The Amazon EC2 Auto Scaling User Guide ("Required AWS KMS key policy for use with encrypted
        volumes", the cross-account example) has the consumer account run
        C(aws kms create-grant --key-id <key ARN> --grantee-principal
        arn:aws:iam::<consumer account>:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling
        --operations Encrypt Decrypt ReEncryptFrom ReEncryptTo GenerateDataKey GenerateDataKeyWithoutPlaintext
        DescribeKey CreateGrant), once per key (and per region for the copies' keys), with its own credentials.
      - With V(false) the module writes, next to the I(CreateGrant) statements (which keep allowing the grants
        EC2 creates), the I(AutoScalingGrant) statements. They allow C(kms:CreateGrant) to the principals of
        the organizations and OUs only when the grantee (C(StringLike) on C(kms:GranteePrincipal)) is
        C(arn:<partition>:iam::${aws:PrincipalAccount}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling)
        or that role with a custom suffix (C(AWSServiceRoleForAutoScaling_<suffix>)), in the caller's own account
        and the key's partition, and every operation of the grant is in the list above
        (C(ForAllValues:StringEquals) on C(kms:GrantOperations)). Conditions of one statement are all required,
        so "for an AWS resource, or for the Auto Scaling role" takes two statements. The guide's own example
        allows C(kms:CreateGrant) with no condition, which would let every principal of the organization grant
        anyone any use of the key; the Amazon EBS User Guide warns against that.
      - C(${aws:PrincipalAccount}) is a policy variable (IAM User Guide,
        reference_policies_variables.html), which KMS reads as such only under the policy C(Version) C(2012-10-17). A policy without a
        C(Version) gets that one; a policy with another C(Version), or without one but with other C(${...})
        text, is refused before any write.
      - Custom-suffix roles are in, since the Amazon EC2 Auto Scaling User Guide ("Service-linked roles for Amazon EC2
        Auto Scaling") has an Auto Scaling group use either the default role or one with a suffix chosen when it
        is created, with the same permissions. They are still only the caller's own account's Auto Scaling
        roles (only AWS creates roles under C(/aws-service-role/)). The role C(AWSServiceRoleForEC2Spot), which the guide names for Spot Instances
        launched from launch configurations, is not a grantee here.
      - Policies written by earlier versions with V(false), whose I(CreateGrant) statements had no condition but
        the organization's, are rewritten to these statements by the next run with V(false), and to the limited
        ones with V(true). Switching between V(true) and V(false) adds or takes out the I(AutoScalingGrant)
        statements only.
    type: bool
    default: true
  statement_id_prefix:
    description:
      - The module owns the statements whose C(Sid) is this prefix (letters and digits) followed by C(OrgUse),
        C(OrgCreateGrant), C(OuUse) or C(OuCreateGrant), exactly, and that have the shape it writes (see above).
        Other statements whose C(Sid) merely starts with the prefix are not its own.
      - Use different prefixes to keep independent sets of grants apart; no two prefixes share a C(Sid).
    type: str
    default: OrgShare
  foreign_key:
    description:
      - What to do with a key of another account, whose policy only that account can read and change.
      - V(fail) fails (in check mode too), with RV(owner_account_id), RV(owner_statements) and RV(owner_task) in the
        result, and a message that names the key, its account and how to grant it.
      - V(report) makes no KMS call but C(DescribeKey), changes nothing (C(changed=false)), returns the same data
        and warns that the key's policy could not be checked from this account.
      - With O(state=absent), RV(owner_statements) are the statements naming the listed principals, whose values the
        owner takes out (RV(owner_task) does exactly that).
    type: str
    choices: [fail, report]
    default: fail
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
    details: Check mode reads the key and its policy and returns the would-be policy without writing.
  diff_mode:
    support: full
    details: The whole key policy before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Let OU Root/Workloads/Prod use the key of a shared AMI
  orgshare.aws.kms_org_grant:
    region: eu-west-1
    key_id: alias/golden-ami
    organizational_unit_paths:
      - o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/*

- name: Let a whole organization use the keys ami_org_share returned
  orgshare.aws.kms_org_grant:
    key_id: "{{ item }}"
    organization_arns:
      - arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5
  loop: "{{ shared.kms_key_arns }}"

- name: Consumers launch through EC2 Auto Scaling
  orgshare.aws.kms_org_grant:
    key_id: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    grant_for_aws_resource_only: false

- name: Take an OU out again
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-ami
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    state: absent

- name: A key of the central key account, only reported from here
  orgshare.aws.kms_org_grant:
    key_id: arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    foreign_key: report
  register: central

- name: Grant it with the key account's credentials
  orgshare.aws.kms_org_grant:
    profile: key-account
    key_id: "{{ central.owner_task.key_id }}"
    region: "{{ central.owner_task.region }}"
    organization_arns: "{{ central.owner_task.organization_arns }}"
    organizational_unit_arns: "{{ central.owner_task.organizational_unit_arns }}"
    organizational_unit_paths: "{{ central.owner_task.organizational_unit_paths }}"
  when: central.owner_account_id is defined
"""

RETURN = r"""
key_id:
  description: The key ID (for a key of another account given by alias ARN that C(DescribeKey) does not answer, null).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_arn:
  description: The key ARN (for a key of another account that C(DescribeKey) does not answer, the ARN given).
  returned: always
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
key_manager:
  description: C(CUSTOMER) (AWS-managed keys are refused); null for a key of another account that C(DescribeKey) does not answer.
  returned: always
  type: str
  sample: CUSTOMER
key_state:
  description: The key state; null for a key of another account that C(DescribeKey) does not answer.
  returned: always
  type: str
  sample: Enabled
owner_account_id:
  description: The account the key belongs to, when it is not the account of the credentials.
  returned: when the key belongs to another account
  type: str
  sample: "444455556666"
  version_added: 0.2.0
owner_statements:
  description:
    - The statements the module would write in the policy of a key of another account for the listed principals,
      exactly as it writes them in a key of its own account, ready to paste into that key's policy.
    - With O(state=absent), the statements naming the listed principals, whose values are to be taken out.
  returned: when the key belongs to another account
  type: list
  elements: dict
  sample:
    - {Sid: OrgShareOrgCreateGrant, Effect: Allow, Principal: "*", Action: [kms:CreateGrant], Resource: "*",
       Condition: {"StringEquals": {"aws:PrincipalOrgID": [o-a1b2c3d4e5]}, "Bool": {"kms:GrantIsForAWSResource": "true"}}}
  version_added: 0.2.0
owner_task:
  description:
    - The arguments of orgshare.aws.kms_org_grant that do the same with credentials of the key's account.
    - Always has every key listed here.
  returned: when the key belongs to another account
  type: dict
  version_added: 0.2.0
  contains:
    key_id:
      description: The key ARN (or the alias ARN given, when C(DescribeKey) does not answer).
      type: str
      returned: always
    region:
      description: The key's region, from its ARN.
      type: str
      returned: always
    organization_arns:
      description: As given.
      type: list
      elements: str
      returned: always
    organizational_unit_arns:
      description: As given.
      type: list
      elements: str
      returned: always
    organizational_unit_paths:
      description: As given.
      type: list
      elements: str
      returned: always
    state:
      description: As given.
      type: str
      returned: always
    purge:
      description: As given (false with O(state=absent)).
      type: bool
      returned: always
    grant_for_aws_resource_only:
      description: As given.
      type: bool
      returned: always
    statement_id_prefix:
      description: As given.
      type: str
      returned: always
policy:
  description: The key policy after the run (the would-be policy in check mode), as a dict.
  returned: when the key belongs to the account of the credentials
  type: dict
  sample: {"Version": "2012-10-17", "Id": "key-default-1", "Statement": []}
statements:
  description: The statements the module owns, after the run.
  returned: when the key belongs to the account of the credentials
  type: list
  elements: dict
  sample:
    - Sid: OrgShareOuUse
      Effect: Allow
      Principal: "*"
      Action: [kms:Decrypt, kms:DescribeKey, kms:ReEncrypt*, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext]
      Resource: "*"
      Condition: {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-cd34ef56/*"]}}
added:
  description: The principals this run lets in.
  returned: when the key belongs to the account of the credentials
  type: dict
  contains:
    organization_ids:
      description: Organization IDs (values of C(aws:PrincipalOrgID)).
      type: list
      elements: str
      returned: always
      sample: [o-a1b2c3d4e5]
    principal_org_paths:
      description: C(aws:PrincipalOrgPaths) values.
      type: list
      elements: str
      returned: always
      sample: [o-a1b2c3d4e5/*/ou-ab12-cd34ef56/*]
removed:
  description: The principals this run takes out, as the values that were in the policy (for an OU, every spelling of it removed).
  returned: when the key belongs to the account of the credentials
  type: dict
  contains:
    organization_ids:
      description: Organization IDs.
      type: list
      elements: str
      returned: always
      sample: []
    principal_org_paths:
      description: C(aws:PrincipalOrgPaths) values.
      type: list
      elements: str
      returned: always
      sample: []
diff:
  description: The key policy before and after.
  returned: when run with C(--diff)
  type: dict
  contains:
    before:
      description: The policy before, as a dict.
      type: dict
      returned: always
    after:
      description: The policy after (would-be in check mode), as a dict.
      type: dict
      returned: always
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

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._module import by_state
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module

ARGUMENT_SPEC = dict(
    key_id=dict(type="str", required=True, aliases=["key_arn"]),
    organization_arns=dict(type="list", elements="str", default=[]),
    organizational_unit_arns=dict(type="list", elements="str", default=[]),
    organizational_unit_paths=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    purge=dict(type="bool", default=False),
    grant_for_aws_resource_only=dict(type="bool", default=True),
    statement_id_prefix=dict(type="str", default=_key_policy.DEFAULT_PREFIX),
    foreign_key=dict(type="str", choices=["fail", "report"], default="fail"),
    known_kms_keys=dict(type="list", elements="dict", default=[], no_log=False),
)


def check_key(key, requested_key_id, state, region=None):
    """Refuse keys whose policy must not or need not be changed, and (to grant) keys EBS cannot encrypt with."""
    arn = key["Arn"]
    if _keys.is_aws_managed(key):
        raise OrgShareError(
            f"{requested_key_id!r} ({arn}) is an AWS-managed key: its policy cannot be changed, and {_keys.AWS_MANAGED_REASON}. "
            "Copy the AMI re-encrypted with a customer-managed key (orgshare.aws.ami_region_copy) and grant that key instead."
        )
    # Taking principals out of a disabled key's policy is still worth doing (it may be enabled again); a key about to be
    # deleted is left alone either way.
    key_state = _keys.unusable_state(key)
    if key_state == "PendingDeletion" or (state == "present" and key_state):
        raise OrgShareError(
            f"The key {requested_key_id!r} ({arn}) is {key_state}: nobody could use it through a grant, so its policy is left "
            f"alone; {_keys.UNUSABLE_STATE_FIXES[key_state]}."
        )
    problem = _keys.key_spec_problem(key, requested_key_id, region or "this region") if state == "present" else None
    if problem:
        raise OrgShareError(problem)


def foreign_owner(module, key_ref):
    """The account of a key ARN or alias ARN when it is not the caller's (then also the caller's), else None.

    Only an ARN can name another account's key, so only then is STS asked who the caller is.
    """
    arn = _key_policy.parse_kms_arn(key_ref)
    if arn is None:
        return None
    caller = _kms.caller_account_id(module.client("sts"))
    return (arn.account, caller) if arn.account != caller else None


def owner_task(params, key_ref, state):
    """The arguments of this task to run with credentials of the key's own account."""
    return {
        "key_id": key_ref,
        "region": _key_policy.parse_kms_arn(key_ref).region,
        "organization_arns": list(params["organization_arns"]),
        "organizational_unit_arns": list(params["organizational_unit_arns"]),
        "organizational_unit_paths": list(params["organizational_unit_paths"]),
        "state": state,
        "purge": bool(params["purge"]) and state == "present",
        "grant_for_aws_resource_only": params["grant_for_aws_resource_only"],
        "statement_id_prefix": params["statement_id_prefix"],
    }


def foreign_key(module, kms, directory, owner, caller, state, prefix, requested):
    """A key of another account: no policy read, no write; the owner's statements and task, reported or failed with."""
    params = module.params
    try:
        key, refusal = directory.describe(kms, params["key_id"]), None
    except OrgShareError as e:
        refusal = _kms.describe_refusal(e)
        if refusal is None:
            raise
        key = None
    if key:
        check_key(key, params["key_id"], state, module.region)
    key_ref = key["Arn"] if key else params["key_id"]
    arn = _key_policy.parse_kms_arn(key_ref)
    data = {
        "key_id": key["KeyId"] if key else (arn.name if arn.kind == "key" else None),
        "key_arn": key_ref,
        "key_manager": key.get("KeyManager") if key else None,
        "key_state": key.get("KeyState") if key else None,
        "owner_account_id": owner,
        "owner_statements": _key_policy.owner_statements(requested, prefix, params["grant_for_aws_resource_only"]),
        "owner_task": owner_task(params, key_ref, state),
        "kms_keys": directory.summaries(),
    }
    message = _key_policy.foreign_key_message(key_ref, owner, caller, state, refusal)
    if params["foreign_key"] == "fail":
        raise OrgShareError(message, **data)
    module.warn(
        f"The key policy of {key_ref} could not be checked from account {caller}: the key belongs to account {owner}, and a key "
        "policy can only be read and changed in the key's own account. Nothing was changed; owner_statements holds the "
        "statements for its policy and owner_task the arguments to run kms_org_grant with that account's credentials."
    )
    return dict(changed=False, **data)


def grant(module, state, purge):
    """Validate, plan against the current policy, then (outside check mode) write until the change holds."""
    params = module.params
    prefix = _key_policy.check_prefix(params["statement_id_prefix"])
    requested = _key_policy.requested_principals(
        params["organization_arns"], params["organizational_unit_arns"], params["organizational_unit_paths"]
    )
    if not requested and not purge:
        raise OrgShareError(
            "No principal was given: set organization_arns, organizational_unit_arns or organizational_unit_paths "
            "(or, to take every organization and OU out of the managed statements, purge=true with none listed)."
        )

    directory = _kms.KeyDirectory(params["known_kms_keys"])
    kms = module.client("kms")
    elsewhere = foreign_owner(module, params["key_id"])
    if elsewhere:
        return foreign_key(module, kms, directory, *elsewhere, state, prefix, requested)
    key = directory.describe(kms, params["key_id"])
    check_key(key, params["key_id"], state, module.region)

    def plan_for(policy):
        return _key_policy.plan_key_policy(
            policy, requested, state, purge, prefix, params["grant_for_aws_resource_only"], key_arn=key["Arn"]
        )

    plan = plan_for(_kms.get_key_policy(kms, key["Arn"]))
    after = plan.after
    if plan.changed and module.check_mode:
        warning = _key_policy.stale_principal_warning(key["Arn"], plan.before, prefix)
        if warning:
            module.warn(warning)
    if plan.changed and not module.check_mode:
        writer = module.client("kms", config=_kms.SINGLE_ATTEMPT)
        try:
            written = _kms.write_key_policy(kms, key["Arn"], plan, plan_for, writer=writer)
        except _kms.PolicyRefusedForPrincipals as e:
            raise OrgShareError(
                _key_policy.invalid_principals_message(key["Arn"], e.policy, prefix), exception=e.exception
            ) from e
        after = _key_policy.parse_policy(written)

    result = {
        "changed": plan.changed,
        "key_id": key["KeyId"],
        "key_arn": key["Arn"],
        "key_manager": key.get("KeyManager"),
        "key_state": key.get("KeyState"),
        "policy": after,
        "statements": [
            statement for statement in _key_policy.statements_of(after) if _key_policy.owned(statement, prefix)
        ],
        "added": plan.added.as_dict(),
        "removed": plan.removed.as_dict(),
        "kms_keys": directory.summaries(),
    }
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": plan.before, "after": after}
    return result


def ensure_present(module):
    """Let the listed principals use the key (and, with purge, nobody else through the managed statements)."""
    return grant(module, "present", module.params["purge"])


def ensure_absent(module):
    """Take the listed principals out of the managed statements."""
    return grant(module, "absent", False)


ensure = by_state(ensure_present, ensure_absent)


def main():
    run_module(ARGUMENT_SPEC, ensure)


if __name__ == "__main__":
    main()
