"""Install the pip bootstrap shim ansible-test needs offline.

ansible-test bootstraps pip in each virtual environment it creates by running
``~/.ansible/test/cache/get_pip_<version>.py``, which it downloads from a host
that is not a package registry. The shim written here does the same job with
the interpreter's own ``ensurepip`` and then installs the requested pip from
the package index, so ``--venv`` works where only PyPI is reachable.
"""

import argparse
import os
import re
import sys

SHIM = '''"""get-pip replacement: ensurepip, then pip install of the requested packages."""
import subprocess
import sys

FLAGS_WITHOUT_PIP_EQUIVALENT = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in FLAGS_WITHOUT_PIP_EQUIVALENT]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def required_pip_version(ansible_test_dir):
    """Read the pip version ansible-test pins for its virtual environments."""
    source = os.path.join(ansible_test_dir, "_internal", "python_requirements.py")
    with open(source, encoding="utf-8") as handle:
        match = re.search(r"pip=['\"]([0-9.]+)['\"]", handle.read())
    if not match:
        raise SystemExit(f"could not find the pip version ansible-test pins in {source}")
    return match.group(1)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.ansible/test/cache"))
    args = parser.parse_args(argv)
    import ansible_test  # pylint: disable=import-outside-toplevel

    version = required_pip_version(os.path.dirname(ansible_test.__file__))
    path = os.path.join(args.cache_dir, "get_pip_%s.py" % version.replace(".", "_"))
    os.makedirs(args.cache_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(SHIM)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
