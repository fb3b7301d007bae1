# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The examples of the documentation are real: every file parses, the AWX job templates and their survey are
what AWX 24.6.1 accepts, and every variable they (and the guide pages) name is one the share_ami role has.

The AWX rules checked here are the ones AWX 24.6.1 documents: the survey format of
``/api/v2/job_templates/<id>/survey_spec/``, the job template fields of ``/api/v2/job_templates/``, and how
a launch merges the job template's ``extra_vars``, the survey's defaults and the answers (user guide, "Job
Templates": "Surveys", "Optional Survey Questions", "Extra Variables"). The awx.awx tasks are checked
against the options of awx.awx 24.6.1. tests/ecosystem/test_awx_job_templates.py runs the templates as
jobs against the emulator. None of this needs an AWX server.
"""

import copy
import glob
import json
import os
import re
import subprocess

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_list

from .helpers import ROOT

AWX = os.path.join(ROOT, "docs", "awx")
GUIDES = os.path.join(ROOT, "docs", "docsite", "rst")

with open(os.path.join(ROOT, "roles", "share_ami", "meta", "argument_specs.yml"), encoding="utf-8") as _handle:
    ROLE_OPTIONS = yaml.safe_load(_handle)["argument_specs"]["main"]["options"]
# Variables of the collection playbook (playbooks/share_ami.yml) besides the role's, and the facts the role sets.
PLAYBOOK_VARIABLES = {"share_ami_aws", "share_ami_hosts"}
ROLE_FACTS = {"share_ami_report", "share_ami_key_owner_grants"}

# AWX 24.6.1: the writable fields of a job template (JobTemplateSerializer and its bases).
AWX_JOB_TEMPLATE_FIELDS = {
    "name",
    "description",
    "job_type",
    "inventory",
    "project",
    "playbook",
    "scm_branch",
    "forks",
    "limit",
    "verbosity",
    "extra_vars",
    "job_tags",
    "force_handlers",
    "skip_tags",
    "start_at_task",
    "timeout",
    "use_fact_cache",
    "execution_environment",
    "host_config_key",
    "survey_enabled",
    "become_enabled",
    "diff_mode",
    "allow_simultaneous",
    "job_slice_count",
    "webhook_service",
    "webhook_credential",
    "prevent_instance_group_fallback",
    *(
        f"ask_{name}_on_launch"
        for name in (
            "scm_branch",
            "diff_mode",
            "variables",
            "limit",
            "tags",
            "skip_tags",
            "job_type",
            "verbosity",
            "inventory",
            "credential",
            "execution_environment",
            "labels",
            "forks",
            "job_slice_count",
            "timeout",
            "instance_groups",
        )
    ),
}
# AWX 24.6.1: survey question types and the JSON type of their default.
AWX_SURVEY_TYPES = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (int, float),
}
# awx.awx 24.6.1: the options of the modules the examples use (besides the connection options).
AWX_COLLECTION_OPTIONS = {
    "execution_environment": {
        "name",
        "new_name",
        "image",
        "description",
        "organization",
        "credential",
        "state",
        "pull",
    },
    "project": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "scm_type",
        "scm_url",
        "local_path",
        "scm_branch",
        "scm_refspec",
        "credential",
        "scm_clean",
        "scm_delete_on_update",
        "scm_track_submodules",
        "scm_update_on_launch",
        "scm_update_cache_timeout",
        "allow_override",
        "timeout",
        "default_environment",
        "custom_virtualenv",
        "organization",
        "state",
        "wait",
        "notification_templates_started",
        "notification_templates_success",
        "notification_templates_error",
        "update_project",
        "interval",
        "signature_validation_credential",
    },
    "credential": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "credential_type",
        "inputs",
        "update_secrets",
        "user",
        "team",
        "state",
    },
    "inventory": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "variables",
        "kind",
        "host_filter",
        "instance_groups",
        "input_inventories",
        "prevent_instance_group_fallback",
        "state",
    },
    "host": {"name", "new_name", "description", "inventory", "enabled", "variables", "state"},
    "job_template": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "job_type",
        "inventory",
        "organization",
        "project",
        "playbook",
        "credential",
        "credentials",
        "vault_credential",
        "execution_environment",
        "custom_virtualenv",
        "instance_groups",
        "forks",
        "limit",
        "verbosity",
        "extra_vars",
        "job_tags",
        "force_handlers",
        "skip_tags",
        "start_at_task",
        "diff_mode",
        "use_fact_cache",
        "host_config_key",
        "survey_enabled",
        "survey_spec",
        "become_enabled",
        "allow_simultaneous",
        "timeout",
        "job_slice_count",
        "webhook_service",
        "webhook_credential",
        "scm_branch",
        "labels",
        "state",
        "notification_templates_started",
        "notification_templates_success",
        "notification_templates_error",
        "prevent_instance_group_fallback",
        *(
            f"ask_{name}_on_launch"
            for name in (
                "scm_branch",
                "diff_mode",
                "variables",
                "limit",
                "tags",
                "skip_tags",
                "job_type",
                "verbosity",
                "inventory",
                "credential",
                "execution_environment",
                "forks",
                "instance_groups",
                "job_slice_count",
                "labels",
                "timeout",
            )
        ),
    },
}
AWX_CONNECTION_OPTIONS = {
    "controller_host",
    "controller_username",
    "controller_password",
    "controller_oauthtoken",
    "validate_certs",
    "request_timeout",
    "controller_config_file",
}

# Answers an operator gives at launch (strings, as the survey's text questions return them).
ANSWERS = {
    "share_ami_image_ids": "ami-0123456789abcdef0,ami-0fedcba9876543210",
    "share_ami_source_region": "us-east-1",
    "share_ami_regions": "us-east-1,eu-west-1",
    "share_ami_organizational_units": "Root/Workloads/Prod",
}


def load(name):
    with open(os.path.join(AWX, name), encoding="utf-8") as handle:
        return json.load(handle) if name.endswith(".json") else yaml.safe_load(handle)


SURVEY = load("survey_share_ami.json")
TEMPLATES = {name: load(name) for name in ("job_template_share.json", "job_template_audit.json")}


def survey_problems(survey):
    """What AWX 24.6.1 refuses in a POST to /api/v2/job_templates/<id>/survey_spec/ (one message each)."""
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            problems.append(f"{field} must be a {kind.__name__}")
    seen = set()
    for index, question in enumerate(survey.get("spec") or []):
        where = f"question {index} ({question.get('variable')})"
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(question.get(field), kind):
                problems.append(f"{where}: {field} must be a {kind.__name__}")
        if question.get("variable") in seen:
            problems.append(f"{where}: the variable is asked twice")
        seen.add(question.get("variable"))
        qtype = question.get("type")
        if qtype not in AWX_SURVEY_TYPES:
            problems.append(f"{where}: {qtype!r} is not a survey question type")
            continue
        default = question.get("default", "")
        if default != "" and not isinstance(default, AWX_SURVEY_TYPES[qtype]):
            problems.append(f"{where}: the default {default!r} is not of the question's type")
        for bound in ("min", "max"):
            if question.get(bound) is not None and not isinstance(question[bound], int):
                problems.append(f"{where}: {bound} must be an integer")
        if qtype in ("multiplechoice", "multiselect"):
            choices = question.get("choices")
            choices = choices.splitlines() if isinstance(choices, str) else choices
            if not choices:
                problems.append(f"{where}: a {qtype} question needs choices")
                continue
            defaults = [d for d in (default.splitlines() if isinstance(default, str) else default) if d.strip()]
            if qtype == "multiplechoice" and len(defaults) > 1:
                problems.append(f"{where}: a multiplechoice question has one default at most")
            if any(d not in choices for d in defaults):
                problems.append(f"{where}: the default is not among the choices")
    return problems


def answer_is_valid(question, value):
    """Whether AWX 24.6.1 takes ``value`` as the answer to ``question`` (the rule it also applies to defaults)."""
    qtype = question["type"]
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return False
        return (question.get("min") in ("", None) or len(value) >= question["min"]) and (
            question.get("max") in ("", None) or len(value) <= question["max"]
        )
    if qtype in ("integer", "float"):
        if isinstance(value, bool) or not isinstance(value, int if qtype == "integer" else (int, float)):
            return False
        return (question.get("min") in ("", None) or value >= question["min"]) and (
            question.get("max") in ("", None) or value <= question["max"]
        )
    choices = question["choices"].splitlines() if isinstance(question["choices"], str) else question["choices"]
    if qtype == "multiselect":
        return isinstance(value, list) and all(item in choices for item in value)
    return value in choices


def launch_extra_vars(template, survey, answers):
    """The extra variables of a job launched from ``template`` with ``answers``, merged as AWX 24.6.1 does: the job
    template's extra_vars, then the survey's defaults (those that are valid answers), then the answers given."""
    for question in survey["spec"]:
        if question["variable"] in answers:
            assert answer_is_valid(question, answers[question["variable"]]), (
                question["variable"],
                answers[question["variable"]],
            )
        elif question["required"] and not answer_is_valid(question, question.get("default")):
            raise AssertionError(
                f"{question['variable']} must be answered: it is required and its default is not a valid answer"
            )
    extra_vars = yaml.safe_load(template.get("extra_vars") or "") or {}
    extra_vars.update(
        {q["variable"]: q["default"] for q in survey["spec"] if "default" in q and answer_is_valid(q, q["default"])}
    )
    extra_vars.update(answers)
    return extra_vars


EXAMPLE_FILES = sorted(
    path
    for path in glob.glob(os.path.join(ROOT, "docs", "**", "*.*"), recursive=True)
    if not os.path.relpath(path, ROOT).startswith(os.path.join("docs", "_build"))
)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: os.path.relpath(path, ROOT))
def test_every_example_file_parses(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith(".json"):
        json.loads(text)
    elif path.endswith((".yml", ".yaml")):
        assert yaml.safe_load(text) is not None
    elif path.endswith(".sh"):
        subprocess.run(["bash", "-n", path], check=True)
    else:
        assert path.endswith((".md", ".rst")), f"{path}: an example of a kind this test does not check"


def code_blocks(path):
    """(language, code) of every code-block of an RST page."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    blocks = []
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)\.\. code-block:: (\S+)", line)
        if not match:
            continue
        indent, body = len(match.group(1)), []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        blocks.append((match.group(2), "\n".join(body)))
    return blocks


GUIDE_PAGES = sorted(glob.glob(os.path.join(GUIDES, "*.rst")))


@pytest.mark.parametrize("path", GUIDE_PAGES, ids=os.path.basename)
def test_the_yaml_and_json_in_every_guide_page_parses(path):
    blocks = code_blocks(path)
    with open(path, encoding="utf-8") as handle:
        assert blocks or ".. literalinclude::" in handle.read(), f"{path} shows no example"
    for language, code in blocks:
        if language in ("yaml", "yaml+jinja"):
            assert yaml.safe_load(code) is not None, code
        elif language == "json":
            json.loads(code)
        else:
            assert language in ("console", "text", "bash"), f"{path}: a {language} block this test does not check"


@pytest.mark.parametrize("path", GUIDE_PAGES, ids=os.path.basename)
def test_every_role_variable_a_guide_page_names_exists(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    named = set(re.findall(r"\bshare_ami_[a-z_]+\b", text))
    assert named, path
    assert named - set(ROLE_OPTIONS) - PLAYBOOK_VARIABLES - ROLE_FACTS == set()


def test_the_guide_pages_are_the_ones_listed_and_carry_their_label():
    with open(os.path.join(ROOT, "docs", "docsite", "extra-docs.yml"), encoding="utf-8") as handle:
        listed = [ref for section in yaml.safe_load(handle)["sections"] for ref in section["toctree"]]
    assert sorted(listed) == sorted(os.path.basename(path)[:-4] for path in GUIDE_PAGES)
    for name in listed:
        with open(os.path.join(GUIDES, f"{name}.rst"), encoding="utf-8") as handle:
            assert handle.readline() == f".. _ansible_collections.orgshare.aws.docsite.{name}:\n"


def test_the_survey_is_one_awx_accepts():
    assert survey_problems(SURVEY) == []


def test_the_survey_checks_catch_what_awx_refuses():
    broken = copy.deepcopy(SURVEY)
    broken["spec"][1]["variable"] = broken["spec"][0]["variable"]
    broken["spec"][4]["default"] = "yes"
    broken["spec"][9]["default"] = "4"
    del broken["description"]
    assert survey_problems(broken) == [
        "description must be a str",
        "question 1 (share_ami_image_ids): the variable is asked twice",
        "question 4 (share_ami_share_with_organization): the default is not among the choices",
        "question 9 (share_ami_max_concurrency): the default '4' is not of the question's type",
    ]


def test_every_survey_question_sets_a_role_variable_of_a_type_it_can_give():
    for question in SURVEY["spec"]:
        option = ROLE_OPTIONS.get(question["variable"])
        assert option is not None, f"{question['variable']} is not a variable of the share_ami role"
        qtype, rtype = question["type"], option.get("type", "str")
        if rtype == "list":
            assert qtype in ("text", "textarea", "multiselect"), question
            # Left empty, an optional text question with min 0 is passed as "", which is a list of one empty item.
            assert question["required"] or qtype == "multiselect" or (question.get("min") or 0) >= 1, question
        elif rtype == "bool":
            assert qtype == "multiplechoice" and sorted(question["choices"]) == ["false", "true"], question
        elif rtype == "int":
            assert qtype == "integer", question
        elif rtype == "str":
            assert qtype in ("text", "textarea", "multiplechoice"), question
            if "choices" in option:
                assert set(question.get("choices") or option["choices"]) <= set(option["choices"]), question
        else:
            raise AssertionError(
                f"{question['variable']} is a {rtype}: no survey question gives one, set it in extra_vars"
            )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_job_templates_are_job_templates_of_the_collection_playbook(name):
    template = TEMPLATES[name]
    assert set(template) <= AWX_JOB_TEMPLATE_FIELDS, set(template) - AWX_JOB_TEMPLATE_FIELDS
    assert os.path.exists(os.path.join(ROOT, template["playbook"])), template["playbook"]
    assert template["survey_enabled"] is True and template["ask_variables_on_launch"] is False
    variables = yaml.safe_load(template["extra_vars"])
    assert set(variables) <= set(ROLE_OPTIONS) | PLAYBOOK_VARIABLES
    # Survey defaults override the job template's variables: each variable is in one place only.
    assert set(variables).isdisjoint(question["variable"] for question in SURVEY["spec"])


def test_the_audit_is_the_share_in_check_mode_with_diff():
    share, audit = TEMPLATES["job_template_share.json"], TEMPLATES["job_template_audit.json"]
    assert (share["job_type"], audit["job_type"], audit["diff_mode"]) == ("run", "check", True)
    assert share["allow_simultaneous"] is False  # two shares copying the same AMI at once could each make a copy
    different = {"name", "description", "job_type", "diff_mode", "allow_simultaneous"}
    assert {k: v for k, v in share.items() if k not in different} == {
        k: v for k, v in audit.items() if k not in different
    }


def test_a_launch_gives_the_role_variables_it_validates():
    for template in TEMPLATES.values():
        extra_vars = launch_extra_vars(template, SURVEY, ANSWERS)
        spec = {
            name: {key: value for key, value in option.items() if key not in ("description", "version_added")}
            for name, option in ROLE_OPTIONS.items()
        }
        result = ArgumentSpecValidator(spec).validate(
            {k: v for k, v in extra_vars.items() if k not in PLAYBOOK_VARIABLES}
        )
        assert not result.error_messages, result.error_messages
        assert result.validated_parameters["share_ami_image_ids"] == ["ami-0123456789abcdef0", "ami-0fedcba9876543210"]
        assert result.validated_parameters["share_ami_revoke_kms"] is False
        assert result.validated_parameters["share_ami_max_concurrency"] == 4
        assert check_type_list(extra_vars["share_ami_regions"]) == ["us-east-1", "eu-west-1"]


def test_an_optional_question_left_empty_passes_nothing():
    optional = [question for question in SURVEY["spec"] if not question["required"]]
    assert optional
    extra_vars = launch_extra_vars(
        TEMPLATES["job_template_share.json"],
        SURVEY,
        {k: v for k, v in ANSWERS.items() if k != "share_ami_organizational_units"},
    )
    for question in optional:
        assert question["variable"] not in extra_vars


def test_a_required_question_must_be_answered():
    with pytest.raises(AssertionError, match="share_ami_image_ids must be answered"):
        launch_extra_vars(
            TEMPLATES["job_template_share.json"],
            SURVEY,
            {k: v for k, v in ANSWERS.items() if k != "share_ami_image_ids"},
        )


def test_the_awx_collection_tasks_use_awx_awx_options_and_the_files_beside_them():
    tasks = load("configure_awx.yml")
    with open(os.path.join(AWX, "configure_awx.yml"), encoding="utf-8") as handle:
        used = set(re.findall(r"\b(orgshare_awx_[a-z_]+)\b", handle.read())) - {"orgshare_awx_template"}
    for task in tasks:
        (action,) = [key for key in task if key.startswith("awx.awx.")]
        module = action.split(".")[-1]
        assert set(task[action]) - AWX_COLLECTION_OPTIONS[module] - AWX_CONNECTION_OPTIONS == set(), task["name"]
    for name in ("survey_share_ami.json", *TEMPLATES):
        assert name in json.dumps(tasks)
    (play,) = load("setup_awx.yml")
    assert used <= set(play["vars"]), used - set(play["vars"])
    assert play["tasks"][0]["ansible.builtin.include_tasks"] == "configure_awx.yml"


def test_the_api_script_posts_the_files_beside_it():
    with open(os.path.join(AWX, "create_with_api.sh"), encoding="utf-8") as handle:
        script = handle.read()
    for name in ("survey_share_ami.json", *TEMPLATES):
        assert name in script
    for path in re.findall(r"api (?:POST|GET) \"?([a-z_]+/)", script):
        assert path in {
            "execution_environments/",
            "projects/",
            "credentials/",
            "inventories/",
            "job_templates/",
            "organizations/",
            "credential_types/",
        }, path
