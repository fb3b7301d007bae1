# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Launch-permission planning for organization and OU principals. Pure code.

An image's launch permissions mix four kinds of entry: ``UserId`` (an account),
``Group: all`` (public), ``OrganizationArn`` and ``OrganizationalUnitArn``. This
module only ever plans changes to the last two: account and public entries are
neither added nor removed, whatever the options say.
"""

from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique

ORGANIZATION_KEY = "OrganizationArn"
UNIT_KEY = "OrganizationalUnitArn"


class Targets(namedtuple("Targets", "organization_arns organizational_unit_arns")):
    """Organization and OU ARNs, each a list without repeats."""

    __slots__ = ()

    def as_dict(self):
        return {
            "organization_arns": list(self.organization_arns),
            "organizational_unit_arns": list(self.organizational_unit_arns),
        }

    def __bool__(self):
        return bool(self.organization_arns or self.organizational_unit_arns)


class LaunchPermissionPlan(namedtuple("LaunchPermissionPlan", "before after added removed")):
    """What one image's organization/OU launch permissions are, will be, and the difference.

    ``before`` and ``after`` are :class:`Targets` sorted for stable output;
    ``added`` and ``removed`` keep the order of the request.
    """

    __slots__ = ()

    @property
    def changed(self):
        return bool(self.added or self.removed)

    def modify_request(self):
        """The ``LaunchPermission`` argument of one ModifyImageAttribute call, or None."""
        if not self.changed:
            return None
        request = {}
        for field, entries in (("Add", self.added), ("Remove", self.removed)):
            items = [{ORGANIZATION_KEY: arn} for arn in entries.organization_arns]
            items += [{UNIT_KEY: arn} for arn in entries.organizational_unit_arns]
            if items:
                request[field] = items
        return request

    def inverse(self):
        """The plan that undoes this one (used to roll back after a failure)."""
        return LaunchPermissionPlan(self.after, self.before, self.removed, self.added)


def current_targets(launch_permissions):
    """The organization and OU ARNs among an image's launch permissions (others ignored)."""
    permissions = launch_permissions or []
    return Targets(
        unique(entry[ORGANIZATION_KEY] for entry in permissions if ORGANIZATION_KEY in entry),
        unique(entry[UNIT_KEY] for entry in permissions if UNIT_KEY in entry),
    )


def plan_launch_permissions(launch_permissions, desired, state="present", purge=False):
    """Plan one image's change.

    ``launch_permissions`` are the image's current entries as DescribeImageAttribute
    returns them; ``desired`` a :class:`Targets`. With ``state=present`` the desired
    entries are added and, with ``purge``, every other organization/OU entry removed;
    with ``state=absent`` the desired entries are removed where present.
    """
    current = current_targets(launch_permissions)
    added, removed = [], []
    for kind in ("organization_arns", "organizational_unit_arns"):
        have, want = getattr(current, kind), unique(getattr(desired, kind))
        if state == "present":
            added.append([arn for arn in want if arn not in have])
            removed.append([arn for arn in have if arn not in want] if purge else [])
        else:
            added.append([])
            removed.append([arn for arn in want if arn in have])
    added, removed = Targets(*added), Targets(*removed)
    after = Targets(
        *(
            sorted(set(getattr(current, kind)) - set(getattr(removed, kind)) | set(getattr(added, kind)))
            for kind in ("organization_arns", "organizational_unit_arns")
        )
    )
    before = Targets(*(sorted(getattr(current, kind)) for kind in ("organization_arns", "organizational_unit_arns")))
    return LaunchPermissionPlan(before, after, added, removed)


# EC2 User Guide, "AMI quotas": "AMI sharing: The maximum number of entities (organizations,
# organizational units (OUs), and accounts) that an AMI can be shared with in a Region", 1,000 by
# default; "if you share an AMI with an organization or OU, the number of accounts in the organization
# or OU does not count towards the quota". The quota can be raised (Service Quotas), so it is a default.
# ``Group: all`` (public) is none of these entities.
DEFAULT_SHARING_QUOTA = 1000
ACCOUNT_KEY = "UserId"


class SharingCount(namedtuple("SharingCount", "accounts before after")):
    """How many entities share an image: its accounts (never changed here), all entities now, and after the plan."""

    __slots__ = ()


def sharing_count(launch_permissions, plan):
    """Count the entities sharing one image now and once ``plan`` is applied (accounts + organizations + OUs)."""
    accounts = len(unique(entry[ACCOUNT_KEY] for entry in launch_permissions or [] if ACCOUNT_KEY in entry))
    before = accounts + len(plan.before.organization_arns) + len(plan.before.organizational_unit_arns)
    after = accounts + len(plan.after.organization_arns) + len(plan.after.organizational_unit_arns)
    return SharingCount(accounts, before, after)


def sharing_quota_problem(image_id, region, launch_permissions, plan, quota=DEFAULT_SHARING_QUOTA):
    """Why the plan cannot be applied within the AMI sharing quota, or None.

    Only a plan that adds an entry can be refused, as EC2 refuses only an Add that leaves the image
    over the quota: a plan that only removes entries (or changes nothing) always passes.
    """
    count = sharing_count(launch_permissions, plan)
    if count.after <= quota or not plan.added:
        return None
    return (
        f"{image_id} in {region} would be shared with {count.after} accounts, organizations and OUs (now {count.before} → after "
        f"{count.after}: {count.accounts} accounts, {len(plan.after.organization_arns)} organizations, "
        f"{len(plan.after.organizational_unit_arns)} OUs), over the AMI sharing quota of {quota} per AMI and Region (EC2 User Guide, "
        '"AMI quotas"). Share with a parent OU or the organization instead of many OUs (the accounts in an organization or OU do '
        "not count towards the quota), or remove entries (purge=true drops the organizations and OUs not listed; accounts are removed "
        'with ec2 modify-image-attribute), or, if the account\'s quota has been raised (Service Quotas, Amazon EC2 "AMI sharing"), '
        "set sharing_quota to it."
    )
