# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The KMS calls: error messages against the emulator (a key that is not found names the region it was
looked for in), and key-policy writes under stale reads and concurrent writers."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


def kms_in(emulator, region):
    return emulator.client("kms", region=region)


def not_found(client, key_id):
    with pytest.raises(_kms.KeyNotFound) as err:
        _kms.describe_key(client, key_id)
    return err.value.message


def test_missing_alias_names_the_region_and_the_fix(emulator, calls):
    alias = f"alias/orgshare-missing-{uuid.uuid4().hex[:8]}"
    message = not_found(kms_in(emulator, "eu-west-1"), alias)
    assert message.startswith(
        f"Cannot describe KMS key {alias}: no such key or alias in this region (eu-west-1; NotFoundException)."
    )
    assert "the key must be in eu-west-1, the region of the images or of the copy it encrypts" in message
    assert "a multi-Region key needs its replica in eu-west-1" in message
    assert calls()["kms"] == {"DescribeKey": 1}


def test_key_of_another_region_is_not_found_in_this_one(emulator, world):
    home_key = world["keys"]["us-east-1"]["key_arn"]
    for region in ("eu-west-1", "us-east-1"):
        # The same alias exists in both regions: each region's own key answers it.
        assert (
            _kms.describe_key(kms_in(emulator, region), world["keys"][region]["alias"])["Arn"]
            == world["keys"][region]["key_arn"]
        )
    message = not_found(kms_in(emulator, "eu-west-1"), home_key)
    assert (
        f"Cannot describe KMS key {home_key}: no such key or alias in this region (eu-west-1; NotFoundException)."
        in message
    )
    assert "us-east-1" not in message.replace(home_key, "")  # the region named is where the key was looked for


def test_multi_region_key_without_a_replica_here(emulator):
    primary = kms_in(emulator, "us-east-1").create_key(Description="orgshare multi-Region key", MultiRegion=True)[
        "KeyMetadata"
    ]
    message = not_found(kms_in(emulator, "eu-west-1"), primary["Arn"])
    assert "(eu-west-1; NotFoundException)" in message and "replica in eu-west-1" in message


def test_other_rules_are_formatted_without_a_region(emulator, world):
    emulator.set_faults(rate=1.0, error="AccessDeniedException", services=["kms"], actions=["DescribeKey"])
    try:
        with pytest.raises(OrgShareError) as err:
            _kms.describe_key(kms_in(emulator, "eu-west-1"), world["keys"]["eu-west-1"]["key_arn"])
    finally:
        emulator.clear_faults()
    assert not isinstance(err.value, _kms.KeyNotFound)
    assert "access denied (AccessDeniedException)" in err.value.message
    assert "it needs kms:DescribeKey" in err.value.message


# --- writing under stale reads (KMS is eventually consistent) ------------------------------------

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ORG_ARN = "arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"
ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "kms:*",
    "Resource": "*",
}
RIVAL = {
    "Sid": "AddedByAnotherJob",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/ops"},
    "Action": "kms:Describe*",
    "Resource": "*",
}


class LaggingKms:
    """A KMS whose reads return the policy a write replaced for ``lag`` seconds of a fake clock after the write.

    ``rival`` (a statement) is added by another writer right after our first write, on top of what
    that writer saw (the policy before ours): the classic lost-update race, under a stale read.
    """

    def __init__(self, document, lag=0.0, rival=None):
        self.now = 0.0
        self.lag = lag
        self.versions = [(-1.0, json.dumps(document))]  # (written at, text)
        self.rival = rival
        self.puts = 0

    def sleep(self, seconds):
        self.now += seconds

    def put_key_policy(self, KeyId, PolicyName, Policy):  # pylint: disable=invalid-name,unused-argument
        self.puts += 1
        self.versions.append((self.now, Policy))
        if self.rival is not None and self.puts == 1:
            seen = json.loads(self.versions[-2][1])
            seen["Statement"] = seen["Statement"] + [self.rival]
            self.now += 0.1
            self.versions.append((self.now, json.dumps(seen)))

    def get_key_policy(self, KeyId, PolicyName):  # pylint: disable=invalid-name,unused-argument
        visible = [text for written, text in self.versions if written + self.lag <= self.now] or [self.versions[0][1]]
        return {"Policy": visible[-1]}

    @property
    def policy(self):
        return json.loads(self.versions[-1][1])


def grant(kms, document):
    requested = _key_policy.requested_principals(organization_arns=[ORG_ARN])

    def replan(current):
        return _key_policy.plan_key_policy(current, requested)

    plan = replan(json.dumps(document))
    return _kms.write_key_policy(kms, KEY_ARN, plan, replan, pause=(0.2, 0.2), sleep=kms.sleep, clock=lambda: kms.now)


def test_a_stale_read_after_the_write_is_waited_out_not_merged_onto():
    document = {"Version": "2012-10-17", "Statement": [ROOT]}
    kms = LaggingKms(document, lag=2.0)
    written = json.loads(grant(kms, document))
    assert kms.puts == 1  # at most 2 are allowed; waiting for the write to show needs none more
    assert [statement.get("Sid") for statement in written["Statement"]] == [
        ROOT["Sid"],
        "OrgShareOrgUse",
        "OrgShareOrgCreateGrant",
    ]
    assert kms.policy == written


def test_another_writer_is_never_lost_under_a_stale_read():
    document = {"Version": "2012-10-17", "Statement": [ROOT]}
    kms = LaggingKms(document, lag=2.0, rival=RIVAL)
    written = json.loads(grant(kms, document))
    assert kms.policy == written
    assert RIVAL in written["Statement"] and ROOT in written["Statement"]
    assert {"OrgShareOrgUse", "OrgShareOrgCreateGrant"} <= {statement.get("Sid") for statement in written["Statement"]}
    assert kms.puts == 2  # ours, then ours merged onto the other writer's


def test_a_write_that_never_shows_is_written_again_after_the_timeout():
    document = {"Version": "2012-10-17", "Statement": [ROOT]}
    kms = LaggingKms(document, lag=_kms.VISIBILITY_TIMEOUT + 5)
    written = json.loads(grant(kms, document))
    assert kms.puts == 2 and "OrgShareOrgUse" in json.dumps(written)


# --- refusals that name their cause ---------------------------------------------------------------


class RefusingKms(LaggingKms):
    """A KMS whose PutKeyPolicy is refused with MalformedPolicyDocumentException and ``message``."""

    def __init__(self, document, message):
        super().__init__(document)
        self.message = message

    def put_key_policy(self, KeyId, PolicyName, Policy):  # pylint: disable=invalid-name,unused-argument
        self.puts += 1
        raise ClientError(
            {"Error": {"Code": "MalformedPolicyDocumentException", "Message": self.message}}, "PutKeyPolicy"
        )


def test_a_write_refused_for_invalid_principals_carries_the_policy_it_was_merged_onto():
    stale = {
        "Sid": "Old",
        "Effect": "Allow",
        "Principal": {"AWS": "AROAJQABLZS4A3QDU576Q"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    document = {"Version": "2012-10-17", "Statement": [ROOT, stale]}
    kms = RefusingKms(document, "Policy contains a statement with one or more invalid principals.")
    with pytest.raises(_kms.PolicyRefusedForPrincipals) as err:
        grant(kms, document)
    assert (
        err.value.policy == document and kms.puts == 1
    )  # never written again: the same document would be refused again
    assert _kms.refused_for_invalid_principals(err.value)


def test_a_write_refused_for_another_reason_is_today_s_refusal():
    document = {"Version": "2012-10-17", "Statement": [ROOT]}
    kms = RefusingKms(document, "The key policy is not valid JSON")
    with pytest.raises(OrgShareError) as err:
        grant(kms, document)
    assert not isinstance(err.value, _kms.PolicyRefusedForPrincipals)
    assert (
        err.value.message
        == f"Cannot write the key policy of {KEY_ARN}: KMS refused the policy document (MalformedPolicyDocumentException)"
    )
    assert not _kms.refused_for_invalid_principals(err.value) and kms.puts == 1


@pytest.mark.parametrize(
    "code, refused", [("AccessDeniedException", True), ("NotFoundException", True), ("KMSInvalidStateException", False)]
)
def test_describe_refusals_of_another_account_s_key(code, refused):
    error = OrgShareError(
        "Cannot describe", exception=ClientError({"Error": {"Code": code, "Message": "no"}}, "DescribeKey")
    )
    assert _kms.describe_refusal(error) == (f"{code}: no" if refused else None)


def test_the_caller_s_account_comes_from_sts(emulator, world, calls):
    assert _kms.caller_account_id(emulator.client("sts")) == world["account_id"]
    member = world["member_account"]["id"]
    assert _kms.caller_account_id(emulator.client("sts", account_id=member)) == member
    assert calls()["sts"] == {"GetCallerIdentity": 2}


# -- KeyDirectory: each key described once per run, or taken as already read ------------------------------


def test_a_key_is_described_once_whatever_it_is_called_and_summarised_for_the_next_task(emulator, world, calls):
    key = world["keys"]["eu-west-1"]
    directory = _kms.KeyDirectory()
    client = kms_in(emulator, "eu-west-1")
    first = directory.describe(client, key["alias"])
    assert directory.describe(client, key["alias"]) is first
    assert directory.describe(client, key["key_arn"]) is first
    assert calls()["kms"] == {"DescribeKey": 1}
    (summary,) = directory.summaries()
    assert summary == {
        "key_id": first["KeyId"],
        "arn": key["key_arn"],
        "aws_account_id": first["AWSAccountId"],
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "key_spec": first.get("KeySpec"),
        "key_usage": first.get("KeyUsage"),
    }
    # The next task of the run takes the summary and describes nothing.
    following = _kms.KeyDirectory([summary])
    assert following.describe(client, key["key_arn"])["KeyManager"] == "CUSTOMER"
    assert following.summaries() == [summary]
    assert calls()["kms"] == {"DescribeKey": 1}


def test_an_alias_names_a_key_per_region(emulator, world, calls):
    directory = _kms.KeyDirectory()
    found = {
        region: directory.describe(kms_in(emulator, region), world["keys"][region]["alias"])["Arn"]
        for region in ("us-east-1", "eu-west-1")
    }
    assert found == {region: world["keys"][region]["key_arn"] for region in found}
    assert calls()["kms"] == {"DescribeKey": 2}
    assert [summary["arn"] for summary in directory.summaries()] == sorted(found.values())


def test_a_known_key_is_found_by_its_arn_only(emulator, world, calls):
    key = world["keys"]["eu-west-1"]
    known = {
        "arn": key["key_arn"],
        "key_id": key["key_arn"].rsplit("/", 1)[1],
        "key_manager": "CUSTOMER",
        "key_state": "Disabled",
    }
    directory = _kms.KeyDirectory([known])
    assert (
        directory.describe(kms_in(emulator, "eu-west-1"), key["key_arn"])["KeyState"] == "Disabled"
    )  # trusted as given
    assert calls().get("kms") is None
    assert (
        directory.describe(kms_in(emulator, "eu-west-1"), key["alias"])["KeyState"] == "Enabled"
    )  # an alias is looked up
    assert calls()["kms"] == {"DescribeKey": 1}


@pytest.mark.parametrize(
    "entry, missing",
    [
        ({"arn": "arn:aws:kms:eu-west-1:111122223333:key/k", "key_id": "k", "key_manager": "CUSTOMER"}, "key_state"),
        ({"key_id": "k", "key_manager": "CUSTOMER", "key_state": "Enabled"}, "arn"),
        ("arn:aws:kms:eu-west-1:111122223333:key/k", "arn, key_id, key_manager, key_state"),
    ],
)
def test_a_known_key_without_what_decisions_read_is_refused(entry, missing):
    with pytest.raises(OrgShareError) as err:
        _kms.KeyDirectory(
            [
                {
                    "arn": "arn:aws:kms:eu-west-1:111122223333:key/ok",
                    "key_id": "ok",
                    "key_manager": "CUSTOMER",
                    "key_state": "Enabled",
                },
                entry,
            ]
        )
    assert err.value.message.startswith(
        f"known_kms_keys entry 2 lacks {missing}: give the entries of kms_keys as a task"
    )
