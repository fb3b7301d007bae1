# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""org_arn_info against the emulator: results, the calls it makes, and every error it names.

The module's logic runs with a small stand-in for AnsibleAWSModule whose
``client()`` talks to the emulator, so the emulator's call counter shows
exactly which Organizations calls were made.
"""

import pytest

from ansible_collections.orgshare.aws.plugins.modules import org_arn_info
from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

PAGE_SIZE = 20  # Organizations' (and the emulator's) default page for ListOrganizationalUnitsForParent


DEFAULTS = defaults_of(org_arn_info)


@pytest.fixture
def run(runner_of):
    """Run org_arn_info's logic; keyword arguments are module options or stand-in options."""
    return runner_of(org_arn_info, entry="describe_arns")


@pytest.fixture
def error_of(run, refusal_of):
    """The OrgShareError message of a run that must fail."""
    return refusal_of(run)


def org_calls(calls):
    return calls().get("organizations", {})


def test_name_paths_resolve_to_full_paths(run, world, calls):
    paths = ["Root/Workloads/Prod/Payments", "Root/Workloads/Prod", "Root/Sandbox/Prod", "Root/Security"]
    result = run(organizational_units=paths)

    org = world["organization"]
    assert result["organization"] == {
        "id": org["id"],
        "arn": org["arn"],
        "management_account_id": org["management_account_id"],
        "root_id": org["root_id"],
    }
    assert [unit["requested"] for unit in result["organizational_units"]] == paths
    for unit, path in zip(result["organizational_units"], paths):
        expected = world["organizational_units"][path]
        assert unit["id"] == expected["id"]
        assert unit["arn"] == expected["arn"]
        assert unit["name"] == path.rsplit("/", 1)[1]
        assert unit["path"] == expected["path"]
        assert unit["principal_org_paths"] == expected["path"] + "*"
    # Two OUs named Prod under different parents stay apart.
    assert result["organizational_units"][1]["id"] != result["organizational_units"][2]["id"]

    counted = org_calls(calls)
    assert counted["DescribeOrganization"] == 1
    assert counted["ListRoots"] == 1
    # Root, Workloads and Workloads/Prod are listed once each (one page), Sandbox once (two pages: 25 children).
    assert counted["ListOrganizationalUnitsForParent"] == 3 + 2
    assert "ListParents" not in counted


def test_pagination_is_followed(run, world, calls):
    sandbox = world["organizational_units"]["Root/Sandbox"]
    children = [path for path, unit in world["organizational_units"].items() if unit["parent_id"] == sandbox["id"]]
    assert len(children) > PAGE_SIZE  # the world must really need a second page
    last = sorted(children)[-1]
    result = run(organizational_units=sorted(children))
    assert [unit["id"] for unit in result["organizational_units"]] == [
        world["organizational_units"][path]["id"] for path in sorted(children)
    ]
    assert result["organizational_units"][-1]["path"] == world["organizational_units"][last]["path"]
    assert org_calls(calls)["ListOrganizationalUnitsForParent"] == 1 + 2  # root once, Sandbox's two pages


def test_ou_ids_and_arns_walk_up_once_per_parent(run, world, calls):
    units = world["organizational_units"]
    requested = [
        units["Root/Workloads/Prod/Payments"]["id"],
        units["Root/Workloads/Prod"]["arn"],
        units["Root/Workloads/Dev"]["id"],
    ]
    result = run(organizational_units=requested)
    assert [unit["path"] for unit in result["organizational_units"]] == [
        units["Root/Workloads/Prod/Payments"]["path"],
        units["Root/Workloads/Prod"]["path"],
        units["Root/Workloads/Dev"]["path"],
    ]
    assert [unit["name"] for unit in result["organizational_units"]] == ["Payments", "Prod", "Dev"]
    assert result["organization"]["root_id"] == world["organization"]["root_id"]
    counted = org_calls(calls)
    # Payments -> Prod -> Workloads -> root (3 calls); Prod's parent is then known; Dev -> Workloads (1 call).
    assert counted["ListParents"] == 4
    assert counted["DescribeOrganizationalUnit"] == 3
    assert counted["DescribeOrganization"] == 1


def test_no_aws_call_with_organization_and_management_account(run, world, calls):
    units = world["organizational_units"]
    org = world["organization"]
    requested = [units["Root/Workloads/Prod"]["id"], units["Root/Security"]["arn"]]
    result = run(
        allow_calls=False,
        organization_id=org["id"],
        management_account_id=org["management_account_id"],
        organizational_units=requested,
    )
    assert result["organization"] == {
        "id": org["id"],
        "arn": org["arn"],
        "management_account_id": org["management_account_id"],
        "root_id": org["root_id"],
    }
    assert [unit["arn"] for unit in result["organizational_units"]] == [
        units["Root/Workloads/Prod"]["arn"],
        units["Root/Security"]["arn"],
    ]
    assert all(unit["path"] is None and unit["name"] is None for unit in result["organizational_units"])
    assert (
        result["organizational_units"][0]["principal_org_paths"]
        == f"{org['id']}/*/{units['Root/Workloads/Prod']['id']}/*"
    )
    assert calls() == {}


def test_organization_arn_alone_is_enough_for_no_call_mode(run, world, calls):
    org = world["organization"]
    result = run(
        allow_calls=False,
        organization_id=org["arn"],
        organizational_units=[world["organizational_units"]["Root/Security"]["id"]],
    )
    assert result["organization"]["management_account_id"] == org["management_account_id"]
    assert calls() == {}


def test_organization_only(run, world, calls):
    result = run()
    expected = {key: world["organization"][key] for key in ("id", "arn", "management_account_id")}
    assert result == {"organization": {**expected, "root_id": None}, "organizational_units": []}
    assert org_calls(calls) == {"DescribeOrganization": 1}


def test_member_account_gets_arns_and_a_warning_for_ids(stand_in, world):
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    module = stand_in(DEFAULTS, account_id=world["member_account"]["id"], organizational_units=[prod["id"]])
    result = org_arn_info.describe_arns(module)
    unit = result["organizational_units"][0]
    assert unit["arn"] == prod["arn"]
    assert unit["path"] is None
    assert unit["principal_org_paths"] == f"{world['organization']['id']}/*/{prod['id']}/*"
    assert result["organization"]["root_id"] == world["organization"]["root_id"]  # read from the OU ID
    (warning,) = module.warnings
    assert "AccessDeniedException" in warning and "management account" in warning


def test_member_account_cannot_resolve_name_paths(error_of, world):
    message = error_of(account_id=world["member_account"]["id"], organizational_units=["Root/Workloads/Prod"])
    assert "AccessDeniedException" in message
    assert "organization_id and management_account_id" in message
    assert "delegated administrator" in message


def test_account_outside_any_organization(error_of, world):
    message = error_of(account_id=world["outsider_account"]["id"], organizational_units=["Root/Workloads"])
    assert "AWSOrganizationsNotInUseException" in message
    assert "organization_id and management_account_id" in message


def test_describe_organization_denied(error_of, emulator, calls):
    emulator.set_faults(
        rate=1.0, error="AccessDeniedException", services=["organizations"], actions=["DescribeOrganization"]
    )
    message = error_of(organizational_units=["Root/Workloads"])
    assert "denied the request to describe the caller's organization" in message
    assert "organization_id and management_account_id" in message
    assert set(org_calls(calls)) == {"DescribeOrganization"}


def test_missing_name_path_lists_what_exists(error_of):
    message = error_of(organizational_units=["Root/Workloads/Staging"])
    assert "'Root/Workloads/Staging' does not exist" in message
    assert "'Root/Workloads' has no OU named 'Staging'" in message
    assert "'Dev', 'Prod'" in message


def test_path_must_start_at_the_root(error_of):
    message = error_of(organizational_units=["Workloads/Prod"])
    assert "does not start at the root" in message and "'Root'" in message


def test_ou_of_another_organization_by_arn_is_refused_before_any_tree_call(error_of, world, calls):
    mgmt = world["organization"]["management_account_id"]
    foreign = f"arn:aws:organizations::{mgmt}:ou/o-zzzzzzzzzz/{world['organizational_units']['Root/Security']['id']}"
    message = error_of(organizational_units=[foreign])
    assert "belongs to organization o-zzzzzzzzzz" in message
    assert org_calls(calls) == {"DescribeOrganization": 1}


def test_unknown_ou_id_is_not_in_the_organization(error_of, world):
    root_suffix = world["organization"]["root_id"][2:]
    message = error_of(organizational_units=[f"ou-{root_suffix}-zzzzzzzz"])
    assert f"'ou-{root_suffix}-zzzzzzzz' is not in organization {world['organization']['id']}" in message


@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(organizational_units=["ou-123"]), "'ou-123' is not a valid OU ID"),
        (dict(organizational_units=["o-abc"]), "organization ID, not an organizational unit"),
        (dict(organizational_units=[""]), "empty string"),
        (
            dict(organizational_units=["arn:aws:organizations::12345:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"]),
            "'12345' is not a 12-digit",
        ),
        (dict(organization_id="o-abc"), "'o-abc' is not a valid organization ID"),
        (
            dict(organization_id="o-a1b2c3d4e5", management_account_id="1234"),
            "'1234' is not a valid management account ID",
        ),
        (dict(partition="gcp"), "'gcp' is not an AWS partition"),
        (dict(organizational_units=["ou-ab12-cd34ef56", "ou-cd34-cd34ef56"]), "different roots"),
        (dict(organizational_units=["Root"]), "'Root' is the root of the organization, not an OU"),
        (dict(organizational_units=["Prod"]), "'Prod' is a single name, but name paths start at the root"),
        (dict(organizational_units=["OU-AB12-CD34EF56"]), "lowercase in AWS Organizations: give 'ou-ab12-cd34ef56'"),
        (dict(organizational_units=["Root/Prod", ""]), "entry 2 of organizational_units is empty or null"),
        (dict(organization_id=""), "organization_id is empty; leave it out"),
        (dict(organization_id="O-A1B2C3D4E5"), "lowercase in AWS Organizations: give 'o-a1b2c3d4e5'"),
        (
            dict(organization_id="o-a1b2c3d4e5", management_account_id=""),
            "management_account_id is empty; leave it out",
        ),
        (dict(partition=""), "partition is empty; leave it out"),
    ],
)
def test_malformed_input_fails_before_any_call(error_of, calls, params, fragment):
    message = error_of(allow_calls=False, **params)
    assert fragment in message
    assert calls() == {}


def test_wrong_organization_id_for_caller(error_of, world):
    message = error_of(organization_id="o-zzzzzzzzzz", organizational_units=["Root/Workloads"])
    assert f"o-zzzzzzzzzz is not the caller's organization ({world['organization']['id']})" in message


def test_throttling_is_retried(run, emulator, world, calls):
    emulator.set_faults(rate=0.4, error="throttle", services=["organizations"], seed=7)
    result = run(
        organizational_units=["Root/Workloads/Prod/Payments", world["organizational_units"]["Root/Sandbox/Prod"]["id"]]
    )
    assert [unit["path"] for unit in result["organizational_units"]] == [
        world["organizational_units"]["Root/Workloads/Prod/Payments"]["path"],
        world["organizational_units"]["Root/Sandbox/Prod"]["path"],
    ]
    assert sum(emulator.faults_injected().get("organizations", {}).values()) > 0


def test_uppercase_ou_arn_is_judged_as_an_arn_before_any_call(error_of, world, calls):
    """An OU ARN in capitals is not a name path: it is refused at once, showing the ARN to give."""
    arn = world["organizational_units"]["Root/Workloads/Prod"]["arn"]
    message = error_of(allow_calls=False, organizational_units=[arn.upper()])
    assert (
        message
        == f"{arn.upper()!r} has capital letters, but IDs and ARNs are lowercase in AWS Organizations: give {arn!r}."
    )
    assert calls() == {}


def test_uppercase_organization_arn_as_organization_id(error_of, world, calls):
    arn = world["organization"]["arn"]
    message = error_of(allow_calls=False, organization_id=arn.upper())
    assert message.endswith(f"lowercase in AWS Organizations: give {arn!r}.")
    assert calls() == {}
