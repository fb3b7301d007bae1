# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""docs/iam-policy.json is enough, and every action in it that the emulator can check is needed.

The modules run in the order the share_ami role runs them (resolve, check, copy,
grant, share, then unshare and revoke) against the emulator with IAM enforced,
as an IAM user holding the policy. Dropping any one checked action makes the run
fail with a message that names that action.
"""

import contextlib
import copy
import json
import os
import uuid

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.modules import ami_org_share
from ansible_collections.orgshare.aws.plugins.modules import ami_region_copy
from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant
from ansible_collections.orgshare.aws.plugins.modules import org_arn_info

from ansible_collections.orgshare.aws.tests.unit.plugins.modules.conftest import defaults_of

POLICY_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "iam-policy.json")
with open(POLICY_PATH, encoding="utf-8") as handle:
    POLICY = json.load(handle)

# Needed in AWS, but not called by the collection itself, so the emulator cannot check them:
# CreateTags is authorized as part of CopyImage's TagSpecifications, and EC2 uses the KMS
# actions on the caller's behalf while copying encrypted snapshots (see docs/iam-policy.md).
# The EBS encryption-by-default reads are made only for a copy without kms_key_id, which this run
# (copies re-encrypted with the region's key, as the role makes them) does not make.
NOT_CHECKABLE = {
    "ec2:CreateTags",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncrypt*",
    "ec2:GetEbsEncryptionByDefault",
    "ec2:GetEbsDefaultKmsKeyId",
}
CALLED = {
    "organizations:DescribeOrganization",
    "organizations:ListRoots",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListParents",
    "organizations:DescribeOrganizationalUnit",
    "ec2:DescribeImages",
    "ec2:DescribeSnapshots",
    "ec2:DescribeImageAttribute",
    "ec2:ModifyImageAttribute",
    "ec2:CopyImage",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
}
# Without these, org_arn_info still returns the OU ARNs (as it must for member accounts) and
# warns, naming the action, that full paths are unknown: the run goes on with o-x/*/ou-y/*.
DEGRADES_WITHOUT = {"organizations:ListParents", "organizations:DescribeOrganizationalUnit"}


def policy_actions(policy):
    return {
        action
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }


def without(policy, dropped):
    """The policy with one action taken out."""
    narrowed = copy.deepcopy(policy)
    for statement in narrowed["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        statement["Action"] = [action for action in actions if action != dropped]
    narrowed["Statement"] = [statement for statement in narrowed["Statement"] if statement["Action"]]
    return narrowed


@pytest.fixture
def iam_user(emulator):
    """Credentials of a new IAM user holding ``policy``."""

    def make(policy):
        iam = emulator.client("iam")
        name = f"orgshare-runner-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="orgshare", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    return make


@pytest.fixture
def estate(emulator, world):
    """A fresh encrypted image and fresh keys in two regions, so that every step has work to do."""
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    keys = {
        region: emulator.client("kms", region=region).create_key(Description="iam test")["KeyMetadata"]["Arn"]
        for region in ("us-east-1", "eu-west-1")
    }
    image = create_image(
        emulator.client("ec2"), f"iam-test-{uuid.uuid4().hex[:12]}", encrypted=True, kms_key_id=keys["us-east-1"]
    )
    # An OU outside the path walked for Root/Workloads/Prod, so its parent and name are really looked up.
    return {
        "image_id": image["image_id"],
        "keys": keys,
        "ou_id": world["organizational_units"]["Root/Sandbox/Prod"]["id"],
    }


@contextlib.contextmanager
def enforced(emulator):
    emulator.settings(enforce_iam=True)
    try:
        yield
    finally:
        emulator.settings(enforce_iam=False)


def run_like_the_role(stand_in, credentials, estate):
    """The role's steps, module by module: resolve, check, copy, grant, share, unshare, revoke. Returns the warnings."""
    modules = []

    def module(defaults, **params):
        modules.append(stand_in(defaults, credentials=credentials, **params))
        return modules[-1]

    resolved = org_arn_info.describe_arns(
        module(defaults_of(org_arn_info), organizational_units=["Root/Workloads/Prod", estate["ou_id"]])
    )
    ou_arns = [unit["arn"] for unit in resolved["organizational_units"]]
    paths = [unit["principal_org_paths"] for unit in resolved["organizational_units"]]
    share = dict(defaults_of(ami_org_share), max_concurrency=2)
    grant = defaults_of(kms_org_grant)
    source = ami_org_share.ensure(
        module(
            share, image_ids=[estate["image_id"]], organizational_unit_arns=ou_arns, state="present", check_mode=True
        )
    )
    copy_defaults = dict(defaults_of(ami_region_copy), wait_timeout=30)
    copied = ami_region_copy.ensure(
        module(
            copy_defaults,
            region="eu-west-1",
            source_image_id=estate["image_id"],
            source_region="us-east-1",
            kms_key_id=estate["keys"]["eu-west-1"],
        )
    )
    for region, key in (("us-east-1", source["kms_key_arns"][0]), ("eu-west-1", copied["kms_key_arn"])):
        kms_org_grant.ensure(module(grant, region=region, key_id=key, organizational_unit_paths=paths, state="present"))
    for region, image_id in (("us-east-1", estate["image_id"]), ("eu-west-1", copied["image_id"])):
        ami_org_share.ensure(
            module(share, region=region, image_ids=[image_id], organizational_unit_arns=ou_arns, state="present")
        )
        unshared = ami_org_share.ensure(
            module(share, region=region, image_ids=[image_id], organizational_unit_arns=ou_arns, state="absent")
        )
        kms_org_grant.ensure(
            module(
                grant,
                region=region,
                key_id=unshared["kms_key_arns"][0],
                organizational_unit_paths=paths,
                state="absent",
            )
        )
    return [warning for used in modules for warning in used.warnings]


def test_the_lists_cover_the_policy_exactly():
    assert policy_actions(POLICY) == CALLED | NOT_CHECKABLE
    assert not CALLED & NOT_CHECKABLE


def test_the_policy_is_enough_for_the_whole_workflow(stand_in, iam_user, estate, emulator):
    credentials = iam_user(POLICY)
    with enforced(emulator):
        warnings = run_like_the_role(stand_in, credentials, estate)
    assert warnings == []
    launch = emulator.client("ec2").describe_image_attribute(ImageId=estate["image_id"], Attribute="launchPermission")[
        "LaunchPermissions"
    ]
    assert launch == []  # shared, then unshared again, as that user


def test_without_the_policy_nothing_works(stand_in, iam_user, estate, emulator):
    credentials = iam_user(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
        }
    )
    with enforced(emulator), pytest.raises(OrgShareError) as err:
        run_like_the_role(stand_in, credentials, estate)
    assert "organizations:DescribeOrganization" in err.value.message


@pytest.mark.parametrize("dropped", sorted(CALLED - DEGRADES_WITHOUT))
def test_every_checked_action_is_needed(stand_in, iam_user, estate, emulator, dropped):
    credentials = iam_user(without(POLICY, dropped))
    with enforced(emulator), pytest.raises(OrgShareError) as err:
        run_like_the_role(stand_in, credentials, estate)
    assert f"it needs {dropped}" in err.value.message


@pytest.mark.parametrize("dropped", sorted(DEGRADES_WITHOUT))
def test_without_tree_reads_the_run_warns_naming_the_action(stand_in, iam_user, estate, emulator, dropped):
    credentials = iam_user(without(POLICY, dropped))
    with enforced(emulator):
        warnings = run_like_the_role(stand_in, credentials, estate)
    (warning,) = warnings
    assert f"it needs {dropped}" in warning and "o-x/*/ou-y/*" in warning
