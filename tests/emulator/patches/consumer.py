"""What a consumer of a shared AMI gets: RunInstances, CopyImage and CreateVolume by the account it
was shared with, decided as EC2 decides.

**Which images an account may launch.** EC2 user guide, "Share an AMI with organizations or OUs"
and "Understand shared AMI use": an account may launch a private AMI of another account when a
launch permission names the account, its organization or an OU on its path (``sharing`` decides
which images DescribeImages shows; the same rule applies here), or when the AMI is public. "You do
not need to share the Amazon EBS snapshots that an AMI references in order to share the AMI. Only
the AMI itself needs to be shared", but the KMS keys of encrypted snapshots must let the account
use them. EC2 API reference, "Error codes for the Amazon EC2 API": ``InvalidAMIID.NotFound`` ("The
specified AMI doesn't exist") for an AMI the account cannot see, ``InvalidAMIID.Unavailable``
("The specified AMI has been deregistered or is in a transitional state") for one that is not
``available`` (DisableImage: "A disabled AMI can't be used for instance launches"; the docs name no
error code for it, and ``InvalidAMIID.Unavailable`` is kept).

**Keys.** EBS user guide, "Share the KMS key used to encrypt a shared Amazon EBS snapshot", and the
EC2 guide's "Allow organizations and OUs to use a KMS key": EC2 uses the key on the launching
principal's behalf (``kms:DescribeKey``, ``kms:CreateGrant`` for an AWS resource, ``kms:Decrypt``,
``kms:GenerateDataKeyWithoutPlaintext``, ``kms:GenerateDataKey``, ``kms:ReEncrypt*``); the key policy
is evaluated by the collection's own evaluator (``_key_access.can_launch``) for the caller's
principal, account and place in the organization (``kms_accounts.caller_context``). An explicit
``Deny`` wins. A key of the caller's own account is taken to allow (its IAM policies are not
modelled); a key of any account must be ``Enabled``.

**How a refused key shows.** RunInstances answers, and the instance goes from ``pending`` to
``terminated`` with the state reason ``Client.InternalError`` / ``Client.InternalError: Client error
on launch`` (EC2 API reference, StateReason: "Client.InternalError: A client error caused the
instance to terminate during launch"; AWS Knowledge Center, "Why does my EC2 instance with an
encrypted volume stop immediately with a client error on launch?"). RunInstances reports every new
instance ``pending``; the next read (DescribeInstances, DescribeInstanceStatus, TerminateInstances)
finds it ``running``, or ``terminated`` as above. moto starts every instance ``running`` and never
looks at the image.

A consumer's **CopyImage** of a shared encrypted AMI whose key it may not use ends ``failed``, as a
copy under a key EC2 cannot use does (see ``amis``); the docs name no state reason for this case
and the one EC2 reports for an unusable key is kept. **CreateVolume** from another account's
snapshot needs the snapshot itself shared with the account (EBS user guide, "Share an Amazon EBS
snapshot": createVolumePermission for the account or ``all``; an AMI's launch permission does not
share its snapshots), else ``InvalidSnapshot.NotFound``; with a key the account may not use, the
call answers and the volume never becomes available, as with a key EBS cannot use (see
``ebs_symmetric``). moto finds snapshots only in the caller's own account.

Not modelled here: the consumer account's own IAM policies (taken to allow), Allowed AMIs settings
(``allowed_images`` wraps RunInstances for them), launch templates (a RunInstances without ImageId is
left to moto), and the volumes of a consumer's instance (moto gives each instance an unencrypted
default root volume). Always on: it is what AWS does.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidAMIIdError, InvalidSnapshotIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.instances import InstanceBackend, InstanceState, StateReason
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.responses.instances import InstanceResponse

from ._support import ec2_error, find_key, install, key_access
from .amis import COPY_FAILED_CODE, _find_image, _snapshot_ids
from .ebs_symmetric import STATE_ATTR
from .kms_accounts import caller_context
from .sharing import owner_backend

# On an instance RunInstances has just made: None while it is pending and will run, else why it
# will be terminated (the next read settles it).
_OUTCOME_ATTR = "orgshare_launch_outcome"
LAUNCH_FAILURE = StateReason("Client.InternalError: Client error on launch", "Client.InternalError")


def _key_account(key_ref: str, default: str) -> str:
    parts = key_ref.split(":")
    return parts[4] if key_ref.startswith("arn:") and len(parts) > 5 else default


def key_problem(response: Any, snapshot: Any) -> str | None:
    """Why the caller of ``response`` may not use the key of ``snapshot`` as EC2 uses it for a launch,
    a copy or a volume, or None when it may (or the snapshot is not encrypted)."""
    if not snapshot.encrypted or not snapshot.kms_key_id:
        return None
    region, owner = snapshot.ec2_backend.region_name, snapshot.ec2_backend.account_id
    key = find_key(owner, region, snapshot.kms_key_id)
    if key is None:
        return f"The KMS key {snapshot.kms_key_id} of snapshot {snapshot.id} does not exist."
    if key.key_state != "Enabled":
        return f"The KMS key {key.arn} of snapshot {snapshot.id} is {key.key_state}."
    if _key_account(key.arn, owner) == response.current_account:
        return None
    _identity, context = caller_context(response)
    access = key_access()
    try:
        check = access.can_launch(key.policy, context, key_arn=key.arn)
    except ValueError:  # a document that is no policy grants nothing
        return f"The key policy of {key.arn} is not a policy document."
    if check.allowed:
        return None
    denied = ", ".join(item.action for item in check.checks if not item.decision.allowed)
    return f"The key policy of {key.arn} does not let {context.principal_arn} use it ({denied})."


def _key_problems(response: Any, image: Any) -> list[str]:
    """Why the caller may not use the keys of ``image``'s snapshots (in the owner's account), one line per key refused."""
    snapshots = owner_backend(image).snapshots
    found = [snapshots[snapshot_id] for snapshot_id in _snapshot_ids(image) if snapshot_id in snapshots]
    return [problem for problem in (key_problem(response, snapshot) for snapshot in found) if problem]


def _launchable(response: Any, image_id: str) -> Any:
    """The image ``image_id`` if the caller may launch it (it sees it, and it is available), else the EC2 error."""
    image = _find_image(response.ec2_backend, image_id)
    if image.state != "available":
        raise ec2_error(
            "InvalidAMIID.Unavailable", f"The image id '[{image_id}]' is not available (state {image.state})."
        )
    return image


def _run_instances(original: Any) -> Any:
    # RunInstances of an image the caller may not see or that is not available is refused; one whose
    # keys the caller may not use starts, and its instances end terminated with Client.InternalError.
    def run_instances(self: Any) -> Any:
        image_id = self._get_param("ImageId")
        problems: list[str] = []
        if image_id:
            problems = _key_problems(self, _launchable(self, image_id))
        result = original(self)
        for instance in result.result.instances:
            instance._state = InstanceState("pending", 0)
            instance.__dict__[_OUTCOME_ATTR] = "; ".join(problems) or None
        return result

    return run_instances


def _settle(backend: Any) -> None:
    """Instances RunInstances left ``pending`` become ``running``, or ``terminated`` with the launch failure."""
    for reservation in list(backend.reservations.values()):
        for instance in reservation.instances:
            if _OUTCOME_ATTR not in instance.__dict__:
                continue
            failure = instance.__dict__.pop(_OUTCOME_ATTR)
            if failure is None:
                instance._state = InstanceState("running", 16)
                continue
            instance.terminate()
            instance.state_reason = StateReason(LAUNCH_FAILURE.message, LAUNCH_FAILURE.code)
            instance._reason = LAUNCH_FAILURE.message


def _all_reservations(original: Any) -> Any:
    # Every read of instances goes through all_reservations: pending launches are settled first.
    def all_reservations(self: Any, filters: Any = None) -> Any:
        _settle(self)
        return original(self, filters)

    return all_reservations


def _copy_image(original: Any) -> Any:
    # A consumer's CopyImage of a shared image under a key it may not use: the copy fails.
    def copy_image(self: Any) -> Any:
        source_region, source_id = self._get_param("SourceRegion"), self._get_param("SourceImageId")
        problems: list[str] = []
        try:
            source_backend = ec2_backends[self.current_account][source_region] if source_region else None
        except KeyError:  # no such region: moto's own CopyImage answers it
            source_backend = None
        if source_backend is not None and source_id and source_id not in source_backend.amis:
            try:
                problems = _key_problems(self, _find_image(source_backend, source_id))
            except InvalidAMIIdError:  # moto's own CopyImage answers it
                pass
        result = original(self)
        if problems:
            copy = self.ec2_backend.amis[result.result["ImageId"]]
            copy.state, copy.state_reason = "failed", {"Code": COPY_FAILED_CODE, "Message": "; ".join(problems)}
        return result

    return copy_image


def _shared_snapshot(backend: Any, snapshot_id: str) -> Any:
    """Another account's snapshot in this region that is shared with ``backend``'s account (or public)."""
    for account_id, regions in list(ec2_backends.items()):
        other = dict.get(regions, backend.region_name)
        if account_id == backend.account_id or other is None or snapshot_id not in other.snapshots:
            continue
        snapshot = other.snapshots[snapshot_id]
        if (
            backend.account_id in snapshot.create_volume_permission_userids
            or "all" in snapshot.create_volume_permission_groups
        ):
            return snapshot
    raise InvalidSnapshotIdError()


def _create_volume(original: Any) -> Any:
    # CreateVolume from another account's snapshot: only when it is shared with the caller; under a key
    # the caller may not use, the volume never becomes available.
    def create_volume(self: Any) -> Any:
        snapshot_id = self._get_param("SnapshotId")
        if not snapshot_id or snapshot_id in self.ec2_backend.snapshots:
            return original(self)
        snapshot = _shared_snapshot(self.ec2_backend, snapshot_id)
        problem = key_problem(self, snapshot)
        self.error_on_dryrun()
        encrypted = snapshot.encrypted or self._get_bool_param("Encrypted", False)
        volume = self.ec2_backend.create_volume(
            size=self._get_param("Size") or snapshot.volume.size,
            zone_name=self._get_param("AvailabilityZone"),
            encrypted=encrypted,
            kms_key_id=self._get_param("KmsKeyId") or (snapshot.kms_key_id if snapshot.encrypted else None),
            volume_type=self._get_param("VolumeType"),
            iops=self._get_param("Iops"),
            throughput=self._get_param("Throughput"),
        )
        volume.snapshot_id = snapshot_id
        volume.add_tags(self._parse_tag_specification().get("volume", {}))
        if problem:
            volume.__dict__[STATE_ATTR] = "creating"
            self.ec2_backend.volumes.pop(volume.id, None)
        return ActionResult(volume)

    return create_volume


def apply() -> None:
    """Install the consumer patches (over the AMI, sharing and EBS patches)."""
    install(InstanceResponse, "run_instances", _run_instances)
    install(InstanceBackend, "all_reservations", _all_reservations)
    install(AmisResponse, "copy_image", _copy_image)
    install(ElasticBlockStore, "create_volume", _create_volume)
