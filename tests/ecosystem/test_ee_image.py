# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The execution environment image, used as AWX uses it: jobs run inside it with ansible-runner.

``make ecosystem`` builds the image first (``make ee``, tools/build_ee.py) and names it in
``ORGSHARE_EE_IMAGE``. Here the collection playbook ``orgshare.aws.share_ami`` runs as a job
inside that image the way AWX runs one on an execution node (``ansible-runner transmit`` ->
``ansible-runner worker`` in the container -> ``ansible-runner process``), with the emulator on
the host reachable from the container (host network): once in check mode (an AWX "check" job), then for real, then again. The state is
read back with boto3 on the host. ``ansible-doc`` of every module and of the role runs
inside the image too: what AWX's job template pages and ``ansible-navigator doc`` show.
"""

import json
import os
import shlex
import subprocess

import pytest
import yaml

from emulator import Emulator, seed_world
from emulator.middleware import write_calls

from .helpers import (
    ROOT,
    artifact_text,
    assert_shared,
    isolated_env,
    job_events,
    play_stats,
    run,
    share_job_extravars,
    tool,
    write_private_data_dir,
)

MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and name != "__init__.py"
)


@pytest.fixture(scope="module")
def image():
    """The image ``make ee`` built (the tag in ORGSHARE_EE_IMAGE); it must exist."""
    name = os.environ.get("ORGSHARE_EE_IMAGE")
    if not name:
        raise AssertionError(
            "ORGSHARE_EE_IMAGE is not set: run the tests with `make ecosystem`, which builds the image first"
        )
    if subprocess.run(["podman", "image", "exists", name], check=False).returncode != 0:
        raise AssertionError(f"there is no image {name}: `make ee` builds it")
    return name


def in_image(image_name, *argv):
    """A command in a throwaway container of the image; its completed process."""
    return run(["podman", "run", "--rm", "--network", "host", image_name, *argv])


def test_image_has_both_collections_and_their_python_dependencies(image):
    listed = json.loads(in_image(image, "ansible-galaxy", "collection", "list", "--format", "json").stdout)
    installed = {name: info["version"] for collections in listed.values() for name, info in collections.items()}
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        assert installed["orgshare.aws"] == yaml.safe_load(handle)["version"]
    assert "amazon.aws" in installed
    names = ("aiobotocore", "boto3", "botocore")
    script = f"import {', '.join(names)}; print({', '.join(name + '.__version__' for name in names)})"
    versions = dict(zip(names, in_image(image, "python3", "-c", script).stdout.split()))
    definition = os.path.join(ROOT, "tests", "ecosystem", "ee", "execution-environment.debian.yml")
    with open(definition, encoding="utf-8") as handle:
        pinned = dict(line.split("==") for line in yaml.safe_load(handle)["dependencies"]["python"])
    assert versions == pinned


def test_ansible_doc_of_every_module_and_the_role(image):
    modules = json.loads(
        in_image(image, "ansible-doc", "--json", "-t", "module", *(f"orgshare.aws.{name}" for name in MODULES)).stdout
    )
    assert sorted(modules) == [f"orgshare.aws.{name}" for name in MODULES]
    for name, doc in modules.items():
        assert doc["doc"]["short_description"] and doc["doc"]["options"] and doc["examples"] and doc["return"], name
    role = json.loads(in_image(image, "ansible-doc", "--json", "-t", "role", "orgshare.aws.share_ami").stdout)
    assert "share_ami_image_ids" in role["orgshare.aws.share_ami"]["entry_points"]["main"]["options"]


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu, seed_world(emu.endpoint_url)


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory, emulator):
    """An AWX-style private data directory for a share of an encrypted and a plain AMI with an OU, in two regions."""
    emu, world = emulator
    pdd = tmp_path_factory.mktemp("ee-job")
    credentials = emu.credentials()
    envvars = {
        "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
    }
    return write_private_data_dir(
        pdd, envvars, share_job_extravars(world, emu.endpoint_url), {"job_timeout": 900}, "/usr/bin/python3"
    )


def run_job(pdd, image_name, ident, check=False):
    """The collection playbook as a job inside the image, the way AWX hands a job to an execution node:
    ``ansible-runner transmit`` streams the private data directory into ``ansible-runner worker`` in a
    container of the image (receptor's work unit), and ``ansible-runner process`` turns the worker's
    stream back into the job's artifacts on this side. Returns the job's events and stdout."""
    env = isolated_env(pdd / "runner-home")
    # AWX writes each job's own env/cmdline: a "check" job runs the playbook with --check (and --diff).
    cmdline = pdd / "env" / "cmdline"
    if check:
        cmdline.write_text("--check --diff", encoding="utf-8")
    else:
        cmdline.unlink(missing_ok=True)
    transmit = [tool("ansible-runner"), "transmit", str(pdd), "--playbook", "orgshare.aws.share_ami", "--ident", ident]
    worker = [
        "podman",
        "run",
        "--rm",
        "-i",
        "--network",
        "host",
        image_name,
        "ansible-runner",
        "worker",
        "--private-data-dir",
        "/runner",
    ]
    process = [tool("ansible-runner"), "process", str(pdd), "--ident", ident]
    script = " | ".join(" ".join(shlex.quote(part) for part in argv) for argv in (transmit, worker, process))
    result = run(["bash", "-o", "pipefail", "-c", script], env=env, check=False)
    artifacts = pdd / "artifacts" / ident
    assert artifacts.is_dir(), f"no artifacts for {ident}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    stdout = artifact_text(artifacts, "stdout")
    assert artifact_text(artifacts, "status") == "successful", stdout
    return job_events(artifacts), stdout


def test_share_ami_jobs_in_the_image_audit_share_and_change_nothing_again(emulator, private_data_dir, image):
    emu, world = emulator
    emu.reset_calls()
    events, stdout = run_job(private_data_dir, image, "audit", check=True)
    assert play_stats(events)["changed"].get("localhost", 0) > 0, stdout  # the audit reports what is due
    assert write_calls(emu.calls()) == {}, stdout
    # The job ran the collection installed in the image, not one from the host.
    playbooks = {event["event_data"]["playbook"] for event in events if "playbook" in event.get("event_data", {})}
    assert playbooks == {"/usr/share/ansible/collections/ansible_collections/orgshare/aws/playbooks/share_ami.yml"}

    events, stdout = run_job(private_data_dir, image, "share")
    assert play_stats(events)["changed"].get("localhost", 0) > 0, stdout
    assert_shared(emu, world)

    emu.reset_calls()
    events, stdout = run_job(private_data_dir, image, "again")
    assert play_stats(events)["changed"] == {}, stdout
    assert write_calls(emu.calls()) == {}, stdout
