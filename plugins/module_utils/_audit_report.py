# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit a person reads: a Markdown or HTML report of an ``ami_share_info`` result, and one line per finding. Pure code.

The report has a summary, the findings (most severe first) and, per region, a table with one row per image:
image, name, whom it is shared with, who can launch it, and its findings (by severity and code). Every cell
comes from the result as it is; nothing is judged here.
"""

import html

from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import SEVERITIES
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import at_or_above
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import count_by_severity

FORMATS = ("markdown", "html")
OWNER_COLUMNS = ("image", "name", "shared with", "can launch", "findings")
CONSUMER_COLUMNS = ("image", "name", "owner", "visible", "can launch", "findings")
FINDING_COLUMNS = ("severity", "code", "region", "resource", "images", "cause", "fix", "who")
_YES_NO = {True: "yes", False: "no", None: "unknown"}


def share_label(share):
    """How a share reads in the report: the OU's name path when known, else its ARN, ID or ``public``."""
    if share["kind"] == "public":
        return "public"
    if share["kind"] == "account":
        return f"account {share['id']}"
    if share["kind"] == "organization":
        return f"organization {share['id']}"
    return f"OU {share['name_path']} ({share['id']})" if share.get("name_path") else f"OU {share['id']}"


def _finding_cell(image, findings_by_id):
    found = [findings_by_id[finding_id] for finding_id in image["findings"] if finding_id in findings_by_id]
    found.sort(key=lambda finding: SEVERITIES.index(finding["severity"]))
    return ", ".join(f"{finding['severity']} {finding['code']}" for finding in found) or "none"


def image_row(image, findings_by_id, perspective="owner"):
    """One table row (a tuple of cell texts) for an image entry of the result."""
    if perspective == "consumer":
        return (
            image["image_id"],
            image.get("name") or "",
            image.get("owner_id") or "",
            _YES_NO[image.get("visible")],
            _YES_NO[image.get("can_launch")],
            _finding_cell(image, findings_by_id),
        )
    shares = image.get("shares") or []
    shared_with = "; ".join(share_label(share) for share in shares) or "nobody"
    launch = "; ".join(f"{share_label(share)}: {_YES_NO[share.get('can_launch')]}" for share in shares) or "n/a"
    return (image["image_id"], image.get("name") or "", shared_with, launch, _finding_cell(image, findings_by_id))


def finding_row(finding):
    return (
        finding["severity"],
        finding["code"],
        finding.get("region") or "",
        finding.get("resource") or "",
        ", ".join(finding.get("image_ids") or []),
        finding["cause"],
        finding["fix"],
        finding.get("who") or "",
    )


def finding_line(finding):
    """One line for the play output: severity, code, region, images, cause."""
    images = ", ".join(finding.get("image_ids") or []) or finding.get("resource") or ""
    return (
        f"{finding['severity'].upper()} {finding['code']} {finding.get('region') or '-'} {images}: {finding['cause']}"
    )


def lines(result):
    """One line per finding, most severe first (the order of the result)."""
    return [finding_line(finding) for finding in result.get("findings") or []]


def gate(result, severity):
    """The findings at or above ``severity`` (``none``: never any)."""
    return [] if severity == "none" else at_or_above(result.get("findings") or [], severity)


def _sections(result):
    """(title, columns, rows) of each table: the findings, then one table per region."""
    perspective = result.get("perspective", "owner")
    findings = result.get("findings") or []
    by_id = {finding["id"]: finding for finding in findings}
    tables = [("Findings", FINDING_COLUMNS, [finding_row(finding) for finding in findings])]
    regions = []
    for image in result.get("images") or []:
        if image["region"] not in regions:
            regions.append(image["region"])
    for region in regions:
        rows = [image_row(image, by_id, perspective) for image in result["images"] if image["region"] == region]
        tables.append((f"Images in {region}", CONSUMER_COLUMNS if perspective == "consumer" else OWNER_COLUMNS, rows))
    return tables


def _summary(result):
    counts = count_by_severity(result.get("findings") or [])
    return (
        f"Account {result.get('caller_account_id') or 'unknown'}, perspective {result.get('perspective', 'owner')}: "
        f"{len(result.get('images') or [])} image(s), "
        + ", ".join(f"{counts[severity]} {severity}" for severity in SEVERITIES)
        + "."
    )


def _markdown_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(result, title="AMI sharing audit"):
    out = [f"# {title}", "", _summary(result), ""]
    for heading, columns, rows in _sections(result):
        out += [f"## {heading}", ""]
        if not rows:
            out += ["None.", ""]
            continue
        out.append("| " + " | ".join(columns) + " |")
        out.append("|" + "---|" * len(columns))
        out += ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def html_report(result, title="AMI sharing audit"):
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(_summary(result))}</p>",
    ]
    for heading, columns, rows in _sections(result):
        out.append(f"<h2>{html.escape(heading)}</h2>")
        if not rows:
            out.append("<p>None.</p>")
            continue
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{html.escape(column)}</th>" for column in columns) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows]
        out.append("</table>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def render(result, report_format="markdown", title="AMI sharing audit"):
    """The report of an ``ami_share_info`` result in ``markdown`` or ``html``; ValueError for another format."""
    if report_format not in FORMATS:
        raise ValueError(f"{report_format!r} is not a report format: one of {', '.join(FORMATS)}.")
    return markdown(result, title) if report_format == "markdown" else html_report(result, title)
