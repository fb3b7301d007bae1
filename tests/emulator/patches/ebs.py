"""EBS volumes and snapshots keep their KMS key, as AWS does."""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import InvalidParameterDependency
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.core.responses import ActionResult

from ._support import copy_encryption, default_ebs_key_arn, install, key_arn
from .ebs_defaults import encryption_by_default


def _create_volume(original: Any) -> Any:
    # AWS CreateVolume: KmsKeyId is reported as the full key ARN whatever form was given,
    # and a volume created from an encrypted snapshot is encrypted under the snapshot's key
    # unless another key is named. moto keeps the key as given and drops the snapshot's key.
    # With encryption by default on (see ebs_defaults), every new volume is encrypted, under the
    # region's default key unless one is named. (CreateVolume's Encrypted documents no error for
    # false in that case; the volume is encrypted all the same.)
    def create_volume(
        self: Any,
        size: int,
        zone_name: str,
        snapshot_id: str | None = None,
        encrypted: bool = False,
        kms_key_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        encrypted = encrypted or encryption_by_default(self)
        if snapshot_id and not kms_key_id:
            snapshot = self.get_snapshot(snapshot_id)
            if snapshot.encrypted:
                encrypted, kms_key_id = True, snapshot.kms_key_id
        volume = original(
            self, size, zone_name, snapshot_id=snapshot_id, encrypted=encrypted, kms_key_id=kms_key_id, **kwargs
        )
        volume.kms_key_id = key_arn(self.account_id, self.region_name, volume.kms_key_id)
        return volume

    return create_volume


def _create_snapshot(original: Any) -> Any:
    # AWS CreateSnapshot: "Snapshots that are taken from encrypted volumes are automatically
    # encrypted" with the volume's key, and DescribeSnapshots reports that KmsKeyId.
    # moto keeps Encrypted but loses the key.
    def create_snapshot(
        self: Any, volume_id: str, description: str, owner_id: str | None = None, from_ami: str | None = None
    ) -> Any:
        snapshot = original(self, volume_id, description, owner_id=owner_id, from_ami=from_ami)
        if snapshot.encrypted:
            snapshot.kms_key_id = snapshot.volume.kms_key_id or default_ebs_key_arn(self)
        return snapshot

    return create_snapshot


def _copy_snapshot(original: Any) -> Any:
    # AWS CopySnapshot: copies of encrypted snapshots stay encrypted; an unencrypted one is
    # encrypted when Encrypted is true; KmsKeyId requires Encrypted; without KmsKeyId the
    # destination region's default EBS key (aws/ebs) is used; KmsKeyId is reported as an ARN;
    # with encryption by default on in the destination region, every copy is encrypted.
    # moto ignores Encrypted and stores KmsKeyId verbatim.
    def copy_snapshot(
        self: Any,
        source_snapshot_id: str,
        source_region: str,
        description: str,
        kms_key_id: str | None,
        encrypted: bool = False,
    ) -> Any:
        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        source = ec2_backends[self.account_id][source_region].get_snapshot(source_snapshot_id)
        snapshot = original(self, source_snapshot_id, source_region, description, None)
        snapshot.encrypted, snapshot.kms_key_id, failure = copy_encryption(
            self, source.encrypted or encrypted or encryption_by_default(self), kms_key_id
        )
        if failure:
            # The key is checked asynchronously: the call succeeds, the copy ends in "error".
            snapshot.status, snapshot.state_message = "error", failure
        return snapshot

    return copy_snapshot


def _copy_snapshot_response(_original: Any) -> Any:
    # moto's handler does not read the Encrypted parameter of CopySnapshot at all.
    def copy_snapshot(self: Any) -> ActionResult:
        tags = self._parse_tag_specification()
        self.error_on_dryrun()
        snapshot = self.ec2_backend.copy_snapshot(
            source_snapshot_id=self._get_param("SourceSnapshotId"),
            source_region=self._get_param("SourceRegion"),
            description=self._get_param("Description"),
            kms_key_id=self._get_param("KmsKeyId"),
            encrypted=self._get_bool_param("Encrypted", False),
        )
        snapshot.add_tags(tags.get("snapshot", {}))
        return ActionResult({"SnapshotId": snapshot.id, "Tags": snapshot.tag_set})

    return copy_snapshot


def _describe_snapshots_response(_original: Any) -> Any:
    # EC2 DescribeSnapshots: OwnerIds ("self" or account IDs) limits the result to snapshots of
    # those owners. moto ignores it and returns every snapshot of the region, including the
    # ~1,300 behind its default public AMIs.
    def describe_snapshots(self: Any) -> ActionResult:
        owners = {self.current_account if owner == "self" else owner for owner in self._get_param("OwnerIds", [])}
        snapshots = self.ec2_backend.describe_snapshots(
            snapshot_ids=self._get_param("SnapshotIds", []), filters=self._filters_from_querystring()
        )
        if owners:
            snapshots = [snapshot for snapshot in snapshots if snapshot.owner_id in owners]
        return ActionResult({"Snapshots": snapshots})

    return describe_snapshots


def apply() -> None:
    """Install the EBS patches."""
    install(EBSBackend, "create_volume", _create_volume)
    install(EBSBackend, "create_snapshot", _create_snapshot)
    install(EBSBackend, "copy_snapshot", _copy_snapshot)
    install(ElasticBlockStore, "copy_snapshot", _copy_snapshot_response)
    install(ElasticBlockStore, "describe_snapshots", _describe_snapshots_response)
