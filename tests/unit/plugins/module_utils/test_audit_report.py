# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit report: its tables say what the result says, escaped for Markdown and HTML."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _audit_report

FINDING = {
    "id": "key_denies_share:us-east-1:k:ou",
    "code": "key_denies_share",
    "severity": "high",
    "region": "us-east-1",
    "resource": "k",
    "image_ids": ["ami-1"],
    "cause": "a | b <c>",
    "fix": "grant",
    "who": "owner",
}
RESULT = {
    "perspective": "owner",
    "caller_account_id": "111122223333",
    "findings": [FINDING, dict(FINDING, id="x", code="public_image", severity="critical")],
    "images": [
        {
            "region": "us-east-1",
            "image_id": "ami-1",
            "name": "golden",
            "findings": ["x", FINDING["id"]],
            "shares": [
                {
                    "kind": "organizational_unit",
                    "id": "ou-ab12-11111111",
                    "name_path": "Root/Prod",
                    "can_launch": False,
                },
                {"kind": "public", "id": "all", "can_launch": True},
            ],
        },
        {"region": "eu-west-1", "image_id": "ami-2", "name": None, "findings": [], "shares": []},
    ],
}


def test_markdown_tables_per_region_with_findings_most_severe_first():
    text = _audit_report.render(RESULT)
    assert "## Images in us-east-1" in text and "## Images in eu-west-1" in text
    shared = "OU Root/Prod (ou-ab12-11111111); public"
    launch = "OU Root/Prod (ou-ab12-11111111): no; public: yes"
    assert f"| ami-1 | golden | {shared} | {launch} | critical public_image, high key_denies_share |" in text
    assert "| ami-2 |  | nobody | n/a | none |" in text
    assert "a \\| b <c>" in text  # a pipe in a cell does not end it
    assert "0 critical" not in text and "1 critical, 1 high" in text


def test_html_is_escaped():
    text = _audit_report.render(RESULT, "html")
    assert "<td>a | b &lt;c&gt;</td>" in text and text.startswith("<!DOCTYPE html>")


def test_consumer_tables():
    consumer = {
        "perspective": "consumer",
        "findings": [],
        "images": [
            {
                "region": "us-east-1",
                "image_id": "ami-1",
                "name": "n",
                "owner_id": "111122223333",
                "visible": True,
                "can_launch": None,
                "findings": [],
            }
        ],
    }
    assert "| ami-1 | n | 111122223333 | yes | unknown | none |" in _audit_report.render(consumer)


def test_lines_and_gate():
    assert _audit_report.lines(RESULT)[0] == "HIGH key_denies_share us-east-1 ami-1: a | b <c>"
    assert [f["code"] for f in _audit_report.gate(RESULT, "critical")] == ["public_image"]
    assert _audit_report.gate(RESULT, "none") == []


def test_unknown_format():
    with pytest.raises(ValueError, match="not a report format"):
        _audit_report.render(RESULT, "pdf")
