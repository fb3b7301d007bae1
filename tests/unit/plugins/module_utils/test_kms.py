# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The KMS calls' error messages against the emulator: a key that is not found names the region it was looked for in."""

import uuid

import pytest

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
    assert message.startswith(f"Cannot describe KMS key {alias}: no such key or alias in this region (eu-west-1; NotFoundException).")
    assert "the key must be in eu-west-1, the region of the images or of the copy it encrypts" in message
    assert "a multi-Region key needs its replica in eu-west-1" in message
    assert calls()["kms"] == {"DescribeKey": 1}


def test_key_of_another_region_is_not_found_in_this_one(emulator, world):
    home_key = world["keys"]["us-east-1"]["key_arn"]
    for region in ("eu-west-1", "us-east-1"):
        # The same alias exists in both regions: each region's own key answers it.
        assert _kms.describe_key(kms_in(emulator, region), world["keys"][region]["alias"])["Arn"] == world["keys"][region]["key_arn"]
    message = not_found(kms_in(emulator, "eu-west-1"), home_key)
    assert f"Cannot describe KMS key {home_key}: no such key or alias in this region (eu-west-1; NotFoundException)." in message
    assert "us-east-1" not in message.replace(home_key, "")  # the region named is where the key was looked for


def test_multi_region_key_without_a_replica_here(emulator):
    primary = kms_in(emulator, "us-east-1").create_key(Description="orgshare multi-Region key", MultiRegion=True)["KeyMetadata"]
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
