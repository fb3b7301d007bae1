"""AMIs keep the block device mappings and the encryption they are given, as EC2 does.

moto 5.2.5 gives every registered or copied image one fabricated, unencrypted 15 GiB
snapshot, whatever the request said. These patches make RegisterImage and CopyImage honour
their parameters, so that "which key protects this image?" has the answer AWS would give.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import (
    InvalidAMIAttributeItemValueError,
    InvalidAMIIdError,
    InvalidParameterDependency,
    InvalidTaggableResourceType,
)
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.elastic_block_store import Snapshot
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.utils import random_ami_id, random_snapshot_id

from ._support import copy_encryption, ec2_error, find_key, install
from .ebs_defaults import encryption_by_default
from .sharing import owner_backend


# Where a patched image keeps its mappings (moto's Ami computes them from one fake snapshot).
MAPPINGS_ATTR = "orgshare_block_device_mappings"

# Launch permission targets EC2 accepts (ModifyImageAttribute, LaunchPermission).
_ARN_PATTERNS = {
    "OrganizationArn": re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$"),
    "OrganizationalUnitArn": re.compile(
        r"^arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
    ),
}
# EC2 CopyImage is asynchronous: the copy is "pending" while its snapshots are copied, then
# "available". moto makes copies available at once; with this set above zero (the control
# API's settings), a copy stays pending that many seconds, so that interrupted runs and
# waits can be tested. Zero keeps every other test fast.
COPY_PENDING = {"seconds": 0.0}
READY_AT_ATTR = "orgshare_ready_at"
# The state reason of a copy that fails on its key (what EC2 reports for a key it cannot use).
COPY_FAILED_CODE = "Client.InvalidKMSKey.InvalidState"

# EC2 user guide, "AMI quotas": "AMI sharing: The maximum number of entities (organizations,
# organizational units (OUs), and accounts) that an AMI can be shared with in a Region", 1,000 by
# default ("Group: all", public, is none of these). AWS always enforces it. The docs name no error
# code for going over it; the emulator answers ResourceLimitExceeded, EC2's code for quotas
# reached (as for concurrent CopyImage), with its own message.
MAX_SHARING_ENTITIES = 1000

AWS_MANAGED_KEY_MESSAGE = "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot."
PUBLIC_ENCRYPTED_MESSAGE = "Images with EBS-backed encrypted snapshots can't be made public."


def _ebs_mapping(backend: Any, device_name: str, ebs: dict[str, Any]) -> dict[str, Any]:
    """One EBS mapping of RegisterImage as DescribeImages reports it.

    Real DescribeImages reports SnapshotId, Encrypted, VolumeSize, VolumeType and
    DeleteOnTermination, but not KmsKeyId: the key is read from DescribeSnapshots.
    """
    snapshot = backend.get_snapshot(ebs["SnapshotId"]) if ebs.get("SnapshotId") else None  # InvalidSnapshot.NotFound
    described: dict[str, Any] = {
        "DeleteOnTermination": ebs.get("DeleteOnTermination", True),
        "VolumeSize": ebs.get("VolumeSize") or (snapshot.volume_size if snapshot else None),
        "VolumeType": ebs.get("VolumeType", "gp2"),
        # The snapshot's encryption is fixed; an empty volume is encrypted only when asked.
        "Encrypted": snapshot.encrypted if snapshot else bool(ebs.get("Encrypted", False)),
    }
    if snapshot:
        described["SnapshotId"] = snapshot.id
    for optional in ("Iops", "Throughput"):
        if optional in ebs:
            described[optional] = ebs[optional]
    return {"DeviceName": device_name, "Ebs": described}


def _requested_mapping(backend: Any, mapping: dict[str, Any]) -> dict[str, Any]:
    """One requested BlockDeviceMapping (EBS, instance store or NoDevice) as DescribeImages reports it."""
    if "Ebs" in mapping:
        return _ebs_mapping(backend, mapping["DeviceName"], mapping["Ebs"])
    return {key: mapping[key] for key in ("DeviceName", "VirtualName", "NoDevice") if key in mapping}


def _snapshot_ids(image: Any) -> list[str]:
    """IDs of the snapshots an image's mappings reference (patched or moto's own image)."""
    return [
        mapping["Ebs"]["SnapshotId"]
        for mapping in image.block_device_mappings
        if mapping.get("Ebs", {}).get("SnapshotId")
    ]


def _new_image(backend: Any, mappings: list[dict[str, Any]], **kwargs: Any) -> Ami:
    """An Ami whose mappings are ``mappings``, without moto's fabricated root snapshot."""
    image = Ami(backend, random_ami_id(), **kwargs)
    backend.snapshots.pop(image.ebs_snapshot.id, None)
    _set_mappings(image, mappings)
    backend.amis[image.id] = image
    return image


def _set_mappings(image: Any, mappings: list[dict[str, Any]]) -> None:
    """Give ``image`` its mappings; its snapshots become "in use" by it.

    AWS DeleteSnapshot refuses a snapshot used by a registered AMI (InvalidSnapshot.InUse);
    moto implements that through Snapshot.from_ami.
    """
    setattr(image, MAPPINGS_ATTR, mappings)
    image.root_device_type = "ebs"
    for snapshot_id in _snapshot_ids(image):
        snapshot = image.ec2_backend.snapshots.get(snapshot_id)
        if snapshot is not None and snapshot.from_ami is None:
            snapshot.from_ami = image.id


def _block_device_mappings(original: property) -> property:
    # DescribeImages: an image's BlockDeviceMappings are the ones it was registered or copied
    # with, each referencing its own snapshot. moto always reports its one fabricated snapshot.
    def block_device_mappings(self: Any) -> list[dict[str, Any]]:
        mappings = getattr(self, MAPPINGS_ATTR, None)
        return copy.deepcopy(mappings) if mappings is not None else original.fget(self)

    return property(block_device_mappings)


def _register_image(original: Any) -> Any:
    # EC2 RegisterImage: snapshots named in BlockDeviceMappings become the image's volumes and
    # keep their Encrypted/KmsKeyId; RootDeviceName, Architecture, VirtualizationType, BootMode
    # and TagSpecifications (ResourceType image) are honoured. moto ignores all of them.
    def register_image(
        self: Any,
        name: str | None = None,
        description: str | None = None,
        block_device_mappings: Any = None,
        root_device_name: str | None = None,
        tags: dict[str, str] | None = None,
        **attributes: Any,
    ) -> Any:
        if block_device_mappings:
            mappings = [_requested_mapping(self, mapping) for mapping in block_device_mappings]
            image = _new_image(
                self,
                mappings,
                name=name,
                description=description,
                root_device_name=root_device_name or mappings[0]["DeviceName"],
            )
        else:
            # Without mappings (an instance-store manifest) moto's own behaviour stays.
            image = original(self, name, description)
        for attribute, value in attributes.items():
            if value:
                setattr(image, attribute, value)
        image.add_tags(tags or {})
        return image

    return register_image


def _register_image_response(_original: Any) -> Any:
    # Hands the parameters moto's RegisterImage handler drops to the patched backend.
    def register_image(self: Any) -> ActionResult:
        tags = self._parse_tag_specification()
        for resource_type in tags:
            if resource_type != "image":
                raise InvalidTaggableResourceType(resource_type)
        self.error_on_dryrun()
        image = self.ec2_backend.register_image(
            name=self._get_param("Name"),
            description=self._get_param("Description", ""),
            block_device_mappings=self._get_param("BlockDeviceMappings", []),
            root_device_name=self._get_param("RootDeviceName"),
            tags=tags.get("image", {}),
            architecture=self._get_param("Architecture"),
            virtualization_type=self._get_param("VirtualizationType"),
            boot_mode=self._get_param("BootMode"),
        )
        return ActionResult({"ImageId": image.id})

    return register_image


def _copy_snapshot_for(
    backend: Any, image: Any, source: Any, snapshot: Any, encrypted: bool, kms_key_arn: str | None
) -> Snapshot:
    """The new snapshot CopyImage makes in the destination region for one source snapshot."""
    copied = Snapshot(
        backend,
        random_snapshot_id(),
        volume=snapshot.volume,
        description=f"Copied for DestinationAmi {image.id} from SourceAmi {source.id} for SourceSnapshot {snapshot.id}",
        encrypted=encrypted,
        kms_key_id=kms_key_arn,
        owner_id=backend.account_id,
        from_ami=image.id,
    )
    backend.snapshots[copied.id] = copied
    return copied


def _mapping_snapshot(image: Any, mapping: dict[str, Any]) -> Any:
    """The snapshot an image's mapping references (in the owner's account), None for none."""
    snapshot_id = mapping.get("Ebs", {}).get("SnapshotId")
    return owner_backend(image).snapshots.get(snapshot_id) if snapshot_id else None


def _copy_mappings(
    backend: Any, image: Any, source: Any, encrypt: bool, kms_key_id: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The copy's mappings, each on a new snapshot in ``backend``'s region, and any key failure.

    With a missing or unusable key the API call still succeeds (EC2 checks the key
    asynchronously) and the copy ends "failed": no snapshot is made then. With encryption by
    default on in the destination region, unencrypted snapshots are copied encrypted under the
    region's default key ("Copy an unencrypted snapshot (encryption by default enabled)", EBS
    user guide, "Amazon EBS encryption examples"; CopyImage copies each snapshot).
    """
    encrypt = encrypt or encryption_by_default(backend)
    sources = [(mapping, _mapping_snapshot(source, mapping)) for mapping in source.block_device_mappings]
    encryptions = {
        snapshot.id: copy_encryption(backend, encrypt or snapshot.encrypted, kms_key_id)
        for _mapping, snapshot in sources
        if snapshot
    }
    failure = next((reason for _encrypted, _key, reason in encryptions.values() if reason), None)
    failure = next(
        (
            reason
            for _mapping, snapshot in sources
            if snapshot
            for reason in [_source_key_problem(source, snapshot)]
            if reason
        ),
        failure,
    )
    mappings = []
    for mapping, snapshot in sources:
        mapping = copy.deepcopy(mapping)
        if snapshot is not None:
            encrypted, kms_key_arn, _reason = encryptions[snapshot.id]
            mapping["Ebs"]["Encrypted"] = encrypted
            if failure:
                del mapping["Ebs"]["SnapshotId"]
            else:
                mapping["Ebs"]["SnapshotId"] = _copy_snapshot_for(
                    backend, image, source, snapshot, encrypted, kms_key_arn
                ).id
        mappings.append(mapping)
    return mappings, failure


def _source_key_problem(source: Any, snapshot: Any) -> str | None:
    """Why EC2 cannot read an encrypted source snapshot for a copy, or None.

    A copy decrypts the source's snapshots with their key; a disabled key or one pending deletion
    refuses Decrypt (KMS developer guide, "Key states of AWS KMS keys": DisabledException, "<key ARN>
    is disabled" / "is pending deletion"). EC2 checks keys after CopyImage has answered, so the copy
    ends failed; the docs do not word its StateReason, which is the emulator's.
    """
    if not snapshot.encrypted or not snapshot.kms_key_id:
        return None
    owner = owner_backend(source)
    key = find_key(owner.account_id, owner.region_name, snapshot.kms_key_id)
    if key is None or key.key_state == "Enabled":
        return None
    return f"The KMS key {key.arn} of the source snapshot {snapshot.id} is {key.key_state}: the snapshot cannot be decrypted to be copied."


def _check_name_free(backend: Any, name: str | None) -> None:
    # AMI names are unique per account and region (EC2 API reference, CreateRestoreImageTask:
    # "The name must be unique for AMIs in the Region for this account"; error code
    # InvalidAMIName.Duplicate). moto accepts any name twice. The docs do not say whether a
    # failed image keeps its name; here it does not, since it can never be used.
    # Only CopyImage checks it: RegisterImage keeps moto's behaviour.
    for image in backend.amis.values():
        if (
            image.name == name
            and image.owner_id == backend.account_id
            and image.state not in ("failed", "deregistered")
        ):
            raise ec2_error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {image.id}")


def _copy_image(original: Any) -> Any:
    # EC2 CopyImage (called in the destination region with SourceRegion/SourceImageId): the copy
    # gets NEW snapshots in the destination region; an encrypted source stays encrypted;
    # Encrypted encrypts an unencrypted source; KmsKeyId (which requires Encrypted) picks the
    # destination key, else the destination region's default EBS key (aws/ebs) is used;
    # TagSpecifications tag the image and/or its snapshots; launch permissions and (unless
    # CopyImageTags) tags are not copied. moto ignores Encrypted, KmsKeyId and tags.
    def copy_image(
        self: Any,
        source_image_id: str,
        source_region: str,
        name: str | None = None,
        description: str | None = None,
        encrypted: bool = False,
        kms_key_id: str | None = None,
        tags: dict[str, dict[str, str]] | None = None,
        copy_image_tags: bool = False,
    ) -> Any:
        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        source = _find_image(ec2_backends[self.account_id][source_region], source_image_id)
        _check_name_free(self, name)
        image = original(self, source_image_id, source_region, name, description)
        self.snapshots.pop(image.ebs_snapshot.id, None)
        mappings, failure = _copy_mappings(self, image, source, encrypted, kms_key_id)
        _set_mappings(image, mappings)
        image.root_device_name, image.root_device_type = source.root_device_name, source.root_device_type
        image.source_image_id, image.source_image_region = source.id, source_region
        if failure:
            image.state, image.state_reason = "failed", {"Code": COPY_FAILED_CODE, "Message": failure}
        elif COPY_PENDING["seconds"] > 0:
            setattr(image, READY_AT_ATTR, time.monotonic() + COPY_PENDING["seconds"])
            image.state = "pending"
        tags = tags or {}
        image_tags = dict(source.ec2_backend.tags.get(source.id, {})) if copy_image_tags else {}
        image.add_tags({**image_tags, **tags.get("image", {})})
        for snapshot_id in _snapshot_ids(image):
            self.snapshots[snapshot_id].add_tags(tags.get("snapshot", {}))
        return image

    return copy_image


def _copy_image_response(_original: Any) -> Any:
    # Hands the parameters moto's CopyImage handler drops to the patched backend.
    def copy_image(self: Any) -> ActionResult:
        tags = self._parse_tag_specification()
        for resource_type in tags:
            if resource_type not in ("image", "snapshot"):
                raise InvalidTaggableResourceType(resource_type)
        self.error_on_dryrun()
        image = self.ec2_backend.copy_image(
            self._get_param("SourceImageId"),
            self._get_param("SourceRegion"),
            name=self._get_param("Name"),
            description=self._get_param("Description"),
            encrypted=self._get_bool_param("Encrypted", False),
            kms_key_id=self._get_param("KmsKeyId"),
            tags=tags,
            copy_image_tags=self._get_bool_param("CopyImageTags", False),
        )
        return ActionResult({"ImageId": image.id})

    return copy_image


def _find_image(backend: Any, image_id: str) -> Any:
    """The image ``image_id`` as DescribeImages in ``backend`` sees it, else InvalidAMIID.NotFound."""
    images = backend.describe_images(ami_ids=[image_id])
    if not images:  # moto returns nothing, not an error, for a deregistered image
        raise InvalidAMIIdError(image_id)
    return images[0]


def _owned_image(backend: Any, image_id: str) -> Any:
    """The image, which the caller must own: only the owner reads or changes launch permissions."""
    image = _find_image(backend, image_id)
    if image.owner_id != backend.account_id:
        raise ec2_error("AuthFailure", f"Not authorized for image:{image_id}")
    return image


def _validate_targets(permissions: list[dict[str, str]]) -> None:
    """Organization/OU ARNs must be well formed (a bare o-/ou- ID is not an ARN)."""
    for permission in permissions:
        for field, pattern in _ARN_PATTERNS.items():
            if field in permission and not pattern.match(permission[field]):
                raise InvalidAMIAttributeItemValueError(field[0].lower() + field[1:], permission[field])


def _check_shareable(backend: Any, image: Any, additions: list[dict[str, str]]) -> None:
    """AWS refuses to share an image whose snapshots are under an AWS-managed key, and to
    make public an image with any encrypted snapshot."""
    snapshots = [backend.snapshots.get(snapshot_id) for snapshot_id in _snapshot_ids(image)]
    encrypted = [snapshot for snapshot in snapshots if snapshot is not None and snapshot.encrypted]
    for snapshot in encrypted:
        key = find_key(backend.account_id, backend.region_name, snapshot.kms_key_id) if snapshot.kms_key_id else None
        if key is not None and key.key_manager == "AWS":
            raise ec2_error("InvalidParameter", AWS_MANAGED_KEY_MESSAGE)
    if encrypted and {"Group": "all"} in additions:
        raise ec2_error("UnsupportedOperation", PUBLIC_ENCRYPTED_MESSAGE)


def _check_sharing_quota(image: Any, additions: list[dict[str, str]], removals: list[dict[str, str]]) -> None:
    """At most MAX_SHARING_ENTITIES accounts, organizations and OUs per AMI, once the call is applied."""

    def entities(permissions: list[dict[str, str]]) -> set[tuple[tuple[str, str], ...]]:
        return {tuple(sorted(permission.items())) for permission in permissions if "Group" not in permission}

    after = (entities(image.launch_permissions) | entities(additions)) - entities(removals)
    if len(after) > MAX_SHARING_ENTITIES and entities(additions) - entities(image.launch_permissions):
        raise ec2_error(
            "ResourceLimitExceeded",
            f"The image {image.id} can be shared with at most {MAX_SHARING_ENTITIES} "
            f"accounts, organizations and organizational units in a Region; this request makes {len(after)}.",
        )


def _modify_image_attribute(original: Any) -> Any:
    # EC2 ModifyImageAttribute (LaunchPermission): only the owner may change it; organization
    # and OU targets must be ARNs; images under the AWS-managed EBS key can't be shared
    # (InvalidParameter); encrypted images can't be made public; at most 1,000 entities share an AMI.
    # moto checks none of these.
    def modify_image_attribute(
        self: Any,
        ami_id: str,
        launch_permissions_to_add: list[dict[str, str]],
        launch_permissions_to_remove: list[dict[str, str]],
    ) -> None:
        image = _owned_image(self, ami_id)
        _validate_targets(launch_permissions_to_add + launch_permissions_to_remove)
        if launch_permissions_to_add:
            _check_shareable(self, image, launch_permissions_to_add)
            _check_sharing_quota(image, launch_permissions_to_add, launch_permissions_to_remove)
        original(self, ami_id, launch_permissions_to_add, launch_permissions_to_remove)

    return modify_image_attribute


def _modify_image_attribute_response(_original: Any) -> Any:
    # The flat form (OperationType with UserIds/UserGroups/OrganizationArns/
    # OrganizationalUnitArns lists) may carry several values each: moto keeps only the first.
    def modify_image_attribute(self: Any) -> EmptyResult:
        launch_permission = self._get_param("LaunchPermission", {})
        additions = list(launch_permission.get("Add", []))
        removals = list(launch_permission.get("Remove", []))
        operation = self._get_param("OperationType")
        if operation in ("add", "remove"):
            target = additions if operation == "add" else removals
            for parameter, field in (
                ("UserGroups", "Group"),
                ("UserIds", "UserId"),
                ("OrganizationArns", "OrganizationArn"),
                ("OrganizationalUnitArns", "OrganizationalUnitArn"),
            ):
                target.extend({field: value} for value in self._get_param(parameter, []))
        self.error_on_dryrun()
        self.ec2_backend.modify_image_attribute(
            ami_id=self._get_param("ImageId"),
            launch_permissions_to_add=additions,
            launch_permissions_to_remove=removals,
        )
        return EmptyResult()

    return modify_image_attribute


def _describe_image_attribute(_original: Any) -> Any:
    # EC2 DescribeImageAttribute: an unknown image is InvalidAMIID.NotFound (moto raises a
    # KeyError, an HTTP 500) and only the owner may read launch permissions.
    def describe_image_attribute(self: Any, ami_id: str, attribute_name: str) -> Any:
        image = _owned_image(self, ami_id) if attribute_name == "launch_permissions" else _find_image(self, ami_id)
        return getattr(image, attribute_name, None)

    return describe_image_attribute


def _image_state() -> property:
    # A pending copy becomes available once its copy time has passed (see COPY_PENDING).
    def get(image: Any) -> str:
        state = image.__dict__.get("_orgshare_state", "available")
        ready_at = image.__dict__.get(READY_AT_ATTR)
        if state == "pending" and ready_at is not None and time.monotonic() >= ready_at:
            image.__dict__["_orgshare_state"] = state = "available"
        return state

    def set_state(image: Any, value: str) -> None:
        image.__dict__["_orgshare_state"] = value

    return property(get, set_state)


def apply() -> None:
    """Install the AMI patches."""
    if not isinstance(Ami.__dict__.get("state"), property):
        Ami.state = _image_state()
    install(Ami, "block_device_mappings", _block_device_mappings)
    install(AmiBackend, "register_image", _register_image)
    install(AmisResponse, "register_image", _register_image_response)
    install(AmiBackend, "copy_image", _copy_image)
    install(AmisResponse, "copy_image", _copy_image_response)
    install(AmiBackend, "modify_image_attribute", _modify_image_attribute)
    install(AmisResponse, "modify_image_attribute", _modify_image_attribute_response)
    install(AmiBackend, "describe_image_attribute", _describe_image_attribute)
