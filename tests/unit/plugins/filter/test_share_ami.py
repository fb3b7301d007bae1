# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The share_ami role's filters: role variables as lists, and the copies of each source in a region."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.filter.share_ami import FilterModule
from ansible_collections.orgshare.aws.plugins.filter.share_ami import as_list
from ansible_collections.orgshare.aws.plugins.filter.share_ami import copies_of
from ansible_collections.orgshare.aws.plugins.filter.share_ami import owner_grant

SOURCE_A = "ami-0aaaaaaaaaaaaaaaa"
SOURCE_B = "ami-0bbbbbbbbbbbbbbbb"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("us-east-1", ["us-east-1"]),
        ("us-east-1,eu-west-1", ["us-east-1", "eu-west-1"]),
        (["us-east-1"], ["us-east-1"]),
        ([], []),
        (7, ["7"]),
    ],
)
def test_as_list_takes_what_list_options_take(value, expected):
    assert as_list(value, "share_ami_regions") == expected


@pytest.mark.parametrize("value", [{"first": "ami-1"}, None])
def test_as_list_refuses_the_rest_naming_the_variable(value):
    with pytest.raises(AnsibleFilterError) as err:
        as_list(value, "share_ami_image_ids")
    assert "share_ami_image_ids must be a list" in str(err.value)


def info_image(image_id, source, state="available", created="2026-11-01T00:00:00.000Z", source_region="us-east-1"):
    """An image as amazon.aws.ec2_ami_info returns it (snake_case, tags as a dict)."""
    tags = {"orgshare:source-image-id": source, "orgshare:source-region": source_region, "team": "platform"}
    return {"image_id": image_id, "state": state, "creation_date": created, "tags": tags}


def test_copies_of_follows_the_one_copy_rule():
    images = [
        info_image("ami-00000000000000001", SOURCE_A, state="failed", created="2026-12-01T00:00:00.000Z"),
        info_image("ami-00000000000000002", SOURCE_A, created="2026-10-01T00:00:00.000Z"),
        info_image("ami-00000000000000003", SOURCE_A, created="2026-11-01T00:00:00.000Z"),
        info_image("ami-00000000000000004", SOURCE_B, state="pending"),
        info_image("ami-00000000000000005", SOURCE_B, source_region="eu-central-1"),
        {"image_id": "ami-00000000000000006", "state": "available", "tags": {}},
    ]
    assert copies_of(images, [SOURCE_B, SOURCE_A], "us-east-1") == [
        {"source_image_id": SOURCE_B, "image_id": "ami-00000000000000004", "state": "pending"},
        {"source_image_id": SOURCE_A, "image_id": "ami-00000000000000003", "state": "available"},
        {"source_image_id": SOURCE_A, "image_id": "ami-00000000000000002", "state": "available"},
    ]


def test_copies_of_can_list_the_sources_first():
    images = [info_image("ami-00000000000000002", SOURCE_A)]
    assert copies_of(images, [SOURCE_A, SOURCE_B], "us-east-1", include_sources=True) == [
        {"source_image_id": SOURCE_A, "image_id": SOURCE_A, "state": None},
        {"source_image_id": SOURCE_A, "image_id": "ami-00000000000000002", "state": "available"},
        {"source_image_id": SOURCE_B, "image_id": SOURCE_B, "state": None},
    ]
    assert copies_of(None, [SOURCE_A], "us-east-1") == []


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"as_list", "copies_of", "owner_grant"}


FOREIGN_RESULT = {
    "changed": False, "key_arn": "arn:aws:kms:eu-west-1:444455556666:key/k", "owner_account_id": "444455556666",
    "owner_statements": [{"Sid": "OrgShareOrgUse"}], "owner_task": {"key_id": "arn:aws:kms:eu-west-1:444455556666:key/k"},
    "warnings": ["..."], "invocation": {"module_args": {}},
}


def test_owner_grant_keeps_what_the_owner_needs_and_the_region():
    assert owner_grant(FOREIGN_RESULT, "eu-west-1") == {
        "key_arn": "arn:aws:kms:eu-west-1:444455556666:key/k", "owner_account_id": "444455556666",
        "owner_statements": [{"Sid": "OrgShareOrgUse"}], "owner_task": {"key_id": "arn:aws:kms:eu-west-1:444455556666:key/k"},
        "region": "eu-west-1",
    }


def test_owner_grant_refuses_a_result_for_a_key_of_this_account():
    with pytest.raises(AnsibleFilterError, match="lacks owner_account_id, owner_statements, owner_task"):
        owner_grant({"changed": True, "key_arn": "arn:aws:kms:eu-west-1:111122223333:key/k"}, "eu-west-1")
