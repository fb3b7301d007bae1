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

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant

DEFAULTS = dict(key_id=None, organization_arns=[], organizational_unit_arns=[], organizational_unit_paths=[], state="present", purge=False,
                grant_for_aws_resource_only=True, statement_id_prefix="OrgShare")
USE = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}
# Statements an operator wrote; their text (key order, lone strings, booleans) must survive as it is.
CUSTOM_DENY = {"Sid": "DenyOutsideTheVpc", "Effect": "Deny", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}, "Bool": {"aws:ViaAWSService": False}}}
CUSTOM_ALLOW = {"Principal": {"AWS": ["arn:aws:iam::123456789012:role/KeyAdmin", "arn:aws:iam::123456789012:user/ops"]},
                "Effect": "Allow", "Resource": "*", "Action": ["kms:Describe*", "kms:Put*", "kms:Enable*"]}


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
def run(stand_in):
    """Run the module's logic and return its result."""

    def invoke(**kwargs):
        return kms_org_grant.ensure(stand_in(DEFAULTS, **kwargs))

    return invoke


@pytest.fixture
def refused(run):
    def invoke(**kwargs):
        with pytest.raises(OrgShareError) as err:
            run(**kwargs)
        return err.value.message

    return invoke


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
    use = {"Sid": f"{prefix}{kind}Use", "Effect": "Allow", "Principal": "*", "Action": USE, "Resource": "*",
           "Condition": {operator: {key: list(values)}}}
    grant = {"Sid": f"{prefix}{kind}CreateGrant", "Effect": "Allow", "Principal": "*", "Action": ["kms:CreateGrant"], "Resource": "*",
             "Condition": {operator: {key: list(values)}}}
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
    args = dict(key_id=key["Arn"], organization_arns=[org["arn"]], organizational_unit_arns=[world["organizational_units"]["Root/Workloads/Prod"]["arn"]],
                diff=True)
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
    assert real["added"] == {"organization_ids": [org["id"]], "principal_org_paths": [pattern(world, "Root/Workloads/Prod")]}
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
    result = run(key_id=new_key()["KeyId"], organization_arns=["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"], check_mode=True)
    assert result["changed"] and "diff" not in result


# --- foreign statements, grants, purge, absent -----------------------------------------------


def test_custom_deny_and_allow_statements_are_kept_and_absent_restores_them(run, new_key, kms, world):
    written = json.dumps({"Version": "2012-10-17", "Id": "custom", "Statement": [ROOT, CUSTOM_DENY, CUSTOM_ALLOW]}, separators=(",", ":"))
    key = new_key(policy=written, alias=True)
    ou = world["organizational_units"]["Root/Security"]

    granted = run(key_id=key["Alias"], organizational_unit_arns=[ou["arn"]])
    assert granted["changed"] and granted["key_id"] == key["KeyId"]
    after = policy_of(kms, key["Arn"])
    assert [json.dumps(statement) for statement in after["Statement"][:3]] == \
        [json.dumps(statement) for statement in (ROOT, CUSTOM_DENY, CUSTOM_ALLOW)]
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
    result = run(key_id=key["KeyId"], organizational_unit_paths=[exact], organizational_unit_arns=[units["Root/Sandbox/Prod"]["arn"]],
                 organization_arns=[org["arn"]])
    values = [pattern(world, "Root/Sandbox/Prod"), exact]
    assert result["added"] == {"organization_ids": [org["id"]], "principal_org_paths": values}
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + ou_statements(values)
    assert exact.startswith(f"{org['id']}/{org['root_id']}/")

    # Another OU later joins the same statements.
    more = run(key_id=key["KeyId"], organizational_unit_arns=[units["Root/Workloads/Dev"]["arn"]])
    assert more["added"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Dev")]}
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + ou_statements(values + [pattern(world, "Root/Workloads/Dev")])


def test_absent_takes_out_only_the_listed(run, new_key, kms, world):
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_DENY]})
    units = world["organizational_units"]
    org = world["organization"]
    run(key_id=key["KeyId"], organization_arns=[org["arn"]], organizational_unit_arns=[units["Root/Security"]["arn"], units["Root/Workloads/Dev"]["arn"]])

    result = run(key_id=key["KeyId"], organizational_unit_arns=[units["Root/Security"]["arn"]], organization_arns=[org["arn"]], state="absent")
    assert result["changed"]
    assert result["removed"] == {"organization_ids": [org["id"]], "principal_org_paths": [pattern(world, "Root/Security")]}
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT, CUSTOM_DENY] + ou_statements([pattern(world, "Root/Workloads/Dev")])


def test_purge_keeps_foreign_statements(stand_in, new_key, kms, world):
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, CUSTOM_ALLOW]})
    units = world["organizational_units"]
    org = world["organization"]
    kms_org_grant.ensure(stand_in(DEFAULTS, key_id=key["KeyId"], organization_arns=[org["arn"]],
                                  organizational_unit_arns=[units["Root/Security"]["arn"], units["Root/Workloads/Dev"]["arn"]]))

    module = stand_in(DEFAULTS, key_id=key["KeyId"], organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]], purge=True)
    result = kms_org_grant.ensure(module)
    assert result["changed"]
    assert result["added"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Prod")]}
    assert result["removed"] == {"organization_ids": [org["id"]],
                                 "principal_org_paths": [pattern(world, "Root/Security"), pattern(world, "Root/Workloads/Dev")]}
    assert policy_of(kms, key["Arn"])["Statement"] == [ROOT, CUSTOM_ALLOW] + ou_statements([pattern(world, "Root/Workloads/Prod")])
    assert module.warnings == []

    # purge has no meaning with absent: a warning, and only the listed OU goes.
    module = stand_in(DEFAULTS, key_id=key["KeyId"], organizational_unit_arns=[units["Root/Security"]["arn"]], state="absent", purge=True)
    assert not kms_org_grant.ensure(module)["changed"]
    assert module.warnings == ["purge only applies with state=present; it is ignored with state=absent."]
    assert policy_of(kms, key["Arn"])["Statement"][2:] == ou_statements([pattern(world, "Root/Workloads/Prod")])


def test_grant_for_aws_resource_only_can_be_lifted_and_restored(run, new_key, kms, world):
    key = new_key()
    org = world["organization"]
    run(key_id=key["KeyId"], organization_arns=[org["arn"]])
    lifted = run(key_id=key["KeyId"], organization_arns=[org["arn"]], grant_for_aws_resource_only=False)
    assert lifted["changed"]
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]], only_for_aws=False)
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
    assert policy_of(kms, key["Arn"])["Statement"][1:] == org_statements([org["id"]]) + \
        _statements("Ou", "ForAnyValue:StringLike", "aws:PrincipalOrgPaths", [pattern(world, "Root/Workloads/Prod")], True, prefix="Team2")


def test_semantically_equal_policy_is_not_rewritten(run, new_key, kms, world, emulator, calls):
    # The grant written by hand, compactly, with lone strings, reordered values, true and {"AWS": "*"}.
    org = world["organization"]
    use, grant = org_statements([org["id"]])
    use = dict(use, Action=list(reversed(USE)), Principal={"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": org["id"]}})
    grant = dict(grant, Action="kms:CreateGrant", Condition={"Bool": {"kms:GrantIsForAWSResource": True}, "StringEquals": {"aws:PrincipalOrgID": [org["id"]]}})
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
    "AWS-managed key": (lambda world: dict(key_id="alias/aws/ebs"),
                        lambda world: ["'alias/aws/ebs'", _special(world, "aws_managed")["key_arn"], "AWS-managed key", "ami_region_copy"]),
    "disabled key": (lambda world: dict(key_id=_special(world, "disabled")["alias"]),
                     lambda world: [_special(world, "disabled")["key_arn"], "is Disabled", "EnableKey"]),
    "key pending deletion": (lambda world: dict(key_id=_special(world, "pending_deletion")["alias"]),
                             lambda world: [_special(world, "pending_deletion")["key_arn"], "is PendingDeletion", "CancelKeyDeletion"]),
    "key pending deletion, absent": (lambda world: dict(key_id=_special(world, "pending_deletion")["alias"], state="absent"),
                                     lambda world: ["is PendingDeletion"]),
    "AWS-managed key, absent": (lambda world: dict(key_id=_special(world, "aws_managed")["key_id"], state="absent"),
                                lambda world: ["AWS-managed key"]),
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
    assert "no such key or alias in this region" in refused(key_id=elsewhere["Alias"], organization_arns=[world["organization"]["arn"]])
    assert "no such key or alias" in refused(key_id=elsewhere["Arn"], organization_arns=[world["organization"]["arn"]])


@pytest.mark.parametrize(
    "args, fragments",
    [
        (dict(organization_arns=["o-a1b2c3d4e5"]), ["'o-a1b2c3d4e5' is a bare organization ID", "org_arn_info"]),
        (dict(organizational_unit_arns=["ou-ab12-cd34ef56"]), ["'ou-ab12-cd34ef56' is a bare OU ID", "org_arn_info"]),
        (dict(organizational_unit_paths=["ou-ab12-cd34ef56"]), ["'ou-ab12-cd34ef56' is not an aws:PrincipalOrgPaths value"]),
        (dict(organization_arns=["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"], statement_id_prefix="Org-Share"),
         ["statement_id_prefix 'Org-Share'"]),
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
    padding = {"Sid": "Padding", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
               "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-"}}}
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
        assert f"The key policy of {key['Arn']} would be {would_be} bytes even as compact JSON, over the 32768-byte limit" \
            in message
        assert f"the managed statements take {would_be - 32500} bytes (2 statement(s) for 1 organization(s) and 0 OU path(s))" \
            in message
        assert "the rest of the policy takes 32500 bytes" in message
        assert "Grant a parent OU or the whole organization" in message
    assert "PutKeyPolicy" not in kms_calls(calls)
    assert policy_text(kms, key["Arn"]) == before


def test_a_policy_that_fits_only_compactly_is_written_compactly(run, new_key, kms, world, emulator, calls):
    # 30.5 KB of many short values, as KMS keeps it; indented, the same policy with a grant would be over 44 KB.
    padding = {"Sid": "Padding", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
               "Condition": {"StringEquals": {"aws:SourceVpce": [f"vpce-{number:017x}" for number in range(1000)]}}}
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

BREAK_GLASS_DENY = {"Sid": "OrgShareBreakGlassDeny", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-evilevil00"}}}
CONSOLE_ADMINS = {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
                  "Principal": {"AWS": "arn:aws:iam::123456789012:role/KeyAdmin"},
                  "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                             "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
                  "Resource": "*"}
CONSOLE_USERS = {"Sid": "Allow use of the key", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/App"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                 "Resource": "*"}


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
    allow_statements = _statements("Ou", "ForAnyValue:StringLike", "aws:PrincipalOrgPaths", [pattern(world, "Root/Workloads/Prod")],
                                   True, prefix="Allow")
    assert policy_of(kms, key["Arn"])["Statement"] == original["Statement"] + allow_statements
    purged = run(key_id=key["Arn"], purge=True, statement_id_prefix="Allow")
    assert purged["removed"] == {"organization_ids": [], "principal_org_paths": [pattern(world, "Root/Workloads/Prod")]}
    assert policy_of(kms, key["Arn"]) == original


@pytest.mark.parametrize("state", ["present", "absent"])
def test_an_owned_sid_of_another_shape_is_refused_before_any_write(state, refused, new_key, kms, world, emulator, calls):
    impostor = {"Sid": "OrgShareOuUse", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*", "Resource": "*"}
    key = new_key(policy={"Version": "2012-10-17", "Statement": [ROOT, impostor]})
    before = policy_text(kms, key["Arn"])
    emulator.reset_calls()
    for check_mode in (True, False):
        message = refused(key_id=key["Arn"], organizational_unit_arns=[world["organizational_units"]["Root/Security"]["arn"]],
                          state=state, check_mode=check_mode)
        for fragment in (f"The key policy of {key['Arn']}", "statement 2 of 2, Sid 'OrgShareOuUse'",
                         'its Principal is {"AWS":"arn:aws:iam::123456789012:root"}, not "*"', 'its Action "kms:*"',
                         "Condition is null", "Rename or remove that statement, or choose another statement_id_prefix"):
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
        module.client = lambda service, region=None, config=None: emulator.client(service, region=region or module.region, config=no_botocore_retries)
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
    assert len(slept) >= sum(throttled.values())  # each throttle was retried after a backoff (plus the confirming pauses)
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
    module = _module_with(stand_in, lambda client: KmsProxy(client, shared=shared, **{hook: rival_writes}),
                          key_id=key["Arn"], organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]])
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

    module = _module_with(stand_in, proxy_of, key_id=key["Arn"], organizational_unit_arns=[units["Root/Workloads/Prod"]["arn"]])
    with pytest.raises(OrgShareError) as err:
        kms_org_grant.ensure(module)
    assert f"The key policy of {key['Arn']} kept being replaced by another writer: {_kms.WRITE_ATTEMPTS} writes" in err.value.message
    assert sum(proxy.puts for proxy in proxies) == _kms.WRITE_ATTEMPTS  # the writes go through the module's writing client
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
            module = _module_with(stand_in, lambda client: KmsProxy(client, after_get=hold_after_first_read),
                                  key_id=key["Arn"], organizational_unit_arns=[units[path]["arn"]])
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
    (paths,) = {tuple(sorted(statement["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"])) for statement in after["Statement"][2:]}
    assert paths == tuple(sorted(pattern(world, path) for path in jobs))
    assert [statement.get("Sid") for statement in after["Statement"]] == [ROOT["Sid"], None, "OrgShareOuUse", "OrgShareOuCreateGrant"]
