# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The launch-permission planner: add, remove, purge, absent, repeats, order, foreign entries untouched."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import DEFAULT_SHARING_QUOTA
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import Targets
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import current_targets
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import plan_launch_permissions
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import sharing_count
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import sharing_quota_problem

ORG = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OTHER_ORG = "arn:aws:organizations::444455556666:organization/o-zzzzzzzzzz"
OU_A = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-aaaaaaaa"
OU_B = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-bbbbbbbb"
OU_C = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cccccccc"
ACCOUNT = {"UserId": "999988887777"}
PUBLIC = {"Group": "all"}


def perms(*entries):
    """DescribeImageAttribute-shaped launch permissions from ARNs and raw entries."""
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            out.append(entry)
        elif ":organization/" in entry:
            out.append({"OrganizationArn": entry})
        else:
            out.append({"OrganizationalUnitArn": entry})
    return out


def test_current_targets_ignores_accounts_and_public():
    assert current_targets(perms(ACCOUNT, ORG, PUBLIC, OU_B, OU_A)) == Targets([ORG], [OU_B, OU_A])
    assert current_targets(None) == Targets([], [])


def test_add_to_empty():
    plan = plan_launch_permissions([], Targets([ORG], [OU_B, OU_A]))
    assert plan.changed
    assert plan.added == Targets([ORG], [OU_B, OU_A])  # request order
    assert plan.removed == Targets([], [])
    assert plan.after == Targets([ORG], [OU_A, OU_B])  # sorted
    assert plan.before == Targets([], [])
    assert plan.modify_request() == {
        "Add": [{"OrganizationArn": ORG}, {"OrganizationalUnitArn": OU_B}, {"OrganizationalUnitArn": OU_A}]
    }


def test_add_is_idempotent():
    plan = plan_launch_permissions(perms(ORG, OU_A), Targets([ORG], [OU_A]))
    assert not plan.changed
    assert plan.modify_request() is None
    assert plan.before == plan.after == Targets([ORG], [OU_A])


def test_add_keeps_unlisted_without_purge():
    plan = plan_launch_permissions(perms(OU_C, OTHER_ORG), Targets([], [OU_A]))
    assert plan.added == Targets([], [OU_A])
    assert plan.removed == Targets([], [])
    assert plan.after == Targets([OTHER_ORG], [OU_A, OU_C])


def test_purge_makes_the_set_exact_and_keeps_accounts_and_public():
    current = perms(ACCOUNT, PUBLIC, OTHER_ORG, OU_C, OU_A)
    plan = plan_launch_permissions(current, Targets([ORG], [OU_A]), purge=True)
    assert plan.added == Targets([ORG], [])
    assert plan.removed == Targets([OTHER_ORG], [OU_C])
    assert plan.after == Targets([ORG], [OU_A])
    request = plan.modify_request()
    assert request == {
        "Add": [{"OrganizationArn": ORG}],
        "Remove": [{"OrganizationArn": OTHER_ORG}, {"OrganizationalUnitArn": OU_C}],
    }
    for field in request.values():
        assert all(set(item) <= {"OrganizationArn", "OrganizationalUnitArn"} for item in field)


def test_purge_with_nothing_listed_removes_every_org_share():
    plan = plan_launch_permissions(perms(ACCOUNT, ORG, OU_A), Targets([], []), purge=True)
    assert plan.removed == Targets([ORG], [OU_A])
    assert plan.after == Targets([], [])
    assert plan.modify_request() == {"Remove": [{"OrganizationArn": ORG}, {"OrganizationalUnitArn": OU_A}]}


def test_absent_removes_only_what_is_there():
    plan = plan_launch_permissions(perms(ORG, OU_A, ACCOUNT), Targets([ORG], [OU_A, OU_B]), state="absent")
    assert plan.added == Targets([], [])
    assert plan.removed == Targets([ORG], [OU_A])
    assert plan.after == Targets([], [])
    assert plan.modify_request() == {"Remove": [{"OrganizationArn": ORG}, {"OrganizationalUnitArn": OU_A}]}


def test_absent_when_already_gone_is_a_no_op():
    plan = plan_launch_permissions(perms(ACCOUNT, PUBLIC, OU_C), Targets([ORG], [OU_A]), state="absent")
    assert not plan.changed
    assert plan.after == Targets([], [OU_C])


def test_absent_ignores_purge():
    plan = plan_launch_permissions(perms(OU_A, OU_C), Targets([], [OU_A]), state="absent", purge=True)
    assert plan.removed == Targets([], [OU_A])
    assert plan.after == Targets([], [OU_C])


@pytest.mark.parametrize("state", ["present", "absent"])
def test_repeats_in_input_are_planned_once(state):
    current = perms(OU_A) if state == "absent" else []
    plan = plan_launch_permissions(current, Targets([ORG, ORG], [OU_A, OU_A]), state=state)
    touched = plan.added if state == "present" else plan.removed
    assert touched.organizational_unit_arns == [OU_A]
    assert touched.organization_arns == ([ORG] if state == "present" else [])


def test_repeats_in_current_permissions_are_harmless():
    plan = plan_launch_permissions(perms(OU_A, OU_A), Targets([], [OU_A]))
    assert not plan.changed


def test_inverse_undoes_the_plan():
    plan = plan_launch_permissions(perms(OU_C), Targets([ORG], [OU_A]), purge=True)
    undo = plan.inverse()
    assert undo.before == plan.after and undo.after == plan.before
    assert undo.modify_request() == {
        "Add": [{"OrganizationalUnitArn": OU_C}],
        "Remove": [{"OrganizationArn": ORG}, {"OrganizationalUnitArn": OU_A}],
    }


def test_targets_as_dict_and_truthiness():
    assert Targets([ORG], []).as_dict() == {"organization_arns": [ORG], "organizational_unit_arns": []}
    assert not Targets([], [])
    assert Targets([], [OU_A])


def accounts(count):
    """``count`` distinct account entries."""
    return [{"UserId": f"{100000000000 + number}"} for number in range(count)]


def quota_verdict(launch_permissions, desired, state="present", purge=False, quota=DEFAULT_SHARING_QUOTA):
    plan = plan_launch_permissions(launch_permissions, desired, state, purge)
    return sharing_count(launch_permissions, plan), sharing_quota_problem(
        "ami-12345678", "eu-west-1", launch_permissions, plan, quota
    )


def test_the_default_quota_is_the_documented_one():
    assert DEFAULT_SHARING_QUOTA == 1000


@pytest.mark.parametrize("after, refused", [(999, False), (1000, False), (1001, True)])
def test_the_quota_counts_accounts_organizations_and_ous_after_the_change(after, refused):
    # Two OUs are added; the accounts (never touched) and an organization already there count too.
    current = accounts(after - 3) + perms(ORG) + [PUBLIC]
    count, problem = quota_verdict(current, Targets([], [OU_A, OU_B]))
    assert count == (after - 3, after - 2, after)
    assert (problem is not None) == refused
    if refused:
        assert "ami-12345678 in eu-west-1" in problem and f"now {after - 2} → after {after}" in problem
        assert "quota of 1000" in problem and "parent OU or the organization" in problem and "remove entries" in problem
        assert "sharing_quota" in problem


def test_public_sharing_is_not_an_entity():
    count, problem = quota_verdict(accounts(999) + [PUBLIC], Targets([], [OU_A]))
    assert count.after == 1000 and problem is None


def test_purge_removing_entries_brings_the_image_back_under_the_quota():
    current = accounts(998) + perms(OU_A, OU_B)
    assert quota_verdict(current, Targets([], [OU_C]))[1] is not None  # 1,001 without purge
    count, problem = quota_verdict(current, Targets([], [OU_C]), purge=True)
    assert count == (998, 1000, 999) and problem is None


def test_removing_only_is_never_refused_even_over_the_quota():
    current = accounts(1001) + perms(OU_A, OU_B)
    count, problem = quota_verdict(current, Targets([], [OU_A]), state="absent")
    assert count.after == 1002 and problem is None
    assert quota_verdict(current, Targets([], [OU_A, OU_B]))[1] is None  # nothing changes


def test_a_raised_quota_is_honoured():
    current = accounts(1500)
    assert quota_verdict(current, Targets([ORG], []))[1] is not None
    assert quota_verdict(current, Targets([ORG], []), quota=2000)[1] is None


def test_repeated_accounts_count_once():
    count, _problem = quota_verdict(accounts(3) + accounts(3), Targets([ORG], []))
    assert count == (3, 3, 4)
