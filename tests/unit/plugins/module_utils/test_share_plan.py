# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The share_ami role's decisions (_share_plan), on registered results shaped as Ansible registers them."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _share_plan
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

SOURCE_A = "ami-0aaaaaaaaaaaaaaaa"
SOURCE_B = "ami-0bbbbbbbbbbbbbbbb"
COPY_A = "ami-0cccccccccccccccc"
COPY_B = "ami-0dddddddddddddddd"
OU_ARN = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"
ORG_ARN = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OU_PATH = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/*"
SOURCE_KEY = "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111"
EU_KEY = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def metadata(arn):
    return {
        "arn": arn,
        "key_id": arn.rsplit("/", 1)[1],
        "aws_account_id": "111122223333",
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "key_spec": "SYMMETRIC_DEFAULT",
        "key_usage": "ENCRYPT_DECRYPT",
    }


def inputs(**variables):
    given = dict(
        image_ids=[SOURCE_A, SOURCE_B],
        source_region="us-east-1",
        regions=["us-east-1", "eu-west-1"],
        region_kms_keys={"eu-west-1": "alias/golden"},
        organizational_units=["Root/Workloads/Prod"],
    )
    given.update(variables)
    return _share_plan.role_inputs(given)


def looped(loop_var, *pairs):
    """A looped task's registered result: ``(item, result)`` pairs."""
    results = [dict(result, ansible_loop_var=loop_var, **{loop_var: item}) for item, result in pairs]
    return {
        "results": results,
        "changed": any(result.get("changed") for result in results),
        "msg": "All items completed",
    }


def share_image(image_id, region, changed, ous=(OU_ARN,), keys=()):
    return {
        "image_id": image_id,
        "region": region,
        "organization_arns": [],
        "organizational_unit_arns": list(ous),
        "changed": changed,
        "kms_key_arns": list(keys),
    }


def copy(source, region, image_id, state="available", changed=False, key=EU_KEY):
    return {
        "source_image_id": source,
        "region": region,
        "image_id": image_id,
        "state": state,
        "changed": changed,
        "kms_key_arn": key,
    }


PRINCIPALS = {
    "organization_arns": [],
    "organizational_unit_arns": [OU_ARN],
    "key_unit_arns": [],
    "key_unit_paths": [OU_PATH],
}


# -- inputs -------------------------------------------------------------------------------------------


def test_inputs_read_strings_as_list_options_do_and_say_what_each_region_does():
    read = inputs(
        image_ids=f"{SOURCE_A},{SOURCE_B},{SOURCE_A}",
        regions="us-east-1,eu-west-1,ap-southeast-2",
        region_kms_keys={"eu-west-1": "alias/golden", "ap-southeast-2": "alias/golden", "sa-east-1": "alias/unused"},
    )
    assert read["image_ids"] == [SOURCE_A, SOURCE_B]
    assert read["regions"] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    assert read["copy_regions"] == ["eu-west-1", "ap-southeast-2"]
    assert read["region_kms_keys"] == {"eu-west-1": "alias/golden", "ap-southeast-2": "alias/golden"}
    assert read["shares_sources"] is True
    assert read["resolve"] is True
    assert read["audit_organization_tree"] == "auto"


def test_a_key_for_the_source_region_copies_in_place_instead_of_sharing_the_sources():
    read = inputs(regions=["us-east-1"], region_kms_keys={"us-east-1": "alias/golden"})
    assert read["copy_regions"] == ["us-east-1"]
    assert read["shares_sources"] is False


def test_regions_default_to_the_source_region_and_member_accounts_skip_the_tree():
    read = inputs(regions=[], organization_id="o-a1b2c3d4e5", management_account_id="111122223333")
    assert read["regions"] == ["us-east-1"]
    assert read["copy_regions"] == []
    assert read["audit_organization_tree"] == "skip"


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("image_ids", {"first": SOURCE_A}, "share_ami_image_ids must be a list"),
        ("image_ids", None, "share_ami_image_ids must be a list"),
        ("image_ids", [], "share_ami_image_ids is empty"),
        ("regions", {"us-east-1": True}, "share_ami_regions must be a list"),
        ("region_kms_keys", ["alias/golden"], "share_ami_region_kms_keys must map regions to keys"),
        ("source_region", "", "share_ami_source_region must be a region name"),
        ("organizational_units", {"Prod": 1}, "share_ami_organizational_units must be a list"),
    ],
)
def test_inputs_refuse_what_is_not_a_list_naming_the_variable(variable, value, expected):
    with pytest.raises(OrgShareError) as err:
        inputs(**{variable: value})
    assert expected in err.value.message


# -- principals ---------------------------------------------------------------------------------------


def test_principals_join_what_was_given_with_what_was_resolved():
    given_ou = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-99999999"
    read = inputs(organizational_unit_arns=[given_ou], share_with_organization=True)
    organization = {
        "organization": {"arn": ORG_ARN},
        "organizational_units": [{"arn": OU_ARN, "principal_org_paths": OU_PATH}],
        "changed": False,
    }
    assert _share_plan.principals(read, organization) == {
        "organization_arns": [ORG_ARN],
        "organizational_unit_arns": [given_ou, OU_ARN],
        "key_unit_arns": [given_ou],
        "key_unit_paths": [OU_PATH],
    }


@pytest.mark.parametrize(
    "given, whole",
    [
        ("false", False),
        ("no", False),
        ("False", False),
        (False, False),
        ("", False),
        (None, False),
        ("true", True),
        ("yes", True),
        (True, True),
    ],
)
def test_share_with_organization_is_read_as_ansible_reads_a_bool(given, whole):
    """An AWX survey or -e gives strings: "false" must not share with the whole organization."""
    read = inputs(share_with_organization=given)
    assert read["share_with_organization"] is whole
    organization = {
        "organization": {"arn": ORG_ARN},
        "organizational_units": [{"arn": OU_ARN, "principal_org_paths": OU_PATH}],
    }
    assert _share_plan.principals(read, organization)["organization_arns"] == ([ORG_ARN] if whole else [])


def test_principals_refuse_a_run_that_names_nobody():
    with pytest.raises(OrgShareError) as err:
        _share_plan.principals(inputs(organizational_units=[]), SKIPPED)
    assert err.value.message == _share_plan.NOBODY


# -- before the first write -----------------------------------------------------------------------------


def test_keys_are_checked_once_per_region_each_with_the_metadata_read_of_it():
    sources = {"changed": False, "kms_key_arns": [SOURCE_KEY], "kms_keys": [metadata(SOURCE_KEY)], "images": []}
    plan = {
        "changed": True,
        "copies": [copy(SOURCE_A, "eu-west-1", None, state=None, changed=True), copy(SOURCE_B, "eu-west-1", COPY_B)],
        "kms_keys": [metadata(EU_KEY)],
    }
    assert _share_plan.keys_to_check(inputs(), sources, plan) == [
        {"region": "us-east-1", "key_arn": SOURCE_KEY, "known_kms_keys": [metadata(SOURCE_KEY)]},
        {"region": "eu-west-1", "key_arn": EU_KEY, "known_kms_keys": [metadata(EU_KEY)]},
    ]


def test_the_sources_keys_are_not_granted_when_the_sources_are_not_shared_themselves():
    plan = {"changed": False, "copies": [copy(SOURCE_A, "eu-west-1", COPY_A, key=None)], "kms_keys": []}
    assert _share_plan.keys_to_check(inputs(regions=["eu-west-1"]), SKIPPED, plan) == []


@pytest.mark.parametrize(
    "copies, due",
    [
        ([copy(SOURCE_A, "eu-west-1", COPY_A)], False),
        ([copy(SOURCE_A, "eu-west-1", COPY_A), copy(SOURCE_B, "eu-west-1", None, state=None, changed=True)], True),
        ([copy(SOURCE_A, "eu-west-1", COPY_A, state="pending")], True),
    ],
)
def test_the_copy_task_runs_only_for_a_copy_to_make_or_to_wait_for(copies, due):
    assert _share_plan.copy_due({"changed": due, "copies": copies}) is due
    assert _share_plan.copy_due(SKIPPED) is False


def test_grants_due_are_the_keys_whose_check_found_a_change_of_this_account():
    item = {"region": "eu-west-1", "key_arn": EU_KEY, "known_kms_keys": []}
    foreign = {"region": "eu-west-1", "key_arn": "arn:aws:kms:eu-west-1:444455556666:key/x", "known_kms_keys": []}
    same = {"region": "us-east-1", "key_arn": SOURCE_KEY, "known_kms_keys": []}
    checks = looped(
        "__share_ami_key",
        (item, {"changed": True}),
        (foreign, {"changed": False, "owner_account_id": "444455556666"}),
        (same, {"changed": False}),
    )
    assert _share_plan.grants_due(checks) == [item]
    assert _share_plan.grants_due(SKIPPED) == []


# -- the share ----------------------------------------------------------------------------------------------


def test_shares_one_task_per_region_with_available_copies_and_the_sources_only_when_their_check_found_a_change():
    sources = {"images": [share_image(SOURCE_A, "us-east-1", True), share_image(SOURCE_B, "us-east-1", False)]}
    plan = {
        "copies": [copy(SOURCE_A, "eu-west-1", None, state=None, changed=True), copy(SOURCE_B, "eu-west-1", COPY_B)]
    }
    copies = {"copies": [copy(SOURCE_A, "eu-west-1", COPY_A, changed=True), copy(SOURCE_B, "eu-west-1", COPY_B)]}
    read = inputs()
    assert _share_plan.shares(read, sources, plan, copies, check_mode=False) == [
        {"region": "us-east-1", "image_ids": [SOURCE_A, SOURCE_B]},
        {"region": "eu-west-1", "image_ids": [COPY_A, COPY_B]},
    ]
    # Check mode: the sources' check is the share's answer, and a copy still to be made has nothing to check.
    assert _share_plan.shares(read, sources, plan, SKIPPED, check_mode=True) == [
        {"region": "eu-west-1", "image_ids": [COPY_B]}
    ]
    unchanged = {"images": [share_image(SOURCE_A, "us-east-1", False), share_image(SOURCE_B, "us-east-1", False)]}
    assert _share_plan.shares(read, unchanged, plan, copies, check_mode=False) == [
        {"region": "eu-west-1", "image_ids": [COPY_A, COPY_B]}
    ]


def test_a_pending_copy_is_not_shared_yet():
    copies = {"copies": [copy(SOURCE_A, "eu-west-1", COPY_A, state="pending", changed=True)]}
    assert (
        _share_plan.shares(
            inputs(regions=["eu-west-1"], image_ids=[SOURCE_A]), SKIPPED, copies, copies, check_mode=False
        )
        == []
    )


# -- the report ----------------------------------------------------------------------------------------------


def key_results(changed_keys):
    pairs = [
        ({"region": region, "key_arn": key, "known_kms_keys": []}, {"changed": True}) for region, key in changed_keys
    ]
    return looped("__share_ami_key", *pairs)


def test_check_mode_reports_every_change_due_the_key_grant_included():
    read = inputs(image_ids=[SOURCE_A])
    sources = {
        "changed": False,
        "images": [share_image(SOURCE_A, "us-east-1", False, keys=[SOURCE_KEY])],
        "kms_key_arns": [SOURCE_KEY],
    }
    plan = {"changed": True, "copies": [copy(SOURCE_A, "eu-west-1", None, state=None, changed=True)]}
    finding = {"code": "key_not_granted", "region": "us-east-1", "image_ids": [SOURCE_A], "severity": "critical"}
    report = _share_plan.present_report(
        read,
        PRINCIPALS,
        sources,
        plan,
        SKIPPED,
        key_results([("us-east-1", SOURCE_KEY), ("eu-west-1", EU_KEY)]),
        SKIPPED,
        looped("__share_ami_share"),
        {"findings": [finding]},
        check_mode=True,
    )
    assert report == [
        {
            "region": "us-east-1",
            "source_image_id": SOURCE_A,
            "image_id": SOURCE_A,
            "state": "available",
            "copied": False,
            "kms_key_arns": [SOURCE_KEY],
            "organization_arns": [],
            "organizational_unit_arns": [OU_ARN],
            "changes": {"copy": False, "key_grant": [SOURCE_KEY], "share": False},
            "changed": True,
            "findings": [finding],
        },
        {
            "region": "eu-west-1",
            "source_image_id": SOURCE_A,
            "image_id": None,
            "state": None,
            "copied": True,
            "kms_key_arns": [EU_KEY],
            "organization_arns": [],
            "organizational_unit_arns": [OU_ARN],
            "changes": {"copy": True, "key_grant": [EU_KEY], "share": True},
            "changed": True,
            "findings": [],
        },
    ]


def test_a_real_run_reports_what_the_grants_and_shares_changed():
    read = inputs(image_ids=[SOURCE_A])
    sources = {
        "changed": True,
        "images": [share_image(SOURCE_A, "us-east-1", True, keys=[SOURCE_KEY])],
        "kms_key_arns": [SOURCE_KEY],
    }
    plan = {"changed": True, "copies": [copy(SOURCE_A, "eu-west-1", None, state=None, changed=True)]}
    copies = {"changed": True, "copies": [copy(SOURCE_A, "eu-west-1", COPY_A, changed=True)]}
    checks = key_results([("us-east-1", SOURCE_KEY), ("eu-west-1", EU_KEY)])
    grants = key_results(
        [("eu-west-1", EU_KEY)]
    )  # the source key's grant was made by an earlier, cut-off run in between
    shared = looped(
        "__share_ami_share",
        ({"region": "us-east-1"}, {"changed": True, "images": [share_image(SOURCE_A, "us-east-1", True)]}),
        ({"region": "eu-west-1"}, {"changed": True, "images": [share_image(COPY_A, "eu-west-1", True)]}),
    )
    report = _share_plan.present_report(
        read, PRINCIPALS, sources, plan, copies, checks, grants, shared, SKIPPED, check_mode=False
    )
    assert [entry["changes"] for entry in report] == [
        {"copy": False, "key_grant": [], "share": True},
        {"copy": True, "key_grant": [EU_KEY], "share": True},
    ]
    assert report[1]["image_id"] == COPY_A and report[1]["state"] == "available"


def test_a_pending_copy_is_reported_unshared():
    read = inputs(image_ids=[SOURCE_A], regions=["eu-west-1"])
    copies = {"changed": True, "copies": [copy(SOURCE_A, "eu-west-1", COPY_A, state="pending", changed=True)]}
    (entry,) = _share_plan.present_report(
        read,
        PRINCIPALS,
        SKIPPED,
        copies,
        copies,
        SKIPPED,
        SKIPPED,
        looped("__share_ami_share"),
        SKIPPED,
        check_mode=False,
    )
    assert (entry["state"], entry["organizational_unit_arns"], entry["changes"]) == (
        "pending",
        [],
        {"copy": True, "key_grant": [], "share": False},
    )
    (line,) = _share_plan.summary([entry], check_mode=False)
    assert line == (
        f"eu-west-1 {SOURCE_A} -> {COPY_A}: copied; {_share_plan.PENDING_NOTE}; shared with 0 organization(s) and 0 OU(s); "
        f"keys: {EU_KEY}"
    )


def test_the_summary_says_what_would_happen_in_check_mode():
    entry = {
        "region": "eu-west-1",
        "source_image_id": SOURCE_A,
        "image_id": None,
        "state": None,
        "kms_key_arns": [EU_KEY],
        "organization_arns": [],
        "organizational_unit_arns": [OU_ARN],
        "changes": {"copy": True, "key_grant": [EU_KEY], "share": True},
        "findings": [{"code": "shared_key_not_granted"}, {"code": "shared_key_not_granted"}],
    }
    assert _share_plan.summary([entry], check_mode=True) == [
        f"eu-west-1 {SOURCE_A} -> (copy to be made): would copy, would grant the key, would share; shared with 0 organization(s) and 1 OU(s); "
        f"keys: {EU_KEY}; findings: shared_key_not_granted"
    ]
    unchanged = dict(entry, image_id=COPY_A, changes={"copy": False, "key_grant": [], "share": False}, findings=[])
    assert _share_plan.summary([unchanged], check_mode=True, state="absent")[0].startswith(
        f"eu-west-1 {SOURCE_A} -> {COPY_A}: no change;"
    )


def test_keys_of_other_accounts_are_reported_once_with_what_their_owners_must_run():
    foreign = "arn:aws:kms:eu-west-1:444455556666:key/33333333-3333-3333-3333-333333333333"
    outcome = {
        "changed": False,
        "key_arn": foreign,
        "owner_account_id": "444455556666",
        "owner_statements": [{"Sid": "OrgShareOuUse"}],
        "owner_task": {"key_id": foreign, "region": "eu-west-1"},
    }
    checks = looped(
        "__share_ami_key",
        ({"region": "eu-west-1", "key_arn": foreign}, outcome),
        ({"region": "eu-west-1", "key_arn": foreign}, outcome),
    )
    grants = _share_plan.owner_grants(checks)
    assert grants == [
        {
            "key_arn": foreign,
            "region": "eu-west-1",
            "owner_account_id": "444455556666",
            "owner_statements": [{"Sid": "OrgShareOuUse"}],
            "owner_task": {"key_id": foreign, "region": "eu-west-1"},
        }
    ]
    (line,) = _share_plan.owner_lines(grants)
    assert line.startswith(
        f"eu-west-1 {foreign} belongs to account 444455556666, and only that account can change its policy: "
        'with its credentials, run orgshare.aws.kms_org_grant with {"key_id": '
    )


# -- state: absent --------------------------------------------------------------------------------------------


def test_copies_are_looked_up_200_sources_a_call_in_every_region():
    image_ids = [f"ami-{index:017x}" for index in range(450)]
    lookups = _share_plan.copy_lookups(inputs(image_ids=image_ids))
    assert [(lookup["region"], len(lookup["image_ids"])) for lookup in lookups] == [
        ("us-east-1", 200),
        ("us-east-1", 200),
        ("us-east-1", 50),
        ("eu-west-1", 200),
        ("eu-west-1", 200),
        ("eu-west-1", 50),
    ]
    assert [image_id for lookup in lookups[:3] for image_id in lookup["image_ids"]] == image_ids


def info_image(
    image_id, source, state="available", created="2026-11-01T00:00:00.000Z", source_region="us-east-1", **extra
):
    """An image as amazon.aws.ec2_ami_info returns it (snake_case, tags as a dict)."""
    tags = {"orgshare:source-image-id": source, "orgshare:source-region": source_region, "team": "platform"}
    return dict({"image_id": image_id, "state": state, "creation_date": created, "tags": tags}, **extra)


def test_unshares_take_every_available_copy_by_the_copy_rule_and_the_sources_in_their_region():
    older = "ami-00000000000000002"
    found = looped(
        "__share_ami_lookup",
        ({"region": "us-east-1", "image_ids": [SOURCE_A, SOURCE_B]}, {"images": []}),
        (
            {"region": "eu-west-1", "image_ids": [SOURCE_A, SOURCE_B]},
            {
                "images": [
                    info_image("ami-00000000000000001", SOURCE_A, state="failed", created="2026-12-01T00:00:00.000Z"),
                    info_image(older, SOURCE_A, created="2026-10-01T00:00:00.000Z"),
                    info_image(COPY_A, SOURCE_A),
                    info_image(COPY_B, SOURCE_B, state="pending"),
                    info_image("ami-00000000000000005", SOURCE_B, source_region="eu-central-1"),
                    # Tags copied from a copy onto another image (CopyImageTags) do not make it a copy: EC2 names its own source.
                    info_image(
                        "ami-00000000000000006",
                        SOURCE_B,
                        source_image_id="ami-0eeeeeeeeeeeeeeee",
                        source_image_region="us-east-1",
                    ),
                ]
            },
        ),
    )
    assert _share_plan.unshares(inputs(), found) == [
        {
            "region": "us-east-1",
            "image_ids": [SOURCE_A, SOURCE_B],
            "pairs": [
                {"source_image_id": SOURCE_A, "image_id": SOURCE_A, "state": "available"},
                {"source_image_id": SOURCE_B, "image_id": SOURCE_B, "state": "available"},
            ],
        },
        {
            "region": "eu-west-1",
            "image_ids": [COPY_A, older],
            "pairs": [
                {"source_image_id": SOURCE_A, "image_id": COPY_A, "state": "available"},
                {"source_image_id": SOURCE_A, "image_id": older, "state": "available"},
            ],
        },
    ]


def test_revokes_each_key_once_per_region_and_the_absent_report():
    unshare_items = [
        {
            "region": "eu-west-1",
            "image_ids": [COPY_A, COPY_B],
            "pairs": [
                {"source_image_id": SOURCE_A, "image_id": COPY_A, "state": "available"},
                {"source_image_id": SOURCE_B, "image_id": COPY_B, "state": "available"},
            ],
        }
    ]
    unshared = looped(
        "__share_ami_unshare",
        (
            unshare_items[0],
            {
                "changed": True,
                "kms_key_arns": [EU_KEY],
                "kms_keys": [metadata(EU_KEY)],
                "images": [
                    share_image(COPY_A, "eu-west-1", True, ous=(), keys=[EU_KEY]),
                    share_image(COPY_B, "eu-west-1", False, ous=(), keys=[EU_KEY]),
                ],
            },
        ),
    )
    items = _share_plan.revokes(unshared)
    assert items == [{"region": "eu-west-1", "key_arn": EU_KEY, "known_kms_keys": [metadata(EU_KEY)]}]
    report = _share_plan.absent_report(
        unshare_items, unshared, looped("__share_ami_key", (items[0], {"changed": True}))
    )
    assert [(entry["image_id"], entry["changes"], entry["changed"]) for entry in report] == [
        (COPY_A, {"copy": False, "key_grant": [EU_KEY], "share": True}, True),
        (COPY_B, {"copy": False, "key_grant": [EU_KEY], "share": False}, True),
    ]
    assert _share_plan.summary(report, check_mode=False, state="absent")[0].startswith(
        f"eu-west-1 {SOURCE_A} -> {COPY_A}: key revoked, unshared; shared with 0 organization(s) and 0 OU(s)"
    )


def test_the_audit_covers_the_sources_and_every_copy_that_exists_with_the_keys_read_already():
    sources = {"changed": False, "kms_key_arns": [SOURCE_KEY], "kms_keys": [metadata(SOURCE_KEY)], "images": []}
    plan = {
        "changed": True,
        "copies": [copy(SOURCE_A, "eu-west-1", None, state=None, changed=True), copy(SOURCE_B, "eu-west-1", COPY_B)],
        "kms_keys": [metadata(EU_KEY)],
    }
    assert _share_plan.audit_scope(inputs(), sources, plan) == {
        "image_ids": [SOURCE_A, SOURCE_B, COPY_B],
        "known_kms_keys": [metadata(SOURCE_KEY), metadata(EU_KEY)],
    }
    assert _share_plan.audit_scope(inputs(), SKIPPED, SKIPPED) == {
        "image_ids": [SOURCE_A, SOURCE_B],
        "known_kms_keys": [],
    }
