"""EBS encryption by default, per account and region, and the region's default EBS key, as EC2 keeps them.

EC2 API reference, EnableEbsEncryptionByDefault: "Enables EBS encryption by default for your
account in the current Region. After you enable encryption by default, the EBS volumes that
you create are always encrypted, either using the default KMS key or the KMS key that you
specified when you created each volume." The default key is set with ModifyEbsDefaultKmsKeyId,
put back to the AWS managed key (``aws/ebs``) with ResetEbsDefaultKmsKeyId and read with
GetEbsDefaultKmsKeyId. EBS user guide, "Amazon EBS encryption examples" ("Copy an unencrypted
snapshot (encryption by default enabled)", "Restore an unencrypted volume (encryption by
default enabled)"): with it on, copies of unencrypted snapshots and volumes restored from them
are encrypted under the default key. The patches of CreateVolume, CopySnapshot and CopyImage
ask ``encryption_by_default()``.

moto 5.2.5 keeps the Enable/Disable/Get flag but nothing reads it; it lacks GetEbsDefaultKmsKeyId
and ResetEbsDefaultKmsKeyId; its ModifyEbsDefaultKmsKeyId fails with a KMS error for a key it
cannot find.

The account setting (the API calls) is the source of truth. The emulator's settings switch
``ebs_encryption_by_default`` only says how a region starts: in the regions it turns on, every
account that has not called Enable/DisableEbsEncryptionByDefault there has encryption by default,
as an account whose administrator turned it on before the test began would.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import SettingsBackend
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses.elastic_block_store import ElasticBlockStore

from ._support import add_action, default_ebs_key_arn, install, key_arn

# The settings switch: region -> whether accounts start with encryption by default there.
PRESET_REGIONS: dict[str, bool] = {}
# Where a backend keeps its own choice (Enable/DisableEbsEncryptionByDefault), once made.
_CHOICE_ATTR = "orgshare_ebs_encryption_by_default"


def encryption_by_default(ec2_backend: Any) -> bool:
    """Whether the account has EBS encryption by default in the backend's region."""
    choice = ec2_backend.__dict__.get(_CHOICE_ATTR)
    return choice if choice is not None else PRESET_REGIONS.get(ec2_backend.region_name, False)


def preset_regions(value: Any) -> dict[str, bool]:
    """The settings switch's value, a list of regions or a dict region -> bool, as a dict (ValueError if neither)."""
    if isinstance(value, list) and all(isinstance(region, str) for region in value):
        return {region: True for region in value}
    if isinstance(value, dict) and all(
        isinstance(region, str) and isinstance(on, bool) for region, on in value.items()
    ):
        return dict(value)
    raise ValueError(
        f"ebs_encryption_by_default must be a list of regions or an object region -> true/false, got {value!r}"
    )


def _enable(_original: Any) -> Any:
    # EnableEbsEncryptionByDefault: the account's choice in this region, whatever the region started with.
    def enable_ebs_encryption_by_default(self: Any) -> None:
        self.__dict__[_CHOICE_ATTR] = True

    return enable_ebs_encryption_by_default


def _disable(_original: Any) -> Any:
    # DisableEbsEncryptionByDefault: likewise.
    def disable_ebs_encryption_by_default(self: Any) -> None:
        self.__dict__[_CHOICE_ATTR] = False

    return disable_ebs_encryption_by_default


def _get_encryption_by_default(_original: Any) -> Any:
    # GetEbsEncryptionByDefault: the account's choice in this region, else how the region started.
    def get_ebs_encryption_by_default(self: Any) -> bool:
        return encryption_by_default(self)

    return get_ebs_encryption_by_default


def _modify_default_key(_original: Any) -> Any:
    # ModifyEbsDefaultKmsKeyId (EC2 API reference, KmsKeyId): "AWS authenticates the KMS key
    # asynchronously", so a key that is not valid lets the call succeed; it is reported as the
    # key ARN when the key exists, else as given. The docs do not say what a later CreateVolume
    # does with such a default; here it stores it as the volume's key.
    def modify_ebs_default_kms_key_id(self: Any, kms_key_id: str) -> str:
        if not kms_key_id:
            return self._create_default_encryption_key()
        self.default_kms_key_id = key_arn(self.account_id, self.region_name, kms_key_id)
        return self.default_kms_key_id

    return modify_ebs_default_kms_key_id


def get_ebs_default_kms_key_id(self: Any) -> ActionResult:
    """GetEbsDefaultKmsKeyId: the ARN of the region's default EBS key (``aws/ebs`` until one is chosen).

    The docs say "The Amazon Resource Name (ARN) of the default KMS key" and do not say whether
    an account that never chose one gets the alias ARN or the key ARN of aws/ebs; here the key ARN.
    """
    self.error_on_dryrun()
    return ActionResult({"KmsKeyId": default_ebs_key_arn(self.ec2_backend)})


def reset_ebs_default_kms_key_id(self: Any) -> ActionResult:
    """ResetEbsDefaultKmsKeyId: "Resets the default KMS key for EBS encryption for your account in
    this Region to the AWS managed KMS key for EBS" and returns its ARN."""
    self.error_on_dryrun()
    return ActionResult({"KmsKeyId": self.ec2_backend._create_default_encryption_key()})


def apply() -> None:
    """Install the encryption-by-default patches."""
    install(SettingsBackend, "enable_ebs_encryption_by_default", _enable)
    install(SettingsBackend, "disable_ebs_encryption_by_default", _disable)
    install(SettingsBackend, "get_ebs_encryption_by_default", _get_encryption_by_default)
    install(EBSBackend, "modify_ebs_default_kms_key_id", _modify_default_key)
    add_action(ElasticBlockStore, "get_ebs_default_kms_key_id", get_ebs_default_kms_key_id)
    add_action(ElasticBlockStore, "reset_ebs_default_kms_key_id", reset_ebs_default_kms_key_id)
