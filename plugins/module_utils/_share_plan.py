# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the share_ami role does next, decided from its variables and what its tasks returned. Pure code.

The role's tasks only run modules; between them, the ``orgshare.aws.share_ami_plan`` filter calls
the functions here, each with the registered results of earlier tasks. Nothing here calls AWS:
which copy belongs to which source is ``_images.copies_of`` (the rule ami_region_copy finds its
copies by), and what each module checks before its first write stays in that module.

The role, ``state: present``:

1. :func:`role_inputs`, then org_arn_info, then :func:`principals`.
2. Before the first write: ami_org_share in check mode over the sources when they are shared in their
   own region; ami_region_copy in check mode (the copy plan); kms_org_grant in check mode for every
   key (:func:`keys_to_check`), each handed the key metadata already read (``known_kms_keys``), so
   that each key is described once per run.
3. ami_region_copy for every region at once when :func:`copy_due`; kms_org_grant for the keys
   :func:`grants_due`; one ami_org_share per region (:func:`shares`).
4. In check mode, ami_share_info over the AMIs in scope (:func:`audit_scope`) for the findings.
5. :func:`present_report`, :func:`owner_grants`, :func:`summary`.

``state: absent``: :func:`copy_lookups` (amazon.aws.ec2_ami_info), :func:`unshares` (one
ami_org_share per region), :func:`revokes` (kms_org_grant), :func:`absent_report`.
"""

import json

from ansible.module_utils.common.validation import check_type_list
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

NOBODY = (
    "Nothing to share with: set share_ami_organizational_units, share_ami_organizational_unit_arns, share_ami_organization_arns "
    "or share_ami_share_with_organization."
)
PENDING_NOTE = "pending (shared on a later run, once available)"


def as_list(value, name):
    """``value`` as Ansible's own list options take it (a comma-separated string is split); anything else is refused."""
    try:
        return check_type_list(value)
    except TypeError as e:
        raise OrgShareError(
            f"{name} must be a list (or a comma-separated string), not {type(value).__name__}: {value!r}."
        ) from e


def ran(result):
    """Whether a registered task result is one of a task that ran (not skipped, not missing)."""
    return isinstance(result, dict) and bool(result) and not result.get("skipped")


def _loop_results(result):
    """``(item, result)`` for every item of a looped task that ran; none when the task was skipped as a whole."""
    if not isinstance(result, dict):
        return []
    pairs = []
    for entry in result.get("results") or []:
        if entry.get("skipped") or entry.get("failed"):
            continue
        pairs.append((entry.get(entry.get("ansible_loop_var") or "item"), entry))
    return pairs


def role_inputs(variables):
    """The role's variables as its tasks need them: lists read, repeats dropped, and what each region does.

    ``variables`` holds the ``share_ami_*`` variables by their names without the prefix. The result has
    ``image_ids``, ``source_region``, ``regions`` (where to share, the source region when none is given),
    ``copy_regions`` (regions that share a copy: every other region, and the source region when it has a
    key, where the AMIs are copied in place, re-encrypted), ``region_kms_keys`` (the keys of the copy
    regions), ``shares_sources`` (the source region shares the AMIs themselves), the principals as given,
    ``resolve`` (org_arn_info must run) and ``audit_organization_tree`` (for ami_share_info: ``skip`` when
    the organization is given by ID and management account, the way of member accounts, else ``auto``).
    """
    source_region = variables["source_region"]
    if not isinstance(source_region, str) or not source_region:
        raise OrgShareError(f"share_ami_source_region must be a region name, not {source_region!r}.")
    keys = variables.get("region_kms_keys") or {}
    if not isinstance(keys, dict):
        raise OrgShareError(f"share_ami_region_kms_keys must map regions to keys, not {type(keys).__name__}: {keys!r}.")
    image_ids = unique(as_list(variables["image_ids"], "share_ami_image_ids"))
    if not image_ids:
        raise OrgShareError("share_ami_image_ids is empty: give at least one AMI ID (ami-...).")
    regions = unique(as_list(variables.get("regions") or [], "share_ami_regions")) or [source_region]
    copy_regions = [region for region in regions if region != source_region or region in keys]
    organizational_units = as_list(variables.get("organizational_units") or [], "share_ami_organizational_units")
    # Extra variables from the command line or an AWX survey are strings ("false"): read them as Ansible's bool does.
    whole_organization = boolean(variables.get("share_with_organization") or False, strict=False)
    member_mode = bool(variables.get("organization_id")) and bool(variables.get("management_account_id"))
    return {
        "image_ids": image_ids,
        "source_region": source_region,
        "regions": regions,
        "copy_regions": copy_regions,
        "region_kms_keys": {region: keys[region] for region in copy_regions if region in keys},
        "shares_sources": source_region in regions and source_region not in copy_regions,
        "organization_arns": as_list(variables.get("organization_arns") or [], "share_ami_organization_arns"),
        "organizational_unit_arns": as_list(
            variables.get("organizational_unit_arns") or [], "share_ami_organizational_unit_arns"
        ),
        "organizational_units": organizational_units,
        "share_with_organization": whole_organization,
        "resolve": bool(organizational_units) or whole_organization,
        "audit_organization_tree": "skip" if member_mode else "auto",
    }


def principals(inputs, organization):
    """Whom to share with, from the inputs and org_arn_info's result (``organization``; skipped when nothing was to resolve).

    ``organization_arns`` and ``organizational_unit_arns`` go to the launch permissions. Key policies get the exact
    ``aws:PrincipalOrgPaths`` value of each OU that was resolved (``key_unit_paths``) and the ``o-x/*/ou-y/*``
    pattern for OU ARNs given directly (``key_unit_arns``). Refuses a run that names nobody.
    """
    resolved = (organization.get("organizational_units") or []) if ran(organization) else []
    whole = [organization["organization"]["arn"]] if inputs["share_with_organization"] and ran(organization) else []
    result = {
        "organization_arns": unique(list(inputs["organization_arns"]) + whole),
        "organizational_unit_arns": unique(
            list(inputs["organizational_unit_arns"]) + [unit["arn"] for unit in resolved]
        ),
        "key_unit_arns": unique(inputs["organizational_unit_arns"]),
        "key_unit_paths": unique(unit["principal_org_paths"] for unit in resolved),
    }
    if not result["organization_arns"] and not result["organizational_unit_arns"]:
        raise OrgShareError(NOBODY)
    return result


def _known_by_arn(*results):
    """The key metadata (``kms_keys``) the given task results hold, by key ARN."""
    return {key["arn"]: key for result in results if ran(result) for key in result.get("kms_keys") or []}


def _key_item(region, key_arn, known):
    return {"region": region, "key_arn": key_arn, "known_kms_keys": [known[key_arn]] if key_arn in known else []}


def keys_to_check(inputs, sources, copy_plan):
    """Every key to let the principals use, once per region and key: the keys of the copies (the copy plan's ``kms_key_arn``,
    the region's key or its default EBS key) and, when the sources are shared in their own region, the sources' keys.

    Each item carries the metadata the earlier tasks read of its key (``known_kms_keys``).
    """
    known = _known_by_arn(sources, copy_plan)
    found = []
    if inputs["shares_sources"] and ran(sources):
        found.extend((inputs["source_region"], key_arn) for key_arn in sources.get("kms_key_arns") or [])
    if ran(copy_plan):
        found.extend((copy["region"], copy["kms_key_arn"]) for copy in copy_plan["copies"] if copy.get("kms_key_arn"))
    return [_key_item(region, key_arn, known) for region, key_arn in unique(found)]


def copy_due(copy_plan):
    """Whether the copy task has anything to do: a copy to make, or one still pending to wait for (or report)."""
    return ran(copy_plan) and any(
        copy["image_id"] is None or copy["state"] == "pending" for copy in copy_plan["copies"]
    )


def copies_result(copy_plan, copies):
    """The copies as they stand: the copy task's result when it ran, else the plan's (check mode, or nothing to do)."""
    return copies if ran(copies) else copy_plan


def grants_due(key_checks):
    """The keys whose check found a change due (and that belong to this account): the items the grant task loops over."""
    return [
        item
        for item, result in _loop_results(key_checks)
        if result.get("changed") and not result.get("owner_account_id")
    ]


def shares(inputs, sources, copy_plan, copies, check_mode):
    """One ami_org_share per region with something to share: ``[{region, image_ids}]``.

    Copies are shared once available (a pending one on a later run; a copy still to be made, in check mode, has
    nothing to check yet). The sources, shared in their own region, were checked before the first write: they
    are shared only when that check found a change, and in check mode that check is the share's answer.
    """
    current = copies_result(copy_plan, copies)
    items = []
    for region in inputs["regions"]:
        if region == inputs["source_region"] and inputs["shares_sources"]:
            if not check_mode and ran(sources) and any(image["changed"] for image in sources["images"]):
                items.append({"region": region, "image_ids": list(inputs["image_ids"])})
            continue
        image_ids = (
            [
                copy["image_id"]
                for copy in (current or {}).get("copies") or []
                if copy["region"] == region and copy["state"] == "available" and copy["image_id"]
            ]
            if ran(current)
            else []
        )
        if image_ids:
            items.append({"region": region, "image_ids": image_ids})
    return items


def audit_scope(inputs, sources, copy_plan):
    """What ami_share_info audits in check mode: ``image_ids``, the sources and every copy that exists (in the regions shared
    in), and ``known_kms_keys``, the key metadata the run read already."""
    copies = [copy["image_id"] for copy in copy_plan["copies"] if copy["image_id"]] if ran(copy_plan) else []
    return {
        "image_ids": unique(list(inputs["image_ids"]) + copies),
        "known_kms_keys": list(_known_by_arn(sources, copy_plan).values()),
    }


def _shared_images(shared):
    """``{(region, image_id): ami_org_share image entry}`` from a looped ami_org_share task."""
    return {
        (image["region"], image["image_id"]): image
        for _item, result in _loop_results(shared)
        for image in result.get("images") or []
    }


def _changed_keys(*results):
    """``{(region, key_arn)}`` of the looped kms_org_grant results that changed (or, in check mode, would change)."""
    return {
        (item["region"], item["key_arn"])
        for result in results
        for item, outcome in _loop_results(result)
        if outcome.get("changed")
    }


def _findings(audit):
    """``{(region, image_id): [finding]}`` from ami_share_info's result."""
    by_image = {}
    if ran(audit):
        for finding in audit.get("findings") or []:
            for image_id in finding.get("image_ids") or []:
                by_image.setdefault((finding.get("region"), image_id), []).append(finding)
    return by_image


def _entry(region, source_image_id, image_id, state, copied, key_arns, share, granted, findings):
    """One report entry; ``share`` is an ami_org_share image entry (or what sharing a new copy would give), None when unshared."""
    share = share or {"organization_arns": [], "organizational_unit_arns": [], "changed": False}
    changes = {
        "copy": bool(copied),
        "key_grant": [key_arn for key_arn in key_arns if (region, key_arn) in granted],
        "share": bool(share["changed"]),
    }
    return {
        "region": region,
        "source_image_id": source_image_id,
        "image_id": image_id,
        "state": state,
        "copied": bool(copied),
        "kms_key_arns": list(key_arns),
        "organization_arns": list(share["organization_arns"]),
        "organizational_unit_arns": list(share["organizational_unit_arns"]),
        "changes": changes,
        "changed": changes["copy"] or bool(changes["key_grant"]) or changes["share"],
        "findings": findings.get((region, image_id), []) if image_id else [],
    }


def present_report(inputs, principals_, sources, copy_plan, copies, key_checks, grants, shared, audit, check_mode):
    """``share_ami_report`` of ``state: present``: one entry per region and source, every change made (or, in check mode, due).

    An entry has ``region``, ``source_image_id``, ``image_id`` (null for a copy still to be made, in check mode), ``state``
    (of the copy: ``available``, ``pending``, null for one still to be made), ``copied``, ``kms_key_arns``, the
    ``organization_arns`` and ``organizational_unit_arns`` it is shared with after the run, ``changes`` (``copy``,
    ``key_grant``: the keys whose policy changed for it, ``share``), ``changed`` and ``findings`` (ami_share_info's, in
    check mode).
    """
    current = copies_result(copy_plan, copies)
    copy_entries = (
        {(copy["region"], copy["source_image_id"]): copy for copy in current["copies"]} if ran(current) else {}
    )
    checked_sources = {image["image_id"]: image for image in sources["images"]} if ran(sources) else {}
    share_entries = _shared_images(shared)
    granted = _changed_keys(key_checks) if check_mode else _changed_keys(grants)
    findings = _findings(audit)
    would_share = {
        "organization_arns": principals_["organization_arns"],
        "organizational_unit_arns": principals_["organizational_unit_arns"],
        "changed": True,
    }
    report = []
    for region in inputs["regions"]:
        for source_image_id in inputs["image_ids"]:
            if region in inputs["copy_regions"]:
                copy = copy_entries.get((region, source_image_id)) or {}
                image_id, state = copy.get("image_id"), copy.get("state")
                key_arns = [copy["kms_key_arn"]] if copy.get("kms_key_arn") else []
                share = share_entries.get((region, image_id)) if image_id else None
                if share is None and image_id is None:
                    share = would_share  # a new copy starts shared with nobody
                report.append(
                    _entry(
                        region,
                        source_image_id,
                        image_id,
                        state,
                        copy.get("changed"),
                        key_arns,
                        share,
                        granted,
                        findings,
                    )
                )
            else:
                checked = checked_sources.get(source_image_id, {})
                share = share_entries.get((region, source_image_id)) or checked or None
                report.append(
                    _entry(
                        region,
                        source_image_id,
                        source_image_id,
                        "available",
                        False,
                        checked.get("kms_key_arns") or [],
                        share,
                        granted,
                        findings,
                    )
                )
    return report


def owner_grants(*key_results):
    """The keys of other accounts met (``share_ami_foreign_keys: report``) and what their owners must add, once per region and key."""
    grants = {}
    for result in key_results:
        for item, outcome in _loop_results(result):
            if outcome.get("owner_account_id"):
                grants.setdefault(
                    (item["region"], outcome["key_arn"]),
                    {
                        "key_arn": outcome["key_arn"],
                        "region": item["region"],
                        "owner_account_id": outcome["owner_account_id"],
                        "owner_statements": outcome["owner_statements"],
                        "owner_task": outcome["owner_task"],
                    },
                )
    return list(grants.values())


def copy_lookups(inputs):
    """The tag lookups (amazon.aws.ec2_ami_info) that find the copies made earlier: per region, at most
    ``FILTER_BATCH`` (200) source IDs a call, the most a ``DescribeImages`` filter takes."""
    image_ids = list(inputs["image_ids"])
    return [
        {"region": region, "image_ids": image_ids[start : start + _images.FILTER_BATCH]}
        for region in inputs["regions"]
        for start in range(0, len(image_ids), _images.FILTER_BATCH)
    ]


def _described(image):
    """An amazon.aws.ec2_ami_info image in the shape DescribeImages returns it (the fields the copy rule reads)."""
    described = {
        "ImageId": image.get("image_id"),
        "State": image.get("state"),
        "CreationDate": image.get("creation_date"),
        "Tags": [{"Key": key, "Value": value} for key, value in (image.get("tags") or {}).items()],
    }
    for field, name in (("SourceImageId", "source_image_id"), ("SourceImageRegion", "source_image_region")):
        if image.get(name):
            described[field] = image[name]
    return described


def unshares(inputs, found):
    """One ami_org_share (state absent) per region with something to unshare: ``[{region, image_ids, pairs}]``.

    Every available copy the collection made of the sources there counts (an earlier copy under another key too,
    which may still be shared), and in the source region the sources themselves. Pending copies are left out:
    a copy starts shared with nobody. ``pairs`` are ``{source_image_id, image_id, state}``.
    """
    images = {}
    for item, result in _loop_results(found):
        images.setdefault(item["region"], []).extend(_described(image) for image in result.get("images") or [])
    items = []
    for region in inputs["regions"]:
        described = images.get(region, [])
        pairs = []
        for source_image_id in inputs["image_ids"]:
            if region == inputs["source_region"]:
                pairs.append({"source_image_id": source_image_id, "image_id": source_image_id, "state": "available"})
            pairs.extend(
                {"source_image_id": source_image_id, "image_id": copy["ImageId"], "state": copy["State"]}
                for copy in _images.copies_of(
                    described, source_image_id, inputs["source_region"], states=("available",)
                )
            )
        if pairs:
            items.append({"region": region, "image_ids": unique(pair["image_id"] for pair in pairs), "pairs": pairs})
    return items


def revokes(unshared):
    """The keys of the AMIs unshared, once per region and key, with the metadata read of them: the revoke task's items."""
    items = {}
    for item, result in _loop_results(unshared):
        known = _known_by_arn(result)
        for key_arn in result.get("kms_key_arns") or []:
            items.setdefault((item["region"], key_arn), _key_item(item["region"], key_arn, known))
    return list(items.values())


def absent_report(unshare_items, unshared, revoked):
    """``share_ami_report`` of ``state: absent``: one entry per image unshared (or, in check mode, to unshare)."""
    share_entries = _shared_images(unshared)
    granted = _changed_keys(revoked)
    report = []
    for item in unshare_items:
        for pair in item["pairs"]:
            share = share_entries.get((item["region"], pair["image_id"]))
            key_arns = (share or {}).get("kms_key_arns") or []
            report.append(
                _entry(
                    item["region"],
                    pair["source_image_id"],
                    pair["image_id"],
                    pair["state"],
                    False,
                    key_arns,
                    share,
                    granted,
                    {},
                )
            )
    return report


# How the summary says what happened to an entry, by the state of the run and the change: done, or (check mode) due.
_DONE = {
    "present": {
        "copy": ("copied", "would copy"),
        "key_grant": ("key granted", "would grant the key"),
        "share": ("shared", "would share"),
    },
    "absent": {
        "copy": ("copied", "would copy"),
        "key_grant": ("key revoked", "would revoke the key"),
        "share": ("unshared", "would unshare"),
    },
}


def _what_happened(changes, check_mode, state):
    """``copied, key granted, shared`` (or ``would copy, ...`` in check mode), or ``no change``."""
    words = _DONE[state or "present"]
    done = [words[change][1 if check_mode else 0] for change in ("copy", "key_grant", "share") if changes.get(change)]
    return ", ".join(done) or "no change"


def summary(report, check_mode, state="present"):
    """One line per report entry, as the role prints them."""
    lines = []
    for entry in report:
        target = entry["image_id"] or "(copy to be made)"
        pending = f"; {PENDING_NOTE}" if entry["state"] == "pending" else ""
        keys = ", ".join(entry["kms_key_arns"]) or "none"
        findings = entry.get("findings") or []
        noted = f"; findings: {', '.join(unique(finding['code'] for finding in findings))}" if findings else ""
        lines.append(
            f"{entry['region']} {entry['source_image_id']} -> {target}: {_what_happened(entry['changes'], check_mode, state)}{pending}; "
            f"shared with {len(entry['organization_arns'])} organization(s) and {len(entry['organizational_unit_arns'])} OU(s); "
            f"keys: {keys}{noted}"
        )
    return lines


def owner_lines(grants):
    """One line per key of another account: what its owner must run."""
    return [
        f"{grant['region']} {grant['key_arn']} belongs to account {grant['owner_account_id']}, and only that account can change its "
        f"policy: with its credentials, run orgshare.aws.kms_org_grant with {_json(grant['owner_task'])} (the statements: "
        f"{_json(grant['owner_statements'])})."
        for grant in grants
    ]


def _json(value):
    return json.dumps(value, sort_keys=True)
