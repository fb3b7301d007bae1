# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection playbook as an AWX job runs it: ``ansible-runner run`` on a private data directory.

AWX writes a private data directory (env/envvars with the injected AWS credential,
env/extravars, inventory/hosts, the project's collections installed next to it) and hands
it to ansible-runner, with process isolation off inside the execution environment; it then
reads the job's artifacts (status, rc, job_events). This test does the same against the
emulator, with the collection installed from its Galaxy artifact, and reads the AWS state
back with boto3, independently of the collection.
"""

import sys

import pytest

from emulator import Emulator, seed_world

from .helpers import (artifact_text, assert_shared, isolated_env, job_events, play_stats, run, share_job_extravars, tool,
                      write_private_data_dir)

# Tasks of the role (names as the events carry them) that a share across two regions must run, not skip.
ROLE_TASKS = (
    "Resolve the organization and OUs, once per play",
    "Check the source AMIs shared in their own region (exist, owned, available, keys usable)",
    "Plan the copies into every region (keys, encryption by default, names, earlier copies)",
    "Check every key (customer-managed, usable, symmetric, in this account, policy within limits)",
    "Copy the AMIs into every region at once, re-encrypted with each region's key",
    "Let the organization and OUs use the keys",
    "Share the AMIs, one task per region",
    "Summary, one line per region and image",
)


@pytest.fixture(scope="module")
def emulator():
    """A fresh emulator with the seeded world."""
    with Emulator() as emu:
        yield emu, seed_world(emu.endpoint_url)


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory, emulator, collection_tarball, amazon_aws_tarball):
    """An AWX-style private data directory for the share of one encrypted and one plain AMI with an OU, in two regions."""
    emu, world = emulator
    pdd = tmp_path_factory.mktemp("job")
    collections = pdd / "requirements_collections"
    env = isolated_env(pdd / "ansible-home", collections)
    run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), str(amazon_aws_tarball), str(collection_tarball)],
        env=env)

    credentials = emu.credentials()
    # What AWX's "Amazon Web Services" credential injects, and where the project's collections are.
    envvars = {"AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
               "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_HOME": str(pdd / "ansible-home")}
    return write_private_data_dir(pdd, envvars, share_job_extravars(world, emu.endpoint_url),
                                  {"process_isolation": False, "job_timeout": 600}, sys.executable)


def run_job(pdd, ident):
    """``ansible-runner run`` of the collection playbook, as a job; returns its artifacts directory."""
    env = isolated_env(pdd / "runner-home")
    result = run([tool("ansible-runner"), "run", str(pdd), "--playbook", "orgshare.aws.share_ami", "--ident", ident], env=env, check=False)
    artifacts = pdd / "artifacts" / ident
    assert artifacts.is_dir(), f"no artifacts for {ident}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return artifacts


@pytest.fixture(scope="module")
def share_job(private_data_dir):
    """The artifacts of the job that shares."""
    return run_job(private_data_dir, "share")


def test_share_ami_job_shares_the_amis(emulator, private_data_dir, share_job):
    """The job succeeds, runs the role's tasks, and the AMIs, their copies and the keys are shared (read back with boto3)."""
    emu, world = emulator
    artifacts = share_job
    stdout = artifact_text(artifacts, "stdout")
    assert artifact_text(artifacts, "status") == "successful", stdout
    assert artifact_text(artifacts, "rc") == "0", stdout

    events = job_events(artifacts)
    ran = {event["event_data"]["task"] for event in events
           if event["event"] == "runner_on_ok" and event["event_data"].get("role") == "share_ami"}
    assert [task for task in ROLE_TASKS if task not in ran] == []
    # The job ran the collection installed from the artifact, as AWX installs a project's collections.
    installed = str(private_data_dir / "requirements_collections" / "ansible_collections" / "orgshare" / "aws") + "/"
    playbooks = {event["event_data"]["playbook"] for event in events if "playbook" in event.get("event_data", {})}
    assert playbooks == {installed + "playbooks/share_ami.yml"}
    stats = play_stats(events)
    assert stats["failures"] == {} and stats["dark"] == {}
    assert stats["changed"].get("localhost", 0) > 0

    assert_shared(emu, world)


def test_share_ami_job_again_changes_nothing(emulator, private_data_dir, share_job):
    """Relaunching the job (AWX's "relaunch") finds nothing to change and makes no write call."""
    emu = emulator[0]
    assert artifact_text(share_job, "status") == "successful"
    emu.reset_calls()
    artifacts = run_job(private_data_dir, "relaunch")
    stdout = artifact_text(artifacts, "stdout")
    assert artifact_text(artifacts, "status") == "successful", stdout
    stats = play_stats(job_events(artifacts))
    assert stats["changed"] == {}, stdout
    writes = {action for actions in emu.calls().values() for action in actions
              if action.startswith(("Modify", "Put", "Copy", "Create", "Register"))}
    assert writes == set()
