# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters the audit playbook uses; thin wrappers over the collection's tested module_utils (_audit_report)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.module_utils import _audit_report


def _checked(result, name):
    if not isinstance(result, dict) or "findings" not in result or "images" not in result:
        raise AnsibleFilterError(
            f"{name} takes the result of orgshare.aws.ami_share_info (with images and findings), not {type(result).__name__}."
        )
    return result


def audit_report(result, report_format="markdown", title="AMI sharing audit"):
    """The report of an ami_share_info result, as Markdown or HTML text."""
    try:
        return _audit_report.render(_checked(result, "audit_report"), report_format, title)
    except ValueError as e:
        raise AnsibleFilterError(str(e)) from e


def audit_lines(result):
    """One line per finding, most severe first."""
    return _audit_report.lines(_checked(result, "audit_lines"))


def audit_gate(result, severity="high"):
    """The findings at or above ``severity`` (``none``: never any)."""
    try:
        return _audit_report.gate(_checked(result, "audit_gate"), severity)
    except ValueError as e:
        raise AnsibleFilterError(f"audit_gate: {e}") from e


class FilterModule:
    """orgshare.aws audit filters."""

    def filters(self):
        return {"audit_report": audit_report, "audit_lines": audit_lines, "audit_gate": audit_gate}
