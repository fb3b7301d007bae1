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

import glob
import json
import sys

import pytest
import yaml

from emulator import Emulator, seed_world

from .helpers import isolated_env, run, tool

SOURCE_REGION, COPY_REGION = "us-east-1", "eu-west-1"
OU_PATH = "Root/Workloads/Prod"

# Tasks of the role (names as the events carry them) that a share across two regions must run, not skip.
ROLE_TASKS = (
    "Resolve the organization and OUs, once per play",
    "Check the source AMIs (exist, owned, available; keys too when they are shared themselves)",
    "Check that every other region has a key for the encrypted AMIs",
    "Copy the AMIs, re-encrypted with the region's key, to eu-west-1",
    "Let the organization and OUs use each key once, in us-east-1",
    "Let the organization and OUs use each key once, in eu-west-1",
    "Share the AMIs in eu-west-1",
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
    files = {
        # What AWX's "Amazon Web Services" credential injects, and where the project's collections are.
        "env/envvars": {
            "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_HOME": str(pdd / "ansible-home"),
        },
        "env/extravars": {
            "share_ami_image_ids": [world["images"]["encrypted_cmk"]["image_id"], world["images"]["plain"]["image_id"]],
            "share_ami_source_region": SOURCE_REGION,
            "share_ami_regions": [SOURCE_REGION, COPY_REGION],
            "share_ami_region_kms_keys": {COPY_REGION: world["keys"][COPY_REGION]["alias"]},
            "share_ami_organizational_units": [OU_PATH],
            "share_ami_aws": {"endpoint_url": emu.endpoint_url},
        },
        "env/settings": {"process_isolation": False, "job_timeout": 600},
    }
    for rel_path, content in files.items():
        (pdd / rel_path).parent.mkdir(parents=True, exist_ok=True)
        (pdd / rel_path).write_text(yaml.safe_dump(content), encoding="utf-8")
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n", encoding="utf-8")
    (pdd / "project").mkdir()
    return pdd


def run_job(pdd, ident):
    """``ansible-runner run`` of the collection playbook, as a job; returns its artifacts directory."""
    env = isolated_env(pdd / "runner-home")
    result = run([tool("ansible-runner"), "run", str(pdd), "--playbook", "orgshare.aws.share_ami", "--ident", ident], env=env, check=False)
    artifacts = pdd / "artifacts" / ident
    assert artifacts.is_dir(), f"no artifacts for {ident}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return artifacts


def job_events(artifacts):
    """The job's events, in order."""
    events = []
    for path in glob.glob(str(artifacts / "job_events" / "*.json")):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event["counter"])


def artifact_text(artifacts, name):
    """One of the job's plain-text artifacts (status, rc, stdout)."""
    with open(artifacts / name, encoding="utf-8") as handle:
        return handle.read().strip()


def play_stats(events):
    """The play recap of the job, from its playbook_on_stats event."""
    (stats,) = [event["event_data"] for event in events if event["event"] == "playbook_on_stats"]
    return stats


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

    ou = world["organizational_units"][OU_PATH]
    for region in (SOURCE_REGION, COPY_REGION):
        ec2 = emu.client("ec2", region=region)
        if region == SOURCE_REGION:
            image_ids = [world["images"][name]["image_id"] for name in ("encrypted_cmk", "plain")]
        else:
            copies = ec2.describe_images(Owners=["self"])["Images"]
            assert sorted(image["SourceImageId"] for image in copies) == sorted(world["images"][name]["image_id"] for name in ("encrypted_cmk", "plain"))
            assert {image["State"] for image in copies} == {"available"}
            image_ids = [image["ImageId"] for image in copies]
        for image_id in image_ids:
            permissions = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
            assert permissions == [{"OrganizationalUnitArn": ou["arn"]}], (region, image_id)

        # The key of the region (the source's for the encrypted AMI, the copy's key elsewhere) lets the OU in.
        kms = emu.client("kms", region=region)
        policy = json.loads(kms.get_key_policy(KeyId=world["keys"][region]["key_id"], PolicyName="default")["Policy"])
        paths = [value for statement in policy["Statement"]
                 for value in statement.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths", [])]
        assert ou["path"] + "*" in paths, (region, policy)


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
