# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module runs (_module): the one place where the collection's exception becomes fail_json, and by_state."""

import json

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _module
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import module_args

SPEC = dict(
    name=dict(type="str", required=True, aliases=["title"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    purge=dict(type="bool", default=False),
)


def run(capsys, ensure, args, **fixed_result):
    """Run a module built by run_module with ``args``; returns (exit code, the JSON it printed)."""
    with module_args(args), pytest.raises(SystemExit) as exited:
        _module.run_module(SPEC, ensure, **fixed_result)
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_a_result_is_exit_json_with_the_fixed_keys(capsys):
    code, result = run(
        capsys,
        lambda module: {"name": module.params["name"], "check": module.check_mode},
        {"title": "x"},
        changed=False,
    )
    assert code == 0 and result["name"] == "x" and result["changed"] is False and result["check"] is False


def test_the_collection_s_error_becomes_fail_json_with_its_data(capsys):
    def ensure(module):
        raise OrgShareError(f"{module.params['name']} cannot be shared: fix it.", owner_account_id="444455556666")

    code, result = run(capsys, ensure, {"name": "ami-1"})
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "ami-1 cannot be shared: fix it." and result["owner_account_id"] == "444455556666"


def test_check_mode_is_supported(capsys):
    code, result = run(capsys, lambda module: {"check": module.check_mode}, {"name": "x", "_ansible_check_mode": True})
    assert code == 0 and result["check"] is True


class Module:
    """What by_state reads of a module."""

    def __init__(self, **params):
        self.params = params
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def test_by_state_picks_ensure_present_or_ensure_absent_and_warns_of_an_ignored_purge():
    ensure = _module.by_state(lambda module: "present", lambda module: "absent")
    assert ensure(Module(state="present", purge=True)) == "present"
    absent = Module(state="absent", purge=True)
    assert ensure(absent) == "absent" and absent.warnings == [_module.PURGE_IGNORED]
    quiet = Module(state="absent", purge=False)
    assert ensure(quiet) == "absent" and quiet.warnings == []
