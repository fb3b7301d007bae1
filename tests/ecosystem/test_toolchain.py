# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pinned toolchains agree: make test-compat and make docs test what make test tests, ansible-core aside."""

import os
import re
import subprocess
import sys

from .helpers import ROOT

COMPAT_ANSIBLE_CORE = "2.17"  # meta/runtime.yml's floor, tested by make test-compat


def pins(name):
    """Package name to ``==`` version of a tools/ requirements file, environment markers included in the name."""
    found = {}
    with open(os.path.join(ROOT, "tools", name), encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#")[0].strip()
            if not line:
                continue
            match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^ ;]+)\s*(;.*)?$", line)
            assert match, f"tools/{name}: {line!r} is not pinned with =="
            key = match.group(1).lower() + (" " + match.group(3).replace(" ", "") if match.group(3) else "")
            found[key] = match.group(2)
    return found


def floors():
    """Package name to the ``>=`` floor of the collection's requirements.txt."""
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        return dict(re.findall(r"^([a-z0-9-]+)>=([0-9.]+)$", handle.read(), re.MULTILINE))


def test_compat_pins_the_sdk_floors_and_the_main_tools():
    """boto3 and botocore at the collection's floors; moto and the test tools as make test has them."""
    main, compat = pins("requirements.txt"), pins("compat-requirements.txt")
    assert (
        {name: compat[name] for name in ("boto3", "botocore")} == floors() == {"boto3": "1.35.0", "botocore": "1.35.0"}
    )
    shared = {name for name in compat if name not in ("ansible-core", "boto3", "botocore")}
    assert shared <= set(main), "tools/compat-requirements.txt pins packages tools/requirements.txt does not"
    assert {name: compat[name] for name in shared} == {name: main[name] for name in shared}
    assert "moto" in shared


def test_compat_unit_constraints_pin_the_same():
    """The unit tests of make test-compat get what its virtual environment has."""
    compat, constraints = pins("compat-requirements.txt"), pins("compat-constraints.txt")
    assert {name: constraints[name] for name in ("boto3", "botocore")} == floors()
    assert {name: version for name, version in constraints.items() if name not in ("boto3", "botocore")} == {
        name: compat[name] for name in constraints if name not in ("boto3", "botocore")
    }


def test_compat_pins_the_oldest_supported_ansible_core():
    """make test-compat tests meta/runtime.yml's floor."""
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        floor = re.search(r'requires_ansible:\s*"?>=\s*([0-9.]+)', handle.read()).group(1)
    assert floor.rsplit(".", 1)[0] == COMPAT_ANSIBLE_CORE
    assert pins("compat-requirements.txt")["ansible-core"].startswith(COMPAT_ANSIBLE_CORE + ".")


def test_docs_use_the_ansible_core_of_make_test():
    """The docs are rendered by the ansible-doc that make test's sanity checks use."""
    main = pins("requirements.txt")
    assert pins("docs-requirements.txt")["ansible-core"] == main['ansible-core ;python_version>="3.12"']


def test_the_pip_shim_bootstraps_the_requested_pip_with_or_without_the_writer(tmp_path):
    """ansible-test's get-pip stand-in (tools/ansible_test_pip_shim.py) installs the pip asked for into an empty
    environment: by the writing interpreter's pip, or by ensurepip when that interpreter is gone."""
    cache = tmp_path / "cache"
    shim = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "ansible_test_pip_shim.py"), "--cache-dir", str(cache)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with open(shim, encoding="utf-8") as handle:
        text = handle.read()
    assert repr(sys.executable) in text
    orphan = tmp_path / "orphan.py"
    orphan.write_text(text.replace(repr(sys.executable), repr(str(tmp_path / "gone" / "python"))), encoding="utf-8")
    wanted = re.search(r"get_pip_([0-9_]+)\.py$", shim).group(1).replace("_", ".")
    for name, script in (("writer", shim), ("orphan", str(orphan))):
        venv = tmp_path / name
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        subprocess.run(
            [python, script, f"pip=={wanted}", "--disable-pip-version-check", "--no-setuptools", "--no-wheel", "-q"],
            check=True,
            capture_output=True,
        )
        version = subprocess.run([python, "-m", "pip", "--version"], check=True, capture_output=True, text=True).stdout
        assert version.startswith(f"pip {wanted} from {venv}"), (name, version)
