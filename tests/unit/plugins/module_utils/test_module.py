# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module runs (_module): the one place where the collection's exception becomes fail_json, by_state, and
the clients of one boto3 session."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

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


def aws_module(module_type, **args):
    """A module of ``module_type`` (no options of its own besides amazon.aws's) built with ``args``."""
    with module_args(args):
        return module_type(argument_spec={}, supports_check_mode=True)


@pytest.fixture
def connection(emulator, world):  # pylint: disable=unused-argument
    return {
        "endpoint_url": emulator.endpoint_url,
        "access_key": "testing",
        "secret_key": "testing",
        "region": "us-east-1",
    }


def service_description(client):
    return client.meta.service_model._service_description  # pylint: disable=protected-access


def test_clients_of_every_region_share_one_session_and_its_parsed_models(connection):
    module = aws_module(_module.OrgShareModule, **connection)
    east, west, kms = module.client("ec2"), module.client("ec2", region="eu-west-1"), module.client("kms")
    assert (east.meta.region_name, west.meta.region_name, kms.meta.region_name) == (
        "us-east-1",
        "eu-west-1",
        "us-east-1",
    )
    assert service_description(east) is service_description(west)
    assert len(module._sessions) == 1  # pylint: disable=protected-access
    # What it saves: amazon.aws makes a session, and parses the EC2 model again, for each client.
    plain = aws_module(AnsibleAWSModule, **connection)
    assert service_description(plain.client("ec2")) is not service_description(plain.client("ec2", region="eu-west-1"))


def test_a_client_has_the_connection_amazon_aws_would_give_it(connection, emulator):
    args = dict(connection, aws_config={"connect_timeout": 7})
    ours = aws_module(_module.OrgShareModule, **args).client("kms", config={"retries": {"total_max_attempts": 1}})
    theirs = aws_module(AnsibleAWSModule, **args).client("kms", config={"retries": {"total_max_attempts": 1}})
    for client in (ours, theirs):
        assert client.meta.endpoint_url == emulator.endpoint_url
        assert client.meta.config.connect_timeout == 7 and client.meta.config.retries["total_max_attempts"] == 1
    assert ours.meta.config.user_agent == theirs.meta.config.user_agent
    assert ours.meta.config.user_agent.startswith("APN/1.0 Ansible/")
    assert ours.list_keys()["Keys"] == theirs.list_keys()["Keys"]  # the same credentials, the same account


def test_clients_made_from_worker_threads_all_work(connection):
    module = aws_module(_module.OrgShareModule, **connection)
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(lambda region: module.client("ec2", region=region), regions))
    assert [client.meta.region_name for client in clients] == regions
    assert all(client.describe_regions()["Regions"] for client in clients[:4])
    assert len({id(service_description(client)) for client in clients}) == 1


def test_no_region_fails_the_module_with_amazon_aws_s_message(connection, monkeypatch, capsys, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with module_args(dict(connection, region=None)), pytest.raises(SystemExit):
        _module.OrgShareModule(argument_spec={}).client("ec2")
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "requires a region and none was found" in result["msg"]
