# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit planner: a clean estate has no finding, and each finding the audit knows comes from its own estate."""

import json

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _share_audit as audit_
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Account
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Estate
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import ImageView
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import KeyInfo
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Organization
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Trust
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Unit

CALLER = "111122223333"
ORG = "o-a1b2c3d4e5"
ROOT = "r-ab12"
PROD = "ou-ab12-11111111"
DEV = "ou-ab12-22222222"
GONE = "ou-ab12-99999999"
ORG_ARN = f"arn:aws:organizations::{CALLER}:organization/{ORG}"
OTHER_ORG_ARN = "arn:aws:organizations::444455556666:organization/o-zzzzzzzzzz"
PROD_ARN = f"arn:aws:organizations::{CALLER}:ou/{ORG}/{PROD}"
DEV_ARN = f"arn:aws:organizations::{CALLER}:ou/{ORG}/{DEV}"
GONE_ARN = f"arn:aws:organizations::{CALLER}:ou/{ORG}/{GONE}"
KEY = f"arn:aws:kms:us-east-1:{CALLER}:key/11111111-1111-1111-1111-111111111111"
KEY_EU = f"arn:aws:kms:eu-west-1:{CALLER}:key/22222222-2222-2222-2222-222222222222"
AWS_EBS = f"arn:aws:kms:us-east-1:{CALLER}:key/33333333-3333-3333-3333-333333333333"
FOREIGN = "arn:aws:kms:us-east-1:777788889999:key/44444444-4444-4444-4444-444444444444"
NOW = "2026-06-01T00:00:00Z"
ROOT_STATEMENT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{CALLER}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def policy(organization_arns=(), unit_arns=(), auto_scaling=False, paths=()):
    base = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT]}
    requested = _key_policy.requested_principals(list(organization_arns), list(unit_arns), list(paths))
    if not requested:
        return json.dumps(base)
    return json.dumps(_key_policy.plan_key_policy(base, requested, grant_for_aws_resource_only=not auto_scaling).after)


def image(image_id, name="golden", snapshot="snap-1", encrypted=True, state="available", tags=None, deprecation=None):
    found = {
        "ImageId": image_id,
        "Name": name,
        "State": state,
        "OwnerId": CALLER,
        "CreationDate": "2026-01-01T00:00:00.000Z",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot, "Encrypted": encrypted}}],
        "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
    }
    if deprecation:
        found["DeprecationTime"] = deprecation
    return found


def share(*arns, accounts=(), public=False):
    entries = [{"OrganizationArn" if ":organization/" in arn else "OrganizationalUnitArn": arn} for arn in arns]
    return entries + [{"UserId": account} for account in accounts] + ([{"Group": "all"}] if public else [])


def organization(tree=True, **more):
    units = (
        {
            PROD: Unit(PROD, "Prod", PROD_ARN, f"{ORG}/{ROOT}/{PROD}/", "Root/Prod"),
            DEV: Unit(DEV, "Dev", DEV_ARN, f"{ORG}/{ROOT}/{DEV}/", "Root/Dev"),
        }
        if tree
        else {}
    )
    return Organization(ORG, ORG_ARN, CALLER, ROOT if tree else None, tree, units, **more)


def estate(
    images, keys=None, snapshots=None, org="tree", trust=None, complete=("us-east-1", "eu-west-1"), auto_scaling=False
):
    keys = (
        keys
        if keys is not None
        else {
            KEY: KeyInfo(
                KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled", "Arn": KEY}, policy(unit_arns=[PROD_ARN]), None
            )
        }
    )
    if snapshots is None:
        snapshots = {("us-east-1", "snap-1"): {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": KEY}}
    return Estate(
        CALLER,
        "aws",
        images,
        snapshots,
        keys,
        organization() if org == "tree" else org,
        trust,
        frozenset(complete),
        "OrgShare",
        NOW,
        auto_scaling,
    )


def codes(result):
    return sorted((finding["code"], finding["severity"]) for finding in result["findings"])


def only(result, code):
    (finding,) = [finding for finding in result["findings"] if finding["code"] == code]
    return finding


def test_a_clean_estate_has_no_finding():
    result = audit_.audit(
        estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], trust=Trust([ORG], [], []))
    )
    assert result["findings"] == []
    (entry,) = result["images"]
    (shared,) = entry["shares"]
    assert shared["can_launch"] is True and shared["trusted"] is True and shared["name_path"] == "Root/Prod"
    assert shared["kms_keys"][0]["auto_scaling_grant"] is False  # not asked for, so no finding
    assert entry["kms_key_arns"] == [KEY] and entry["launch_permissions"]["organizational_unit_arns"] == [PROD_ARN]
    assert result["kms_keys"][0]["opens_to"] == {"organization_ids": [], "principal_org_paths": [f"{ORG}/*/{PROD}/*"]}
    assert result["kms_keys"][0]["stale"] == {"organization_ids": [], "principal_org_paths": []}
    assert result["summary"]["findings"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}


def test_an_unencrypted_image_needs_no_key():
    result = audit_.audit(
        estate([ImageView("us-east-1", image("ami-1", encrypted=False), share(ORG_ARN), None)], keys={})
    )
    assert result["findings"] == [] and result["images"][0]["shares"][0]["can_launch"] is True


def test_key_denies_share_one_finding_for_every_image_with_the_task_that_fixes_them():
    views = [ImageView("us-east-1", image(f"ami-{n}"), share(DEV_ARN), None) for n in range(3)]
    result = audit_.audit(estate(views))
    finding = only(result, "key_denies_share")
    assert finding["severity"] == "high" and finding["image_ids"] == ["ami-0", "ami-1", "ami-2"]
    assert finding["principal"] == DEV_ARN and finding["resource"] == KEY and "Root/Dev" in finding["cause"]
    assert finding["task"] == {
        "module": "orgshare.aws.kms_org_grant",
        "args": {"region": "us-east-1", "key_id": KEY, "organizational_unit_arns": [DEV_ARN]},
    }
    assert all(entry["shares"][0]["can_launch"] is False for entry in result["images"])
    assert all(entry["findings"] == [finding["id"]] for entry in result["images"])


def test_key_denies_share_to_an_account_whose_place_is_known_with_the_fix_for_an_account():
    dev_account = "310987654321"
    org = organization(account_paths={dev_account: f"{ORG}/{ROOT}/{DEV}/"})
    result = audit_.audit(
        estate([ImageView("us-east-1", image("ami-1"), share(accounts=(dev_account,)), None)], org=org)
    )
    finding = only(result, "key_denies_share")
    assert finding["severity"] == "high" and finding["principal"] == f"account {dev_account}"
    assert finding["cause"].startswith(f"Shared with account {dev_account}, but the key policy of {KEY}")
    assert finding["fix"].startswith(f"Add a statement for account {dev_account}") and finding["task"] is None
    # Where the account's place is not known, the audit does not guess.
    unknown = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(accounts=(dev_account,)), None)]))
    assert "key_denies_share" not in [code for code, _severity in codes(unknown)]


def test_an_organization_share_needs_the_organization_statement():
    result = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(ORG_ARN), None)]))
    assert only(result, "key_denies_share")["task"]["args"] == {
        "region": "us-east-1",
        "key_id": KEY,
        "organization_arns": [ORG_ARN],
    }


def test_without_the_tree_a_refusal_that_a_path_statement_might_decide_is_unknown():
    key = {
        KEY: KeyInfo(
            KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, policy(paths=[f"{ORG}/{ROOT}/{DEV}/{PROD}/*"]), None
        )
    }
    result = audit_.audit(
        estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], keys=key, org=organization(tree=False))
    )
    assert result["findings"] == [] and result["images"][0]["shares"][0]["can_launch"] is None
    # A key that names neither the organization nor the OU refuses for sure.
    bare = {KEY: KeyInfo(KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, policy(), None)}
    assert codes(
        audit_.audit(
            estate(
                [ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], keys=bare, org=organization(tree=False)
            )
        )
    ) == [("key_denies_share", "high")]


def test_auto_scaling_grant_missing_only_when_asked_for():
    result = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)]))
    assert result["findings"] == []
    keys = {
        KEY: KeyInfo(
            KEY,
            {"KeyManager": "CUSTOMER", "KeyState": "Enabled"},
            policy(unit_arns=[PROD_ARN], auto_scaling=True),
            None,
        )
    }
    with_grant = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], keys=keys))
    assert with_grant["images"][0]["shares"][0]["kms_keys"][0]["auto_scaling_grant"] is True
    assert (
        audit_.audit(
            estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], keys=keys, auto_scaling=True)
        )["findings"]
        == []
    )
    missing = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], auto_scaling=True))
    finding = only(missing, "auto_scaling_grant_missing")
    assert finding["severity"] == "low" and finding["task"]["args"]["grant_for_aws_resource_only"] is False


def test_public_image_is_critical():
    result = audit_.audit(
        estate([ImageView("us-east-1", image("ami-1", encrypted=False), share(public=True), None)], keys={})
    )
    finding = only(result, "public_image")
    assert finding["severity"] == "critical" and "block-new-sharing" in finding["fix"] and finding["task"] is None
    assert result["images"][0]["public"] is True


@pytest.mark.parametrize("shared, severity", [(True, "high"), (False, "info")])
def test_aws_managed_key(shared, severity):
    keys = {AWS_EBS: KeyInfo(AWS_EBS, {"KeyManager": "AWS", "KeyState": "Enabled"}, None, None)}
    snapshots = {("us-east-1", "snap-1"): {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": AWS_EBS}}
    result = audit_.audit(
        estate(
            [ImageView("us-east-1", image("ami-1"), share(PROD_ARN) if shared else [], None)],
            keys=keys,
            snapshots=snapshots,
        )
    )
    finding = only(result, "aws_managed_key")
    assert finding["severity"] == severity and finding["task"]["module"] == "orgshare.aws.ami_region_copy"
    assert finding["task"]["args"]["source_image_id"] == "ami-1"
    assert [item["code"] for item in result["findings"]] == ["aws_managed_key"]  # no second finding for the same key


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion"])
def test_unusable_key_is_high_when_any_image_under_it_is_shared(state):
    keys = {KEY: KeyInfo(KEY, {"KeyManager": "CUSTOMER", "KeyState": state}, None, None)}
    views = [
        ImageView("us-east-1", image("ami-1"), [], None),
        ImageView("us-east-1", image("ami-2"), share(PROD_ARN), None),
    ]
    result = audit_.audit(estate(views, keys=keys))
    finding = only(result, "unusable_key")
    assert finding["severity"] == "high" and finding["image_ids"] == ["ami-1", "ami-2"] and state in finding["cause"]
    assert result["images"][1]["shares"][0]["can_launch"] is False


def test_foreign_key_names_its_owner_and_the_statements_it_must_have():
    keys = {FOREIGN: KeyInfo(FOREIGN, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, None, None)}
    snapshots = {
        ("us-east-1", "snap-1"): {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": FOREIGN},
        ("us-east-1", "snap-2"): {"SnapshotId": "snap-2", "Encrypted": True, "KmsKeyId": FOREIGN},
    }
    views = [
        ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None),
        ImageView("us-east-1", image("ami-2", snapshot="snap-2"), share(ORG_ARN), None),
    ]
    result = audit_.audit(estate(views, keys=keys, snapshots=snapshots))
    finding = only(result, "foreign_key")
    assert finding["severity"] == "medium" and finding["who"] == "account 777788889999"
    assert finding["task"]["args"] == {
        "region": "us-east-1",
        "key_id": FOREIGN,
        "organization_arns": [ORG_ARN],
        "organizational_unit_arns": [PROD_ARN],
    }
    sids = {statement["Sid"] for statement in finding["owner_statements"]}
    assert sids == {"OrgShareOrgUse", "OrgShareOrgCreateGrant", "OrgShareOuUse", "OrgShareOuCreateGrant"}
    assert result["images"][0]["shares"][0]["can_launch"] is None


def test_key_policy_unreadable():
    keys = {KEY: KeyInfo(KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, None, "AccessDeniedException: no")}
    result = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)], keys=keys))
    assert (
        codes(result) == [("key_policy_unreadable", "medium")]
        and "AccessDeniedException" in result["findings"][0]["cause"]
    )


def test_unknown_and_outside_organization_principals():
    views = [ImageView("us-east-1", image("ami-1", encrypted=False), share(GONE_ARN, OTHER_ORG_ARN), None)]
    result = audit_.audit(estate(views, keys={}, org=organization(missing_units=[GONE])))
    assert codes(result) == [("outside_organization", "medium"), ("unknown_principal", "medium")]
    assert only(result, "unknown_principal")["task"] == {
        "module": "orgshare.aws.ami_org_share",
        "args": {
            "region": "us-east-1",
            "image_ids": ["ami-1"],
            "state": "absent",
            "organizational_unit_arns": [GONE_ARN],
        },
    }


def test_no_organization_findings_when_the_caller_is_in_none():
    views = [ImageView("us-east-1", image("ami-1", encrypted=False), share(OTHER_ORG_ARN), None)]
    assert audit_.audit(estate(views, keys={}, org=None))["findings"] == []


def test_share_outside_trust_and_the_ous_below_a_trusted_one():
    payments = "ou-ab12-33333333"
    payments_arn = f"arn:aws:organizations::{CALLER}:ou/{ORG}/{payments}"
    org = organization()
    org.units[payments] = Unit(
        payments, "Payments", payments_arn, f"{ORG}/{ROOT}/{PROD}/{payments}/", "Root/Prod/Payments"
    )
    views = [
        ImageView("us-east-1", image(f"ami-{n}", encrypted=False), share(arn, accounts=accounts), None)
        for n, (arn, accounts) in enumerate([(payments_arn, ()), (DEV_ARN, ()), (DEV_ARN, ("210987654321",))])
    ]
    result = audit_.audit(estate(views, keys={}, org=org, trust=Trust([], [PROD], [])))
    trust = [finding for finding in result["findings"] if finding["code"] == "share_outside_trust"]
    assert sorted(finding["principal"] for finding in trust) == sorted([DEV_ARN, "210987654321"])
    dev = next(finding for finding in trust if finding["principal"] == DEV_ARN)
    assert dev["image_ids"] == ["ami-1", "ami-2"] and dev["task"]["args"]["image_ids"] == ["ami-1", "ami-2"]
    assert dev["severity"] == "high"
    assert result["images"][0]["shares"][0]["trusted"] is True


def test_an_account_of_a_trusted_ou_is_trusted_when_its_place_is_known():
    org = organization(account_paths={"210987654321": f"{ORG}/{ROOT}/{PROD}/"})
    views = [ImageView("us-east-1", image("ami-1", encrypted=False), share(accounts=["210987654321"]), None)]
    assert audit_.audit(estate(views, keys={}, org=org, trust=Trust([], [PROD], [])))["findings"] == []


def test_disabled_image_still_shared():
    result = audit_.audit(
        estate(
            [ImageView("us-east-1", image("ami-1", state="disabled", encrypted=False), share(PROD_ARN), None)], keys={}
        )
    )
    finding = only(result, "disabled_image_shared")
    assert finding["severity"] == "medium" and finding["task"]["args"]["purge"] is True
    assert result["images"][0]["shares"][0]["can_launch"] is False


def test_deprecated_image_still_shared_but_not_before_its_time():
    past = ImageView(
        "us-east-1", image("ami-1", encrypted=False, deprecation="2026-01-01T00:00:00.000Z"), share(PROD_ARN), None
    )
    future = ImageView(
        "us-east-1", image("ami-2", encrypted=False, deprecation="2027-01-01T00:00:00.000Z"), share(PROD_ARN), None
    )
    unshared = ImageView("us-east-1", image("ami-3", encrypted=False, deprecation="2026-01-01T00:00:00.000Z"), [], None)
    result = audit_.audit(estate([past, future, unshared], keys={}))
    finding = only(result, "deprecated_image_shared")
    assert finding["image_ids"] == ["ami-1"] and finding["severity"] == "low"
    assert finding["task"]["args"] == {
        "region": "us-east-1",
        "image_ids": ["ami-1"],
        "state": "absent",
        "organization_arns": [],
        "organizational_unit_arns": [PROD_ARN],
    }


def copy_of(image_id, copy_id, snapshot="snap-9"):
    return image(
        copy_id, snapshot=snapshot, tags={"orgshare:source-image-id": image_id, "orgshare:source-region": "us-east-1"}
    )


def drift_estate(copy_permissions, source_state="available", source_permissions=None):
    keys = {
        KEY: KeyInfo(KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, policy(unit_arns=[PROD_ARN]), None),
        KEY_EU: KeyInfo(
            KEY_EU, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, policy(unit_arns=[PROD_ARN, DEV_ARN]), None
        ),
    }
    snapshots = {
        ("us-east-1", "snap-1"): {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": KEY},
        ("eu-west-1", "snap-9"): {"SnapshotId": "snap-9", "Encrypted": True, "KmsKeyId": KEY_EU},
    }
    views = [
        ImageView(
            "us-east-1",
            image("ami-1", state=source_state),
            share(PROD_ARN) if source_permissions is None else source_permissions,
            None,
        ),
        ImageView("eu-west-1", copy_of("ami-1", "ami-9"), copy_permissions, None),
    ]
    return estate(views, keys=keys, snapshots=snapshots)


def test_a_copy_shared_like_its_source_has_no_drift():
    # KEY_EU also opens to Dev, which nothing under it is shared with: that is all there is to say.
    assert [finding["code"] for finding in audit_.audit(drift_estate(share(PROD_ARN)))["findings"]] == [
        "stale_key_grant"
    ]


def test_region_drift():
    result = audit_.audit(drift_estate(share(DEV_ARN)))
    finding = only(result, "region_drift")
    assert (
        finding["region"] == "eu-west-1" and finding["image_ids"] == ["ami-9"] and finding["source_image_id"] == "ami-1"
    )
    assert PROD_ARN in finding["cause"] and DEV_ARN in finding["cause"]
    assert finding["task"] == {
        "module": "orgshare.aws.ami_org_share",
        "args": {
            "region": "eu-west-1",
            "image_ids": ["ami-9"],
            "organization_arns": [],
            "organizational_unit_arns": [PROD_ARN],
            "purge": True,
        },
    }
    assert result["images"][1]["copy_of"] == {"image_id": "ami-1", "region": "us-east-1"}


def test_region_drift_of_a_copy_whose_source_was_disabled():
    finding = only(
        audit_.audit(drift_estate(share(PROD_ARN), source_state="disabled", source_permissions=[])), "region_drift"
    )
    assert "source is disabled" in finding["cause"] and finding["task"]["args"]["organizational_unit_arns"] == []


def test_stale_key_grant_only_where_every_image_was_seen():
    keys = {
        KEY: KeyInfo(
            KEY, {"KeyManager": "CUSTOMER", "KeyState": "Enabled"}, policy([ORG_ARN], [PROD_ARN, DEV_ARN]), None
        )
    }
    views = [ImageView("us-east-1", image("ami-1"), share(PROD_ARN), None)]
    finding = only(audit_.audit(estate(views, keys=keys)), "stale_key_grant")
    assert (
        finding["severity"] == "low"
        and ORG in finding["cause"]
        and DEV in finding["cause"]
        and PROD not in finding["cause"]
    )
    assert finding["task"] == {
        "module": "orgshare.aws.kms_org_grant",
        "args": {
            "region": "us-east-1",
            "key_id": KEY,
            "state": "absent",
            "organization_arns": [ORG_ARN],
            "organizational_unit_paths": [f"{ORG}/*/{DEV}/*"],
        },
    }
    partial = audit_.audit(estate(views, keys=keys, complete=()))
    assert partial["findings"] == [] and partial["kms_keys"][0]["stale"] is None


def test_a_grant_to_an_ou_above_a_shared_one_is_not_stale():
    payments = "ou-ab12-33333333"
    payments_arn = f"arn:aws:organizations::{CALLER}:ou/{ORG}/{payments}"
    org = organization()
    org.units[payments] = Unit(
        payments, "Payments", payments_arn, f"{ORG}/{ROOT}/{PROD}/{payments}/", "Root/Prod/Payments"
    )
    views = [ImageView("us-east-1", image("ami-1"), share(payments_arn), None)]
    assert audit_.audit(estate(views, org=org))["findings"] == []


def test_unreadable_launch_permissions_and_snapshots():
    views = [ImageView("us-east-1", image("ami-1"), None, "UnauthorizedOperation: no")]
    result = audit_.audit(estate(views, snapshots={}))
    assert codes(result) == [("launch_permissions_unreadable", "medium"), ("snapshots_unreadable", "medium")]
    assert result["images"][0]["launch_permissions"] is None


def test_accounts_reached_each_judged_by_its_own_place():
    reached = {
        PROD_ARN: [Account("210987654321", "member", f"{ORG}/{ROOT}/{PROD}/")],
        ORG_ARN: [
            Account("210987654321", "member", f"{ORG}/{ROOT}/{PROD}/"),
            Account("310987654321", "dev", f"{ORG}/{ROOT}/{DEV}/"),
        ],
    }
    org = organization(reached_accounts=reached)
    result = audit_.audit(estate([ImageView("us-east-1", image("ami-1"), share(PROD_ARN, ORG_ARN), None)], org=org))
    unit, whole = result["images"][0]["shares"]
    assert unit["accounts"] == [{"id": "210987654321", "name": "member", "can_launch": True}]
    assert whole["accounts"] == [
        {"id": "210987654321", "name": "member", "can_launch": True},
        {"id": "310987654321", "name": "dev", "can_launch": False},
    ]
    assert codes(result) == [("key_denies_share", "high")]  # the organization share: not every account can use the key


def test_thresholds_and_counts():
    findings = [{"severity": "low"}, {"severity": "high"}, {"severity": "critical"}]
    assert audit_.at_or_above(findings, "high") == [{"severity": "high"}, {"severity": "critical"}]
    assert audit_.count_by_severity(findings) == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    with pytest.raises(ValueError, match="not a severity"):
        audit_.at_or_above(findings, "severe")
