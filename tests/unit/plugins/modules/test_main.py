# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every module as Ansible runs it: main(), its argument spec (aliases included) and run_module, against the emulator.

The other module tests call ``ensure`` on a stand-in; these go through AnsibleAWSModule itself, in check mode.
"""

import json

import pytest

from ansible_collections.orgshare.aws.plugins.modules import ami_org_share
from ansible_collections.orgshare.aws.plugins.modules import ami_region_copy
from ansible_collections.orgshare.aws.plugins.modules import ami_share_info
from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant
from ansible_collections.orgshare.aws.plugins.modules import org_arn_info
from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import module_args


@pytest.fixture
def main(emulator, world, capsys):  # pylint: disable=unused-argument
    """``main(module, **args)``: run the module's main() on the emulator; returns (exit code, its JSON result)."""

    def run(module, **args):
        args = dict(
            {
                "endpoint_url": emulator.endpoint_url,
                "access_key": "testing",
                "secret_key": "testing",
                "region": "us-east-1",
            },
            **args,
        )
        with module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
        return exited.value.code, json.loads(capsys.readouterr().out)

    return run


def test_org_arn_info(main, world):
    organization, prod = world["organization"], world["organizational_units"]["Root/Workloads/Prod"]
    code, result = main(
        org_arn_info,
        endpoint_url="http://127.0.0.1:9",  # nothing is called
        organization_id=organization["id"],
        management_account_id=organization["management_account_id"],
        organizational_units=[prod["id"]],
    )
    assert code == 0 and result["changed"] is False
    assert [unit["arn"] for unit in result["organizational_units"]] == [prod["arn"]]


def test_ami_org_share_takes_image_id_for_image_ids(main, world):
    image_id, ou_arn = world["images"]["plain"]["image_id"], world["organizational_units"]["Root/Security"]["arn"]
    code, result = main(ami_org_share, image_id=image_id, organizational_unit_arns=[ou_arn], _ansible_check_mode=True)
    assert code == 0 and result["changed"] is True
    assert [(image["image_id"], image["organizational_unit_arns"]) for image in result["images"]] == [
        (image_id, [ou_arn])
    ]


def test_kms_org_grant_takes_key_arn_for_key_id(main, world):
    key = world["keys"]["us-east-1"]["key_arn"]
    code, result = main(
        kms_org_grant, key_arn=key, organization_arns=[world["organization"]["arn"]], _ansible_check_mode=True
    )
    assert code == 0 and result["key_arn"] == key and [entry["arn"] for entry in result["kms_keys"]] == [key]


def test_ami_region_copy_one_source_and_its_refusals(main, world):
    image_id = world["images"]["plain"]["image_id"]
    code, result = main(
        ami_region_copy,
        region="eu-west-1",
        source_region="us-east-1",
        source_image_id=image_id,
        _ansible_check_mode=True,
    )
    assert code == 0 and result["source_image_id"] == image_id and result["region"] == "eu-west-1"
    code, result = main(
        ami_region_copy,
        region="eu-west-1",
        source_region="us-east-1",
        source_image_id=image_id,
        source_image_ids=[image_id],
    )
    assert code == 1 and "mutually exclusive" in result["msg"]


def test_ami_share_info(main, world):
    image_id = world["images"]["plain"]["image_id"]
    code, result = main(ami_share_info, image_ids=[image_id], organization_tree="skip")
    assert code == 0 and result["changed"] is False and [image["image_id"] for image in result["images"]] == [image_id]
