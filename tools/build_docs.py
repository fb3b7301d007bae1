"""Build the collection's documentation site offline with antsibull-docs and Sphinx.

``antsibull-docs sphinx-init`` writes a Sphinx project for the collection (installed,
with amazon.aws beside it, on ANSIBLE_COLLECTIONS_PATH) into a scratch directory, and
that project's own ``build.sh`` renders the module and role pages (the role's from its
meta/argument_specs.yml) and runs ``sphinx-build -W``. The generated conf.py downloads
intersphinx inventories from docs.ansible.com, docs.python.org and the Jinja site; here
they are out of reach, so conf.py instead reads a small local inventory with the
docs.ansible.com labels the generated pages link to (the links still point to
docs.ansible.com). A page that links to a label missing from INVENTORY fails the build
(``-W``): add the label here.

The scenario guides (docs/docsite/rst, listed in docs/docsite/extra-docs.yml) show some of the
collection's files as they are (the IAM policy, the AWX examples, the execution environment
definition): FILES are copied next to the Sphinx project, into files/, where the pages include
them with ``literalinclude`` and offer them with ``:download:`` as ``/../files/<name>`` (a path
relative to the rst/ source directory, which antsibull-docs empties on every build).
"""

import argparse
import os
import shutil
import subprocess
import sys
import zlib

COLLECTION = "orgshare.aws"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"

# docs.ansible.com labels that antsibull-docs' page templates refer to: (label, page#anchor, title).
INVENTORY = (
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    (
        "ansible_configuration_settings",
        "reference_appendices/config.html#ansible-configuration-settings",
        "Ansible Configuration Settings",
    ),
    (
        "ansible_collections.amazon.aws.ec2_ami_info_module",
        "collections/amazon/aws/ec2_ami_info_module.html#ansible-collections-amazon-aws-ec2-ami-info-module",
        "amazon.aws.ec2_ami_info module",
    ),
)

# Files of the checkout the guide pages include: (path in the checkout, path under files/).
FILES = (
    ("docs/iam-policy.json", "iam-policy.json"),
    ("docs/iam-policy.md", "iam-policy.md"),
    ("docs/examples/per-region-inventory.yml", "per-region-inventory.yml"),
    ("docs/awx", "awx"),
    ("tests/ecosystem/ee/execution-environment.yml", "execution-environment.yml"),
    ("tests/ecosystem/ee/requirements.yml", "requirements.yml"),
)

OFFLINE_CONF = f"""

# Written by tools/build_docs.py: the build is offline, so the links to docs.ansible.com
# resolve through a local inventory (its path relative to the rst/ source directory)
# instead of downloaded ones.
intersphinx_mapping = {{
    'ansible_devel': ({ANSIBLE_DOCS!r}, '../ansible_devel.inv'),
}}


# The theme's logo links every page to its documentation_home_url, "/" by default: the root of
# the file system when the site is opened from disk. Point it at this site's own index instead,
# relative to each page.
def _home_link_to_own_index(app, pagename, templatename, context, doctree):
    context['theme_documentation_home_url'] = context['pathto'](app.config.root_doc)


def setup(app):
    app.connect('html-page-context', _home_link_to_own_index)
"""


def write_inventory(path):
    """Write a Sphinx (version 2) object inventory with the labels of INVENTORY."""
    body = "".join(f"{label} std:label -1 {uri} {title}\n" for label, uri, title in INVENTORY)
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
    with open(path, "wb") as handle:
        handle.write(header.encode("utf-8") + zlib.compress(body.encode("utf-8")))


def copy_files(root, dest):
    """Copy FILES from the checkout at root into dest (recreated)."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    for source, target in FILES:
        source, target = os.path.join(root, source), os.path.join(dest, target)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)


def build(work, dest, root=ROOT):
    """sphinx-init into work, make it offline, add the included files, run its build.sh, copy the HTML to dest."""
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work, mode=0o700)  # antsibull-docs wants a directory only its owner can write
    os.chmod(work, 0o700)
    subprocess.run(
        [
            "antsibull-docs",
            "sphinx-init",
            "--use-current",
            "--squash-hierarchy",
            "--fail-on-error",
            "--project",
            COLLECTION,
            "--copyright",
            "Contributors to the orgshare.aws collection",
            "--title",
            f"{COLLECTION} collection",
            "--dest-dir",
            work,
            COLLECTION,
        ],
        check=True,
    )
    with open(os.path.join(work, "conf.py"), "a", encoding="utf-8") as conf:
        conf.write(OFFLINE_CONF)
    write_inventory(os.path.join(work, "ansible_devel.inv"))
    copy_files(root, os.path.join(work, "files"))
    subprocess.run(["bash", os.path.join(work, "build.sh")], check=True)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(os.path.join(work, "build", "html"), dest)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", help="scratch directory for the Sphinx project (recreated)")
    parser.add_argument("dest", help="where the HTML site goes (replaced)")
    args = parser.parse_args(argv)
    build(os.path.abspath(args.work), os.path.abspath(args.dest))
    print(f"Documentation site: {os.path.join(os.path.abspath(args.dest), 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
