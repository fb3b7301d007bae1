# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Galaxy artifact: small, free of build products, installable offline next to amazon.aws."""

import fnmatch
import json
import os
import tarfile

from .helpers import LITTER, isolated_env, run, tool

# The artifact is ~160 kB today; a venv, a build copy or test output would take it far past this.
MAX_ARTIFACT_BYTES = 600 * 1024

# Patterns of paths an artifact must not carry (matched against every member and its parents).
FORBIDDEN = (
    "tests/output",
    ".venv*",
    ".build",
    ".ansible",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    "demo/output",
    "benchmarks/output",
    "docs/_build",
    "*.tar.gz",
    "tests/integration/integration_config.yml",
    ".git",
)

# What users and ansible-builder need from it.
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "COPYING",
    "requirements.txt",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "plugins/modules/org_arn_info.py",
    "plugins/modules/ami_org_share.py",
    "plugins/modules/kms_org_grant.py",
    "plugins/modules/ami_region_copy.py",
    "roles/share_ami/meta/argument_specs.yml",
    "roles/share_ami/tasks/main.yml",
    "playbooks/share_ami.yml",
)


def forbidden_members(names):
    """The member names that match FORBIDDEN, themselves or through a parent directory."""
    found = []
    for name in names:
        parts = name.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(part, pattern)
            for prefix, part in zip(prefixes, parts)
            for pattern in FORBIDDEN
        ):
            found.append(name)
    return found


def test_forbidden_members_sees_every_litter_path():
    """The check below would notice each kind of litter the fixture plants."""
    assert forbidden_members(LITTER) == list(LITTER)
    assert not forbidden_members(REQUIRED)


def test_artifact_is_small_and_clean(collection_tarball, galaxy_info):
    """build_ignore keeps the litter of a working tree out; what is left is small and complete."""
    size = collection_tarball.stat().st_size
    assert size < MAX_ARTIFACT_BYTES, f"{collection_tarball.name} is {size} bytes"
    assert collection_tarball.name == f"orgshare-aws-{galaxy_info['version']}.tar.gz"
    with tarfile.open(collection_tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert forbidden_members(names) == []
    assert [name for name in REQUIRED if name not in names] == []
    assert manifest["collection_info"]["dependencies"] == {"amazon.aws": ">=9.0.0"}
    assert manifest["collection_info"]["version"] == galaxy_info["version"]


def test_artifact_installs_offline_next_to_amazon_aws(collection_tarball, amazon_aws_tarball, tmp_path):
    """Both artifacts install with no Galaxy, and ansible-doc then finds the modules, doc fragments from amazon.aws included."""
    install_path = tmp_path / "collections"
    env = isolated_env(tmp_path / "ansible-home", install_path)
    run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "-p",
            str(install_path),
            str(amazon_aws_tarball),
            str(collection_tarball),
        ],
        env=env,
    )
    listed = run([tool("ansible-galaxy"), "collection", "list", "--format", "json", "-p", str(install_path)], env=env)
    collections = json.loads(listed.stdout)[os.path.join(str(install_path), "ansible_collections")]
    assert set(collections) == {"orgshare.aws", "amazon.aws"}

    # ansible-doc resolves the amazon.aws doc fragments the module extends: it fails without amazon.aws.
    doc = json.loads(run([tool("ansible-doc"), "--json", "orgshare.aws.org_arn_info"], env=env).stdout)[
        "orgshare.aws.org_arn_info"
    ]
    assert doc["doc"]["filename"].startswith(str(install_path))
    assert doc["doc"]["collection"] == "orgshare.aws"
    assert {"region", "endpoint_url", "access_key"} <= set(doc["doc"]["options"])
    assert doc["return"]
