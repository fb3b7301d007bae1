"""``python -m emulator``: run, serve, seed, calls, faults."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from emulator import Emulator, control
from emulator.cli import main

TESTS_DIR = str(Path(__file__).resolve().parents[2])  # <collection>/tests, the emulator's PYTHONPATH
# The command `run` starts checks its environment and calls EC2 through it, then exits 7.
CHILD = """
import json, os, sys, boto3
assert os.environ["AWS_ENDPOINT_URL"] == os.environ["ORGSHARE_EMULATOR_URL"]
assert (os.environ["AWS_REGION"], os.environ["AWS_DEFAULT_REGION"]) == ("us-east-1", "us-east-1")
world = json.load(open(os.environ["ORGSHARE_WORLD_FILE"]))
images = boto3.client("ec2").describe_images(ImageIds=[world["images"]["plain"]["image_id"]])["Images"]
print("child saw", images[0]["Name"])
sys.exit(7)
"""


def emulator_process(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": TESTS_DIR}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def port_is_closed(url: str) -> bool:
    parsed = urlparse(url)
    with socket.socket() as probe:
        return probe.connect_ex((parsed.hostname, parsed.port)) != 0


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.stat().st_size:
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_run_seeds_runs_the_command_and_stops(tmp_path):
    vars_file, world_file = tmp_path / "vars.json", tmp_path / "world.json"
    process = emulator_process(
        "run",
        "--seed",
        "--vars-file",
        str(vars_file),
        "--world-file",
        str(world_file),
        "--",
        sys.executable,
        "-c",
        CHILD,
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 7, stderr
    assert "child saw orgshare-plain" in stdout
    variables = json.loads(vars_file.read_text())
    world = json.loads(world_file.read_text())
    tests_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert variables == {
        "aws_endpoint_url": world["endpoint_url"],
        "aws_access_key": "testing",
        "aws_secret_key": "testing",
        "aws_region": "us-east-1",
        "emulator_url": world["endpoint_url"],
        "emulator_pythonpath": tests_dir,
        "orgshare_world": world,
    }
    assert port_is_closed(world["endpoint_url"])


def test_run_without_seed_writes_a_null_world(tmp_path):
    vars_file = tmp_path / "vars.json"
    process = emulator_process("run", "--vars-file", str(vars_file), "--", sys.executable, "-c", "pass")
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert json.loads(vars_file.read_text())["orgshare_world"] is None


@pytest.mark.parametrize("command, code", [([], 2), (["/nonexistent/command"], 127)])
def test_run_reports_a_missing_command(command, code):
    assert main(["run", "--", *command]) == code


def test_run_stops_on_sigterm(tmp_path):
    vars_file = tmp_path / "vars.json"
    process = emulator_process(
        "run", "--vars-file", str(vars_file), "--", sys.executable, "-c", "import time; time.sleep(60)"
    )
    wait_for(vars_file)
    url = json.loads(vars_file.read_text())["aws_endpoint_url"]
    assert control(url).health()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM  # the command's fate, by the shell's convention
    assert port_is_closed(url)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_the_url_first_and_stops_on_signals(stop_signal):
    process = emulator_process("serve")
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:")
    assert control(url).health()
    process.send_signal(stop_signal)
    process.communicate(timeout=20)
    assert process.returncode == 0
    assert port_is_closed(url)


def test_seed_calls_and_faults_against_a_running_emulator(capsys):
    with Emulator() as emu:
        assert main(["seed", "--endpoint", emu.endpoint_url]) == 0
        world = json.loads(capsys.readouterr().out)
        assert world["organization"]["id"] == emu.client("organizations").describe_organization()["Organization"]["Id"]

        assert (
            main(
                [
                    "faults",
                    "--endpoint",
                    emu.endpoint_url,
                    "--rate",
                    "1",
                    "--error",
                    "5xx",
                    "--services",
                    "kms",
                    "--actions",
                    "ListKeys",
                    "--seed",
                    "4",
                ]
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out) == {
            "rule": {
                "rate": 1.0,
                "error": "5xx",
                "services": ["kms"],
                "actions": ["ListKeys"],
                "seed": 4,
                "skip": 0,
                "limit": None,
            }
        }
        emu.client("ec2").describe_images(ImageIds=[world["images"]["plain"]["image_id"]])

        assert main(["calls", "--endpoint", emu.endpoint_url, "--reset"]) == 0
        calls = {"ec2": {"DescribeImages": 1}, "organizations": {"DescribeOrganization": 1}}
        assert json.loads(capsys.readouterr().out) == {"calls": calls, "faults": {}, "by_region": {"us-east-1": calls}}
        assert emu.calls() == {}

        assert main(["faults", "--endpoint", emu.endpoint_url, "--clear"]) == 0
        assert json.loads(capsys.readouterr().out) == {"rule": None}


def test_images_registers_many_and_is_not_counted(capsys):
    with Emulator() as emu:
        key = emu.client("kms").create_key()["KeyMetadata"]["Arn"]
        assert (
            main(["images", "--endpoint", emu.endpoint_url, "--count", "3", "--prefix", "batch", "--kms-key-id", key])
            == 0
        )
        images = json.loads(capsys.readouterr().out)
        assert [image["name"] for image in images] == ["batch-0000", "batch-0001", "batch-0002"]
        assert all(image["encrypted"] and image["kms_key_arn"] == key for image in images)
        described = emu.client("ec2").describe_images(ImageIds=[image["image_id"] for image in images])["Images"]
        assert sorted(image["Name"] for image in described) == ["batch-0000", "batch-0001", "batch-0002"]
        assert emu.calls() == {"kms": {"CreateKey": 1}, "ec2": {"DescribeImages": 1}}


def test_faults_rejects_a_bad_rate(capsys):
    with Emulator() as emu:
        assert main(["faults", "--endpoint", emu.endpoint_url, "--rate", "3"]) == 1
        assert "rate must be" in capsys.readouterr().err
