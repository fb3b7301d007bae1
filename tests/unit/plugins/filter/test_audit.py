# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit playbook's filters: thin wrappers that refuse what is not an ami_share_info result."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.filter.audit import FilterModule
from ansible_collections.orgshare.aws.plugins.filter.audit import audit_gate
from ansible_collections.orgshare.aws.plugins.filter.audit import audit_lines
from ansible_collections.orgshare.aws.plugins.filter.audit import audit_report

RESULT = {
    "findings": [
        {
            "id": "a",
            "code": "public_image",
            "severity": "critical",
            "region": "us-east-1",
            "resource": "r",
            "image_ids": ["ami-1"],
            "cause": "public",
            "fix": "f",
            "who": "owner",
        }
    ],
    "images": [],
}


def test_the_filters():
    assert set(FilterModule().filters()) == {"audit_report", "audit_lines", "audit_gate"}
    assert audit_lines(RESULT) == ["CRITICAL public_image us-east-1 ami-1: public"]
    assert len(audit_gate(RESULT, "high")) == 1 and audit_gate(RESULT, "none") == []
    assert "| critical | public_image |" in audit_report(RESULT)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: audit_report({"images": []}), "takes the result of orgshare.aws.ami_share_info"),
        (lambda: audit_report(RESULT, "pdf"), "not a report format"),
        (lambda: audit_gate(RESULT, "severe"), "not a severity"),
        (lambda: audit_lines("text"), "not str"),
    ],
)
def test_bad_input(call, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        call()
