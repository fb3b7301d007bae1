# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the API modules share: the partition of a region, from botocore's partition data."""

import botocore.session
import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _api


@pytest.mark.parametrize(
    "region, partition",
    [
        ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of_region(region, partition):
    assert _api.partition_of_region(region) == partition


def test_every_partition_botocore_knows_is_known():
    # Partitions AWS adds (aws-iso-e, aws-iso-f, aws-eusc in botocore 1.44) come with botocore, not a list of ours.
    session = botocore.session.get_session()
    pairs = [(region, partition) for partition in session.get_available_partitions()
             for region in session.get_available_regions("ec2", partition_name=partition)]
    assert len({partition for _region, partition in pairs}) >= 5
    assert [(region, _api.partition_of_region(region)) for region, _partition in pairs] == pairs


@pytest.mark.parametrize("region", ["xx-nowhere-1", None])
def test_a_region_botocore_does_not_know_has_no_partition(region):
    assert _api.partition_of_region(region) is None
