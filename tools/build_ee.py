"""Build the orgshare.aws execution environment image with podman, with no registry in reach.

    python tools/build_ee.py --collections COLLECTIONS_ROOT --work BUILD/ee [--tag TAG]

1. The base image: a minimal Debian (python3, pip, git, ssh client) made with ``mmdebstrap`` and
   ``podman import``ed as ``localhost/orgshare-ee-base:<suite>``; made once, then reused.
2. The two collections as Galaxy artifacts: this checkout (``ansible-galaxy collection build``,
   through its ``build_ignore``) and amazon.aws from the copy ``make collections`` extracted
   from the ``ansible`` wheel (it ships no galaxy.yml: one is written from its MANIFEST.json).
3. ``ansible-builder build`` of ``tests/ecosystem/ee/execution-environment.debian.yml`` with
   those artifacts: the collections are installed in the image, and the builder's introspection
   reads each collection's ``meta/execution-environment.yml`` (boto3/botocore for this one).
   pip inside the build reaches the package index the host uses: the host's CA bundle is
   mounted over the image's for the build's RUN steps (never copied into the image).

Writes ``WORK/build.json``: the image's tag, ID, size and the seconds each step took.
The container settings (``runc``, explicit ulimits) come from ``tools/ee/containers.conf``
through ``CONTAINERS_CONF``; the Makefile sets it, and installs podman, runc and mmdebstrap
when they are missing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFINITION = os.path.join(ROOT, "tests", "ecosystem", "ee", "execution-environment.debian.yml")
REQUIREMENTS = os.path.join(ROOT, "tests", "ecosystem", "ee", "requirements.yml")
SUITE = "trixie"  # Debian 13: Python 3.13, which the newest ansible-core needs (3.12 or newer)
BASE_IMAGE = f"localhost/orgshare-ee-base:{SUITE}"
BASE_PACKAGES = ("python3", "python3-pip", "python3-venv", "ca-certificates", "git", "openssh-client")
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"


def run(argv, **kwargs):
    """Run a command, its output passed through; fail with the command line when it fails."""
    print("+ " + " ".join(argv), flush=True)
    result = subprocess.run(argv, check=False, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{argv[0]} exited {result.returncode}: {' '.join(argv)}")


def output(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def image_exists(name):
    return subprocess.run(["podman", "image", "exists", name], check=False).returncode == 0


def ensure_base_image():
    """The local Debian base image, made with mmdebstrap when it is not there yet."""
    if image_exists(BASE_IMAGE):
        return False
    with tempfile.TemporaryDirectory(prefix="orgshare-ee-base-") as scratch:
        tarball = os.path.join(scratch, "rootfs.tar")
        run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES), SUITE, tarball])
        run(["podman", "import", "--change", 'CMD ["/bin/bash"]', tarball, BASE_IMAGE])
    return True


def galaxy_build(source, out_dir, env):
    """``ansible-galaxy collection build`` of ``source`` into ``out_dir``; the artifact's path."""
    before = set(os.listdir(out_dir))
    run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"),
            "collection",
            "build",
            "--force",
            source,
            "--output-path",
            out_dir,
        ],
        env=env,
    )
    (artifact,) = set(os.listdir(out_dir)) - before
    return os.path.join(out_dir, artifact)


def amazon_aws_source(collections_root, dest):
    """amazon.aws as the ``ansible`` wheel installed it, made buildable again: galaxy.yml from MANIFEST.json."""
    installed = os.path.join(collections_root, "ansible_collections", "amazon", "aws")
    shutil.copytree(installed, dest, ignore=shutil.ignore_patterns("MANIFEST.json", "FILES.json", "__pycache__"))
    with open(os.path.join(installed, "MANIFEST.json"), encoding="utf-8") as handle:
        info = json.load(handle)["collection_info"]
    with open(os.path.join(dest, "galaxy.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({key: value for key, value in info.items() if value not in (None, [], "")}, handle)
    return dest


def build(collections_root, work, tag):
    """Build the image ``tag``; returns what build.json records."""
    timings = {}
    started = time.monotonic()
    timings["base_image_made"] = ensure_base_image()
    timings["base_image_seconds"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    definition_dir = os.path.join(work, "definition")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(definition_dir)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_HOME"] = os.path.join(work, "ansible-home")
    with tempfile.TemporaryDirectory(prefix="orgshare-ee-artifacts-") as scratch:
        ours = galaxy_build(ROOT, scratch, env)
        shutil.copy(ours, os.path.join(definition_dir, "orgshare-aws.tar.gz"))
        theirs = galaxy_build(amazon_aws_source(collections_root, os.path.join(scratch, "amazon-aws")), scratch, env)
        shutil.copy(theirs, os.path.join(definition_dir, "amazon-aws.tar.gz"))
    shutil.copy(DEFINITION, os.path.join(definition_dir, "execution-environment.yml"))
    shutil.copy(REQUIREMENTS, os.path.join(definition_dir, "requirements.yml"))
    timings["artifacts_seconds"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    extra = f"--volume {HOST_CA}:{HOST_CA}:ro --network host"
    run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-builder"),
            "build",
            "--file",
            os.path.join(definition_dir, "execution-environment.yml"),
            "--context",
            os.path.join(work, "context"),
            "--tag",
            tag,
            "--container-runtime",
            "podman",
            "--verbosity",
            "2",
            "--extra-build-cli-args",
            extra,
        ],
        env=env,
    )
    timings["build_seconds"] = round(time.monotonic() - started, 1)
    inspected = json.loads(output(["podman", "image", "inspect", tag]))[0]
    return {"tag": tag, "id": inspected["Id"], "size_bytes": inspected["Size"], "base_image": BASE_IMAGE, **timings}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", required=True, help="collections root holding amazon.aws (make collections)")
    parser.add_argument(
        "--work", required=True, help="scratch directory for the definition, the context and build.json"
    )
    parser.add_argument("--tag", default="localhost/orgshare-aws-ee:latest")
    args = parser.parse_args()
    if not os.environ.get("CONTAINERS_CONF"):
        sys.exit("CONTAINERS_CONF is not set: run `make ee`, which points it at tools/ee/containers.conf")
    record = build(os.path.abspath(args.collections), os.path.abspath(args.work), args.tag)
    with open(os.path.join(args.work, "build.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
