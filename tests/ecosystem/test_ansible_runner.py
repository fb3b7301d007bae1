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

import pytest

from .helpers import artifact_text, assert_shared, isolated_env, job_events, play_stats, run, tool

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


def run_job(pdd, ident):
    """``ansible-runner run`` of the collection playbook, as a job; returns its artifacts directory."""
    env = isolated_env(pdd / "runner-home")
    result = run(
        [tool("ansible-runner"), "run", str(pdd), "--playbook", "orgshare.aws.share_ami", "--ident", ident],
        env=env,
        check=False,
    )
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
    ran = {
        event["event_data"]["task"]
        for event in events
        if event["event"] == "runner_on_ok" and event["event_data"].get("role") == "share_ami"
    }
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
    writes = {
        action
        for actions in emu.calls().values()
        for action in actions
        if action.startswith(("Modify", "Put", "Copy", "Create", "Register"))
    }
    assert writes == set()
