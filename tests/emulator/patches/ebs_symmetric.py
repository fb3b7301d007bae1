"""EBS encrypts only with symmetric encryption KMS keys, and checks the key after the call has answered.

EBS user guide, "Amazon EBS encryption": "Amazon EBS does not support asymmetric encryption KMS
keys." EC2 API reference, CopyImage and ModifyEbsDefaultKmsKeyId, KmsKeyId: "Amazon EBS does not
support asymmetric KMS keys"; CreateVolume, CopySnapshot, CopyImage and ModifyEbsDefaultKmsKeyId,
KmsKeyId: "Amazon Web Services authenticates the KMS key asynchronously. Therefore, if you specify
an ID, alias, or ARN that is not valid, the action can appear to complete, but eventually fails."
A symmetric key made for another use (HMAC, KeyUsage GENERATE_VERIFY_MAC) cannot encrypt either.
So no call is refused; what fails is what the call started (``_support.ebs_key_spec_problem`` decides):

- CreateVolume answers ``State: creating`` and the volume is never seen again (DescribeVolumes:
  InvalidVolume.NotFound). The docs do not say how a volume fails; this is what AWS users report
  for a volume under a key EBS cannot use (aws/aws-cli issue 2604).
- CopySnapshot: the copy ends in state ``error`` (see ebs); CopyImage: the copy ends ``failed``
  with a StateReason (see amis). Both through ``_support.copy_encryption``.
- ModifyEbsDefaultKmsKeyId accepts the key (it is checked asynchronously); the volumes and copies
  that are then encrypted under it fail as above (the API reference: with a default key that
  cannot be used, "your instances will fail to launch").

moto 5.2.5 encrypts with any key it is given. Always on: it is what AWS does.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.elastic_block_store import EBSBackend, Volume

from ._support import ebs_key_spec_problem, find_key, install

# A volume's state when it is not moto's ("available"/"in-use"): "creating" for one that fails.
STATE_ATTR = "orgshare_volume_state"


def _volume_status(original: property) -> property:
    def status(volume: Any) -> str:
        return volume.__dict__.get(STATE_ATTR) or original.fget(volume)

    return property(status)


def _create_volume(original: Any) -> Any:
    # CreateVolume under an asymmetric (or non-encryption) key: the call answers, the volume never
    # becomes available. (A disabled key keeps moto's behaviour: the volume is made.)
    def create_volume(self: Any, *args: Any, **kwargs: Any) -> Any:
        volume = original(self, *args, **kwargs)
        key = (
            find_key(self.account_id, self.region_name, volume.kms_key_id)
            if volume.encrypted and volume.kms_key_id
            else None
        )
        if key is not None and ebs_key_spec_problem(key):
            volume.__dict__[STATE_ATTR] = "creating"
            self.volumes.pop(volume.id, None)
        return volume

    return create_volume


def apply() -> None:
    """Install the EBS key-spec patches (after ebs, whose CreateVolume this wraps)."""
    install(Volume, "status", _volume_status)
    install(EBSBackend, "create_volume", _create_volume)
