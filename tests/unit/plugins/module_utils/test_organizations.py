# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Organizations calls (_organizations) against the emulator: the tree read lazily, each listing once, and the errors."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _organizations
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


@pytest.fixture
def tree(emulator):
    return _organizations.OrganizationTree(emulator.client("organizations"))


def org_calls(calls):
    return calls().get("organizations", {})


def test_a_name_path_is_followed_down_from_the_root_each_listing_once(emulator, tree, world, calls):
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    emulator.reset_calls()
    root_id, chain = tree.find_path("Root/Workloads/Prod", ["Root", "Workloads", "Prod"])
    assert root_id == world["organization"]["root_id"] and chain[-1]["Id"] == prod["id"]
    again = tree.find_path("Root/Workloads/Prod", ["Root", "Workloads", "Prod"])
    assert again == (root_id, chain)
    assert org_calls(calls) == {"ListRoots": 1, "ListOrganizationalUnitsForParent": 2}
    # The OUs seen in a listing are known: their parents and names need no call.
    assert tree.ancestry(prod["id"]) == (root_id, [unit["Id"] for unit in chain])
    assert tree.unit(prod["id"])["Name"] == "Prod"
    assert org_calls(calls) == {"ListRoots": 1, "ListOrganizationalUnitsForParent": 2}


def test_ancestry_of_an_ou_not_listed_yet_asks_for_each_parent_once(emulator, tree, world, calls):
    payments = world["organizational_units"]["Root/Workloads/Prod/Payments"]
    emulator.reset_calls()
    root_id, chain = tree.ancestry(payments["id"])
    assert root_id == world["organization"]["root_id"] and len(chain) == 3 and chain[-1] == payments["id"]
    tree.ancestry(payments["id"])
    assert org_calls(calls) == {"ListParents": 3}


def test_a_path_that_breaks_off_names_where_and_what_is_there(tree):
    with pytest.raises(OrgShareError) as err:
        tree.find_path("Root/Workloads/Staging", ["Root", "Workloads", "Staging"])
    assert err.value.message.startswith(
        "The OU path 'Root/Workloads/Staging' does not exist: 'Root/Workloads' has no OU named 'Staging'."
    )
    with pytest.raises(OrgShareError, match="does not start at the root"):
        tree.find_path("Workloads/Prod", ["Workloads", "Prod"])


def test_a_member_account_may_not_read_the_tree(emulator, world):
    member = _organizations.OrganizationTree(emulator.client("organizations", account_id=world["member_account"]["id"]))
    assert member.organization["Id"] == world["organization"]["id"]  # DescribeOrganization works from any member
    with pytest.raises(_organizations.OrganizationsAccessDenied) as err:
        _organizations.list_roots(member._client)  # pylint: disable=protected-access
    assert (
        "AWS Organizations denied the request to list the roots of the organization (AccessDeniedException)"
        in err.value.message
    )


def test_an_ou_that_does_not_exist(emulator, world):
    client = emulator.client("organizations")
    missing = world["organizational_units"]["Root/Security"]["id"][:-4] + "zzzz"
    with pytest.raises(_organizations.OrganizationalUnitNotFound):
        _organizations.describe_unit(client, missing)
