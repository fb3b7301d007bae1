"""The request counter, fault injection and control API, against a running emulator."""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import Emulator, control
from emulator.server import DEFAULT_SETTINGS

from .helpers import NO_RETRIES


@pytest.fixture(name="emu", scope="module")
def emu_fixture():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    emu.reset_calls()
    yield
    emu.clear_faults()


def http(emu, method, path, body=None):
    """(status, JSON body) of a raw request to the emulator."""
    request = urllib.request.Request(emu.endpoint_url + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- counter ------------------------------------------------------------------------------------------


def test_counts_each_service_and_action(emu):
    emu.client("ec2", config=NO_RETRIES).describe_images(
        Owners=["self"], Filters=[{"Name": "name", "Values": ["x" * 2000]}]
    )
    kms = emu.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy='{"Statement": []}')
    kms.get_key_policy(KeyId=key_id, PolicyName="default")
    emu.client("sts").get_caller_identity()
    assert emu.calls() == {
        "ec2": {"DescribeImages": 1},
        "kms": {"CreateKey": 1, "PutKeyPolicy": 1, "GetKeyPolicy": 1},
        "sts": {"GetCallerIdentity": 1},
    }
    assert emu.faults_injected() == {}


def test_counts_each_region_as_the_signature_names_it(emu):
    emu.client("ec2", region="eu-west-1").describe_images(Owners=["self"])
    emu.client("ec2", region="us-east-1").describe_images(Owners=["self"])
    emu.client("kms", region="eu-west-1").list_keys()
    assert emu.calls_by_region() == {
        "eu-west-1": {"ec2": {"DescribeImages": 1}, "kms": {"ListKeys": 1}},
        "us-east-1": {"ec2": {"DescribeImages": 1}},
    }
    assert control(emu.endpoint_url).calls_by_region() == emu.calls_by_region()
    emu.reset_calls()
    assert emu.calls_by_region() == {}


def test_reset_calls_clears_the_counts(emu):
    emu.client("sts").get_caller_identity()
    assert emu.calls() == {"sts": {"GetCallerIdentity": 1}}
    emu.reset_calls()
    assert emu.calls() == {}


def test_counting_keeps_the_request_body_intact(emu):
    """The counter reads EC2's form body: moto must still see every parameter."""
    ec2 = emu.client("ec2")
    volume = ec2.create_volume(
        Size=3,
        AvailabilityZone="us-east-1a",
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v" * 200}]}],
    )
    described = ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]
    assert (described["Size"], described["VolumeType"], described["Tags"]) == (
        3,
        "gp3",
        [{"Key": "k", "Value": "v" * 200}],
    )
    assert emu.calls() == {"ec2": {"CreateVolume": 1, "DescribeVolumes": 1}}


def test_counts_from_many_threads(emu):
    sts = [emu.client("sts") for _client in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda index: sts[index % 4].get_caller_identity(), range(40)))
    assert emu.calls() == {"sts": {"GetCallerIdentity": 40}}


def test_emulator_housekeeping_is_not_counted(emu):
    emu.credentials("210987654321")  # an STS AssumeRole made by the emulator itself
    assert http(emu, "GET", "/_emulator/health") == (200, {"status": "ok"})
    assert emu.calls() == {}


def test_moto_api_keeps_working(emu):
    with urllib.request.urlopen(emu.endpoint_url + "/moto-api/data.json", timeout=10) as response:
        assert response.status == 200
    assert emu.calls() == {}


def test_credentials_act_as_the_account(emu):
    identity = emu.client("sts", account_id="210987654321").get_caller_identity()
    assert identity["Account"] == "210987654321"
    assert emu.client("sts").get_caller_identity()["Account"] == "123456789012"


# --- faults ---------------------------------------------------------------------------------------------

CALLS = {
    "ec2": lambda emu: emu.client("ec2", config=NO_RETRIES).describe_images(Owners=["self"]),
    "kms": lambda emu: emu.client("kms", config=NO_RETRIES).list_keys(),
    "organizations": lambda emu: emu.client("organizations", config=NO_RETRIES).describe_organization(),
    "sts": lambda emu: emu.client("sts", config=NO_RETRIES).get_caller_identity(),
}
EXPECTED = {
    ("ec2", "throttle"): ("RequestLimitExceeded", 503),
    ("kms", "throttle"): ("ThrottlingException", 400),
    ("organizations", "throttle"): ("TooManyRequestsException", 400),
    ("sts", "throttle"): ("Throttling", 400),
    ("ec2", "5xx"): ("InternalError", 500),
    ("kms", "5xx"): ("KMSInternalException", 500),
    ("organizations", "5xx"): ("ServiceException", 500),
    ("sts", "5xx"): ("InternalFailure", 500),
    ("ec2", "UnauthorizedOperation"): ("UnauthorizedOperation", 400),
    ("kms", "AccessDeniedException"): ("AccessDeniedException", 400),
    ("organizations", "AWSOrganizationsNotInUseException"): ("AWSOrganizationsNotInUseException", 400),
    ("sts", "AccessDenied"): ("AccessDenied", 400),
}


@pytest.mark.parametrize("service, error", sorted(EXPECTED))
def test_faults_arrive_in_each_services_wire_format(emu, service, error):
    emu.credentials()  # warm up outside the faults
    emu.set_faults(rate=1.0, error=error, services=[service])
    with pytest.raises(ClientError) as raised:
        CALLS[service](emu)
    code, status = EXPECTED[(service, error)]
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert "fault injected" in raised.value.response["Error"]["Message"]
    action = next(iter(emu.calls()[service]))
    assert emu.faults_injected() == {service: {action: 1}} == emu.calls()


def test_faulted_calls_never_reach_moto(emu):
    kms = emu.client("kms", config=NO_RETRIES)
    before = len(kms.list_keys()["Keys"])
    emu.set_faults(rate=1.0, error="5xx", services=["kms"], actions=["CreateKey"])
    with pytest.raises(ClientError):
        kms.create_key()
    emu.clear_faults()
    assert len(kms.list_keys()["Keys"]) == before


def test_faults_match_services_and_actions_only(emu):
    emu.set_faults(rate=1.0, error="throttle", services=["ec2"], actions=["DescribeSnapshots"])
    ec2 = emu.client("ec2", config=NO_RETRIES)
    ec2.describe_volumes()
    emu.client("kms", config=NO_RETRIES).list_keys()
    with pytest.raises(ClientError):
        ec2.describe_snapshots(OwnerIds=["self"])
    assert emu.faults_injected() == {"ec2": {"DescribeSnapshots": 1}}
    assert emu.calls() == {"ec2": {"DescribeVolumes": 1, "DescribeSnapshots": 1}, "kms": {"ListKeys": 1}}


def outcomes(emu, seed, rate=0.4, calls=40, **rule):
    """Which of ``calls`` sequential calls failed under a rule with ``seed``."""
    emu.set_faults(rate=rate, error="throttle", services=["sts"], seed=seed, **rule)
    sts = emu.client("sts", config=NO_RETRIES)
    result = []
    for _call in range(calls):
        try:
            sts.get_caller_identity()
            result.append(False)
        except ClientError:
            result.append(True)
    return result


def test_fault_rate_is_deterministic_for_a_seed(emu):
    first = outcomes(emu, seed=7)
    assert outcomes(emu, seed=7) == first
    assert outcomes(emu, seed=8) != first
    assert 6 <= sum(first) <= 26  # about 40 % of 40
    emu.reset_calls()
    assert sum(outcomes(emu, seed=7)) == emu.faults_injected()["sts"]["GetCallerIdentity"] == sum(first)


def test_rate_zero_and_one(emu):
    assert not any(outcomes(emu, seed=1, rate=0.0, calls=10))
    assert all(outcomes(emu, seed=1, rate=1.0, calls=10))


def test_skip_and_limit_fail_exactly_the_chosen_calls(emu):
    assert outcomes(emu, seed=1, rate=1.0, calls=6, skip=2, limit=1) == [False, False, True, False, False, False]
    assert outcomes(emu, seed=1, rate=1.0, calls=5, skip=0, limit=3) == [True, True, True, False, False]
    assert (
        http(emu, "PUT", "/_emulator/faults", json.dumps({"rate": 1, "skip": 1, "limit": 2}).encode())[1]["rule"][
            "limit"
        ]
        == 2
    )
    for bad in ({"skip": -1}, {"limit": -2}, {"limit": True}):
        with pytest.raises(ValueError):
            emu.set_faults(**bad)


def test_botocore_retries_are_counted(emu):
    emu.set_faults(rate=1.0, error="throttle", services=["kms"])
    kms = emu.client("kms", config=Config(retries={"total_max_attempts": 2, "mode": "standard"}))
    with pytest.raises(ClientError):
        kms.list_keys()
    assert emu.calls() == emu.faults_injected() == {"kms": {"ListKeys": 2}}


def test_invalid_rules_are_refused(emu):
    for bad in (
        {"rate": 1.5},
        {"rate": -0.1},
        {"rate": 0.5, "services": ["s3"]},
        {"rate": "x"},
        {"rate": 0.5, "error": ""},
    ):
        with pytest.raises(ValueError):
            emu.set_faults(**bad)


# --- control API over HTTP ----------------------------------------------------------------------------


def test_control_client_round_trip(emu):
    remote = control(emu.endpoint_url)
    assert remote.health()
    remote.set_faults(rate=1.0, error="AccessDeniedException", services=["kms"], actions=["ListKeys"], seed=3)
    assert remote.faults() == {
        "rate": 1.0,
        "error": "AccessDeniedException",
        "services": ["kms"],
        "actions": ["ListKeys"],
        "seed": 3,
        "skip": 0,
        "limit": None,
    }
    with pytest.raises(ClientError):
        emu.client("kms", config=NO_RETRIES).list_keys()
    assert remote.calls() == remote.faults_injected() == {"kms": {"ListKeys": 1}}
    remote.reset_calls()
    assert remote.counts() == {"calls": {}, "faults": {}, "by_region": {}}
    remote.clear_faults()
    assert remote.faults() is None
    emu.client("kms", config=NO_RETRIES).list_keys()
    assert remote.faults_injected() == {}


def test_control_api_errors(emu):
    assert http(emu, "PUT", "/_emulator/faults", b"{not json")[0] == 400
    assert http(emu, "PUT", "/_emulator/faults", json.dumps({"rate": 2}).encode())[0] == 400
    assert http(emu, "PUT", "/_emulator/faults", json.dumps({"rate": 1, "colour": "red"}).encode())[0] == 400
    assert http(emu, "GET", "/_emulator/nothing")[0] == 404
    assert http(emu, "POST", "/_emulator/calls")[0] == 405
    assert http(emu, "GET", "/_emulator/faults") == (200, {"rule": None})


def test_control_api_is_never_faulted(emu):
    emu.set_faults(rate=1.0, error="5xx", services=["ec2", "kms", "organizations", "sts"])
    assert http(emu, "GET", "/_emulator/calls") == (200, {"calls": {}, "faults": {}, "by_region": {}})
    assert http(emu, "DELETE", "/_emulator/faults")[0] == 200
    emu.client("sts", config=NO_RETRIES).get_caller_identity()


# --- behaviour switches -------------------------------------------------------------------------


def test_settings_round_trip_and_validation(emu):
    defaults = emu.settings()
    assert set(defaults) == set(DEFAULT_SETTINGS)
    assert (defaults["copy_pending_seconds"], defaults["enforce_iam"]) == (0.0, False)
    assert http(emu, "PUT", "/_emulator/settings", json.dumps({"copy_pending_seconds": -1}).encode())[0] == 400
    assert http(emu, "PUT", "/_emulator/settings", json.dumps({"enforce_iam": "yes"}).encode())[0] == 400
    assert http(emu, "PUT", "/_emulator/settings", json.dumps({"colour": 1}).encode())[0] == 400
    assert (
        http(emu, "PUT", "/_emulator/settings", json.dumps({"copy_pending_seconds": 5, "enforce_iam": "yes"}).encode())[
            0
        ]
        == 400
    )
    assert emu.settings() == defaults


def test_copies_stay_pending_for_the_configured_time(emu):
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    source = create_image(emu.client("ec2"), "pending-source")["image_id"]
    emu.settings(copy_pending_seconds=1.5)
    try:
        ec2 = emu.client("ec2", region="eu-west-1")
        copy_id = ec2.copy_image(SourceImageId=source, SourceRegion="us-east-1", Name="pending-copy")["ImageId"]
        assert ec2.describe_images(ImageIds=[copy_id])["Images"][0]["State"] == "pending"
        deadline = time.monotonic() + 10
        while ec2.describe_images(ImageIds=[copy_id])["Images"][0]["State"] == "pending":
            assert time.monotonic() < deadline, "the copy never became available"
            time.sleep(0.2)
        assert ec2.describe_images(ImageIds=[copy_id])["Images"][0]["State"] == "available"
    finally:
        emu.settings(copy_pending_seconds=0)


def test_enforce_iam_lets_only_what_the_policy_allows(emu):
    iam = emu.client("iam")
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="read-images", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    emu.settings(enforce_iam=True)
    try:
        session = boto3.session.Session(region_name="us-east-1", **reader)
        ec2 = session.client("ec2", endpoint_url=emu.endpoint_url, config=NO_RETRIES)
        ec2.describe_images(Owners=["self"])
        with pytest.raises(ClientError) as denied:
            ec2.describe_snapshots(OwnerIds=["self"])
        assert denied.value.response["Error"]["Code"] == "UnauthorizedOperation"  # what EC2 says
        for service, call in (
            ("kms", lambda client: client.list_keys()),
            ("organizations", lambda client: client.describe_organization()),
        ):
            with pytest.raises(ClientError) as denied:
                call(session.client(service, endpoint_url=emu.endpoint_url, config=NO_RETRIES))
            assert (
                denied.value.response["Error"]["Code"] == "AccessDeniedException"
            )  # JSON, as KMS and Organizations say it
            assert f"{service}:" in denied.value.response["Error"]["Message"]
        with pytest.raises(ClientError):
            emu.client("ec2", config=NO_RETRIES).describe_images(Owners=["self"])  # the static keys are no IAM user's
    finally:
        emu.settings(enforce_iam=False)
    emu.client("ec2").describe_images(Owners=["self"])
