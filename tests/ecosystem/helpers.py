# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers of the ecosystem tests: paths, the litter an artifact must not carry, running tools."""

import os
import subprocess
import sys

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
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def isolated_env(ansible_home, collections_path=None):
    """An environment for ansible commands that sees only the collections given, and no AWS settings of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env["ANSIBLE_HOME"] = str(ansible_home)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path or os.path.join(str(ansible_home), "no-collections"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env
