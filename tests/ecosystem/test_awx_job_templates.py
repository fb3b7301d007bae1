# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX job templates of docs/awx, launched as jobs: the audit, the share, and the audit again.

Each job gets what AWX 24.6.1 would give it: the extra variables merged from the job template's
``extra_vars``, the survey's defaults and the operator's answers (strings, as the survey's text and
multiple-choice questions return them), ``--check`` for job type ``check`` and ``--diff`` for
``diff_mode``, the project's ``playbooks/share_ami.yml``, and the credential in the environment. It runs
with ``ansible-runner run`` against the emulator, and the AWS state is read back with boto3. Only the
estate differs from the examples: the emulator's image IDs, key alias and endpoint.
"""

import shutil

import yaml
from emulator.middleware import write_calls

from .helpers import (
    COPY_REGION,
    OU_PATH,
    ROOT,
    SOURCE_REGION,
    artifact_text,
    assert_shared,
    isolated_env,
    job_events,
    play_stats,
    run,
    tool,
)
from .test_docs_examples import SURVEY, TEMPLATES, launch_extra_vars


def launch(pdd, emulator_and_world, template_name, ident):
    """Launch the job template with the operator's answers; the job's events and stdout."""
    emu, world = emulator_and_world
    playbook = pdd / "project" / TEMPLATES[template_name]["playbook"]
    playbook.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(f"{ROOT}/playbooks/share_ami.yml", playbook)  # the project is the collection's repository
    template = dict(TEMPLATES[template_name])
    # The estate: the emulator's key in the region copies go to, and its endpoint.
    estate = yaml.safe_load(template["extra_vars"])
    estate["share_ami_region_kms_keys"] = {COPY_REGION: world["keys"][COPY_REGION]["alias"]}
    estate["share_ami_aws"] = {"endpoint_url": emu.endpoint_url}
    template["extra_vars"] = yaml.safe_dump(estate)
    answers = {
        "share_ami_image_ids": ",".join(world["images"][name]["image_id"] for name in ("encrypted_cmk", "plain")),
        "share_ami_source_region": SOURCE_REGION,
        "share_ami_regions": f"{SOURCE_REGION},{COPY_REGION}",
        "share_ami_organizational_units": OU_PATH,
    }
    (pdd / "env" / "extravars").write_text(
        yaml.safe_dump(launch_extra_vars(template, SURVEY, answers)), encoding="utf-8"
    )
    options = (["--check"] if template["job_type"] == "check" else []) + (["--diff"] if template["diff_mode"] else [])
    cmdline = pdd / "env" / "cmdline"
    cmdline.write_text(" ".join(options), encoding="utf-8")
    result = run(
        [tool("ansible-runner"), "run", str(pdd), "--playbook", template["playbook"], "--ident", ident],
        env=isolated_env(pdd / "runner-home"),
        check=False,
    )
    artifacts = pdd / "artifacts" / ident
    assert artifacts.is_dir(), f"no artifacts for {ident}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    stdout = artifact_text(artifacts, "stdout")
    assert artifact_text(artifacts, "status") == "successful", stdout
    events = job_events(artifacts)
    playbooks = {event["event_data"]["playbook"] for event in events if "playbook" in event.get("event_data", {})}
    assert playbooks == {template["playbook"]}  # the project's file, run from the project directory
    return events, stdout


def test_the_audit_the_share_and_the_audit_again(emulator, private_data_dir):
    emu, world = emulator
    emu.reset_calls()
    events, stdout = launch(private_data_dir, emulator, "job_template_audit.json", "audit")
    assert play_stats(events)["changed"].get("localhost", 0) > 0, stdout  # the audit reports what is due
    assert write_calls(emu.calls()) == {}, stdout
    assert "(copy to be made)" in stdout

    events, stdout = launch(private_data_dir, emulator, "job_template_share.json", "share")
    assert play_stats(events)["changed"].get("localhost", 0) > 0, stdout
    assert_shared(emu, world)

    emu.reset_calls()
    events, stdout = launch(private_data_dir, emulator, "job_template_audit.json", "audit-again")
    assert play_stats(events)["changed"] == {}, stdout
    assert write_calls(emu.calls()) == {}, stdout
