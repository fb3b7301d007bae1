# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pinned toolchains agree: make test-compat and make docs test what make test tests, ansible-core aside."""

import os
import re

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


def test_compat_pins_match_the_main_toolchain():
    """boto3, botocore, moto and the test tools are the same versions in both virtual environments."""
    main, compat = pins("requirements.txt"), pins("compat-requirements.txt")
    shared = {name for name in compat if name != "ansible-core"}
    assert shared <= set(main), "tools/compat-requirements.txt pins packages tools/requirements.txt does not"
    assert {name: compat[name] for name in shared} == {name: main[name] for name in shared}
    assert {"boto3", "botocore", "moto"} <= shared


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
