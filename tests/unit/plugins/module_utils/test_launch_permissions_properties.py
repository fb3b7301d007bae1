# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Properties of the launch-permission planner over random images and requests (hypothesis)."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import Targets
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import current_targets
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import plan_launch_permissions

ORG_KEY, OU_KEY = "OrganizationArn", "OrganizationalUnitArn"
org_arns = st.sampled_from([f"arn:aws:organizations::111122223333:organization/o-{letter * 10}" for letter in "abcde"])
ou_arns = st.sampled_from(
    [f"arn:aws:organizations::111122223333:ou/o-aaaaaaaaaa/ou-ab12-{letter * 8}" for letter in "abcdefgh"]
)
entries = st.one_of(
    org_arns.map(lambda arn: {ORG_KEY: arn}),
    ou_arns.map(lambda arn: {OU_KEY: arn}),
    st.sampled_from(["111111111111", "222222222222"]).map(lambda account: {"UserId": account}),
    st.just({"Group": "all"}),
)
permissions = st.lists(entries, max_size=12)
targets = st.builds(Targets, st.lists(org_arns, max_size=4), st.lists(ou_arns, max_size=6))
states = st.sampled_from(["present", "absent"])


def apply(current, request):
    """What EC2 makes of ModifyImageAttribute: Remove, then Add, as sets of entries."""
    keyed = {tuple(sorted(entry.items())) for entry in current}
    for entry in (request or {}).get("Remove", []):
        keyed.discard(tuple(sorted(entry.items())))
    for entry in (request or {}).get("Add", []):
        keyed.add(tuple(sorted(entry.items())))
    return [dict(item) for item in sorted(keyed)]


def others(current):
    """Account and public entries (as a set, as EC2 keeps them): never the planner's business."""
    return {tuple(sorted(entry.items())) for entry in current if ORG_KEY not in entry and OU_KEY not in entry}


@settings(max_examples=300, deadline=None)
@given(permissions, targets, states, st.booleans())
def test_account_and_public_permissions_are_never_touched(current, desired, state, purge):
    plan = plan_launch_permissions(current, desired, state, purge)
    request = plan.modify_request() or {}
    assert all(set(entry) <= {ORG_KEY, OU_KEY} for field in request.values() for entry in field)
    assert others(apply(current, request)) == others(current)


@settings(max_examples=300, deadline=None)
@given(permissions, targets, states, st.booleans())
def test_planning_again_after_applying_changes_nothing(current, desired, state, purge):
    after = apply(current, plan_launch_permissions(current, desired, state, purge).modify_request())
    assert not plan_launch_permissions(after, desired, state, purge).changed


@settings(max_examples=300, deadline=None)
@given(permissions, targets, states, st.booleans())
def test_the_plan_predicts_what_ec2_ends_with(current, desired, state, purge):
    plan = plan_launch_permissions(current, desired, state, purge)
    ended = current_targets(apply(current, plan.modify_request()))
    assert sorted(ended.organization_arns) == plan.after.organization_arns
    assert sorted(ended.organizational_unit_arns) == plan.after.organizational_unit_arns
    assert plan.changed == (plan.before != plan.after)


@settings(max_examples=300, deadline=None)
@given(permissions, targets)
def test_purge_is_exact(current, desired):
    ended = current_targets(apply(current, plan_launch_permissions(current, desired, "present", True).modify_request()))
    assert set(ended.organization_arns) == set(desired.organization_arns)
    assert set(ended.organizational_unit_arns) == set(desired.organizational_unit_arns)


@settings(max_examples=300, deadline=None)
@given(permissions, targets, st.booleans())
def test_present_keeps_every_listed_and_absent_leaves_none(current, desired, purge):
    shared = current_targets(
        apply(current, plan_launch_permissions(current, desired, "present", purge).modify_request())
    )
    assert set(desired.organization_arns) <= set(shared.organization_arns)
    assert set(desired.organizational_unit_arns) <= set(shared.organizational_unit_arns)
    revoked = current_targets(apply(current, plan_launch_permissions(current, desired, "absent").modify_request()))
    assert not set(desired.organization_arns) & set(revoked.organization_arns)
    assert not set(desired.organizational_unit_arns) & set(revoked.organizational_unit_arns)
