# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a key's metadata means (_keys): one decision each, whichever module, planner or audit asks."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _keys

# The states DescribeKey reports (AWS KMS API Reference, KeyMetadata.KeyState).
ALL_STATES = (
    "Creating",
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Updating",
)


@pytest.mark.parametrize(
    "manager, aws, customer", [("AWS", True, False), ("CUSTOMER", False, True), (None, False, False)]
)
def test_who_manages_the_key(manager, aws, customer):
    metadata = {"KeyManager": manager} if manager else {}
    assert (_keys.is_aws_managed(metadata), _keys.is_customer_managed(metadata)) == (aws, customer)
    assert not _keys.is_aws_managed(None) and not _keys.is_customer_managed(None)


@pytest.mark.parametrize("state", ALL_STATES)
def test_which_states_make_a_key_useless_and_which_let_a_copy_be_encrypted(state):
    metadata = {"KeyState": state}
    useless = state in ("Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable")
    assert _keys.unusable_state(metadata) == (state if useless else None)
    assert _keys.can_encrypt_now(metadata) is (state == "Enabled")
    if useless:
        assert _keys.UNUSABLE_STATE_FIXES[state].endswith("first")


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}, None),
        ({}, None),  # DescribeKey always reports both; without them, the default key
        (
            {"CustomerMasterKeySpec": "RSA_4096", "KeyUsage": "ENCRYPT_DECRYPT"},
            "has KeySpec RSA_4096 and KeyUsage ENCRYPT_DECRYPT",
        ),
        (
            {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "GENERATE_VERIFY_MAC"},
            "has KeySpec SYMMETRIC_DEFAULT and KeyUsage GENERATE_VERIFY_MAC",
        ),
    ],
)
def test_key_spec_problem(metadata, expected):
    problem = _keys.key_spec_problem(
        dict(metadata, Arn="arn:aws:kms:eu-west-1:111122223333:key/k"), "alias/k", "eu-west-1"
    )
    if expected is None:
        assert problem is None
    else:
        assert problem.startswith(
            f"The key 'alias/k' (arn:aws:kms:eu-west-1:111122223333:key/k) in eu-west-1 {expected}: Amazon EBS"
        )
