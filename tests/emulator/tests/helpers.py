"""Helpers of the emulator's own tests."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# One attempt, no botocore retries: an injected or emulated error reaches the test as is.
# (botocore's own retry handler would otherwise retry throttles and 5xx; the collection's
# AWSRetry retries come on top of those.)
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def client(service: str, region: str = "us-east-1", **credentials: Any) -> Any:
    """An in-process (mock_aws) client without retries."""
    return _client(service, region, tuple(sorted(credentials.items())))


@functools.lru_cache(maxsize=None)
def _client(service: str, region: str, credentials: tuple) -> Any:
    # Creating a botocore client costs ~0.1 s; moto intercepts cached clients in every test alike.
    return boto3.client(service, region_name=region, config=NO_RETRIES, **dict(credentials))


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call and return the error botocore parsed (the call must fail): Code, Message, HTTP status."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return {**response["Error"], "status": response["ResponseMetadata"]["HTTPStatusCode"]}


def assume(account_id: str) -> dict[str, str]:
    """boto3 credentials of ``account_id`` (STS AssumeRole, in-process)."""
    credentials = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="emulator-tests"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
