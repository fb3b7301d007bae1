"""Unpack one collection from the ``ansible`` wheel, where Galaxy is out of reach.

The ``ansible`` package on PyPI ships every collection of its release under
``ansible_collections/``; this extracts only ``<namespace>/<name>`` into a
collections root so it sits beside this collection as ansible-test expects.
"""

import argparse
import json
import os
import shutil
import sys
import zipfile


def extract(wheel, collection, dest_root):
    """Extract ``ansible_collections/<namespace>/<name>`` from the wheel into dest_root."""
    namespace, name = collection.split(".")
    prefix = f"ansible_collections/{namespace}/{name}/"
    target = os.path.join(dest_root, "ansible_collections", namespace, name)
    if os.path.isdir(target):
        shutil.rmtree(target)
    with zipfile.ZipFile(wheel) as archive:
        members = [member for member in archive.namelist() if member.startswith(prefix)]
        if not members:
            raise SystemExit(f"{wheel} does not contain the collection {collection}")
        archive.extractall(dest_root, members)
    with open(os.path.join(target, "MANIFEST.json"), encoding="utf-8") as manifest:
        return json.load(manifest)["collection_info"]["version"]


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel")
    parser.add_argument("collection", help="namespace.name, e.g. amazon.aws")
    parser.add_argument("dest_root", help="directory that will hold ansible_collections/")
    args = parser.parse_args(argv)
    version = extract(args.wheel, args.collection, args.dest_root)
    print(f"{args.collection} {version} -> {args.dest_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
