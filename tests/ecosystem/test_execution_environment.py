# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The registry-based execution environment definition: its build context installs both collections.

tests/ecosystem/ee/execution-environment.yml builds on a CentOS Stream 9 image from a registry,
which is out of reach here (test_ee_image.py builds and runs the Debian-based twin instead).
So this test runs ``ansible-builder create`` on that definition and then, on the
context it wrote, the two steps of the image build that involve the collections, with the
context's own files: the galaxy stage's ``ansible-galaxy collection install -r
requirements.yml`` (from ``_build``, as the Containerfile's ``WORKDIR /build``) and the
builder stage's ``introspect.py``, which must find boto3/botocore through the collection's
meta/execution-environment.yml.
"""

import json
import os
import re
import shutil
import sys

import pytest
import yaml

from ansible_builder.ee_schema import validate_schema

from .helpers import ROOT, isolated_env, run, tool

EE_DIR = os.path.join(ROOT, "tests", "ecosystem", "ee")


def requirement_lines(path):
    """The requirement lines of a pip requirements file, comments and blanks left out."""
    with open(path, encoding="utf-8") as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def stage(containerfile, name):
    """The lines of one build stage (``FROM ... AS name``) of a Containerfile."""
    match = re.search(rf"^FROM \S+ AS {name}$(.*?)(?=^FROM |\Z)", containerfile, re.MULTILINE | re.DOTALL)
    assert match, f"no stage {name} in the Containerfile"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def build_context(tmp_path_factory, collection_tarball, amazon_aws_tarball):
    """``ansible-builder create`` of the example definition, the two artifacts put next to it."""
    definition_dir = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy(os.path.join(EE_DIR, name), definition_dir / name)
    shutil.copy(collection_tarball, definition_dir / "orgshare-aws.tar.gz")
    shutil.copy(amazon_aws_tarball, definition_dir / "amazon-aws.tar.gz")
    context = definition_dir / "context"
    env = isolated_env(tmp_path_factory.mktemp("ansible-home"))
    run(
        [
            tool("ansible-builder"),
            "create",
            "--file",
            str(definition_dir / "execution-environment.yml"),
            "--context",
            str(context),
            "--output-filename",
            "Containerfile",
            "-v",
            "3",
        ],
        env=env,
    )
    return context


def test_collection_metadata_is_schema_v3_and_names_requirements():
    """meta/execution-environment.yml validates as ansible-builder schema v3 and names the collection's pip requirements."""
    with open(os.path.join(ROOT, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        metadata = yaml.safe_load(handle)
    validate_schema(metadata)
    assert metadata["version"] == 3
    assert set(metadata["dependencies"]) == {"python"}
    requirements = requirement_lines(os.path.join(ROOT, metadata["dependencies"]["python"]))
    assert sorted(re.split(r"[<>=!~ ]", line)[0] for line in requirements) == ["boto3", "botocore"]


def test_containerfile_installs_the_collections(build_context):
    """The galaxy stage installs the context's requirements, the builder stage introspects them, the final image keeps them."""
    with open(build_context / "Containerfile", encoding="utf-8") as handle:
        containerfile = handle.read()
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.21.5 ansible-runner==2.4.3"' in containerfile

    galaxy = stage(containerfile, "galaxy")
    assert "COPY _build /build" in galaxy
    assert "WORKDIR /build" in galaxy
    install = [line for line in galaxy if "ansible-galaxy collection install" in line]
    assert len(install) == 1 and "-r requirements.yml" in install[0], galaxy

    builder = stage(containerfile, "builder")
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in builder
    assert any("/output/scripts/introspect.py introspect" in line for line in builder), builder
    assert "RUN /output/scripts/assemble" in builder

    final = stage(containerfile, "final")
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in final
    assert "RUN /output/scripts/install-from-bindep && rm -rf /output/wheels" in final


def test_context_requirements_name_both_artifacts(build_context):
    """_build/requirements.yml names both artifacts, and each is in the context where the galaxy stage will look."""
    with open(build_context / "_build" / "requirements.yml", encoding="utf-8") as handle:
        requirements = yaml.safe_load(handle)
    found = {}
    for entry in requirements["collections"]:
        assert entry["type"] == "file"
        artifact = build_context / "_build" / entry["name"]
        assert artifact.is_file(), f"{entry['name']} is not in the build context"
        manifest = json.loads(run(["tar", "-xzOf", str(artifact), "MANIFEST.json"]).stdout)["collection_info"]
        found[f"{manifest['namespace']}.{manifest['name']}"] = manifest["version"]
    assert set(found) == {"orgshare.aws", "amazon.aws"}


def test_context_installs_both_collections_offline(build_context, tmp_path):
    """The galaxy stage's install, run offline on the context, installs both; introspection then finds boto3/botocore."""
    with open(build_context / "Containerfile", encoding="utf-8") as handle:
        install_line = next(
            line for line in stage(handle.read(), "galaxy") if "ansible-galaxy collection install" in line
        )
    image_path = re.search(r'--collections-path "?([^" ]+)"?', install_line).group(1)
    assert image_path == "/usr/share/ansible/collections"
    collections_path = tmp_path / image_path.lstrip("/")

    env = isolated_env(tmp_path / "ansible-home", collections_path)
    env["ANSIBLE_GALAXY_DISABLE_GPG_VERIFY"] = "1"
    run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "-r",
            "requirements.yml",
            "--collections-path",
            str(collections_path),
        ],
        cwd=build_context / "_build",
        env=env,
    )
    listed = json.loads(
        run(
            [tool("ansible-galaxy"), "collection", "list", "--format", "json", "-p", str(collections_path)], env=env
        ).stdout
    )
    installed = listed[str(collections_path / "ansible_collections")]
    assert set(installed) == {"orgshare.aws", "amazon.aws"}

    # The builder stage: introspect.py from the context, on what the galaxy stage installed.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(
        [
            sys.executable,
            str(build_context / "_build" / "scripts" / "introspect.py"),
            "introspect",
            str(collections_path),
            "--write-pip",
            str(pip_out),
            "--write-bindep",
            str(bindep_out),
        ],
        env=env,
    )
    with open(pip_out, encoding="utf-8") as handle:
        pip_lines = handle.read().splitlines()
    ours = [line.split("#")[0].strip() for line in pip_lines if line.endswith("# from collection orgshare.aws")]
    assert ours == requirement_lines(os.path.join(ROOT, "requirements.txt"))
    assert any(line.endswith("# from collection amazon.aws") for line in pip_lines)
    with open(bindep_out, encoding="utf-8") as handle:
        assert "orgshare.aws" not in handle.read()
