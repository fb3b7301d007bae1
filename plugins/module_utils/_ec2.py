# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EC2 calls: one small function per call, retried with jittered backoff, errors mapped once.

Describe calls are batched (filters, so an unknown ID is simply absent
instead of failing the whole batch); per-image attribute calls are single.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils._api import ErrorRule
from ansible_collections.orgshare.aws.plugins.module_utils._api import api_call
from ansible_collections.orgshare.aws.plugins.module_utils._lists import batches
from ansible_collections.orgshare.aws.plugins.module_utils._api import list_all
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._images import FILTER_BATCH
from ansible_collections.orgshare.aws.plugins.module_utils._images import encrypted_snapshot_ids

# RequestLimitExceeded and InternalError are in AWSRetry's list already.
ec2_retry = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30)

_list_all = ec2_retry(list_all)


@api_call("describe the requested images")
def describe_images(client, image_ids, owners):
    """The images among ``image_ids`` owned by ``owners`` (["self"] or []), batched; missing ones are absent."""
    found = []
    for batch in batches(image_ids, FILTER_BATCH):
        # Disabled images are left out unless asked for (DescribeImages, IncludeDisabled): they must be
        # found to be refused with what to do, not reported as missing.
        params = dict(Filters=[{"Name": "image-id", "Values": batch}], IncludeDeprecated=True, IncludeDisabled=True)
        if owners:
            params["Owners"] = owners
        found.extend(ec2_retry(client.describe_images)(**params)["Images"])
    return found


def _owned_images(client, filters, batched_filter=None):
    """The caller's images matching ``filters``, every page, deprecated and disabled ones included (they must be found to
    be refused, or audited, with what to do).

    ``batched_filter`` is ``(name, values)``: a filter with more values than one call takes, sent :data:`FILTER_BATCH`
    values a call along with ``filters``.
    """
    name, values = batched_filter or (None, [None])
    found = []
    for batch in batches(values, FILTER_BATCH):
        batch_filters = list(filters) + ([{"Name": name, "Values": batch}] if name else [])
        response = _list_all(
            client,
            "describe_images",
            Owners=["self"],
            Filters=batch_filters,
            IncludeDeprecated=True,
            IncludeDisabled=True,
        )
        found.extend(response["Images"])
    return found


@api_call("look up images by tag")
def describe_images_by_filters(client, filters, batched_filter=None):
    """The caller's images matching ``filters`` and, batched, ``batched_filter`` (:func:`_owned_images`)."""
    return _owned_images(client, filters, batched_filter)


class CopyQuotaReached(OrgShareError):
    """CopyImage was refused for the quota of concurrent AMI copies into the region (ResourceLimitExceeded)."""


@api_call(
    "copy image {0[SourceImageId]} from {0[SourceRegion]} as {0[Name]!r}",
    (
        ErrorRule(
            "InvalidAMIName.Duplicate",
            "Cannot {what}: another image of this account in the destination region already has that name ({code}); "
            "AMI names are unique per account and region: set name to another one, or deregister the image that holds it.",
        ),
        ErrorRule(
            "ResourceLimitExceeded",
            "Cannot {what} now: {region} has as many AMI copies in flight as its quota allows ({code})",
            CopyQuotaReached,
        ),
    ),
)
def copy_image(client, request):
    """CopyImage, called in the destination region; returns the new image ID.

    Not retried for ResourceLimitExceeded (neither botocore nor AWSRetry retries it): the caller
    waits for copies in flight to finish and tries again (:class:`CopyQuotaReached`).
    """
    return ec2_retry(client.copy_image)(**request)["ImageId"]


@api_call("read the region's EBS encryption by default")
def ebs_encryption_by_default(client):
    """``(enabled, default key ID)`` of the region: GetEbsEncryptionByDefault, and GetEbsDefaultKmsKeyId when it is on.

    With encryption by default on, every new EBS snapshot of the account in the region, CopyImage's
    included, is encrypted, with the region's default key unless another is asked for (Amazon EBS
    User Guide, "Encryption by default").
    """
    if not ec2_retry(client.get_ebs_encryption_by_default)()["EbsEncryptionByDefault"]:
        return False, None
    return True, ec2_retry(client.get_ebs_default_kms_key_id)()["KmsKeyId"]


@api_call("describe the snapshots of the requested images")
def describe_snapshots(client, snapshot_ids):
    """The snapshots among ``snapshot_ids`` (batched); the caller's own and those shared with it."""
    found = []
    for batch in batches(snapshot_ids, FILTER_BATCH):
        found.extend(
            _list_all(client, "describe_snapshots", Filters=[{"Name": "snapshot-id", "Values": batch}])["Snapshots"]
        )
    return found


def encrypted_snapshots_of(client, images):
    """Snapshot ID -> DescribeSnapshots entry, for the snapshots DescribeImages reports encrypted in ``images``.

    One batched DescribeSnapshots, none at all when no snapshot is encrypted: unencrypted snapshots
    have no key to look up.
    """
    snapshot_ids = unique(snapshot_id for image in images for snapshot_id in encrypted_snapshot_ids(image))
    return (
        {snapshot["SnapshotId"]: snapshot for snapshot in describe_snapshots(client, snapshot_ids)}
        if snapshot_ids
        else {}
    )


@api_call("read the launch permissions of {0}")
def describe_launch_permissions(client, image_id):
    """The image's launch permissions (accounts, public, organizations, OUs)."""
    return ec2_retry(client.describe_image_attribute)(ImageId=image_id, Attribute="launchPermission").get(
        "LaunchPermissions", []
    )


@api_call("change the launch permissions of {0}")
def modify_launch_permissions(client, image_id, launch_permission):
    """One ModifyImageAttribute carrying every add and remove for the image."""
    ec2_retry(client.modify_image_attribute)(ImageId=image_id, LaunchPermission=launch_permission)


@api_call("describe the caller's images in {0}")
def describe_owned_images(client, region, filters, image_ids=None):  # pylint: disable=unused-argument
    """The caller's images in the client's region (``region`` names it in messages) matching ``filters``, every page; with
    ``image_ids``, only those, in batches of :data:`FILTER_BATCH` (an ID that is not there is simply absent). Deprecated and
    disabled images are included: an audit must see them."""
    return _owned_images(client, filters, ("image-id", image_ids) if image_ids else None)


@api_call("describe the images this account may launch in {0}")
def describe_launchable_images(client, region, filters, image_ids=None):  # pylint: disable=unused-argument
    """The images of other accounts this account may launch: with ``image_ids``, those of them it can see (its own, public
    ones and ones shared with it; batched, the others are absent); else every image explicitly shared with it
    (``ExecutableUsers=self``) matching ``filters``."""
    if not image_ids:
        return _list_all(
            client, "describe_images", ExecutableUsers=["self"], Filters=list(filters), IncludeDeprecated=True
        )["Images"]
    found = []
    for batch in batches(image_ids, FILTER_BATCH):
        found.extend(
            _list_all(
                client,
                "describe_images",
                Filters=list(filters) + [{"Name": "image-id", "Values": batch}],
                IncludeDeprecated=True,
            )["Images"]
        )
    return found


@api_call("read the Allowed AMIs settings in {0}")
def get_allowed_images_settings(client, region):  # pylint: disable=unused-argument
    """GetAllowedImagesSettings: ``{"State", "ImageCriteria", "ManagedBy"}`` of the caller's account in the client's region."""
    answer = ec2_retry(client.get_allowed_images_settings)()
    return {
        "State": answer.get("State"),
        "ImageCriteria": answer.get("ImageCriteria", []),
        "ManagedBy": answer.get("ManagedBy"),
    }
