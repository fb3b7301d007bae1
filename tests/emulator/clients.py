"""boto3 clients on the emulator's endpoint, for the emulator's users and for itself."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from .middleware import INTERNAL_HEADER

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account, the one the static keys belong to
STATIC_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": None}
DEFAULT_REGION = "us-east-1"
# The role assumed to act as another account (the one AWS Organizations creates in new accounts).
ACCESS_ROLE = "OrganizationAccountAccessRole"


# One loader for every client this process makes: it keeps each service's model once parsed (Loader caches per
# instance), where a session of its own per client would parse the EC2 model again each time (about 0.2 s of CPU, most
# of a test's time). Built once, with boto3's data path, as boto3.session.Session sets a loader up.
_LOADER = botocore.loaders.create_loader()
_LOADER.search_paths.append(os.path.join(os.path.dirname(boto3.__file__), "data"))


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


def make_client(
    endpoint_url: str,
    service: str,
    region: str = DEFAULT_REGION,
    credentials: dict[str, Any] | None = None,
    config: Config | None = None,
    internal: bool = False,
) -> Any:
    """A boto3 client of ``service`` on ``endpoint_url``.

    ``internal`` clients are the emulator's own housekeeping: the middleware neither counts
    nor faults their calls.
    """
    session = botocore.session.Session()  # a session of its own (a shared one is not thread-safe), the loader shared
    session.register_component("data_loader", _LOADER)
    client = session.create_client(
        service, region_name=region, endpoint_url=endpoint_url, config=config, **(credentials or STATIC_CREDENTIALS)
    )
    if internal:
        client.meta.events.register("before-sign.*.*", _mark_internal)
    return client


def assume_role_credentials(
    endpoint_url: str, account_id: str, session_name: str = "orgshare-emulator"
) -> dict[str, Any]:
    """Credentials of ``account_id``, from STS AssumeRole into its OrganizationAccountAccessRole.

    moto maps the temporary keys of an assumed role to the role's account, so every call
    made with them acts as that account.
    """
    if account_id == DEFAULT_ACCOUNT_ID:
        return dict(STATIC_CREDENTIALS)
    sts = make_client(endpoint_url, "sts", internal=True)
    role_arn = f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}"
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
