# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the ecosystem tests: the collection and amazon.aws as Galaxy artifacts.

Galaxy is out of reach, so both artifacts are built here with ``ansible-galaxy
collection build``: this collection from a copy of the checkout (littered with the
build products a working tree collects, so every artifact the tests use has been
through ``build_ignore``), amazon.aws from the copy that ``make collections``
extracted from the ``ansible`` wheel.

Run with ``make ecosystem``, which builds that copy and sets ``ORGSHARE_COLLECTIONS``.

Also the emulator and the AWX-style private data directory (both collections installed from their artifacts) that the
ansible-runner and AWX job template tests run their jobs with.
"""

import json
import os
import shutil
import sys

import pytest
import yaml

from emulator import Emulator, seed_world

from .helpers import LITTER, ROOT, isolated_env, run, share_job_extravars, tool, write_private_data_dir


@pytest.fixture(scope="session")
def collections_root():
    """The collections root with amazon.aws that ``make collections`` extracted from the ``ansible`` wheel."""
    root = os.environ.get("ORGSHARE_COLLECTIONS") or os.path.join(ROOT, ".build", "collections")
    manifest = os.path.join(root, "ansible_collections", "amazon", "aws", "MANIFEST.json")
    if not os.path.exists(manifest):
        raise AssertionError(
            f"amazon.aws is not at {os.path.dirname(manifest)}: run `make ecosystem` (it runs `make collections`)"
        )
    return root


@pytest.fixture(scope="session")
def galaxy_info():
    """This collection's galaxy.yml."""
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def littered_checkout(tmp_path_factory):
    """A copy of the checkout (what git tracks or would track), plus LITTER."""
    dest = tmp_path_factory.mktemp("checkout") / "aws"
    run([sys.executable, os.path.join(ROOT, "tools", "sync_collection.py"), ROOT, str(dest)])
    for rel_path in LITTER:
        path = dest / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"litter " * 4096)
    return dest


@pytest.fixture(scope="session")
def collection_tarball(littered_checkout, tmp_path_factory):
    """``ansible-galaxy collection build`` of the littered checkout copy."""
    out = tmp_path_factory.mktemp("artifacts")
    env = isolated_env(tmp_path_factory.mktemp("ansible-home"))
    run([tool("ansible-galaxy"), "collection", "build", str(littered_checkout), "--output-path", str(out)], env=env)
    (tarball,) = out.glob("orgshare-aws-*.tar.gz")
    return tarball


@pytest.fixture(scope="session")
def amazon_aws_tarball(collections_root, tmp_path_factory):
    """``ansible-galaxy collection build`` of amazon.aws.

    The ``ansible`` wheel ships installed collections (MANIFEST.json and a FILES.json that
    lists the tests and CI files the wheel leaves out) and no galaxy.yml; this writes the
    galaxy.yml back from MANIFEST.json's collection_info and builds a consistent artifact.
    """
    installed = os.path.join(collections_root, "ansible_collections", "amazon", "aws")
    source = tmp_path_factory.mktemp("amazon-aws-source") / "aws"
    shutil.copytree(installed, source, ignore=shutil.ignore_patterns("MANIFEST.json", "FILES.json", "__pycache__"))
    with open(os.path.join(installed, "MANIFEST.json"), encoding="utf-8") as handle:
        info = json.load(handle)["collection_info"]
    galaxy = {key: value for key, value in info.items() if value not in (None, [], "")}
    (source / "galaxy.yml").write_text(yaml.safe_dump(galaxy), encoding="utf-8")
    out = tmp_path_factory.mktemp("amazon-aws-artifact")
    env = isolated_env(tmp_path_factory.mktemp("ansible-home"))
    run([tool("ansible-galaxy"), "collection", "build", str(source), "--output-path", str(out)], env=env)
    (tarball,) = out.glob("amazon-aws-*.tar.gz")
    return tarball


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
    run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "-p",
            str(collections),
            str(amazon_aws_tarball),
            str(collection_tarball),
        ],
        env=env,
    )

    credentials = emu.credentials()
    # What AWX's "Amazon Web Services" credential injects, and where the project's collections are.
    envvars = {
        "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_HOME": str(pdd / "ansible-home"),
    }
    return write_private_data_dir(
        pdd,
        envvars,
        share_job_extravars(world, emu.endpoint_url),
        {"process_isolation": False, "job_timeout": 600},
        sys.executable,
    )
