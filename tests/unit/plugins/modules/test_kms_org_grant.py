# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_org_grant against the emulator: four runs, foreign statements kept, purge, absent, every refusal,
throttling, and concurrent writers on one key.

Each test makes its own key. Key policies are read back with boto3 directly, independently of
the module; the emulator's counter shows whether PutKeyPolicy was called.
"""

import functools
import json
import threading
import types
import time
import uuid

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant

from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

DEFAULTS = defaults_of(kms_org_grant)
USE = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "kms:*",
    "Resource": "*",
}
# Statements an operator wrote; their text (key order, lone strings, booleans) must survive as it is.
CUSTOM_DENY = {
    "Sid": "DenyOutsideTheVpc",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["kms:Decrypt", "kms:Encrypt"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}, "Bool": {"aws:ViaAWSService": False}},
}
CUSTOM_ALLOW = {
    "Principal": {"AWS": ["arn:aws:iam::123456789012:role/KeyAdmin", "arn:aws:iam::123456789012:user/ops"]},
    "Effect": "Allow",
    "Resource": "*",
    "Action": ["kms:Describe*", "kms:Put*", "kms:Enable*"],
}


@pytest.fixture(autouse=True)
def quick_confirmation(monkeypatch):
    """Shorter pauses before the confirming read (the module's default is 0.2-0.6 s per write)."""
    monkeypatch.setattr(_kms, "write_key_policy", functools.partial(_kms.write_key_policy, pause=(0.01, 0.02)))


@pytest.fixture
def kms(emulator):
    return emulator.client("kms", region="us-east-1")


@pytest.fixture
def new_key(kms):
    """Create a key of this test's own: ``new_key(policy=None, alias=False)`` returns its metadata."""

    def make(policy=None, alias=False, client=None):
        client = client or kms
        # Unique names: ansible-test runs each test in a fork, and xdist workers share nothing.
        name = f"kms-org-grant-test-{uuid.uuid4().hex}"
        params = {"Description": name}
        if policy is not None:
            params["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        metadata = client.create_key(**params)["KeyMetadata"]
        if alias:
            metadata["Alias"] = f"alias/{name}"
            client.create_alias(AliasName=metadata["Alias"], TargetKeyId=metadata["KeyId"])
        return metadata

    return make


@pytest.fixture
def run(runner_of):
    """Run the module's logic and return its result."""
    return runner_of(kms_org_grant)


@pytest.fixture
def refused(run, refusal_of):
    return refusal_of(run)


def policy_text(kms, key_id):
    return kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]


def policy_of(kms, key_id):
    return json.loads(policy_text(kms, key_id))


def kms_calls(calls):
    return calls().get("kms", {})


def org_statements(org_ids, only_for_aws=True):
    return _statements("Org", "StringEquals", "aws:PrincipalOrgID", org_ids, only_for_aws)


def ou_statements(paths, only_for_aws=True):
    return _statements("Ou", "ForAnyValue:StringLike", "aws:PrincipalOrgPaths", paths, only_for_aws)


def _statements(kind, operator, key, values, only_for_aws, prefix="OrgShare"):
    use = {
        "Sid": f"{prefix}{kind}Use",
        "Effect": "Allow",
        "Principal": "*",
        "Action": USE,
        "Resource": "*",
        "Condition": {operator: {key: list(values)}},
    }
    grant = {
        "Sid": f"{prefix}{kind}CreateGrant",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": {operator: {key: list(values)}},
    }
    if only_for_aws:
        grant["Condition"]["Bool"] = {"kms:GrantIsForAWSResource": "true"}
    return [use, grant]


def pattern(world, path):
    """The aws:PrincipalOrgPaths value an OU ARN becomes."""
    return f"{world['organization']['id']}/*/{world['organizational_units'][path]['id']}/*"


# --- four runs -------------------------------------------------------------------------------


def test_four_runs(run, new_key, kms, world, emulator, calls):
    key = new_key()
    original = policy_text(kms, key["Arn"])
    org = world["organization"]
    args = dict(
        key_id=key["Arn"],
        organization_arns=[org["arn"]],
        organizational_unit_arns=[world["organizational_units"]["Root/Workloads/Prod"]["arn"]],
        diff=True,
    )
    expected = org_statements([org["id"]]) + ou_statements([pattern(world, "Root/Workloads/Prod")])

    emulator.reset_calls()
    checked = run(check_mode=True, **args)
    assert kms_calls(calls) == {"DescribeKey": 1, "GetKeyPolicy": 1}
    assert checked["changed"]
    assert checked["statements"] == expected
    assert checked["policy"]["Statement"] == json.loads(original)["Statement"] + expected
    assert checked["diff"] == {"before": json.loads(original), "after": checked["policy"]}
    assert policy_text(kms, key["Arn"]) == original

    emulator.reset_calls()
    real = run(**args)
    # One write, then the policy is read back twice (at once, and after the pause) to confirm it held.
    assert kms_calls(calls) == {"DescribeKey": 1, "GetKeyPolicy": 3, "PutKeyPolicy": 1}
    assert real["changed"]
    assert real == checked  # check mode predicted the real result exactly
    assert policy_of(kms, key["Arn"]) == real["policy"]
    assert real["key_id"] == key["KeyId"] and real["key_arn"] == key["Arn"]
    assert real["key_manager"] == "CUSTOMER" and real["key_state"] == "Enabled"
    assert real["added"] == {
        "organization_ids": [org["id"]],
        "principal_org_paths": [pattern(world, "Root/Workloads/Prod")],
    }
    assert real["removed"] == {"organization_ids": [], "principal_org_paths": []}

    emulator.reset_calls()
    again_checked = run(check_mode=True, **args)
    again = run(**args)
    assert not again_checked["changed"] and not again["changed"]
    assert again["diff"]["before"] == again["diff"]["after"] == real["policy"]
    assert again["added"] == again["removed"] == {"organization_ids": [], "principal_org_paths": []}
    assert again["statements"] == expected
    assert "PutKeyPolicy" not in kms_calls(calls)


def test_without_diff_there_is_no_diff(run, new_key):
    result = run(
        key_id=new_key()["KeyId"],
        organization_arns=["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"],
        check_mode=True,
    )
    assert result["changed"] and "diff" not in result


# --- foreign statements, grants, purge, absent -----------------------------------------------


def test_custom_deny_and_allow_statements_are_kept_and_absent_restores_them(run, new_key, kms, world):
    written = json.dumps(
        {"Version": "2012-10-17", "Id": "custom", "Statement": [ROOT, CUSTOM_DENY, CUSTOM_ALLOW]}, separators=(",", ":")
    )
    key = new_key(policy=written, alias=True)
    ou = world["organizational_units"]["Root/Security"]

    granted = run(key_id=key["Alias"], organizational_unit_arns=[ou["arn"]])
    assert granted["changed"] and granted["key_id"] == key["KeyId"]
    after = policy_of(kms, key["Arn"])
    assert [json.dumps(statement) for statement in after["Statement"][:3]] == [
        json.dumps(statement) for statement in (ROOT, CUSTOM_DENY, CUSTOM_ALLOW)
    ]
    assert after["Statement"][3:] == ou_statements([pattern(world, "Root/Security")])
    assert after["Version"] == "2012-10-17" and after["Id"] == "custom"

    removed = run(key_id=key["Alias"], organizational_unit_arns=[ou["arn"]], state="absent")
    assert removed["changed"]
    assert removed["removed"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Security")]}
    assert removed["statements"] == []
    assert policy_of(kms, key["Arn"]) == json.loads(written)
    assert json.dumps(policy_of(kms, key["Arn"])) == json.dumps(json.loads(written))  # key order too
    assert not run(key_id=key["Alias"], organizational_unit_arns=[ou["arn"]], state="absent")["changed"]


def test_ou_paths_ou_arns_and_organizations(run, new_key, kms, world):
    key = new_key()
    units = world["organizational_units"]
    org = world["organization"]
    exact = units["Root/Workloads/Prod/Payments"]["path"] + "*"
    result = run(
        key_id=key["KeyId"],
        organizational_unit_paths=[exact],
        organizational_unit_arns=[units["Root/Sandbox/Prod"]["arn"]],
        organization_arns=[org["arn"]],
    )
    values = [pattern(world, "Root/Sandbox/Prod"), exact]
    assert result["added"] == {"organization_ids": [org["id"]], "principal_org_paths": values}
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + ou_statements(values)
    assert exact.startswith(f"{org['id']}/{org['root_id']}/")

    # Another OU later joins the same statements.
    more = run(key_id=key["KeyId"], organizational_unit_arns=[units["Root/Workloads/Dev"]["arn"]])
    assert more["added"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Dev")]}
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + ou_statements(
        values + [pattern(world, "Root/Workloads/Dev")]
    )


def test_absent_takes_out_only_the_listed(run, new_key, kms, world):
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_DENY]})
    units = world["organizational_units"]
    org = world["organization"]
    run(
        key_id=key["KeyId"],
        organization_arns=[org["arn"]],
        organizational_unit_arns=[units["Root/Security"]["arn"], units["Root/Workloads/Dev"]["arn"]],
    )

    result = run(
        key_id=key["KeyId"],
        organizational_unit_arns=[units["Root/Security"]["arn"]],
        organization_arns=[org["arn"]],
        state="absent",
    )
    assert result["changed"]
    assert result["removed"] == {
        "organization_ids": [org["id"]],
        "principal_org_paths": [pattern(world, "Root/Security")],
    }
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT, CUSTOM_DENY] + ou_statements(
        [pattern(world, "Root/Workloads/Dev")]
    )


def test_purge_keeps_foreign_statements(stand_in, new_key, kms, world):
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_ALLOW]})
    units = world["organizational_units"]
    org = world["organization"]
    kms_org_grant.ensure(
        stand_in(
            DEFAULTS,
            key_id=key["KeyId"],
            organization_arns=[org["arn"]],
            organizational_unit_arns=[units["Root/Security"]["arn"], units["Root/Workloads/Dev"]["arn"]],
        )
    )

    module = stand_in(
        DEFAULTS, key_id=key["KeyId"], organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]], purge=True
    )
    result = kms_org_grant.ensure(module)
    assert result["changed"]
    assert result["added"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Prod")]}
    assert result["removed"] == {
        "organization_ids": [org["id"]],
        "principal_org_paths": [pattern(world, "Root/Security"), pattern(world, "Root/Workloads/Dev")],
    }
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT, CUSTOM_ALLOW] + ou_statements(
        [pattern(world, "Root/Workloads/Prod")]
    )
    assert module.warnings == []

    # purge has no meaning with absent: a warning, and only the listed OU goes.
    module = stand_in(
        DEFAULTS,
        key_id=key["KeyId"],
        organizational_unit_arns=[units["Root/Security"]["arn"]],
        state="absent",
        purge=True,
    )
    assert not kms_org_grant.ensure(module)["changed"]
    assert module.warnings == ["purge only applies with state=present; it is ignored with state=absent."]
    assert policy_of(kms, key["Arn"])["Statement"][2:] == ou_statements([pattern(world, "Root/Workloads/Prod")])


def test_grant_for_aws_resource_only_can_be_lifted_and_restored(run, new_key, kms, world):
    key = new_key()
    org = world["organization"]
    run(key_id=key["KeyId"], organization_arns=[org["arn"]])
    lifted = run(key_id=key["KeyId"], organization_arns=[org["arn"]], grant_for_aws_resource_only=False)
    assert lifted["changed"]
    # EC2's grants stay limited; the one grant for the caller's own Auto Scaling role comes in a statement of its own.
    role = "arn:aws:iam::${aws:PrincipalAccount}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    auto_scaling = {
        "Sid": "OrgShareOrgAutoScalingGrant",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": [org["id"]]},
            "StringLike": {"kms:GranteePrincipal": [role, role + "_*"]},
            "ForAllValues:StringEquals": {
                "kms:GrantOperations": [
                    "Encrypt",
                    "Decrypt",
                    "ReEncryptFrom",
                    "ReEncryptTo",
                    "GenerateDataKey",
                    "GenerateDataKeyWithoutPlaintext",
                    "DescribeKey",
                    "CreateGrant",
                ]
            },
        },
    }
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + [auto_scaling]
    assert not run(key_id=key["KeyId"], organization_arns=[org["arn"]], grant_for_aws_resource_only=False)["changed"]
    assert run(key_id=key["KeyId"], organization_arns=[org["arn"]])["changed"]
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]])


def test_statement_id_prefixes_keep_grants_apart(run, new_key, kms, world):
    key = new_key()
    org = world["organization"]
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    run(key_id=key["KeyId"], organization_arns=[org["arn"]])
    team = run(key_id=key["KeyId"], organizational_unit_arns=[prod["arn"]], statement_id_prefix="Team2")
    assert team["added"]["organization_ids"] == []  # the OrgShare statements are not Team2's
    assert [statement["Sid"] for statement in team["statements"]] == ["Team2OuUse", "Team2OuCreateGrant"]
    removed = run(key_id=key["KeyId"], organization_arns=[org["arn"]], state="absent", statement_id_prefix="Team2")
    assert not removed["changed"]
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + _statements(
        "Ou",
        "ForAnyValue:StringLike",
        "aws:PrincipalOrgPaths",
        [pattern(world, "Root/Workloads/Prod")],
        True,
        prefix="Team2",
    )


def test_semantically_equal_policy_is_not_rewritten(run, new_key, kms, world, emulator, calls):
    # The grant written by hand, compactly, with lone strings, reordered values, true and {"AWS": "*"}.
    org = world["organization"]
    use, grant = org_statements([org["id"]])
    use = dict(
        use,
        Action=list(reversed(USE)),
        Principal={"AWS": "*"},
        Condition={"StringEquals": {"aws:PrincipalOrgID": org["id"]}},
    )
    grant = dict(
        grant,
        Action="kms:CreateGrant",
        Condition={"Bool": {"kms:GrantIsForAWSResource": True}, "StringEquals": {"aws:PrincipalOrgID": [org["id"]]}},
    )
    written = json.dumps({"Version": "2012-10-17", "Statement": [grant, ROOT, use]}, separators=(",", ":"))
    key = new_key(policy=written)
    emulator.reset_calls()
    result = run(key_id=key["KeyId"], organization_arns=[org["arn"]])
    assert not result["changed"]
    assert "PutKeyPolicy" not in kms_calls(calls)
    assert policy_text(kms, key["Arn"]) == written


# --- refusals --------------------------------------------------------------------------------


def _special(world, which):
    return world["special_keys"]["us-east-1"][which]


REFUSALS = {
    "AWS-managed key": (
        lambda world: dict(key_id="alias/aws/ebs"),
        lambda world: [
            "'alias/aws/ebs'",
            _special(world, "aws_managed")["key_arn"],
            "AWS-managed key",
            "ami_region_copy",
        ],
    ),
    "disabled key": (
        lambda world: dict(key_id=_special(world, "disabled")["alias"]),
        lambda world: [_special(world, "disabled")["key_arn"], "is Disabled", "EnableKey"],
    ),
    "key pending deletion": (
        lambda world: dict(key_id=_special(world, "pending_deletion")["alias"]),
        lambda world: [_special(world, "pending_deletion")["key_arn"], "is PendingDeletion", "CancelKeyDeletion"],
    ),
    "key pending deletion, absent": (
        lambda world: dict(key_id=_special(world, "pending_deletion")["alias"], state="absent"),
        lambda world: ["is PendingDeletion"],
    ),
    "AWS-managed key, absent": (
        lambda world: dict(key_id=_special(world, "aws_managed")["key_id"], state="absent"),
        lambda world: ["AWS-managed key"],
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_unusable_keys_are_refused_before_any_write(name, refused, kms, world, emulator, calls):
    args, fragments = REFUSALS[name]
    args = args(world)
    key_arn = kms.describe_key(KeyId=args["key_id"])["KeyMetadata"]["Arn"]
    before = policy_text(kms, key_arn)
    emulator.reset_calls()
    message = refused(organization_arns=[world["organization"]["arn"]], **args)
    for fragment in fragments(world):
        assert fragment in message
    assert "PutKeyPolicy" not in kms_calls(calls) and "GetKeyPolicy" not in kms_calls(calls)
    assert policy_text(kms, key_arn) == before


def test_disabled_key_may_still_lose_a_grant(run, new_key, kms, world):
    key = new_key()
    org = world["organization"]
    run(key_id=key["KeyId"], organization_arns=[org["arn"]])
    kms.disable_key(KeyId=key["KeyId"])
    result = run(key_id=key["KeyId"], organization_arns=[org["arn"]], state="absent")
    assert result["changed"] and result["key_state"] == "Disabled"
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT]


def test_missing_alias_and_key_of_another_region(refused, new_key, emulator, world, calls):
    emulator.reset_calls()
    message = refused(key_id="alias/orgshare-missing", organization_arns=[world["organization"]["arn"]])
    assert "describe KMS key alias/orgshare-missing" in message and "no such key or alias in this region" in message
    assert kms_calls(calls) == {"DescribeKey": 1}

    elsewhere = new_key(alias=True, client=emulator.client("kms", region="eu-west-1"))
    assert "no such key or alias in this region" in refused(
        key_id=elsewhere["Alias"], organization_arns=[world["organization"]["arn"]]
    )
    assert "no such key or alias" in refused(key_id=elsewhere["Arn"], organization_arns=[world["organization"]["arn"]])


@pytest.mark.parametrize(
    "args, fragments",
    [
        (dict(organization_arns=["o-a1b2c3d4e5"]), ["'o-a1b2c3d4e5' is a bare organization ID", "org_arn_info"]),
        (dict(organizational_unit_arns=["ou-ab12-cd34ef56"]), ["'ou-ab12-cd34ef56' is a bare OU ID", "org_arn_info"]),
        (
            dict(organizational_unit_paths=["ou-ab12-cd34ef56"]),
            ["'ou-ab12-cd34ef56' is not an aws:PrincipalOrgPaths value"],
        ),
        (
            dict(
                organization_arns=["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"],
                statement_id_prefix="Org-Share",
            ),
            ["statement_id_prefix 'Org-Share'"],
        ),
        (dict(), ["No principal was given", "purge=true"]),
        (dict(state="absent"), ["No principal was given"]),
    ],
)
def test_bad_input_is_refused_before_any_call(args, fragments, refused, new_key, kms, emulator, calls):
    key = new_key()
    before = policy_text(kms, key["Arn"])
    emulator.reset_calls()
    message = refused(key_id=key["Arn"], allow_calls=False, **args)
    for fragment in fragments:
        assert fragment in message
    assert calls() == {}
    assert policy_text(kms, key["Arn"]) == before


def compact(document):
    return json.dumps(document, separators=(",", ":"))


def test_policy_too_large_is_refused(refused, new_key, kms, world, emulator, calls):
    # An operator's policy just under KMS's limit even as compact JSON: the grant's statements would take it over.
    padding = {
        "Sid": "Padding",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-"}},
    }
    document = {"Version": "2012-10-17", "Statement": [ROOT, padding]}
    padding["Condition"]["StringEquals"]["aws:SourceVpce"] += "0" * (32500 - len(compact(document)))
    assert len(compact(document)) == 32500
    key = new_key(policy=compact(document))
    before = policy_text(kms, key["Arn"])
    org = world["organization"]
    would_be = len(compact(dict(document, Statement=[ROOT, padding] + org_statements([org["id"]]))).encode("utf-8"))
    assert would_be > 32768

    emulator.reset_calls()
    for check_mode in (True, False):
        message = refused(key_id=key["Arn"], organization_arns=[org["arn"]], check_mode=check_mode)
        assert (
            f"The key policy of {key['Arn']} would be {would_be} bytes even as compact JSON, over the 32768-byte limit"
            in message
        )
        assert (
            f"the managed statements take {would_be - 32500} bytes (2 statement(s) for 1 organization(s) and 0 OU path(s))"
            in message
        )
        assert "the rest of the policy takes 32500 bytes" in message
        assert "Grant a parent OU or the whole organization" in message
    assert "PutKeyPolicy" not in kms_calls(calls)
    assert policy_text(kms, key["Arn"]) == before


def test_a_policy_that_fits_only_compactly_is_written_compactly(run, new_key, kms, world, emulator, calls):
    # 30.5 KB of many short values, as KMS keeps it; indented, the same policy with a grant would be over 44 KB.
    padding = {
        "Sid": "Padding",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": [f"vpce-{number:017x}" for number in range(1000)]}},
    }
    document = {"Version": "2012-10-17", "Statement": [ROOT, padding]}
    padding["Condition"]["StringEquals"]["aws:SourceVpce"].append("v" * (30500 - 3 - len(compact(document))))
    assert len(compact(document)) == 30500
    key = new_key(policy=compact(document))
    org = world["organization"]
    args = dict(key_id=key["Arn"], organization_arns=[org["arn"]])

    emulator.reset_calls()
    checked = run(check_mode=True, **args)
    real = run(**args)
    assert checked["changed"] and real == checked
    written = policy_text(kms, key["Arn"])
    assert written == compact(real["policy"])
    assert 30500 < len(written.encode("utf-8")) < 32768 < len(json.dumps(real["policy"], indent=2))
    assert json.loads(written)["Statement"] == [ROOT, padding] + org_statements([org["id"]])
    assert not run(check_mode=True, **args)["changed"] and not run(**args)["changed"]
    assert kms_calls(calls)["PutKeyPolicy"] == 1

    # Taken out again, the policy is the one given, byte for byte (over the limit indented, so still compact).
    assert run(key_id=key["Arn"], organization_arns=[org["arn"]], state="absent")["changed"]
    assert policy_text(kms, key["Arn"]) == compact(document)


def test_a_small_policy_is_written_indented(run, new_key, kms, world):
    key = new_key()
    result = run(key_id=key["Arn"], organization_arns=[world["organization"]["arn"]])
    assert policy_text(kms, key["Arn"]) == json.dumps(result["policy"], indent=2)


# --- ownership -------------------------------------------------------------------------------

BREAK_GLASS_DENY = {
    "Sid": "OrgShareBreakGlassDeny",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-evilevil00"}},
}
CONSOLE_ADMINS = {
    "Sid": "Allow access for Key Administrators",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/KeyAdmin"},
    "Action": [
        "kms:Create*",
        "kms:Describe*",
        "kms:Enable*",
        "kms:List*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:Disable*",
        "kms:Get*",
        "kms:Delete*",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
    ],
    "Resource": "*",
}
CONSOLE_USERS = {
    "Sid": "Allow use of the key",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/App"},
    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    "Resource": "*",
}


def test_a_deny_under_the_prefix_stays_and_lets_nobody_in(run, new_key, kms, world, emulator, calls):
    written = json.dumps({"Version": "2012-10-17", "Statement": [ROOT, BREAK_GLASS_DENY]})
    key = new_key(policy=written)
    org = world["organization"]
    args = dict(key_id=key["Arn"], organization_arns=[org["arn"]])

    emulator.reset_calls()
    checked = run(check_mode=True, **args)
    real = run(**args)
    assert checked == real and real["changed"]
    assert real["added"] == {"organization_ids": [org["id"]], "principal_org_paths": []}
    after = policy_of(kms, key["Arn"])
    assert json.dumps(after["Statement"][1]) == json.dumps(BREAK_GLASS_DENY)
    assert after["Statement"] == [ROOT, BREAK_GLASS_DENY] + org_statements([org["id"]])
    assert real["statements"] == org_statements([org["id"]])
    assert not run(check_mode=True, **args)["changed"] and not run(**args)["changed"]
    assert kms_calls(calls)["PutKeyPolicy"] == 1

    assert run(state="absent", **args)["changed"]
    assert policy_of(kms, key["Arn"]) == json.loads(written)


def test_a_prefix_starting_the_console_s_sids_takes_none_of_them(run, new_key, kms, world):
    original = {"Version": "2012-10-17", "Statement": [ROOT, CONSOLE_ADMINS, CONSOLE_USERS]}
    key = new_key(policy=original)
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    granted = run(key_id=key["Arn"], organizational_unit_arns=[prod["arn"]], statement_id_prefix="Allow")
    assert granted["changed"] and granted["removed"] == {"organization_ids": [], "principal_org_paths": []}
    allow_statements = _statements(
        "Ou",
        "ForAnyValue:StringLike",
        "aws:PrincipalOrgPaths",
        [pattern(world, "Root/Workloads/Prod")],
        True,
        prefix="Allow",
    )
    assert policy_of(kms, key["Arn"])["Statement"] == original["Statement"] + allow_statements
    purged = run(key_id=key["Arn"], purge=True, statement_id_prefix="Allow")
    assert purged["removed"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Prod")]}
    assert policy_of(kms, key["Arn"]) == original


@pytest.mark.parametrize("state", ["present", "absent"])
def test_an_owned_sid_of_another_shape_is_refused_before_any_write(
    state, refused, new_key, kms, world, emulator, calls
):
    impostor = {
        "Sid": "OrgShareOuUse",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, impostor]})
    before = policy_text(kms, key["Arn"])
    emulator.reset_calls()
    for check_mode in (True, False):
        message = refused(
            key_id=key["Arn"],
            organizational_unit_arns=[world["organizational_units"]["Root/Security"]["arn"]],
            state=state,
            check_mode=check_mode,
        )
        for fragment in (
            f"The key policy of {key['Arn']}",
            "statement 2 of 2, Sid 'OrgShareOuUse'",
            'its Principal is {"AWS":"arn:aws:iam::123456789012:root"}, not "*"',
            'its Action "kms:*"',
            "Condition is null",
            "Rename or remove that statement, or choose another statement_id_prefix",
        ):
            assert fragment in message
    assert kms_calls(calls) == {"DescribeKey": 2, "GetKeyPolicy": 2}
    assert policy_text(kms, key["Arn"]) == before


def test_an_ou_granted_by_path_is_revoked_by_arn(run, new_key, kms, world, emulator, calls):
    key = new_key()
    original = policy_text(kms, key["Arn"])
    payments = world["organizational_units"]["Root/Workloads/Prod/Payments"]
    exact = payments["path"] + "*"
    granted = run(key_id=key["Arn"], organizational_unit_paths=[exact])
    assert granted["added"]["principal_org_paths"] == [exact]
    # The same OU by ARN, present: already there.
    assert not run(key_id=key["Arn"], organizational_unit_arns=[payments["arn"]])["changed"]

    args = dict(key_id=key["Arn"], organizational_unit_arns=[payments["arn"]], state="absent")
    emulator.reset_calls()
    checked = run(check_mode=True, **args)
    real = run(**args)
    assert checked == real and real["changed"]
    assert real["removed"] == {"organization_ids": [], "principal_org_paths": [exact]}
    assert policy_of(kms, key["Arn"]) == json.loads(original)
    assert not run(check_mode=True, **args)["changed"] and not run(**args)["changed"]
    assert kms_calls(calls)["PutKeyPolicy"] == 1


# --- throttling ------------------------------------------------------------------------------


def test_throttling_is_retried(stand_in, new_key, kms, world, emulator, monkeypatch):
    # botocore's own retries are off, so every ThrottlingException reaches the collection's retries
    # (AWSRetry for reads, which must know that code; write_key_policy for writes, which merges
    # afresh before writing again); their backoff sleeps are recorded instead of slept.
    key = new_key()
    units = world["organizational_units"]
    slept = []
    monkeypatch.setattr(cloud, "time", types.SimpleNamespace(sleep=slept.append))
    monkeypatch.setattr(_kms, "time", types.SimpleNamespace(sleep=slept.append, monotonic=time.monotonic))
    no_botocore_retries = Config(retries={"total_max_attempts": 1, "mode": "standard"})

    def grant():
        module = stand_in(DEFAULTS, key_id=key["Arn"], organizational_unit_arns=[units["Root/Security"]["arn"]])
        module.client = lambda service, region=None, config=None: emulator.client(
            service, region=region or module.region, config=no_botocore_retries
        )
        return kms_org_grant.ensure(module)

    emulator.reset_calls()
    emulator.set_faults(rate=0.4, error="throttle", services=["kms"], seed=7)
    try:
        result = grant()
        again = grant()
    finally:
        emulator.clear_faults()
    throttled = emulator.faults_injected().get("kms", {})
    assert sum(throttled.values()) >= 3 and throttled.get("PutKeyPolicy") and throttled.get("GetKeyPolicy")
    assert len(slept) >= sum(
        throttled.values()
    )  # each throttle was retried after a backoff (plus the confirming pauses)
    assert result["changed"] and not again["changed"]
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT] + ou_statements([pattern(world, "Root/Security")])
    assert emulator.calls()["kms"]["PutKeyPolicy"] == 1 + throttled["PutKeyPolicy"]


# --- concurrent writers ----------------------------------------------------------------------


class KmsProxy:
    """A boto3 KMS client whose put/get_key_policy can run a hook after the real call.

    The module reads with one client and writes with another (one without botocore retries),
    so the proxies of one run share their counts (``shared``).
    """

    def __init__(self, client, after_put=None, after_get=None, shared=None):
        self._client = client
        self._after_put = after_put
        self._after_get = after_get
        self._counts = shared if shared is not None else {"puts": 0, "gets": 0}

    @property
    def puts(self):
        return self._counts["puts"]

    @property
    def gets(self):
        return self._counts["gets"]

    def __getattr__(self, name):
        return getattr(self._client, name)

    def put_key_policy(self, **kwargs):
        response = self._client.put_key_policy(**kwargs)
        self._counts["puts"] += 1
        if self._after_put:
            self._after_put(self)
        return response

    def get_key_policy(self, **kwargs):
        response = self._client.get_key_policy(**kwargs)
        self._counts["gets"] += 1
        if self._after_get:
            self._after_get(self)
        return response


def _module_with(stand_in, proxy_of, **params):
    module = stand_in(DEFAULTS, **params)
    real_client = module.client
    module.client = lambda service, region=None, config=None: proxy_of(real_client(service, region, config))
    return module


def _rival_policy(original, ou_arn):
    """What another writer that read the policy before our write lands would write: the original plus its OU."""
    requested = _key_policy.requested_principals(organizational_unit_arns=[ou_arn])
    return _key_policy.plan_key_policy(original, requested).document()


@pytest.mark.parametrize("strikes", ["after our write", "before the confirming read"])
def test_a_concurrent_writer_is_merged_with(strikes, stand_in, new_key, kms, world, emulator, calls):
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_DENY]})
    units = world["organizational_units"]
    rival = _rival_policy(policy_text(kms, key["Arn"]), units["Root/Workloads/Dev"]["arn"])

    def rival_writes(proxy):
        # Once: right after our first PutKeyPolicy, or right after the first read that confirms it.
        # (gets counts the read the plan was made from too.)
        if proxy.puts == 1 and (strikes == "after our write" or proxy.gets == 2):
            kms.put_key_policy(KeyId=key["Arn"], PolicyName="default", Policy=rival)

    hook = {"after our write": "after_put", "before the confirming read": "after_get"}[strikes]
    shared = {"puts": 0, "gets": 0}
    module = _module_with(
        stand_in,
        lambda client: KmsProxy(client, shared=shared, **{hook: rival_writes}),
        key_id=key["Arn"],
        organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]],
    )
    emulator.reset_calls()
    result = kms_org_grant.ensure(module)

    both = ou_statements([pattern(world, "Root/Workloads/Dev"), pattern(world, "Root/Workloads/Prod")])
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT, CUSTOM_DENY] + both
    assert result["changed"] and result["policy"]["Statement"] == [ROOT, CUSTOM_DENY] + both
    assert kms_calls(calls)["PutKeyPolicy"] == 3  # ours, the rival's, ours again on top of it


def test_a_writer_that_keeps_overwriting_is_reported(stand_in, new_key, kms, world, monkeypatch):
    # A writer that puts back the very policy our write replaced looks like a stale read: each write
    # is waited for (here briefly) before it counts as overwritten.
    monkeypatch.setattr(_kms, "write_key_policy", functools.partial(_kms.write_key_policy, visibility_timeout=0.3))
    key = new_key()
    units = world["organizational_units"]
    rival = _rival_policy(policy_text(kms, key["Arn"]), units["Root/Workloads/Dev"]["arn"])

    def rival_writes(_proxy):
        kms.put_key_policy(KeyId=key["Arn"], PolicyName="default", Policy=rival)

    proxies = []

    def proxy_of(client):
        proxies.append(KmsProxy(client, after_put=rival_writes))
        return proxies[-1]

    module = _module_with(
        stand_in, proxy_of, key_id=key["Arn"], organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]]
    )
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)
    assert (
        f"The key policy of {key['Arn']} kept being replaced by another writer: {_kms.WRITE_ATTEMPTS} writes"
        in err.value.message
    )
    assert (
        sum(proxy.puts for proxy in proxies) == _kms.WRITE_ATTEMPTS
    )  # the writes go through the module's writing client
    assert policy_text(kms, key["Arn"]) == rival


def test_two_jobs_at_once_both_end_up_in_the_policy(stand_in, new_key, kms, world, monkeypatch):
    # Both read the policy before either writes (a barrier holds each after its first read), so
    # one PutKeyPolicy overwrites the other; the read-back must notice and merge.
    monkeypatch.setattr(_kms, "write_key_policy", functools.partial(_kms.write_key_policy.func, pause=(0.05, 0.1)))
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_ALLOW]})
    units = world["organizational_units"]
    jobs = ["Root/Workloads/Prod", "Root/Security"]
    both_read = threading.Barrier(len(jobs), timeout=20)
    results, errors = {}, []

    def hold_after_first_read(proxy):
        if proxy.gets == 1:
            both_read.wait()

    def job(path):
        try:
            module = _module_with(
                stand_in,
                lambda client: KmsProxy(client, after_get=hold_after_first_read),
                key_id=key["Arn"],
                organizational_unit_arns=[units[path]["arn"]],
            )
            results[path] = kms_org_grant.ensure(module)
        except Exception as e:  # pylint: disable=broad-exception-caught
            errors.append(e)

    threads = [threading.Thread(target=job, args=(path,)) for path in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert all(results[path]["changed"] for path in jobs)
    assert all(pattern(world, path) in results[path]["added"]["principal_org_paths"] for path in jobs)

    after = policy_of(kms, key["Arn"])
    assert after["Statement"][:2] == [ROOT, CUSTOM_ALLOW]
    (paths,) = {
        tuple(sorted(statement["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"]))
        for statement in after["Statement"][2:]
    }
    assert paths == tuple(sorted(pattern(world, path) for path in jobs))
    assert [statement.get("Sid") for statement in after["Statement"]] == [
        ROOT["Sid"],
        None,
        "OrgShareOuUse",
        "OrgShareOuCreateGrant",
    ]


# --- keys of another account -----------------------------------------------------------------

MANAGEMENT = "123456789012"


def _is_kms(client):
    return client.meta.service_model.service_name == "kms"


class DescribeAs:
    """A KMS client whose DescribeKey is answered by ``owner`` (the key's own account), or refused with ``code``.

    Everything else goes to the module's own client, so the emulator's counter shows any GetKeyPolicy
    or PutKeyPolicy the module would make (a refused DescribeKey is not counted: it never reaches it).
    """

    def __init__(self, client, owner=None, code=None):
        self._client, self._owner, self._code = client, owner, code

    def __getattr__(self, name):
        return getattr(self._client, name)

    def describe_key(self, **kwargs):
        if self._code:
            raise ClientError({"Error": {"Code": self._code, "Message": f"refused ({self._code})"}}, "DescribeKey")
        return self._owner.describe_key(**kwargs)


@pytest.fixture
def member(world, emulator):
    """The member account: its ID and a KMS client acting as it."""
    account_id = world["member_account"]["id"]
    return types.SimpleNamespace(id=account_id, kms=emulator.client("kms", region="us-east-1", account_id=account_id))


def _foreign_module(stand_in, member, describe, **params):
    """The module as the management account, DescribeKey across accounts answered or refused as ``describe`` says."""
    code = None if describe == "answers" else describe

    def proxy_of(client):
        return DescribeAs(client, owner=member.kms, code=code) if _is_kms(client) else client

    return _module_with(stand_in, proxy_of, **params)


def _owner_task(key_arn, state="present", **given):
    task = dict(
        key_id=key_arn,
        region="us-east-1",
        organization_arns=[],
        organizational_unit_arns=[],
        organizational_unit_paths=[],
        state=state,
        purge=False,
        grant_for_aws_resource_only=True,
        statement_id_prefix="OrgShare",
    )
    task.update(given)
    return task


@pytest.mark.parametrize("describe", ["answers", "AccessDeniedException", "NotFoundException"])
@pytest.mark.parametrize("check_mode", [True, False])
def test_a_key_of_another_account_fails_with_what_its_owner_needs(
    describe, check_mode, stand_in, new_key, member, world, emulator, calls
):
    key = new_key(client=member.kms)
    before = policy_text(member.kms, key["Arn"])
    prod = world["organizational_units"]["Root/Workloads/Prod"]
    module = _foreign_module(
        stand_in, member, describe, key_id=key["Arn"], organizational_unit_arns=[prod["arn"]], check_mode=check_mode
    )
    emulator.reset_calls()
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)

    message = err.value.message
    for fragment in (
        f"The key {key['Arn']} belongs to account {member.id}, not to account {MANAGEMENT} of these credentials",
        "a key policy can only be read (GetKeyPolicy) and changed (PutKeyPolicy) in the key's own account",
        f"Run kms_org_grant with credentials of account {member.id}",
        "owner_task holds its arguments",
        "have the key's owner add the statements in owner_statements to its policy",
    ):
        assert fragment in message
    assert "no such key" not in message
    assert ("DescribeKey was refused too" in message) == (describe != "answers")
    if describe != "answers":
        assert f"({describe}: refused ({describe}))" in message
    data = err.value.kwargs
    assert data["owner_account_id"] == member.id
    assert data["owner_statements"] == ou_statements([pattern(world, "Root/Workloads/Prod")])
    assert data["owner_task"] == _owner_task(key["Arn"], organizational_unit_arns=[prod["arn"]])
    assert data["key_arn"] == key["Arn"] and data["key_id"] == key["KeyId"]
    assert (data["key_state"], data["key_manager"]) == (
        ("Enabled", "CUSTOMER") if describe == "answers" else (None, None)
    )
    assert "changed" not in data
    assert kms_calls(calls) == (
        {"DescribeKey": 1} if describe == "answers" else {}
    )  # neither GetKeyPolicy nor PutKeyPolicy
    assert calls()["sts"] == {"GetCallerIdentity": 1}
    assert policy_text(member.kms, key["Arn"]) == before
    assert module.warnings == []


@pytest.mark.parametrize("describe", ["answers", "AccessDeniedException"])
def test_a_key_of_another_account_is_reported_in_four_runs(describe, stand_in, new_key, member, world, emulator, calls):
    key = new_key(client=member.kms, alias=True)
    before = policy_text(member.kms, key["Arn"])
    org = world["organization"]
    alias_arn = f"arn:aws:kms:us-east-1:{member.id}:{key['Alias']}"
    params = dict(
        key_id=alias_arn, organization_arns=[org["arn"]], grant_for_aws_resource_only=True, foreign_key="report"
    )
    emulator.reset_calls()
    results, warnings = [], []
    for check_mode in (True, False, True, False):
        module = _foreign_module(stand_in, member, describe, check_mode=check_mode, diff=True, **params)
        results.append(kms_org_grant.ensure(module))
        warnings += module.warnings

    assert all(result == results[0] for result in results)  # check mode returns what a real run does, run after run
    result = results[0]
    assert result["changed"] is False and "diff" not in result and "policy" not in result
    assert result["owner_account_id"] == member.id
    assert result["owner_statements"] == org_statements([org["id"]])
    # DescribeKey names the key by its ARN; refused, the alias ARN given is all there is.
    key_ref = key["Arn"] if describe == "answers" else alias_arn
    assert result["key_arn"] == key_ref and result["key_id"] == (key["KeyId"] if describe == "answers" else None)
    assert result["owner_task"] == _owner_task(key_ref, organization_arns=[org["arn"]])
    assert (
        warnings
        == [
            f"The key policy of {key_ref} could not be checked from account {MANAGEMENT}: the key belongs to account {member.id}, and a key "
            "policy can only be read and changed in the key's own account. Nothing was changed; owner_statements holds the "
            "statements for its policy and owner_task the arguments to run kms_org_grant with that account's credentials."
        ]
        * 4
    )
    assert kms_calls(calls) == ({"DescribeKey": 4} if describe == "answers" else {})
    assert policy_text(member.kms, key["Arn"]) == before


def test_the_owner_task_does_it_with_the_owner_s_credentials(stand_in, run, new_key, member, world, emulator, calls):
    key = new_key(client=member.kms)
    units = world["organizational_units"]
    given = dict(
        organizational_unit_arns=[units["Root/Security"]["arn"]],
        organizational_unit_paths=[units["Root/Workloads/Dev"]["path"] + "*"],
    )
    reported = kms_org_grant.ensure(
        _foreign_module(stand_in, member, "answers", key_id=key["Arn"], foreign_key="report", **given)
    )
    task = dict(reported["owner_task"])

    emulator.reset_calls()
    granted = run(account_id=member.id, **task)  # the owner's run: a key of its own account
    assert granted["changed"]
    assert granted["statements"] == reported["owner_statements"]
    assert policy_of(member.kms, key["Arn"])["Statement"][1:] == reported["owner_statements"]
    assert not run(account_id=member.id, **task)["changed"]

    # Taken out again: absent gives the statements that name them, and the owner's absent task empties them.
    gone = kms_org_grant.ensure(
        _foreign_module(stand_in, member, "answers", key_id=key["Arn"], foreign_key="report", state="absent", **given)
    )
    assert gone["owner_statements"] == reported["owner_statements"]
    assert gone["owner_task"] == dict(task, state="absent")
    assert run(account_id=member.id, **gone["owner_task"])["statements"] == []
    assert len(policy_of(member.kms, key["Arn"])["Statement"]) == 1


def test_absent_on_a_key_of_another_account_says_what_to_take_out(stand_in, new_key, member, world):
    key = new_key(client=member.kms)
    module = _foreign_module(
        stand_in,
        member,
        "answers",
        key_id=key["Arn"],
        organization_arns=[world["organization"]["arn"]],
        state="absent",
        purge=True,
    )
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)
    assert (
        "have the key's owner take the organizations and OUs of owner_statements out of its policy" in err.value.message
    )
    assert err.value.kwargs["owner_task"]["state"] == "absent" and err.value.kwargs["owner_task"]["purge"] is False
    assert module.warnings == ["purge only applies with state=present; it is ignored with state=absent."]


def test_a_key_of_another_account_is_found_on_the_emulator_whatever_describe_key_answers(
    run, new_key, member, world, emulator, calls
):
    # One key whose policy lets this account describe it, one whose default policy does not: either way
    # it is another account's key, whose policy is neither read nor written from here.
    readable = new_key(
        client=member.kms,
        policy={
            "Version": "2012-10-17",
            "Statement": [
                dict(ROOT, Principal={"AWS": f"arn:aws:iam::{member.id}:root"}),
                {
                    "Sid": "Describe",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                },
            ],
        },
    )
    for key in (readable, new_key(client=member.kms)):
        emulator.reset_calls()
        result = run(key_id=key["Arn"], organization_arns=[world["organization"]["arn"]], foreign_key="report")
        assert result["owner_account_id"] == member.id and not result["changed"]
        assert result["owner_task"]["key_id"] == key["Arn"]
        assert set(kms_calls(calls)) == {"DescribeKey"}


def test_a_key_of_this_account_is_checked_with_sts_only_when_given_by_arn(run, new_key, world, emulator, calls):
    key = new_key(alias=True)
    org = world["organization"]
    for key_id, sts_calls in (
        (key["Arn"], 1),
        (f"arn:aws:kms:us-east-1:{MANAGEMENT}:{key['Alias']}", 1),
        (key["KeyId"], 0),
        (key["Alias"], 0),
    ):
        emulator.reset_calls()
        result = run(key_id=key_id, organization_arns=[org["arn"]], check_mode=True)
        assert result["changed"] and "owner_account_id" not in result
        assert calls().get("sts", {}).get("GetCallerIdentity", 0) == sts_calls


def test_a_foreign_aws_managed_key_is_refused_as_such(stand_in, member, world):
    managed = member.kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    module = _foreign_module(
        stand_in, member, "answers", key_id=managed["Arn"], organization_arns=[world["organization"]["arn"]]
    )
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)
    assert "is an AWS-managed key" in err.value.message and not err.value.kwargs


# --- keys EBS cannot encrypt with ------------------------------------------------------------

NOT_FOR_EBS = [
    ("RSA_2048", "SIGN_VERIFY"),
    ("RSA_2048", "ENCRYPT_DECRYPT"),
    ("ECC_NIST_P256", "SIGN_VERIFY"),
    ("HMAC_256", "GENERATE_VERIFY_MAC"),
]


@pytest.mark.parametrize("spec, usage", NOT_FOR_EBS)
def test_a_key_ebs_cannot_use_is_refused_before_any_read_of_its_policy(
    spec, usage, refused, run, kms, world, emulator, calls
):
    key = kms.create_key(Description=f"kms-org-grant-test-{uuid.uuid4().hex}", KeySpec=spec, KeyUsage=usage)[
        "KeyMetadata"
    ]
    before = policy_text(kms, key["Arn"])
    emulator.reset_calls()
    for check_mode in (True, False):
        message = refused(key_id=key["KeyId"], organization_arns=[world["organization"]["arn"]], check_mode=check_mode)
        assert message == (
            f"The key {key['KeyId']!r} ({key['Arn']}) in us-east-1 has KeySpec {spec} and KeyUsage {usage}: Amazon EBS encrypts "
            "volumes and snapshots only with symmetric encryption keys (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT), so no "
            "snapshot of an AMI can be encrypted with it and a grant on it would let nobody launch anything. Use a symmetric "
            "encryption key (what CreateKey makes by default) instead."
        )
    assert kms_calls(calls) == {"DescribeKey": 2}
    assert policy_text(kms, key["Arn"]) == before
    # Nothing to take out is no reason to refuse: absent leaves the key alone.
    assert not run(key_id=key["KeyId"], organization_arns=[world["organization"]["arn"]], state="absent")["changed"]


def test_kms_arns_are_taken_apart():
    assert _key_policy.parse_kms_arn("arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a/b") == (
        "us-gov-west-1",
        "111122223333",
        "alias",
        "a/b",
    )
    assert _key_policy.parse_kms_arn("arn:aws:kms:eu-west-1:111122223333:key/k").kind == "key"
    for other in ("alias/a", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:iam::111122223333:role/r", None):
        assert _key_policy.parse_kms_arn(other) is None


# --- a policy KMS refuses for a principal that no longer exists ------------------------------

GONE_ROLE = "AROAJQABLZS4A3QDU576Q"
GONE_USER = "AIDACKCEVSQ6C2EXAMPLE"
STALE_ALLOW = {
    "Sid": "LegacyApp",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{MANAGEMENT}:role/App", GONE_ROLE]},
    "Action": "kms:Decrypt",
    "Resource": "*",
}
STALE_DENY = {
    "Effect": "Deny",
    "NotPrincipal": {"AWS": GONE_USER},
    "Action": "kms:ScheduleKeyDeletion",
    "Resource": "*",
}


def test_stale_principal_suspects_are_unique_ids_first():
    owned_ones = org_statements(["o-a1b2c3d4e5"])
    policy = {"Statement": [ROOT, STALE_ALLOW, CUSTOM_ALLOW, STALE_DENY] + owned_ones}
    assert _key_policy.stale_principal_suspects(policy) == (
        True,
        [("Sid 'LegacyApp'", [GONE_ROLE]), ("statement 4 of 6 (no Sid)", [GONE_USER])],
    )
    # None by unique ID: the role and user ARNs, of which one may have been deleted (the account root is not a suspect).
    assert _key_policy.stale_principal_suspects({"Statement": [ROOT, CUSTOM_ALLOW, CONSOLE_USERS] + owned_ones}) == (
        False,
        [
            ("statement 2 of 5 (no Sid)", CUSTOM_ALLOW["Principal"]["AWS"]),
            ("Sid 'Allow use of the key'", [CONSOLE_USERS["Principal"]["AWS"]]),
        ],
    )
    assert _key_policy.stale_principal_suspects(json.dumps({"Statement": ROOT})) == (False, [])


def _refusing_put(message):
    def proxy_of(client):
        def put_key_policy(**_kwargs):
            raise ClientError(
                {"Error": {"Code": "MalformedPolicyDocumentException", "Message": message}}, "PutKeyPolicy"
            )

        return (
            types.SimpleNamespace(
                put_key_policy=put_key_policy,
                **{name: getattr(client, name) for name in ("get_key_policy", "describe_key", "meta")},
            )
            if _is_kms(client)
            else client
        )

    return proxy_of


def _refused_write(stand_in, new_key, world, statements, aws_message):
    """A grant on a key with ``statements`` whose PutKeyPolicy is refused with ``aws_message``: the key and the error."""
    key = new_key(policy={"Version": "2012-10-17", "Statement": statements})
    module = _module_with(
        stand_in, _refusing_put(aws_message), key_id=key["KeyId"], organization_arns=[world["organization"]["arn"]]
    )
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)
    return key, err.value


INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."


def test_a_write_refused_for_a_deleted_principal_names_the_statement(stand_in, new_key, kms, world):
    key, error = _refused_write(stand_in, new_key, world, [ROOT, STALE_ALLOW, STALE_DENY], INVALID_PRINCIPALS)
    assert error.message == (
        f"KMS refused the key policy of {key['Arn']}: it names a principal that does not exist (MalformedPolicyDocumentException, "
        "invalid principals), and PutKeyPolicy only takes a whole policy, so no grant can be written until it is fixed. These "
        "statements that kms_org_grant did not write name principals by unique ID, which is how a key policy shows a role or user "
        f"that has been deleted: Sid 'LegacyApp': {GONE_ROLE}; statement 3 of 3 (no Sid): {GONE_USER}. Remove or correct that "
        "principal in the key policy (kms_org_grant never edits statements it did not write), then run again."
    )
    assert _kms.error_code(error.exception) == "MalformedPolicyDocumentException"
    assert json.loads(policy_text(kms, key["Arn"]))["Statement"] == [ROOT, STALE_ALLOW, STALE_DENY]


def test_a_write_refused_for_a_principal_names_the_roles_and_users_when_no_unique_id_is_there(stand_in, new_key, world):
    _key, error = _refused_write(stand_in, new_key, world, [ROOT, CONSOLE_USERS], INVALID_PRINCIPALS)
    assert (
        "these name IAM roles or users, one of which may have been deleted: Sid 'Allow use of the key': "
        f"arn:aws:iam::{MANAGEMENT}:role/App."
    ) in error.message


def test_a_write_refused_for_another_reason_keeps_its_message(stand_in, new_key, world):
    key, error = _refused_write(
        stand_in,
        new_key,
        world,
        [ROOT, STALE_ALLOW],
        "The new key policy will not allow you to update the key policy in the future.",
    )
    assert (
        error.message
        == f"Cannot write the key policy of {key['Arn']}: KMS refused the policy document (MalformedPolicyDocumentException)"
    )


def test_check_mode_warns_of_unique_ids_in_foreign_statements(run, stand_in, new_key, world):
    org = world["organization"]
    stale = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, STALE_ALLOW]})
    module = stand_in(DEFAULTS, key_id=stale["KeyId"], organization_arns=[org["arn"]], check_mode=True)
    assert kms_org_grant.ensure(module)["changed"]
    assert module.warnings == [
        f"The key policy of {stale['Arn']} names principals by unique ID in statements kms_org_grant did not write, which is how a "
        f"deleted role or user shows: Sid 'LegacyApp': {GONE_ROLE}. KMS may refuse the write (invalid principals); remove or correct "
        "those principals in the key policy first."
    ]
    # Role ARNs alone are no reason to warn, nor is a run that would write nothing.
    for policy, grants_first in (([ROOT, CONSOLE_USERS], False), ([ROOT, STALE_ALLOW], True)):
        key = new_key(policy={"Version": "2012-10-17", "Statement": policy})
        if grants_first:
            run(key_id=key["KeyId"], organization_arns=[org["arn"]])
        module = stand_in(DEFAULTS, key_id=key["KeyId"], organization_arns=[org["arn"]], check_mode=True)
        kms_org_grant.ensure(module)
        assert module.warnings == []


def test_a_key_read_earlier_in_the_run_is_not_described_again(run, new_key, world, emulator, calls):
    """The check returns the key's metadata (kms_keys); the grant given it (known_kms_keys) calls no DescribeKey."""
    key = new_key()
    args = dict(key_id=key["Arn"], organization_arns=[world["organization"]["arn"]])
    emulator.reset_calls()
    checked = run(check_mode=True, **args)
    (summary,) = checked["kms_keys"]
    assert (summary["arn"], summary["key_id"], summary["key_manager"], summary["key_state"]) == (
        key["Arn"],
        key["KeyId"],
        "CUSTOMER",
        "Enabled",
    )
    emulator.reset_calls()
    granted = run(known_kms_keys=checked["kms_keys"], **args)
    assert granted["changed"] and granted["kms_keys"] == checked["kms_keys"]
    assert "DescribeKey" not in kms_calls(calls) and kms_calls(calls)["PutKeyPolicy"] == 1


def test_a_known_key_is_judged_by_what_was_read(refused, new_key, world, emulator, calls):
    """What the earlier task read decides, as a described key would: a key read as disabled is refused before any call."""
    key = new_key()
    known = {"arn": key["Arn"], "key_id": key["KeyId"], "key_manager": "CUSTOMER", "key_state": "Disabled"}
    emulator.reset_calls()
    message = refused(key_id=key["Arn"], organization_arns=[world["organization"]["arn"]], known_kms_keys=[known])
    assert message.startswith(f"The key {key['Arn']!r} ({key['Arn']}) is Disabled")
    assert kms_calls(calls) == {}


def test_a_key_of_another_account_read_earlier_is_not_described_again(
    stand_in, new_key, member, world, emulator, calls
):
    key = new_key(client=member.kms)
    known = {
        "arn": key["Arn"],
        "key_id": key["KeyId"],
        "aws_account_id": member.id,
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
    }
    emulator.reset_calls()
    module = _foreign_module(
        stand_in,
        member,
        "answers",
        key_id=key["Arn"],
        organization_arns=[world["organization"]["arn"]],
        foreign_key="report",
        known_kms_keys=[known],
    )
    result = kms_org_grant.ensure(module)
    assert result["owner_account_id"] == member.id and result["key_state"] == "Enabled"
    assert [entry["arn"] for entry in result["kms_keys"]] == [key["Arn"]]
    assert kms_calls(calls) == {}
