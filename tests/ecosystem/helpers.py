# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers of the ecosystem tests: paths, the litter an artifact must not carry, running tools."""

import glob
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The emulator lives in tests/emulator; make it importable as ``emulator``.
sys.path.insert(0, os.path.join(ROOT, "tests"))

# What a working tree collects and an artifact must never carry: build_ignore's job.
LITTER = (
    "tests/output/junit/python3.12-units.xml",
    "tests/output/.tmp/integration/share_ami/vars_present.json",
    "tests/integration/integration_config.yml",
    ".venv/bin/python",
    ".venv-compat/pyvenv.cfg",
    ".build/collections/ansible_collections/amazon/aws/MANIFEST.json",
    ".ansible/collections/ansible_collections/.keep",
    "plugins/modules/__pycache__/org_arn_info.cpython-312.pyc",
    "plugins/module_utils/_arns.pyc",
    ".pytest_cache/v/cache/nodeids",
    ".hypothesis/examples/0000",
    "demo/output/report.json",
    "benchmarks/output/results.json",
    "docs/_build/html/index.html",
    "orgshare-aws-0.0.1.tar.gz",
)


def tool(name):
    """The path of a console script of the Python running the tests (its venv), not whatever PATH finds."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(candidate):
        raise AssertionError(f"{name} is not installed next to {sys.executable}: run the tests with `make ecosystem`")
    return candidate


def run(argv, check=True, **kwargs):
    """Run a command; with check, fail the test with its output when the command fails."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def isolated_env(ansible_home, collections_path=None):
    """An environment for ansible commands that sees only the collections given, and no AWS settings of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env["ANSIBLE_HOME"] = str(ansible_home)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path or os.path.join(str(ansible_home), "no-collections"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


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


# The share the AWX-style jobs make: an encrypted and a plain AMI with an OU, in two regions.
SOURCE_REGION, COPY_REGION = "us-east-1", "eu-west-1"
OU_PATH = "Root/Workloads/Prod"


def share_job_extravars(world, endpoint_url):
    """The job's extra variables (a job template's survey answers) for that share."""
    return {
        "share_ami_image_ids": [world["images"]["encrypted_cmk"]["image_id"], world["images"]["plain"]["image_id"]],
        "share_ami_source_region": SOURCE_REGION,
        "share_ami_regions": [SOURCE_REGION, COPY_REGION],
        "share_ami_region_kms_keys": {COPY_REGION: world["keys"][COPY_REGION]["alias"]},
        "share_ami_organizational_units": [OU_PATH],
        "share_ami_aws": {"endpoint_url": endpoint_url},
    }


def write_private_data_dir(pdd, envvars, extravars, settings, python):
    """An AWX-style private data directory: env/envvars (what AWX's AWS credential injects), env/extravars,
    env/settings, a localhost inventory whose modules run with ``python``, and an empty project."""
    for rel_path, content in {"env/envvars": envvars, "env/extravars": extravars, "env/settings": settings}.items():
        (pdd / rel_path).parent.mkdir(parents=True, exist_ok=True)
        (pdd / rel_path).write_text(yaml.safe_dump(content), encoding="utf-8")
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={python}\n", encoding="utf-8"
    )
    (pdd / "project").mkdir()
    return pdd


def assert_shared(emu, world):
    """The share is in place, read back with boto3: the AMIs in the source region and their copies
    (available) in the other are shared with the OU alone, and each region's key lets the OU in."""
    ou = world["organizational_units"][OU_PATH]
    for region in (SOURCE_REGION, COPY_REGION):
        ec2 = emu.client("ec2", region=region)
        if region == SOURCE_REGION:
            image_ids = [world["images"][name]["image_id"] for name in ("encrypted_cmk", "plain")]
        else:
            copies = ec2.describe_images(Owners=["self"])["Images"]
            assert sorted(image["SourceImageId"] for image in copies) == sorted(
                world["images"][name]["image_id"] for name in ("encrypted_cmk", "plain")
            )
            assert {image["State"] for image in copies} == {"available"}
            image_ids = [image["ImageId"] for image in copies]
        for image_id in image_ids:
            permissions = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")[
                "LaunchPermissions"
            ]
            assert permissions == [{"OrganizationalUnitArn": ou["arn"]}], (region, image_id)

        # The key of the region (the source's for the encrypted AMI, the copy's key elsewhere) lets the OU in.
        kms = emu.client("kms", region=region)
        policy = json.loads(kms.get_key_policy(KeyId=world["keys"][region]["key_id"], PolicyName="default")["Policy"])
        paths = [
            value
            for statement in policy["Statement"]
            for value in statement.get("Condition", {})
            .get("ForAnyValue:StringLike", {})
            .get("aws:PrincipalOrgPaths", [])
        ]
        assert ou["path"] + "*" in paths, (region, policy)
