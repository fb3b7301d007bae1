# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who the caller's AMIs are shared with, who can launch them, and what is broken. Pure code.

:func:`audit` takes what EC2, KMS and AWS Organizations answered (an :class:`Estate`) and returns,
per image and region, its launch permissions by kind, its snapshots and keys, and for every
organization, OU and account it is shared with whether each key lets that principal launch it;
and the findings, each with a severity, the resource, the cause, the fix, who must make it and
(where the collection can) the task that makes it. The API calls that fill an :class:`Estate` are
the module's (``ami_share_info``); nothing here imports boto3.

**Who can launch** is decided by the collection's key-policy evaluator (``_key_access.can_launch``),
the one the emulator's consumer check uses, for a principal of the organization or OU: its
``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` (the OU's full path when the organization tree
could be read). An account that stands for "any account of the organization or OU" is
:data:`REPRESENTATIVE_ACCOUNT`, which is no real account, so that no statement naming an account
(the key owner's root statement above all) decides for it. When the tree could not be read, an
OU's path is only partly known (``o-x/r-y/ou-z/``, from its ID); a refusal that a policy naming
that organization or OU might have decided otherwise is then "unknown" (None), never a finding.

**Findings** (:data:`SEVERITIES`, most severe first) and the codes they carry:

``public_image`` (critical), ``share_outside_trust`` (high), ``key_denies_share`` (high),
``aws_managed_key`` / ``unusable_key`` (high when shared, else low / info), ``foreign_key`` (medium
when shared, else info), ``key_policy_unreadable`` (medium), ``auto_scaling_grant_missing`` (low, only when the consumers are said to use Auto Scaling),
``unknown_principal`` / ``outside_organization`` (medium), ``disabled_image_shared`` (medium),
``deprecated_image_shared`` (low), ``region_drift`` (medium), ``stale_key_grant`` (low),
``launch_permissions_unreadable`` / ``snapshots_unreadable`` (medium).

A finding about a key and a principal names every image it concerns (``image_ids``), so that 1,000
images under one key shared with one OU make one finding, with one task that fixes them all.
"""

import re
from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils import _key_access
from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils._arns import root_id_of_ou
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

SEVERITIES = ("critical", "high", "medium", "low", "info")
# An account ID that is no account (AWS account IDs are 12 digits; this one is never issued), standing for
# "a member of the organization or OU" when a key policy is evaluated for a share.
REPRESENTATIVE_ACCOUNT = "000000000000"
PUBLIC = "all"
_ORG_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):organizations::(?P<account>\d{12}):organization/(?P<org>o-[a-z0-9]+)$"
)
_OU_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):organizations::(?P<account>\d{12}):ou/(?P<org>o-[a-z0-9]+)/(?P<ou>ou-[0-9a-z-]+)$"
)
_KEY_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):")


def severity_rank(severity):
    """0 for the most severe; ValueError for what is no severity."""
    if severity not in SEVERITIES:
        raise ValueError(f"{severity!r} is not a severity: one of {', '.join(SEVERITIES)}.")
    return SEVERITIES.index(severity)


def at_or_above(findings, severity):
    """The findings (dicts) whose severity is ``severity`` or more severe."""
    threshold = severity_rank(severity)
    return [finding for finding in findings if severity_rank(finding["severity"]) <= threshold]


def count_by_severity(findings):
    """``{severity: count}`` for every severity, in order."""
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding["severity"]] += 1
    return counts


# --- what the module gathers ---------------------------------------------------------------------


class ImageView(namedtuple("ImageView", "region image launch_permissions permissions_error")):
    """One image as DescribeImages returned it in ``region``, its launch permissions (DescribeImageAttribute;
    None when they could not be read, ``permissions_error`` saying why)."""

    __slots__ = ()


class KeyInfo(namedtuple("KeyInfo", "arn metadata policy error")):
    """A key under some snapshot: its DescribeKey metadata (None when it could not be described), its key
    policy text (None when not read: another account's key, an AWS-managed or unusable key, or a refusal),
    and ``error``, what AWS answered when a read failed."""

    __slots__ = ()


class Unit(namedtuple("Unit", "id name arn path name_path")):
    """An OU found in the organization: its full ``aws:PrincipalOrgPaths`` value ``path`` (``o-x/r-y/ou-a/``)
    and its name path from the root (``Root/Workloads/Prod``)."""

    __slots__ = ()


class Account(namedtuple("Account", "id name path")):
    """An account of the organization and the ``aws:PrincipalOrgPaths`` value of its parent."""

    __slots__ = ()


class Organization(
    namedtuple(
        "Organization",
        "id arn management_account_id root_id tree_read units missing_units account_paths reached_accounts",
    )
):
    """The caller's organization as far as it could be read.

    ``units``: OU ID -> :class:`Unit` for the OUs shared with that exist; ``missing_units``: the OU IDs of the
    caller's organization that AWS Organizations does not know (deleted); ``account_paths``: account ID -> the
    account's path, or "" for an account outside the organization (only with the tree); ``reached_accounts``:
    principal ARN -> [:class:`Account`] it reaches (only when listed, else None).
    """

    __slots__ = ()

    def __new__(
        cls,
        id,
        arn=None,
        management_account_id=None,
        root_id=None,
        tree_read=False,
        units=None,  # pylint: disable=redefined-builtin
        missing_units=(),
        account_paths=None,
        reached_accounts=None,
    ):
        return super(Organization, cls).__new__(
            cls,
            id,
            arn,
            management_account_id,
            root_id,
            tree_read,
            dict(units or {}),
            frozenset(missing_units),
            dict(account_paths or {}),
            reached_accounts,
        )


class Trust(namedtuple("Trust", "organization_ids unit_ids account_ids")):
    """The organizations, OUs (the OUs below them too) and accounts images may be shared with."""

    __slots__ = ()


class Estate(
    namedtuple(
        "Estate",
        "caller_account_id partition images snapshots keys organization trust complete_regions prefix now auto_scaling",
    )
):
    """Everything :func:`audit` judges.

    ``images``: [:class:`ImageView`]; ``snapshots``: (region, snapshot ID) -> DescribeSnapshots entry (None
    when the snapshots of that region could not be described); ``keys``: key ARN -> :class:`KeyInfo`;
    ``organization``: :class:`Organization` or None (the caller is in none, or it could not be told);
    ``trust``: :class:`Trust` or None (nothing to judge against); ``complete_regions``: the regions where
    every image of the caller was described (stale key grants are judged there only); ``prefix``: the Sid
    prefix of the collection's key-policy statements; ``now``: the time of the audit, ISO 8601 UTC;
    ``auto_scaling``: whether consumers launch through EC2 Auto Scaling, so that a key without the grant it
    needs is a finding (the verdict is reported either way).
    """

    __slots__ = ()


# --- principals ----------------------------------------------------------------------------------


class Principal(namedtuple("Principal", "kind arn id organization_id")):
    """Whom a launch permission names: ``kind`` ``account``, ``organization``, ``organizational_unit`` or ``public``."""

    __slots__ = ()


def principals_of(launch_permissions):
    """The launch permission entries as :class:`Principal` s, in their order, without repeats."""
    found = []
    for entry in launch_permissions or []:
        if entry.get("Group") == PUBLIC:
            found.append(Principal("public", None, PUBLIC, None))
        elif entry.get("UserId"):
            found.append(Principal("account", None, entry["UserId"], None))
        elif entry.get("OrganizationArn"):
            match = _ORG_ARN.match(entry["OrganizationArn"])
            found.append(
                Principal(
                    "organization", entry["OrganizationArn"], match and match.group("org"), match and match.group("org")
                )
            )
        elif entry.get("OrganizationalUnitArn"):
            match = _OU_ARN.match(entry["OrganizationalUnitArn"])
            found.append(
                Principal(
                    "organizational_unit",
                    entry["OrganizationalUnitArn"],
                    match and match.group("ou"),
                    match and match.group("org"),
                )
            )
    return unique(found)


def permissions_by_kind(principals):
    """The launch permissions by kind, as the result shows them."""
    return {
        "account_ids": [p.id for p in principals if p.kind == "account"],
        "organization_arns": [p.arn for p in principals if p.kind == "organization"],
        "organizational_unit_arns": [p.arn for p in principals if p.kind == "organizational_unit"],
        "public": any(p.kind == "public" for p in principals),
    }


def org_targets(principals):
    """``(organization ARNs, OU ARNs)`` of the principals, sorted: what the collection's sharing manages."""
    return (
        sorted(p.arn for p in principals if p.kind == "organization"),
        sorted(p.arn for p in principals if p.kind == "organizational_unit"),
    )


def _label(principal, organization):
    if principal.kind == "organizational_unit" and organization and principal.id in organization.units:
        return f"{organization.units[principal.id].name_path} ({principal.id})"
    if principal.kind == "public":
        return "everyone (public)"
    return principal.arn or f"account {principal.id}"


def _in_caller_organization(principal, organization):
    return organization is not None and principal.organization_id == organization.id


def _root_of(principal, organization):
    if organization is not None and principal.organization_id == organization.id and organization.root_id:
        return organization.root_id
    return root_id_of_ou(principal.id) if principal.kind == "organizational_unit" else None


def principal_context(principal, organization, partition):
    """``(RequestContext, certain)`` of a principal that stands for the share, or ``(None, False)`` for public.

    ``certain`` is whether the context is the one AWS would build for every principal the share reaches:
    the OU's full path or the account's place are known from the tree.
    """
    if principal.kind == "public":
        return None, False
    if principal.kind == "account":
        paths = organization.account_paths if organization is not None else {}
        if principal.id in paths:
            return _key_access.account_context(
                principal.id, org_path=paths[principal.id] or None, partition=partition
            ), True
        return _key_access.account_context(principal.id, partition=partition), False
    if principal.kind == "organizational_unit" and organization is not None and principal.id in organization.units:
        return _key_access.account_context(
            REPRESENTATIVE_ACCOUNT, org_path=organization.units[principal.id].path, partition=partition
        ), True
    root = _root_of(principal, organization)
    middle = f"{principal.id}/" if principal.kind == "organizational_unit" else ""
    path = f"{principal.organization_id}/{root or 'r-unknown'}/{middle}"
    certain = principal.kind == "organization" and root is not None
    return _key_access.account_context(
        REPRESENTATIVE_ACCOUNT, principal.organization_id, path, partition=partition
    ), certain


# --- keys ----------------------------------------------------------------------------------------


def key_account(key_arn):
    match = _KEY_ACCOUNT.match(key_arn or "")
    return match.group(1) if match else None


def key_region(key_arn):
    parts = (key_arn or "").split(":")
    return parts[3] if len(parts) > 5 else None


class KeyVerdict(namedtuple("KeyVerdict", "can_launch reason auto_scaling_grant")):
    """Whether a principal can launch from snapshots under one key: True, False or None (cannot be told), why,
    and whether it can create the grant EC2 Auto Scaling needs (None when not asked or not told)."""

    __slots__ = ()

    def as_dict(self, key_arn):
        return {
            "key_arn": key_arn,
            "can_launch": self.can_launch,
            "reason": self.reason,
            "auto_scaling_grant": self.auto_scaling_grant,
        }


def blocking_kind(key_arn, metadata, caller_account_id):
    """What stands between a key and a launch before its policy is looked at: ``aws_managed``, ``unusable``, ``foreign``, or
    None (its policy decides, so it is worth reading)."""
    metadata = metadata or {}
    if _keys.is_aws_managed(metadata):
        return "aws_managed"
    if _keys.unusable_state(metadata):
        return "unusable"
    if key_account(key_arn) not in (None, caller_account_id):
        return "foreign"
    return None


def key_kind(key, caller_account_id):
    """:func:`blocking_kind`, else ``policy`` (its policy decides) or ``unreadable`` (its policy could not be read)."""
    blocking = blocking_kind(key.arn, key.metadata, caller_account_id)
    if blocking:
        return blocking
    return "policy" if key.policy is not None else "unreadable"


def auto_scaling_grant_decision(policy, context, key_arn, partition):
    """Whether the key policy lets the principal create the grant EC2 Auto Scaling needs: for its own account's
    service-linked role, with the operations the Auto Scaling guide lists (a direct call, not for an AWS resource)."""
    grantee = f"arn:{partition}:iam::{context.principal_account}:{_key_policy.AUTO_SCALING_ROLE}"
    extra = {
        _key_policy.GRANT_FOR_AWS_RESOURCE_KEY: "false",
        _key_policy.GRANTEE_KEY: grantee,
        _key_policy.GRANT_OPERATIONS_KEY: list(_key_policy.AUTO_SCALING_GRANT_OPERATIONS),
    }
    return _key_access.evaluate(policy, "kms:CreateGrant", context.with_extra(extra), key_arn=key_arn)


def _mentions(policy, principal):
    """Whether the policy text names the principal's organization or the principal itself."""
    names = [name for name in (principal.organization_id, principal.id) if name]
    return any(name in policy for name in names)


def key_verdict(key, principal, context, certain, caller_account_id, partition):
    """A :class:`KeyVerdict` for one principal and one key."""
    kind = key_kind(key, caller_account_id)
    metadata = key.metadata or {}
    if kind == "aws_managed":
        return KeyVerdict(
            False,
            f"{key.arn} is an AWS-managed key: snapshots encrypted with it cannot be used by another account",
            None,
        )
    if kind == "unusable":
        return KeyVerdict(False, f"{key.arn} is {metadata['KeyState']}: nobody can use it", None)
    if kind == "foreign":
        return KeyVerdict(
            None, f"{key.arn} belongs to account {key_account(key.arn)}: its policy can only be read there", None
        )
    if kind == "unreadable":
        return KeyVerdict(None, f"the key policy of {key.arn} could not be read ({key.error or 'no policy'})", None)
    try:
        check = _key_access.can_launch(key.policy, context, key_arn=key.arn)
        grant = auto_scaling_grant_decision(key.policy, context, key.arn, partition) if check.allowed else None
    except ValueError as e:  # a document that is no policy grants nothing
        return KeyVerdict(False, f"the key policy of {key.arn} is not a policy: {e}", None)
    if check.allowed:
        return KeyVerdict(True, check.reason, grant.allowed)
    if not certain and _mentions(key.policy, principal):
        return KeyVerdict(
            None,
            check.reason + "; the OU's full path is unknown (the organization tree could not be read), so a statement "
            "naming this organization or OU may yet let it in",
            None,
        )
    return KeyVerdict(False, check.reason, None)


def _all_of(values):
    """Three-valued AND of True/False/None (None: cannot be told)."""
    values = list(values)
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


# --- findings ------------------------------------------------------------------------------------


class Findings:
    """Findings by ID; a finding raised again for another image gains that image."""

    def __init__(self):
        self._by_id = {}

    def add(
        self,
        code,
        severity,
        region,
        resource,
        cause,
        fix,
        who="owner",
        image_id=None,
        principal=None,
        task=None,
        key=None,
        **extra,
    ):
        finding_id = ":".join(part for part in (code, region, resource, principal, key) if part)
        finding = self._by_id.get(finding_id)
        if finding is None:
            finding = dict(
                id=finding_id,
                code=code,
                severity=severity,
                region=region,
                resource=resource,
                principal=principal,
                cause=cause,
                fix=fix,
                who=who,
                task=task,
                image_ids=[],
                **extra,
            )
            self._by_id[finding_id] = finding
        elif severity_rank(severity) < severity_rank(finding["severity"]):
            finding["severity"] = severity
        if image_id and image_id not in finding["image_ids"]:
            finding["image_ids"].append(image_id)
            if finding["task"] and "image_ids" in finding["task"]["args"]:
                finding["task"]["args"]["image_ids"] = list(finding["image_ids"])
        return finding_id

    def listed(self):
        """Most severe first, then by region, code and ID."""
        return sorted(
            self._by_id.values(), key=lambda f: (severity_rank(f["severity"]), f["region"] or "", f["code"], f["id"])
        )


def image_arn(partition, region, image_id):
    return f"arn:{partition}:ec2:{region}::image/{image_id}"


def _task(module, **args):
    return {"module": f"orgshare.aws.{module}", "args": args}


def _unshare_task(region, image_id, principal):
    option = "organization_arns" if principal.kind == "organization" else "organizational_unit_arns"
    return _task("ami_org_share", region=region, image_ids=[image_id], state="absent", **{option: [principal.arn]})


def _grant_task(region, key_arn, principal, **more):
    option = "organization_arns" if principal.kind == "organization" else "organizational_unit_arns"
    return _task("kms_org_grant", region=region, key_id=key_arn, **{option: [principal.arn]}, **more)


def _is_past(timestamp, now):
    return bool(timestamp) and timestamp[:19] <= now[:19]


class _Auditor:
    """One audit: walks the images once, judges each share, key and copy, and collects the findings."""

    def __init__(self, estate):
        self.estate = estate
        self.findings = Findings()
        self.verdicts = {}  # (key ARN, context) -> KeyVerdict; 1,000 images under one key are judged once
        self.key_users = {}  # key ARN -> {principal: [image IDs]}, for stale grants
        self.foreign_principals = {}  # key ARN of another account -> the principals its images are shared with
        self.uncertain_regions = set()
        self.by_region = {}
        for view in estate.images:
            self.by_region.setdefault(view.region, []).append(view)

    @property
    def organization(self):
        return self.estate.organization

    def verdict(self, key, principal, context, certain):
        cache_key = (
            key.arn,
            principal,
            certain,
            context.principal_arn,
            context.principal_org_id,
            context.principal_org_paths,
        )
        if cache_key not in self.verdicts:
            self.verdicts[cache_key] = key_verdict(
                key, principal, context, certain, self.estate.caller_account_id, self.estate.partition
            )
        return self.verdicts[cache_key]

    # -- images ---------------------------------------------------------------------------------

    def snapshots_of(self, view):
        entries, key_arns, unreadable = [], [], False
        for mapping in view.image.get("BlockDeviceMappings", []):
            ebs = mapping.get("Ebs") or {}
            if not ebs.get("SnapshotId"):
                continue
            snapshot_id = ebs["SnapshotId"]
            described = self.estate.snapshots.get((view.region, snapshot_id)) if ebs.get("Encrypted") else None
            key_arn = (described or {}).get("KmsKeyId") if ebs.get("Encrypted") else None
            unreadable |= bool(ebs.get("Encrypted")) and described is None
            entries.append(
                {
                    "snapshot_id": snapshot_id,
                    "device_name": mapping.get("DeviceName"),
                    "encrypted": bool(ebs.get("Encrypted")),
                    "kms_key_arn": key_arn,
                }
            )
            if key_arn:
                key_arns.append(key_arn)
        return entries, unique(key_arns), unreadable

    def image_entry(self, view):
        image, region = view.image, view.region
        image_id = image["ImageId"]
        arn = image_arn(self.estate.partition, region, image_id)
        principals = principals_of(view.launch_permissions)
        snapshots, key_arns, snapshots_unreadable = self.snapshots_of(view)
        tags = _images.tags_of(image)
        entry = {
            "region": region,
            "image_id": image_id,
            "image_arn": arn,
            "name": image.get("Name"),
            "state": image.get("State"),
            "owner_id": image.get("OwnerId"),
            "creation_date": image.get("CreationDate"),
            "deprecation_time": image.get("DeprecationTime"),
            "public": any(p.kind == "public" for p in principals),
            "copy_of": (
                {"image_id": tags[_images.SOURCE_IMAGE_TAG], "region": tags.get(_images.SOURCE_REGION_TAG)}
                if _images.SOURCE_IMAGE_TAG in tags
                else None
            ),
            "launch_permissions": permissions_by_kind(principals) if view.launch_permissions is not None else None,
            "snapshots": snapshots,
            "kms_key_arns": key_arns,
            "shares": [],
            "findings": [],
        }
        if view.launch_permissions is None or snapshots_unreadable:
            self.uncertain_regions.add(region)  # whom its keys serve is not known: no grant there is called stale
        if view.launch_permissions is None:
            self.findings.add(
                "launch_permissions_unreadable",
                "medium",
                region,
                arn,
                image_id=image_id,
                cause=f"The launch permissions of {image_id} could not be read ({view.permissions_error}), so whom it is shared with is unknown.",
                fix="Give the auditing credentials ec2:DescribeImageAttribute (docs/iam-audit-policy.json) and run the audit again.",
            )
        if snapshots_unreadable:
            self.findings.add(
                "snapshots_unreadable",
                "medium",
                region,
                arn,
                image_id=image_id,
                cause=f"The encrypted snapshots of {image_id} could not be described, so the keys under them are unknown.",
                fix="Give the auditing credentials ec2:DescribeSnapshots (docs/iam-audit-policy.json) and run the audit again.",
            )
        self.image_state_findings(view, principals, arn)
        self.key_findings(view, principals, key_arns, arn)
        entry["shares"] = [self.share_entry(view, principal, key_arns, arn) for principal in principals]
        return entry  # its "findings" are filled in once every finding is known (run)

    def image_state_findings(self, view, principals, arn):
        image, region = view.image, view.region
        image_id = image["ImageId"]
        shared = [p for p in principals if p.kind != "public"]
        found = []
        if any(p.kind == "public" for p in principals):
            found.append(
                self.findings.add(
                    "public_image",
                    "critical",
                    region,
                    arn,
                    image_id=image_id,
                    principal=PUBLIC,
                    cause=f"{image_id} in {region} is public: every AWS account can launch it and read what its snapshots hold.",
                    fix=f"Remove the public launch permission (aws ec2 modify-image-attribute --region {region} --image-id {image_id} "
                    "--launch-permission 'Remove=[{Group=all}]'), and turn on block public access for AMIs (aws ec2 "
                    f"enable-image-block-public-access --region {region} --image-block-public-access-state block-new-sharing). The "
                    "collection never changes public launch permissions.",
                )
            )
        if image.get("State") == "disabled" and principals:
            found.append(
                self.findings.add(
                    "disabled_image_shared",
                    "medium",
                    region,
                    arn,
                    image_id=image_id,
                    cause=f"{image_id} in {region} is disabled and still has launch permissions, though disabling an AMI removes them all.",
                    fix="Remove them (orgshare.aws.ami_org_share with purge: true and no organization or OU, for the organizations and OUs), or "
                    "enable the image if it is meant to be used.",
                    task=_task(
                        "ami_org_share",
                        region=region,
                        image_ids=[image_id],
                        purge=True,
                        organization_arns=[],
                        organizational_unit_arns=[],
                    )
                    if any(p.kind in ("organization", "organizational_unit") for p in shared)
                    else None,
                )
            )
        if _is_past(image.get("DeprecationTime"), self.estate.now) and shared and image.get("State") != "disabled":
            organizations, units = org_targets(shared)
            found.append(
                self.findings.add(
                    "deprecated_image_shared",
                    "low",
                    region,
                    arn,
                    image_id=image_id,
                    cause=f"{image_id} in {region} has been deprecated since {image['DeprecationTime']} and is still shared with "
                    f"{', '.join(_label(p, self.organization) for p in shared)}: consumers can still launch it by ID.",
                    fix="Stop sharing it (orgshare.aws.ami_org_share with state: absent), or cancel its deprecation "
                    f"(aws ec2 disable-image-deprecation --region {region} --image-id {image_id}) if it is still meant to be used.",
                    task=_task(
                        "ami_org_share",
                        region=region,
                        image_ids=[image_id],
                        state="absent",
                        organization_arns=organizations,
                        organizational_unit_arns=units,
                    )
                    if organizations or units
                    else None,
                )
            )
        return found

    def key_findings(self, view, principals, key_arns, arn):
        """Findings about the keys themselves: AWS-managed, unusable, of another account, policy unreadable."""
        region, image_id = view.region, view.image["ImageId"]
        shared = any(p.kind != "public" for p in principals)
        found = []
        for key_arn in key_arns:
            key = self.estate.keys.get(key_arn) or KeyInfo(key_arn, None, None, "not described")
            kind = key_kind(key, self.estate.caller_account_id)
            if kind == "aws_managed":
                found.append(
                    self.findings.add(
                        "aws_managed_key",
                        "high" if shared else "info",
                        region,
                        arn,
                        image_id=image_id,
                        key=key_arn,
                        cause=f"The snapshots of {image_id} are encrypted with the AWS-managed key {key_arn}, which no other account can use: "
                        + (
                            "it is shared, but nobody it is shared with can launch it."
                            if shared
                            else "it cannot be shared as it is."
                        ),
                        fix=_images.COPY_FIX[0].upper() + _images.COPY_FIX[1:] + ".",
                        task=_task(
                            "ami_region_copy",
                            region=region,
                            source_region=region,
                            source_image_id=image_id,
                            kms_key_id="<a customer-managed key of this region>",
                        ),
                    )
                )
            elif kind == "unusable":
                state = key.metadata["KeyState"]
                found.append(
                    self.findings.add(
                        "unusable_key",
                        "high" if shared else "low",
                        region,
                        key_arn,
                        image_id=image_id,
                        cause=f"Snapshots of this account's images are encrypted with {key_arn}, which is {state}: nobody can launch "
                        "those images, shared or not.",
                        fix="Enable the key (aws kms enable-key) or cancel its deletion (aws kms cancel-key-deletion), or copy the AMI under "
                        "another customer-managed key (orgshare.aws.ami_region_copy) and share the copy.",
                    )
                )
            elif kind == "foreign":
                found.append(self.foreign_key_finding(view, principals, key, shared))
            elif kind == "unreadable" and shared:
                found.append(
                    self.findings.add(
                        "key_policy_unreadable",
                        "medium",
                        region,
                        key_arn,
                        image_id=image_id,
                        cause=f"The key policy of {key_arn} could not be read ({key.error or 'no policy'}), so whether the principals {image_id} "
                        "is shared with can use the key is unknown.",
                        fix="Give the auditing credentials kms:DescribeKey and kms:GetKeyPolicy on the key (docs/iam-audit-policy.json), "
                        "and run the audit again.",
                    )
                )
        return found

    def foreign_key_finding(self, view, principals, key, shared):
        region, image_id = view.region, view.image["ImageId"]
        owner = key_account(key.arn)
        self.foreign_principals.setdefault(key.arn, set()).update(
            p for p in principals if p.kind in ("organization", "organizational_unit")
        )
        return self.findings.add(
            "foreign_key",
            "medium" if shared else "info",
            region,
            key.arn,
            image_id=image_id,
            who=f"account {owner}",
            cause=f"Snapshots of this account's images are encrypted with {key.arn} of account {owner}: a key policy can only be read in "
            f"the key's own account, so whether the principals the images are shared with can use the key cannot be checked from account "
            f"{self.estate.caller_account_id}.",
            fix=f"Have account {owner} make sure its key policy has the statements in owner_statements (or run orgshare.aws.kms_org_grant "
            "with that account's credentials: the task below).",
            owner_statements=[],
        )

    def finish_foreign_keys(self, findings):
        """The statements and task each foreign key's owner needs, for every organization and OU its images are shared with."""
        for finding in findings:
            principals = self.foreign_principals.get(finding["resource"]) if finding["code"] == "foreign_key" else None
            if not principals:
                continue
            organizations, units = org_targets(principals)
            requested = _key_policy.requested_principals(organizations, units)
            finding["owner_statements"] = _key_policy.owner_statements(requested, self.estate.prefix)
            finding["task"] = _task(
                "kms_org_grant",
                region=finding["region"],
                key_id=finding["resource"],
                organization_arns=organizations,
                organizational_unit_arns=units,
            )

    # -- shares ---------------------------------------------------------------------------------

    def share_entry(self, view, principal, key_arns, arn):
        image_id = view.image["ImageId"]
        organization = self.organization
        unit = (
            organization.units.get(principal.id) if organization and principal.kind == "organizational_unit" else None
        )
        share = {
            "kind": principal.kind,
            "arn": principal.arn,
            "id": principal.id,
            "organization_id": principal.organization_id,
            "name": unit.name if unit else None,
            "name_path": unit.name_path if unit else None,
            "path": unit.path if unit else None,
            "in_caller_organization": _in_caller_organization(principal, organization) if organization else None,
            "trusted": self.trusted(principal),
            "can_launch": None,
            "kms_keys": [],
            "accounts": None,
        }
        self.principal_findings(view, principal, arn, share)
        if principal.kind == "public":
            share["can_launch"] = not key_arns
            return share
        for key_arn in key_arns:
            self.key_users.setdefault(key_arn, {}).setdefault(principal, []).append(image_id)
        if view.image.get("State") != "available":
            share["can_launch"] = False
            return share
        context, certain = principal_context(principal, organization, self.estate.partition)
        verdicts = {
            key_arn: self.verdict(
                self.estate.keys.get(key_arn) or KeyInfo(key_arn, None, None, "not described"),
                principal,
                context,
                certain,
            )
            for key_arn in key_arns
        }
        share["kms_keys"] = [verdict.as_dict(key_arn) for key_arn, verdict in verdicts.items()]
        share["can_launch"] = _all_of(verdict.can_launch for verdict in verdicts.values())
        for key_arn, verdict in verdicts.items():
            self.verdict_findings(view, principal, key_arn, verdict, certain)
        reached = organization.reached_accounts if organization is not None else None
        if reached is not None and principal.kind in ("organization", "organizational_unit"):
            share["accounts"] = [self.account_entry(account, key_arns) for account in reached.get(principal.arn, [])]
        return share

    def account_entry(self, account, key_arns):
        context = _key_access.account_context(
            account.id, org_path=account.path or None, partition=self.estate.partition
        )
        principal = Principal("account", None, account.id, None)
        verdicts = [
            self.verdict(
                self.estate.keys.get(key_arn) or KeyInfo(key_arn, None, None, "not described"), principal, context, True
            )
            for key_arn in key_arns
        ]
        return {
            "id": account.id,
            "name": account.name,
            "can_launch": _all_of(verdict.can_launch for verdict in verdicts),
        }

    def verdict_findings(self, view, principal, key_arn, verdict, certain):
        region, image_id = view.region, view.image["ImageId"]
        key = self.estate.keys.get(key_arn)
        if key is None or key_kind(key, self.estate.caller_account_id) != "policy":
            return []  # AWS-managed, unusable, foreign and unreadable keys have their own findings
        label = _label(principal, self.organization)
        denied = None  # the finding's principal, cause, fix and task, where the key denies the share
        if verdict.can_launch is False and principal.kind != "account":
            denied = dict(
                principal=principal.arn,
                cause=f"Shared with {label}, but the key policy of {key_arn} does not let its principals use the key: {verdict.reason}. "
                "They see the AMI, and their instances go from pending to terminated (Client.InternalError).",
                fix=f"Let {label} use the key: orgshare.aws.kms_org_grant on {key_arn} with that principal (the task below).",
                task=_grant_task(region, key_arn, principal),
            )
        elif verdict.can_launch is False and certain:
            denied = dict(
                principal=f"account {principal.id}",
                cause=f"Shared with account {principal.id}, but the key policy of {key_arn} does not let it use the key: {verdict.reason}.",
                fix=f"Add a statement for account {principal.id} to the key policy of {key_arn} (the collection writes statements for "
                "organizations and OUs only), or share with its organization or OU instead.",
            )
        if denied:
            return [self.findings.add("key_denies_share", "high", region, key_arn, image_id=image_id, **denied)]
        if (
            self.estate.auto_scaling
            and verdict.can_launch
            and verdict.auto_scaling_grant is False
            and principal.kind != "account"
        ):
            return [
                self.findings.add(
                    "auto_scaling_grant_missing",
                    "low",
                    region,
                    key_arn,
                    image_id=image_id,
                    principal=principal.arn,
                    cause=f"{label} can launch instances from it, but the key policy of {key_arn} does not let its accounts create the grant "
                    "EC2 Auto Scaling needs (kms:CreateGrant for their AWSServiceRoleForAutoScaling), so Auto Scaling groups and launch "
                    "templates used by Auto Scaling cannot launch it.",
                    fix="If the consumers use Auto Scaling, run orgshare.aws.kms_org_grant with grant_for_aws_resource_only: false (the task "
                    'below); each consumer then creates its grant (README, "What consumers need").',
                    task=_grant_task(region, key_arn, principal, grant_for_aws_resource_only=False),
                )
            ]
        return []

    def principal_findings(self, view, principal, arn, share):
        """Findings about whom the image is shared with: outside the trusted ones, gone, outside the organization."""
        region, image_id = view.region, view.image["ImageId"]
        organization = self.organization
        label = _label(principal, organization)
        found = []
        if share["trusted"] is False:
            task = (
                _unshare_task(region, image_id, principal)
                if principal.kind in ("organization", "organizational_unit")
                else None
            )
            found.append(
                self.findings.add(
                    "share_outside_trust",
                    "high",
                    region,
                    principal.arn or principal.id,
                    image_id=image_id,
                    principal=principal.arn or principal.id,
                    cause=f"Shared with {label}, which is not among the trusted organizations, OUs and accounts"
                    + (
                        ""
                        if organization is None or organization.tree_read
                        else " (the organization tree could not be read, so an OU below a trusted OU is not recognised)"
                    )
                    + ".",
                    fix=(
                        "Stop sharing with it (orgshare.aws.ami_org_share with state: absent, the task below), or add it to the trusted ones."
                        if task
                        else f"Stop sharing with account {principal.id} (aws ec2 modify-image-attribute --launch-permission "
                        f"'Remove=[{{UserId={principal.id}}}]'), or add it to trusted_account_ids."
                    ),
                    task=task,
                )
            )
        if principal.kind not in ("organization", "organizational_unit") or organization is None:
            return found
        if principal.organization_id != organization.id:
            code, cause = (
                "outside_organization",
                (
                    f"Shared with {principal.arn}, which is not in the caller's organization {organization.id}; from here it cannot be told "
                    "whether it still exists or whom it reaches."
                ),
            )
            fix = "If the share is meant, add it to the trusted organizations or OUs; otherwise stop sharing (the task below)."
        elif principal.kind == "organizational_unit" and principal.id in organization.missing_units:
            code, cause = (
                "unknown_principal",
                (
                    f"Shared with the OU {principal.id}, which no longer exists in organization {organization.id}: the launch permission "
                    "reaches nobody, and an OU made later never gets this ID."
                ),
            )
            fix = "Remove the stale launch permission (the task below)."
        else:
            return found
        found.append(
            self.findings.add(
                code,
                "medium",
                region,
                principal.arn,
                image_id=image_id,
                principal=principal.arn,
                cause=cause,
                fix=fix,
                task=_unshare_task(region, image_id, principal),
            )
        )
        return found

    def trusted(self, principal):
        """Whether the principal is among the trusted ones: True, False, or None when nothing is trusted (not judged)."""
        trust = self.estate.trust
        if trust is None or principal.kind == "public":
            return None if trust is None else False
        if principal.kind == "organization":
            return principal.organization_id in trust.organization_ids
        if principal.kind == "organizational_unit":
            if principal.organization_id in trust.organization_ids or principal.id in trust.unit_ids:
                return True
            unit = self.organization.units.get(principal.id) if self.organization else None
            return bool(unit and any(f"/{ou}/" in unit.path for ou in trust.unit_ids))
        if principal.id in trust.account_ids:
            return True
        paths = self.organization.account_paths if self.organization else {}
        path = paths.get(principal.id)
        return bool(path) and (
            path.split("/", 1)[0] in trust.organization_ids or any(f"/{ou}/" in path for ou in trust.unit_ids)
        )

    # -- copies and keys ------------------------------------------------------------------------

    def drift_findings(self, entries):
        """A copy (found as the role finds copies) whose organizations and OUs are not its source's."""
        by_id = {(entry["region"], entry["image_id"]): entry for entry in entries}
        views = {(view.region, view.image["ImageId"]): view for view in self.estate.images}
        # The tagged images of each region by what they say they copy, so that each source looks at its own copies only.
        tagged = {}
        for view in self.estate.images:
            tags = _images.tags_of(view.image)
            if _images.SOURCE_IMAGE_TAG in tags:
                tagged.setdefault(
                    (tags[_images.SOURCE_IMAGE_TAG], tags.get(_images.SOURCE_REGION_TAG), view.region), []
                ).append(view.image)
        for (image_id, region, copy_region), candidates in sorted(tagged.items()):
            view = views.get((region, image_id))
            if view is None or copy_region == region or view.launch_permissions is None:
                continue  # the source is not in this audit's scope (or not readable): nothing to compare with
            wanted = org_targets(principals_of(view.launch_permissions))
            for copy in _images.copies_of(candidates, image_id, region, states=("available",)):
                copy_view = views[(copy_region, copy["ImageId"])]
                if copy_view.launch_permissions is None:
                    continue
                have = org_targets(principals_of(copy_view.launch_permissions))
                if have != wanted:
                    self.drift_finding(
                        view, copy_view, wanted, have, by_id[(copy_region, copy["ImageId"])]["image_arn"]
                    )

    def drift_finding(self, source, copy, wanted, have, arn):
        image_id, copy_id = source.image["ImageId"], copy.image["ImageId"]
        missing = sorted(set(wanted[0] + wanted[1]) - set(have[0] + have[1]))
        extra = sorted(set(have[0] + have[1]) - set(wanted[0] + wanted[1]))
        disabled = source.image.get("State") == "disabled"
        cause = (
            f"{copy_id} in {copy.region} is a copy of {image_id} in {source.region}, but is not shared like it"
            + (f": missing {', '.join(missing)}" if missing else "")
            + (f"; also shared with {', '.join(extra)}" if extra else "")
            + "."
        )
        if disabled:
            cause += (
                " Its source is disabled (which removed its launch permissions), while the copy can still be launched."
            )
        return self.findings.add(
            "region_drift",
            "medium",
            copy.region,
            arn,
            image_id=copy_id,
            source_image_id=image_id,
            source_region=source.region,
            cause=cause,
            fix=(
                "Disable or stop sharing the copy too, if the source was retired"
                if disabled
                else "Share the copy like its source (orgshare.aws.ami_org_share in the copy's region with the source's organizations and OUs "
                "and purge: true, the task below; the share_ami role does the same for every region it is given)"
            )
            + ".",
            task=_task(
                "ami_org_share",
                region=copy.region,
                image_ids=[copy_id],
                organization_arns=wanted[0],
                organizational_unit_arns=wanted[1],
                purge=True,
            ),
        )

    def key_entries(self):
        """Per key: what it is, whom the collection's statements open it to, and (where the audit saw every image) which of
        those no image under it is shared with any more."""
        entries = []
        for key_arn in sorted(self.estate.keys):
            key = self.estate.keys[key_arn]
            metadata = key.metadata or {}
            region = key_region(key_arn)
            users = self.key_users.get(key_arn, {})
            entry = {
                "key_arn": key_arn,
                "region": region,
                "account_id": key_account(key_arn),
                "key_manager": metadata.get("KeyManager"),
                "key_state": metadata.get("KeyState"),
                "policy_read": key.policy is not None,
                "opens_to": None,
                "stale": None,
                "image_ids": sorted({image_id for images in users.values() for image_id in images}),
            }
            if key.policy is not None and key_kind(key, self.estate.caller_account_id) == "policy":
                try:
                    opened = _key_policy.current_principals(_key_policy.parse_policy(key.policy), self.estate.prefix)
                except Exception:  # pylint: disable=broad-exception-caught
                    opened = None  # not JSON, or no statement list: the policy has its own finding if it matters
                if opened is not None:
                    entry["opens_to"] = opened.as_dict()
                    if region in self.estate.complete_regions and region not in self.uncertain_regions:
                        entry["stale"] = self.stale(opened, set(users))
                        self.stale_finding(key_arn, region, entry["stale"])
            entries.append(entry)
        return entries

    def stale(self, opened, principals):
        """The organization IDs and path values of the collection's statements that no principal of ``principals`` needs."""
        organization_ids = {p.organization_id for p in principals if p.kind == "organization"}
        units = [p for p in principals if p.kind == "organizational_unit"]

        def needed(value):
            identity = _key_policy.ou_identity(value)
            if identity is None:
                return True  # names no one OU: not judged
            for unit in units:
                if unit.id == identity.unit_id:
                    return True
                known = self.organization.units.get(unit.id) if self.organization else None
                if identity.subtree and (known is None or f"/{identity.unit_id}/" in known.path):
                    return True  # below it, or cannot be told without the tree
            return False

        return {
            "organization_ids": [org for org in opened.organization_ids if org not in organization_ids],
            "principal_org_paths": [value for value in opened.org_paths if not needed(value)],
        }

    def stale_finding(self, key_arn, region, stale):
        if not stale["organization_ids"] and not stale["principal_org_paths"]:
            return
        names = stale["organization_ids"] + stale["principal_org_paths"]
        organization = self.organization
        arns = (
            [
                f"arn:{self.estate.partition}:organizations::{organization.management_account_id}:organization/{org}"
                for org in stale["organization_ids"]
            ]
            if organization and organization.management_account_id
            else []
        )
        task = None
        if len(arns) == len(stale["organization_ids"]):
            task = _task(
                "kms_org_grant",
                region=region,
                key_id=key_arn,
                state="absent",
                organization_arns=arns,
                organizational_unit_paths=stale["principal_org_paths"],
            )
        self.findings.add(
            "stale_key_grant",
            "low",
            region,
            key_arn,
            cause=f"The collection's statements in the key policy of {key_arn} open it to {', '.join(names)}, but no image of this account "
            f"under that key in {region} is shared with them any more.",
            fix="Take them out of the key policy (orgshare.aws.kms_org_grant with state: absent, the task below), unless images of other "
            "accounts use the key.",
            task=task,
        )

    def run(self):
        entries = [self.image_entry(view) for view in self.estate.images]
        self.drift_findings(entries)
        keys = self.key_entries()
        findings = self.findings.listed()
        self.finish_foreign_keys(findings)
        by_image = {}
        for finding in findings:
            for image_id in finding["image_ids"]:
                by_image.setdefault((finding["region"], image_id), []).append(finding["id"])
        for entry in entries:
            entry["findings"] = by_image.get((entry["region"], entry["image_id"]), [])
        return {
            "images": entries,
            "kms_keys": keys,
            "findings": findings,
            "summary": {
                "images": len(entries),
                "regions": sorted(self.by_region),
                "findings": count_by_severity(findings),
            },
        }


def audit(estate):
    """The audit of an :class:`Estate`: ``{"images", "kms_keys", "findings", "summary"}`` (see the module's RETURN)."""
    return _Auditor(estate).run()


# --- the scope the module is given -----------------------------------------------------------------

# The DescribeImages filters (EC2 API reference, DescribeImages, Filters), by name; tag:<key> is any tag.
IMAGE_FILTERS = (
    "architecture",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "block-device-mapping.encrypted",
    "creation-date",
    "description",
    "ena-support",
    "free-tier-eligible",
    "hypervisor",
    "image-allowed",
    "image-id",
    "image-type",
    "is-public",
    "kernel-id",
    "manifest-location",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "product-code",
    "product-code.type",
    "ramdisk-id",
    "root-device-name",
    "root-device-type",
    "source-image-id",
    "source-image-region",
    "source-instance-id",
    "state",
    "state-reason-code",
    "state-reason-message",
    "sriov-net-support",
    "tag-key",
    "virtualization-type",
)
# What an AMI name may hold (EC2 RegisterImage, Name), plus the wildcards of a name filter.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9()\[\] ./'@_*?-]{1,128}$")


def _filter_values(name, value):
    values = value if isinstance(value, list) else [value]
    if not values or any(
        not isinstance(item, (str, int, bool)) or isinstance(item, str) and not item for item in values
    ):
        raise OrgShareError(f"filters[{name!r}] is {value!r}: a filter takes a non-empty string or a list of them.")
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in values]


def scope_filters(name_patterns=None, tags=None, filters=None):
    """The DescribeImages filters for the options ``name_patterns``, ``tags`` and ``filters`` (checked: a malformed one is
    refused with what is wrong, before any call)."""
    found = []
    for index, pattern in enumerate(name_patterns or [], 1):
        if not isinstance(pattern, str) or not _NAME_PATTERN.match(pattern):
            raise OrgShareError(
                f"name_patterns entry {index} ({pattern!r}) is not an AMI name pattern: 1 to 128 letters, digits, spaces and "
                "( ) [ ] . / - ' @ _, with * for any run of characters and ? for any one."
            )
    if name_patterns:
        found.append({"Name": "name", "Values": list(name_patterns)})
    if tags is not None and not isinstance(tags, dict):
        raise OrgShareError(f"tags must be a dict of tag keys to values, not {tags!r}.")
    for key, value in (tags or {}).items():
        if not isinstance(key, str) or not key:
            raise OrgShareError(f"tags has the key {key!r}: tag keys are non-empty strings.")
        found.append({"Name": f"tag:{key}", "Values": _filter_values(f"tag:{key}", value)})
    if filters is not None and not isinstance(filters, dict):
        raise OrgShareError(f"filters must be a dict of DescribeImages filter names to values, not {filters!r}.")
    for name, value in (filters or {}).items():
        if not isinstance(name, str) or not (name in IMAGE_FILTERS or name.startswith("tag:") and len(name) > 4):
            raise OrgShareError(
                f"filters has {name!r}, which is not a DescribeImages filter: use one of {', '.join(IMAGE_FILTERS)}, or "
                "tag:<key>."
            )
        if name == "owner-id" or name == "owner-alias":
            raise OrgShareError(
                f"filters has {name!r}: the audit reads the caller's own images (perspective owner) or those shared with "
                "it (perspective consumer); it takes no owner filter."
            )
        found.append({"Name": name, "Values": _filter_values(name, value)})
    return found
