# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The share_ami role's filters: role variables as lists, and the steps of its plan (decided in _share_plan)."""

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.filter.share_ami import STEPS
from ansible_collections.orgshare.aws.plugins.filter.share_ami import FilterModule
from ansible_collections.orgshare.aws.plugins.filter.share_ami import as_list
from ansible_collections.orgshare.aws.plugins.filter.share_ami import share_ami_plan
from ansible_collections.orgshare.aws.plugins.module_utils import _share_plan


@pytest.mark.parametrize(
    "value, expected",
    [
        ("us-east-1", ["us-east-1"]),
        ("us-east-1,eu-west-1", ["us-east-1", "eu-west-1"]),
        (["us-east-1"], ["us-east-1"]),
        ([], []),
        (7, ["7"]),
    ],
)
def test_as_list_takes_what_list_options_take(value, expected):
    assert as_list(value, "share_ami_regions") == expected


@pytest.mark.parametrize("value", [{"first": "ami-1"}, None])
def test_as_list_refuses_the_rest_naming_the_variable(value):
    with pytest.raises(AnsibleFilterError) as err:
        as_list(value, "share_ami_image_ids")
    assert "share_ami_image_ids must be a list" in str(err.value)


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"as_list", "share_ami_plan"}


def test_each_step_calls_its_planner_with_its_keyword_arguments():
    variables = {
        "image_ids": "ami-0aaaaaaaaaaaaaaaa",
        "source_region": "us-east-1",
        "regions": "us-east-1,eu-west-1",
        "region_kms_keys": {"eu-west-1": "alias/golden"},
    }
    read = share_ami_plan(variables, "inputs")
    assert read == _share_plan.role_inputs(variables)
    assert share_ami_plan(read, "copy_lookups") == _share_plan.copy_lookups(read)
    assert share_ami_plan([], "summary", check_mode=True, state="absent") == []


def test_the_planners_refusals_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="share_ami_image_ids is empty"):
        share_ami_plan({"image_ids": [], "source_region": "us-east-1"}, "inputs")
    with pytest.raises(AnsibleFilterError, match="Nothing to share with"):
        share_ami_plan(
            _share_plan.role_inputs({"image_ids": ["ami-0aaaaaaaaaaaaaaaa"], "source_region": "us-east-1"}),
            "principals",
            organization={"skipped": True},
        )


def test_an_unknown_step_or_keyword_is_refused_with_what_there_is():
    with pytest.raises(
        AnsibleFilterError, match="share_ami_plan has no step 'share'; its steps are inputs, principals"
    ):
        share_ami_plan({}, "share")
    with pytest.raises(AnsibleFilterError, match=r"share_ami_plan\('keys'\) takes sources, copy_plan, not copies"):
        share_ami_plan({}, "keys", copies={})


def test_the_documented_steps_are_the_steps():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter", "share_ami_plan.yml")
    with open(path, encoding="utf-8") as handle:
        documented = yaml.safe_load(handle)["DOCUMENTATION"]["options"]
    assert documented["step"]["choices"] == list(STEPS)
    assert set(documented) - {"_input", "step"} == {name for _function, names in STEPS.values() for name in names}
