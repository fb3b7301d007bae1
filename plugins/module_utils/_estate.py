# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading what the audit judges, with as few calls as the answer allows, and never a write.

Per region: ``DescribeImages`` of the caller's images (every page; batched by ID when IDs are given),
one ``DescribeImageAttribute`` (``launchPermission``) per image at most ``max_concurrency`` at a time,
``DescribeSnapshots`` of the encrypted snapshots only (batched). Per key, once per run whatever the
number of images under it: ``DescribeKey``, and ``GetKeyPolicy`` for the caller's own customer-managed
keys that can be used at all. The organization: ``DescribeOrganization``, then (management account
or delegated administrator) each OU shared with, its parents and their names, each listing made once
(``OrganizationTree``). A read that is refused degrades the audit (a warning, or a finding for that
resource) instead of failing it, except ``DescribeImages`` itself: without it there is nothing to audit.
"""

import datetime

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_check
from ansible_collections.orgshare.aws.plugins.module_utils import _organizations
from ansible_collections.orgshare.aws.plugins.module_utils import _share_audit
from ansible_collections.orgshare.aws.plugins.module_utils._api import aws_cause
from ansible_collections.orgshare.aws.plugins.module_utils._api import error_code
from ansible_collections.orgshare.aws.plugins.module_utils._api import known_regions
from ansible_collections.orgshare.aws.plugins.module_utils._api import map_bounded
from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_account_id
from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import parse_ou_arn
from ansible_collections.orgshare.aws.plugins.module_utils._arns import principal_org_path
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
from ansible_collections.orgshare.aws.plugins.module_utils._images import check_image_ids
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

TREE_ACTIONS = (
    "organizations:ListRoots",
    "organizations:ListParents",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListOrganizationalUnitsForParent",
)
TREE_LOSS = (
    "OU names and full paths are unknown (an OU share is judged with the path o-x/r-y/ou-z/ only, so some answers are "
    "unknown), OUs that no longer exist are not found, OUs below a trusted OU are not recognised, and no account is listed"
)


def now():
    """The time of the audit, ISO 8601 UTC."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_regions(regions):
    """The regions without repeats; refuses an empty list, a region the installed botocore does not know for EC2, and regions of
    several partitions (one set of credentials reaches one partition). Returns ``(regions, partition)``."""
    if not regions:
        raise OrgShareError("regions is empty: give at least one region (or leave it out for the connection's region).")
    known = known_regions("ec2")
    unknown = [region for region in regions if not isinstance(region, str) or known and region not in known]
    if unknown:
        raise OrgShareError(
            f"Unknown region(s): {', '.join(map(repr, unknown))}. EC2 has no such region in any partition the installed "
            "botocore knows; check the spelling (for example eu-west-1), or upgrade botocore for a region newer than it."
        )
    partitions = unique(known.get(region, "aws") for region in regions)
    if len(partitions) > 1:
        raise OrgShareError(
            f"regions spans the partitions {', '.join(partitions)}: one set of credentials reaches one partition, so audit "
            "each partition in its own task."
        )
    return unique(regions), partitions[0]


def check_trust(params):
    """The trusted organizations, OUs and accounts as a :class:`_share_audit.Trust`, or None when none is given."""
    organizations = [
        parse_organization_arn(arn, "trusted_organization_arns", index).id
        for index, arn in enumerate(params.get("trusted_organization_arns") or [], 1)
    ]
    units = [
        parse_ou_arn(arn, "trusted_organizational_unit_arns", index).id
        for index, arn in enumerate(params.get("trusted_organizational_unit_arns") or [], 1)
    ]
    accounts = [
        parse_account_id(account, "trusted account ID", "trusted_account_ids")
        for account in params.get("trusted_account_ids") or []
    ]
    if not organizations and not units and not accounts:
        return None
    return _share_audit.Trust(unique(organizations), unique(units), unique(accounts))


def _failure(error):
    """What AWS answered for a read that failed (for a finding or a warning)."""
    return aws_cause(getattr(error, "exception", None)) or getattr(error, "message", None) or str(error)


class OwnerReader:
    """Reads an estate as its owner sees it. ``make_client(service, region)`` makes a boto3 client; ``warn(text)`` warns;
    ``known_kms_keys`` is key metadata another task of the run read (:class:`_kms.KeyDirectory`), not described again."""

    def __init__(self, make_client, warn, max_concurrency, known_kms_keys=None):
        self.make_client = make_client
        self.warn = warn
        self.max_concurrency = max_concurrency
        self.directory = _kms.KeyDirectory(known_kms_keys)
        self._clients = {}

    def client_for(self, service, region):
        """One client per service and region (None: the default region), made on first use."""
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self.make_client(service, region)
        return self._clients[(service, region)]

    # -- images -------------------------------------------------------------------------------------

    def region_images(self, region, filters, image_ids):
        """``([ImageView], {(region, snapshot ID): snapshot})`` of one region."""
        ec2 = self.client_for("ec2", region)
        images = _ec2.describe_owned_images(ec2, region, filters, image_ids)
        outcomes = map_bounded(
            lambda image: _ec2.describe_launch_permissions(ec2, image["ImageId"]), images, self.max_concurrency
        )
        views = [
            _share_audit.ImageView(
                region,
                outcome.item,
                outcome.value if outcome.error is None else None,
                None if outcome.error is None else _failure(outcome.error),
            )
            for outcome in outcomes
        ]
        wanted = unique(
            mapping["Ebs"]["SnapshotId"]
            for image in images
            for mapping in image.get("BlockDeviceMappings", [])
            if (mapping.get("Ebs") or {}).get("Encrypted") and mapping["Ebs"].get("SnapshotId")
        )
        snapshots = {}
        if wanted:
            try:
                snapshots = {
                    (region, snapshot["SnapshotId"]): snapshot for snapshot in _ec2.describe_snapshots(ec2, wanted)
                }
            except OrgShareError as e:
                self.warn(
                    f"The snapshots of the images in {region} could not be described ({_failure(e)}): their keys are unknown; "
                    "give the auditing credentials ec2:DescribeSnapshots."
                )
        return views, snapshots

    # -- keys ---------------------------------------------------------------------------------------

    def keys(self, key_arns, caller_account_id):
        """{key ARN: KeyInfo}: DescribeKey once per key (none for a key already read), GetKeyPolicy once per own, customer-managed,
        usable key."""

        def read(key_arn):
            kms = self.client_for("kms", _share_audit.key_region(key_arn))
            try:
                metadata = self.directory.describe(kms, key_arn)
            except OrgShareError as e:
                return _share_audit.KeyInfo(key_arn, None, None, _failure(e))
            key = _share_audit.KeyInfo(key_arn, metadata, None, None)
            if _share_audit.blocking_kind(key_arn, metadata, caller_account_id):
                return key  # AWS-managed, unusable or another account's: its policy decides nothing here, or cannot be read
            try:
                return key._replace(policy=_kms.get_key_policy(kms, key_arn))
            except OrgShareError as e:
                return key._replace(error=_failure(e))

        return {outcome.item: outcome.value for outcome in map_bounded(read, key_arns, self.max_concurrency)}

    # -- the organization ---------------------------------------------------------------------------

    def organization(self, mode, principals, list_accounts):
        """The caller's :class:`_share_audit.Organization` (None outside any), read as far as ``mode`` and the caller's rights allow."""
        client = self.client_for("organizations", None)
        try:
            described = _organizations.describe_organization(client)
        except OrgShareError as e:
            if error_code(getattr(e, "exception", None)) == "AWSOrganizationsNotInUseException":
                return None
            self.warn(
                f"The caller's organization could not be described ({_failure(e)}): shares are not compared with it; give the "
                "auditing credentials organizations:DescribeOrganization."
            )
            return None
        base = dict(
            id=described["Id"], arn=described.get("Arn"), management_account_id=described.get("MasterAccountId")
        )
        if mode == "skip":
            return _share_audit.Organization(**base)
        tree = _organizations.OrganizationTree(client)
        try:
            root = tree.root
        except _organizations.OrganizationsAccessDenied as e:
            self._tree_denied(
                mode,
                e,
                f"The tree of organization {base['id']} could not be read ({_failure(e)}); it takes the management "
                f"account or a delegated administrator, with {', '.join(TREE_ACTIONS)}",
            )
            return _share_audit.Organization(**base)
        try:
            return self._tree(tree, base, root, principals, list_accounts)
        except _organizations.OrganizationsAccessDenied as e:
            self._tree_denied(
                mode,
                e,
                f"Part of the tree of organization {base['id']} could not be read ({_failure(e)}); the caller needs "
                f"{', '.join(TREE_ACTIONS + ('organizations:ListAccountsForParent',))}",
            )
            return _share_audit.Organization(**base, root_id=root["Id"])

    def _tree_denied(self, mode, error, message):
        """Fail (organization_tree required) or warn, naming what is missing and what the audit loses."""
        if mode == "required":
            raise OrgShareError(message + ", and organization_tree is required.") from error
        self.warn(message + f". Without it, {TREE_LOSS}.")

    def _tree(self, tree, base, root, principals, list_accounts):
        organization_id, root_id = base["id"], root["Id"]
        units, missing, account_paths = {}, set(), {}
        root_path = principal_org_path(organization_id, root_id, [])

        def unit_path(ou_id):
            _root, chain = tree.ancestry(ou_id)
            names = [tree.unit(part)["Name"] for part in chain]
            return principal_org_path(organization_id, root_id, chain), "/".join([root["Name"]] + names)

        for principal in principals:
            if principal.organization_id != organization_id and principal.kind != "account":
                continue
            try:
                if principal.kind == "organizational_unit":
                    found = tree.unit(principal.id)
                    path, name_path = unit_path(principal.id)
                    units[principal.id] = _share_audit.Unit(
                        principal.id, found.get("Name"), found.get("Arn"), path, name_path
                    )
                elif principal.kind == "account":
                    parent = tree.parent_id(principal.id)
                    account_paths[principal.id] = root_path if parent.startswith("r-") else unit_path(parent)[0]
            except _organizations.OrganizationalUnitNotFound:
                if principal.kind == "organizational_unit":
                    missing.add(principal.id)
                else:
                    account_paths[principal.id] = ""  # not an account of this organization
        reached = self._reached(tree, organization_id, root_id, root_path, units, principals) if list_accounts else None
        return _share_audit.Organization(
            **base,
            root_id=root_id,
            tree_read=True,
            units=units,
            missing_units=missing,
            account_paths=account_paths,
            reached_accounts=reached,
        )

    @staticmethod
    def _reached(tree, organization_id, root_id, root_path, units, principals):
        """Principal ARN -> the accounts it reaches (ListAccountsForParent and ListOrganizationalUnitsForParent, down the tree, each
        listing made once however many shares reach it)."""
        below = {}

        def walk(parent_id, path):
            if parent_id not in below:
                accounts = [
                    _share_audit.Account(account["Id"], account.get("Name"), path)
                    for account in tree.accounts(parent_id)
                ]
                for child in tree.children(parent_id):
                    accounts += walk(child["Id"], f"{path}{child['Id']}/")
                below[parent_id] = accounts
            return below[parent_id]

        reached = {}
        for principal in principals:
            if principal.kind == "organization" and principal.organization_id == organization_id:
                reached[principal.arn] = walk(root_id, root_path)
            elif principal.kind == "organizational_unit" and principal.id in units:
                reached[principal.arn] = walk(principal.id, units[principal.id].path)
        return reached


def read_owner_estate(reader, params, regions, partition, caller_account_id):
    """The :class:`_share_audit.Estate` of the caller's images in ``regions`` that the options select."""
    filters = _share_audit.scope_filters(params.get("name_patterns"), params.get("tags"), params.get("filters"))
    image_ids = params.get("image_ids") or None
    views, snapshots = [], {}
    for region in regions:
        region_views, region_snapshots = reader.region_images(region, filters, image_ids)
        views += region_views
        snapshots.update(region_snapshots)
    missing = [image_id for image_id in image_ids or [] if image_id not in {view.image["ImageId"] for view in views}]
    if missing:
        reader.warn(
            f"Not among this account's images in {', '.join(regions)}: {', '.join(missing)} (another account's, in another region, "
            "or deregistered); they are not audited. For images shared with this account, use perspective: consumer."
        )
    key_arns = unique(
        snapshot["KmsKeyId"]
        for snapshot in snapshots.values()
        if snapshot.get("Encrypted") and snapshot.get("KmsKeyId")
    )
    keys = reader.keys(key_arns, caller_account_id)
    principals = unique(
        principal
        for view in views
        for principal in _share_audit.principals_of(view.launch_permissions)
        if principal.kind != "public"
    )
    organization = reader.organization(params["organization_tree"], principals, params["list_accounts"])
    if params["list_accounts"] and (organization is None or not organization.tree_read):
        reader.warn(
            "list_accounts is true, but no account is listed: it takes the caller's organization tree (see the warning above, "
            "or the caller is in no organization)."
        )
    complete = frozenset() if image_ids or filters else frozenset(regions)
    return _share_audit.Estate(
        caller_account_id,
        partition,
        views,
        snapshots,
        keys,
        organization,
        check_trust(params),
        complete,
        params["statement_id_prefix"],
        now(),
        params["auto_scaling"],
    )


# What a botocore too old for Allowed AMIs lacks, and when the API came (EC2 announced Allowed AMIs on 1 December 2024).
ALLOWED_IMAGES_TOO_OLD = (
    "the installed botocore has no GetAllowedImagesSettings (Allowed AMIs came in December 2024; upgrade boto3 and "
    "botocore to a release from then or later)"
)
# How IAM words a denial by the caller's own (identity-based) policies, as opposed to the key policy (resource-based).
_IDENTITY_DENIAL = "identity-based policy"


class ConsumerReader(OwnerReader):
    """Reads what a consumer account can see of the images shared with it."""

    def allowed_images(self, region):
        """The account's Allowed AMIs settings in ``region``, or None (with a warning that says why) when they cannot be read."""
        ec2 = self.client_for("ec2", region)
        if not hasattr(ec2, "get_allowed_images_settings"):
            self.warn(f"Allowed AMIs were not checked in {region}: {ALLOWED_IMAGES_TOO_OLD}.")
            return None
        try:
            return _ec2.get_allowed_images_settings(ec2, region)
        except OrgShareError as e:
            self.warn(
                f"Allowed AMIs were not checked in {region}: GetAllowedImagesSettings failed ({_failure(e)}); give the auditing "
                "credentials ec2:GetAllowedImagesSettings."
            )
            return None

    def key_answers(self, key_arns):
        """{key ARN: KeyAnswer}: DescribeKey once per key, as this account."""

        def read(key_arn):
            try:
                return _launch_check.KeyAnswer(
                    key_arn,
                    _kms.describe_key(self.client_for("kms", _share_audit.key_region(key_arn)), key_arn),
                    None,
                    False,
                )
            except OrgShareError as e:
                return _launch_check.KeyAnswer(key_arn, None, _failure(e), _IDENTITY_DENIAL in _failure(e))

        return {outcome.item: outcome.value for outcome in map_bounded(read, key_arns, self.max_concurrency)}


def check_key_arns(key_arns):
    """The key ARNs without repeats; refuses anything that is not a key ARN (aliases and IDs name keys of this account only)."""
    for index, key_arn in enumerate(key_arns or [], 1):
        if not isinstance(key_arn, str) or not _share_audit.key_account(key_arn) or ":key/" not in key_arn:
            raise OrgShareError(
                f"kms_key_arns entry {index} ({key_arn!r}) is not a key ARN (arn:aws:kms:<region>:<account>:key/<key id>): a key "
                "of another account can only be named by its key ARN."
            )
    return unique(key_arns or [])


def check_image_keys(image_keys):
    """``image_kms_key_arns`` checked: AMI IDs to lists of key ARNs."""
    if image_keys is None:
        return {}
    if not isinstance(image_keys, dict):
        raise OrgShareError(f"image_kms_key_arns must be a dict of AMI IDs to lists of key ARNs, not {image_keys!r}.")
    checked = {}
    for image_id, key_arns in image_keys.items():
        check_image_ids([image_id])
        checked[image_id] = check_key_arns(key_arns if isinstance(key_arns, list) else [key_arns])
    return checked


def read_consumer_view(reader, params, regions, partition, caller_account_id):
    """The :class:`_launch_check.ConsumerView` of the images shared with the caller in ``regions``."""
    if params.get("tags"):
        raise OrgShareError(
            "tags cannot select images shared with this account: tags are never shared, so a consumer sees only the tags it "
            "put on them itself. Use image_ids or name_patterns."
        )
    filters = _share_audit.scope_filters(params.get("name_patterns"), None, params.get("filters"))
    image_ids = params.get("image_ids") or None
    image_keys = check_image_keys(params.get("image_kms_key_arns"))
    key_arns = unique(
        check_key_arns(params.get("kms_key_arns")) + [arn for arns in image_keys.values() for arn in arns]
    )
    images = {
        region: _ec2.describe_launchable_images(reader.client_for("ec2", region), region, filters, image_ids)
        for region in regions
    }
    allowed = {region: reader.allowed_images(region) for region in regions}
    keys = reader.key_answers(key_arns)
    try:
        organization_id = _organizations.describe_organization(reader.client_for("organizations", None))["Id"]
    except OrgShareError:
        organization_id = None  # in no organization, or not allowed to say: the fixes name no organization then
    return _launch_check.ConsumerView(
        caller_account_id, organization_id, partition, image_ids, images, keys, allowed, now(), image_keys
    )
