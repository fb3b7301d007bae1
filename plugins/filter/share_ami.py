# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters the share_ami role uses; thin wrappers over the collection's tested module_utils (_share_plan)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.module_utils import _share_plan
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# share_ami_plan's steps: the function each calls, and the keyword arguments it takes after the value piped in.
STEPS = {
    "inputs": (_share_plan.role_inputs, ()),
    "principals": (_share_plan.principals, ("organization",)),
    "keys": (_share_plan.keys_to_check, ("sources", "copy_plan")),
    "copy_due": (_share_plan.copy_due, ()),
    "grants_due": (_share_plan.grants_due, ()),
    "shares": (_share_plan.shares, ("sources", "copy_plan", "copies", "check_mode")),
    "audit_scope": (_share_plan.audit_scope, ("sources", "copy_plan")),
    "report": (
        _share_plan.present_report,
        ("principals", "sources", "copy_plan", "copies", "key_checks", "grants", "shares", "audit", "check_mode"),
    ),
    "owner_grants": (_share_plan.owner_grants, ()),
    "copy_lookups": (_share_plan.copy_lookups, ()),
    "unshares": (_share_plan.unshares, ("found",)),
    "revokes": (_share_plan.revokes, ()),
    "absent_report": (_share_plan.absent_report, ("unshared", "revoked")),
    "summary": (_share_plan.summary, ("check_mode", "state")),
    "owner_lines": (_share_plan.owner_lines, ()),
}


def as_list(value, name):
    """``value`` as Ansible's own list options take it (a comma-separated string is split); anything else is refused."""
    try:
        return _share_plan.as_list(value, name)
    except OrgShareError as e:
        raise AnsibleFilterError(e.message) from e


def share_ami_plan(value, step, **kwargs):
    """One step of the share_ami role's plan (see :mod:`_share_plan`): ``value`` and ``kwargs`` are what the step takes."""
    if step not in STEPS:
        raise AnsibleFilterError(f"share_ami_plan has no step {step!r}; its steps are {', '.join(STEPS)}.")
    function, names = STEPS[step]
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise AnsibleFilterError(
            f"share_ami_plan({step!r}) takes {', '.join(names) or 'no keyword argument'}, not {', '.join(unknown)}."
        )
    try:
        return function(value, *(kwargs.get(name) for name in names))
    except OrgShareError as e:
        raise AnsibleFilterError(e.message) from e


class FilterModule:
    """orgshare.aws filters of the share_ami role."""

    def filters(self):
        return {"as_list": as_list, "share_ami_plan": share_ami_plan}
