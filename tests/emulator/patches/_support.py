"""Shared helpers of the fidelity patches: installing a patch once, finding KMS keys."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.kms.models import kms_backends

# Set on every replacement we install: the set of patches (factory names) the attribute already
# carries, so that installing twice is a no-op even if this package were imported under two
# names, and two patches may wrap the same method one over the other.
_PATCH_MARK = "_orgshare_emulator_patch"

# arn:<partition>:kms:<region>:<account>:(key|alias)/<rest>
_KMS_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<rest>.+)$"
)


def _marks(attribute: Any) -> frozenset[str]:
    target = attribute.fget if isinstance(attribute, property) else attribute
    return frozenset(getattr(target, _PATCH_MARK, ()) or ())


def _tag(function: Callable[..., Any]) -> str:
    # "amis._copy_image": the same under any package name this module is imported as.
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"


def install(owner: type, name: str, factory: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``factory(original)`` unless ``factory`` already wrapped it.

    ``factory`` receives the current attribute (a function or a property) and returns its
    replacement, which usually delegates to the original for the cases moto gets right.
    Patches of different modules may wrap one another; each is installed once.
    """
    original = getattr(owner, name)
    tag = _tag(factory)
    if tag in _marks(original):
        return
    replacement = factory(original)
    setattr(
        replacement.fget if isinstance(replacement, property) else replacement, _PATCH_MARK, _marks(original) | {tag}
    )
    setattr(owner, name, replacement)


def add_action(owner: type, name: str, function: Callable[..., Any]) -> None:
    """Give ``owner`` the method ``name`` that moto lacks (an API action it does not implement)."""
    if name not in owner.__dict__:
        setattr(function, _PATCH_MARK, frozenset({_tag(function)}))
        setattr(owner, name, function)


def ec2_error(code: str, message: str) -> EC2ClientError:
    """An EC2 error in EC2's XML wire format (moto serialises it with HTTP 400)."""
    return EC2ClientError(code, message)


def find_key(account_id: str, region: str, key_ref: str) -> Any:
    """The moto KMS key that ``key_ref`` names in ``region``, or None.

    ``key_ref`` may be a key ID, key ARN, alias name or alias ARN, as EC2 accepts. An ARN
    of another region names no key here (KMS keys are regional); an ARN of another
    account is looked up in that account. ``alias/aws/*`` keys are created on demand,
    as AWS does on first use.
    """
    match = _KMS_ARN.match(key_ref)
    if match:
        if match.group("region") != region:
            return None
        account_id = match.group("account")
        key_ref = f"alias/{match.group('rest')}" if match.group("kind") == "alias" else match.group("rest")
    kms = kms_backends[account_id][region]
    key_id = kms.get_key_id_from_alias(key_ref) if key_ref.startswith("alias/") else key_ref
    return kms.keys.get(key_id) if key_id else None


def key_arn(account_id: str, region: str, key_ref: str | None) -> str | None:
    """The full key ARN of ``key_ref`` (EC2 reports KmsKeyId as a key ARN), else ``key_ref`` unchanged."""
    if not key_ref:
        return key_ref
    key = find_key(account_id, region, key_ref)
    return key.arn if key is not None else key_ref


def default_ebs_key_arn(ec2_backend: Any) -> str:
    """The region's default EBS encryption key: the account's chosen default, else ``aws/ebs``."""
    # moto keeps the default on the backend and creates aws/ebs on first use, as AWS does.
    return ec2_backend.default_kms_key_id or ec2_backend._create_default_encryption_key()


def copy_encryption(ec2_backend: Any, encrypt: bool, kms_key_id: str | None) -> tuple[bool, str | None, str | None]:
    """Encryption of a snapshot copied into ``ec2_backend``'s region: (encrypted, key ARN, failure).

    AWS CopySnapshot/CopyImage: copies of encrypted snapshots stay encrypted, unencrypted
    ones are encrypted when asked; without KmsKeyId the default EBS key of the destination
    region is used. The key is checked asynchronously: a missing or unusable key lets the
    call succeed and the copy fail later, so the failure is returned, not raised.
    """
    if not encrypt:
        return False, None, None
    if not kms_key_id:
        default = default_ebs_key_arn(ec2_backend)
        key = find_key(ec2_backend.account_id, ec2_backend.region_name, default)
        # A default key that names no key keeps being used as given (see ebs_defaults); an
        # asymmetric one fails the copy as a named one would.
        return True, default, ebs_key_spec_problem(key) if key is not None else None
    key = find_key(ec2_backend.account_id, ec2_backend.region_name, kms_key_id)
    if key is None:
        return True, kms_key_id, f"The KMS key {kms_key_id} does not exist in {ec2_backend.region_name}."
    return True, key.arn, ebs_key_problem(key)


def ebs_key_problem(key: Any) -> str | None:
    """Why EBS cannot encrypt with this (existing) KMS key, or None when it can: it must be
    enabled and a symmetric encryption key (``ebs_key_spec_problem``)."""
    if key.key_state != "Enabled":
        return f"The KMS key {key.arn} is {key.key_state} and cannot be used."
    return ebs_key_spec_problem(key)


def ebs_key_spec_problem(key: Any) -> str | None:
    """Why EBS cannot encrypt with a key of this kind, or None for a symmetric encryption key.

    EBS user guide, "Amazon EBS encryption": "Amazon EBS does not support asymmetric encryption
    KMS keys"; EC2 API reference, CopyImage and ModifyEbsDefaultKmsKeyId, KmsKeyId: "Amazon EBS
    does not support asymmetric KMS keys". A symmetric key for another use (an HMAC key, KeyUsage
    GENERATE_VERIFY_MAC) cannot encrypt either.
    """
    spec, usage = key.key_spec or "SYMMETRIC_DEFAULT", key.key_usage or "ENCRYPT_DECRYPT"
    if (spec, usage) != ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"):
        return (
            f"The KMS key {key.arn} is a {spec} key for {usage}; Amazon EBS encrypts only with symmetric "
            "encryption keys (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT)."
        )
    return None


@functools.lru_cache(maxsize=None)
def key_access() -> ModuleType:
    """The collection's key-policy evaluator, plugins/module_utils/_key_access.py, loaded by path.

    It imports only the standard library, so the emulator (which has no ansible_collections on its
    path) evaluates key policies with the very code the modules use.
    """
    path = Path(__file__).resolve().parents[3] / "plugins" / "module_utils" / "_key_access.py"
    spec = importlib.util.spec_from_file_location("orgshare_emulator_key_access", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
