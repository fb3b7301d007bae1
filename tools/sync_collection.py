"""Mirror the checkout into a real ``ansible_collections/orgshare/aws`` tree.

ansible-test refuses symlinked collection roots and wants the collection at
``<root>/ansible_collections/<namespace>/<name>``; this keeps such a copy in
step with the working tree (tracked and untracked-but-not-ignored files), and
removes files that are gone from the checkout so stale tests never run.
"""

import argparse
import os
import shutil
import subprocess
import sys

# Directories the copy never takes from the checkout (toolchain and outputs).
SKIP_DIRS = {".git", ".venv", ".build", ".ansible", "tests/output", ".pytest_cache", ".hypothesis", "__pycache__"}
# Outputs that ansible-test writes inside the copy and that must survive a sync, and
# the copy's own git repository (see ensure_own_repository).
KEEP_IN_COPY = (".git", "tests/output", "tests/integration/integration_config.yml")


def checkout_files(source):
    """Return the relative paths of the files that make up the checkout."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=source,
            check=True,
            capture_output=True,
        ).stdout.decode("utf-8")
        names = [name for name in listing.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(source):
            rel_top = os.path.relpath(top, source)
            dirs[:] = [
                d for d in dirs if os.path.normpath(os.path.join(rel_top, d)) not in SKIP_DIRS and d not in SKIP_DIRS
            ]
            names.extend(os.path.normpath(os.path.join(rel_top, f)) for f in files)
    return sorted(name for name in names if os.path.isfile(os.path.join(source, name)))


def kept(rel_path):
    """True for files the copy owns (outputs of tools run inside it)."""
    return any(rel_path == keep or rel_path.startswith(keep + os.sep) for keep in KEEP_IN_COPY)


def sync(source, dest):
    """Copy changed files into dest and delete the ones no longer in source."""
    wanted = set(checkout_files(source))
    for top, _dirs, files in os.walk(dest, topdown=False):
        rel_top = os.path.relpath(top, dest)
        if kept(rel_top):
            continue
        for name in files:
            rel_path = os.path.normpath(os.path.join(rel_top, name))
            if rel_path not in wanted and not kept(rel_path):
                os.unlink(os.path.join(top, name))
        if top != dest and not os.listdir(top):
            os.rmdir(top)
    for rel_path in wanted:
        src, dst = os.path.join(source, rel_path), os.path.join(dest, rel_path)
        if (
            os.path.exists(dst)
            and os.path.getmtime(dst) >= os.path.getmtime(src)
            and os.path.getsize(dst) == os.path.getsize(src)
        ):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def ensure_own_repository(dest):
    """Give the copy a git repository of its own.

    ansible-test lists a collection's files with git when it finds a repository
    above the collection; the copy lives inside the (ignored) build directory of
    the checkout, so without its own repository git would report no files at all.
    """
    if not os.path.isdir(os.path.join(dest, ".git")):
        subprocess.run(["git", "init", "--quiet", dest], check=True)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("dest")
    args = parser.parse_args(argv)
    os.makedirs(args.dest, exist_ok=True)
    ensure_own_repository(args.dest)
    sync(os.path.abspath(args.source), os.path.abspath(args.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
