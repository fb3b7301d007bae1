# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the API modules share: the partition of a region, from botocore's partition data; the error handler every call
goes through; calls side by side."""

import botocore.exceptions
import botocore.session
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


@pytest.mark.parametrize(
    "region, partition",
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of_region(region, partition):
    assert _api.partition_of_region(region) == partition


def test_every_partition_botocore_knows_is_known():
    # Partitions AWS adds (aws-iso-e, aws-iso-f, aws-eusc in botocore 1.44) come with botocore, not a list of ours.
    session = botocore.session.get_session()
    pairs = [
        (region, partition)
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    ]
    assert len({partition for _region, partition in pairs}) >= 5
    assert [(region, _api.partition_of_region(region)) for region, _partition in pairs] == pairs


@pytest.mark.parametrize("region", ["xx-nowhere-1", None])
def test_a_region_botocore_does_not_know_has_no_partition(region):
    assert _api.partition_of_region(region) is None


# --- the error handler: one decorator per AWS call ---------------------------------------------------------


class Client:
    """What api_call reads of a boto3 client: its region and its service's endpoint prefix."""

    class meta:  # pylint: disable=invalid-name,too-few-public-methods
        region_name = "eu-west-1"

        class service_model:  # pylint: disable=invalid-name,too-few-public-methods
            endpoint_prefix = "ec2"


def client_error(code, message="it went wrong", operation="DescribeImages"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Special(OrgShareError):
    """An exception type a rule raises."""


NOT_FOUND = _api.ErrorRule("InvalidAMIID.NotFound", "Cannot {what}: no such image in {region} ({code}).", Special)


@_api.api_call("describe image {0} for {1}", (NOT_FOUND,))
def failing_call(client, image_id, who, error=None):  # pylint: disable=unused-argument
    raise error


def test_an_unmatched_error_fails_as_amazon_aws_handlers_do_with_the_arguments_in_the_description():
    """The message is amazon.aws's ("Failed to <description>"), the exception an AnsibleAWSError carrying botocore's."""
    error = client_error("SomethingElse")
    with pytest.raises(OrgShareError) as err:
        failing_call(Client(), "ami-1", "me", error)
    assert err.value.__class__ is OrgShareError and isinstance(err.value, AnsibleAWSError)
    assert err.value.message == "Failed to describe image ami-1 for me" and err.value.exception is error
    assert _api.ErrorHandler._CUSTOM_EXCEPTION is OrgShareError  # pylint: disable=protected-access
    assert issubclass(_api.ErrorHandler, AWSErrorHandler)


def test_a_rule_gives_its_code_a_message_and_an_exception_type():
    with pytest.raises(Special) as err:
        failing_call(Client(), "ami-1", "me", client_error("InvalidAMIID.NotFound"))
    assert err.value.message == "Cannot describe image ami-1 for me: no such image in eu-west-1 (InvalidAMIID.NotFound)"


def test_a_denial_names_the_iam_action_the_policy_may_lack():
    with pytest.raises(OrgShareError) as err:
        failing_call(Client(), "ami-1", "me", client_error("UnauthorizedOperation"))
    assert err.value.message == (
        "Failed to describe image ami-1 for me (if the caller's IAM policy is what denies it, it needs "
        "ec2:DescribeImages; see docs/iam-policy.json)"
    )


def test_a_botocore_error_without_a_response_fails_alike():
    error = botocore.exceptions.EndpointConnectionError(endpoint_url="https://ec2.eu-west-1.amazonaws.com")
    with pytest.raises(OrgShareError) as err:
        failing_call(Client(), "ami-1", "me", error)
    assert err.value.message == "Failed to describe image ami-1 for me" and err.value.exception is error


def test_map_bounded_keeps_the_order_and_every_failure_and_raise_first_error_raises_the_first():
    def half(number):
        if number % 2:
            raise ValueError(f"odd {number}")
        return number // 2

    outcomes = _api.map_bounded(half, range(6), 3)
    assert [(outcome.item, outcome.value) for outcome in outcomes if outcome.error is None] == [(0, 0), (2, 1), (4, 2)]
    assert [str(outcome.error) for outcome in outcomes if outcome.error is not None] == ["odd 1", "odd 3", "odd 5"]
    with pytest.raises(ValueError, match="odd 1"):
        _api.raise_first_error(outcomes)
    _api.raise_first_error(_api.map_bounded(half, [0, 2], 1))  # nothing failed: nothing raised
