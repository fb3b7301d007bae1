"""DescribeImages shows images other accounts shared with the caller, as EC2 does.

moto keeps every account's images apart, so an AMI shared with an account, its organization
or one of its OUs stays invisible to that account. This patch lets the consumer side of a
share be observed, and "an image the caller does not own" be met at all.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import AmiBackend
from moto.ec2.utils import generic_filter
from moto.organizations.models import organizations_backends

from ._support import install

# On a consumer's view of a shared image: the owner's backend, which holds its snapshots.
OWNER_BACKEND_ATTR = "orgshare_owner_backend"


def owner_backend(image: Any) -> Any:
    """The EC2 backend that owns ``image`` (a consumer's view points elsewhere for tags)."""
    return getattr(image, OWNER_BACKEND_ATTR, image.ec2_backend)


def organization_chain(account_id: str, partition: str) -> tuple[Any, list[Any]]:
    """The organization ``account_id`` sits in and its parents, root first, then each OU down to
    the account's own (``(None, [])`` when it is in none)."""
    management = organizations_backends.master_accounts.get(account_id, (account_id, partition))
    backend = organizations_backends[management[0]][management[1]]
    if backend.org is None:
        return None, []
    units = {unit.id: unit for unit in backend.ou}
    parent_id = next((account.parent_id for account in backend.accounts if account.id == account_id), None)
    chain = []
    while parent_id in units:
        chain.append(units[parent_id])
        parent_id = units[parent_id].parent_id
    return backend.org, chain[::-1]


def _organization_targets(account_id: str, partition: str) -> set[str]:
    """ARNs of the organization and of every OU ``account_id`` sits in (empty when in none)."""
    organization, chain = organization_chain(account_id, partition)
    if organization is None:
        return set()
    return {organization.arn} | {unit.arn for unit in chain if unit.type == "ORGANIZATIONAL_UNIT"}


def _shared_explicitly(image: Any, account_id: str, targets: set[str]) -> bool:
    """Whether a launch permission names the account, its organization or one of its OUs."""
    for permission in image.launch_permissions:
        if permission.get("UserId") == account_id:
            return True
        if targets & {permission.get("OrganizationArn"), permission.get("OrganizationalUnitArn")}:
            return True
    return False


def _consumer_view(image: Any, backend: Any) -> Any:
    """``image`` as the account of ``backend`` sees it: tags are never shared, so the view
    reads tags from the consumer's own account (where it may tag the shared image)."""
    view = copy.copy(image)
    setattr(view, OWNER_BACKEND_ATTR, owner_backend(image))
    view.ec2_backend = backend
    return view


def _foreign_images(backend: Any) -> dict[str, tuple[Any, bool]]:
    """Other accounts' images in this region the caller may launch: id -> (view, shared explicitly).

    Only regions already in use are looked at (creating a backend would load moto's
    default AMIs); images with an ID of the caller's own (moto's defaults) are skipped.
    """
    targets = _organization_targets(backend.account_id, backend.partition)
    images: dict[str, tuple[Any, bool]] = {}
    for account_id, regions in list(ec2_backends.items()):
        other = dict.get(regions, backend.region_name)
        if account_id == backend.account_id or other is None:
            continue
        for image in list(other.amis.values()):
            if image.id in backend.amis:
                continue
            explicit = _shared_explicitly(image, backend.account_id, targets)
            if explicit or image.is_public:
                images[image.id] = (_consumer_view(image, backend), explicit)
    return images


def _narrow(
    backend: Any, images: list[tuple[Any, bool]], filters: Any, exec_users: list[str] | None, owners: list[str] | None
) -> list[Any]:
    """Apply DescribeImages' Owners, ExecutableUsers and Filters to foreign images."""
    if owners:
        wanted = {backend.account_id if owner == "self" else owner for owner in owners}
        images = [
            (image, explicit) for image, explicit in images if image.owner_id in wanted or image.owner_alias in wanted
        ]
    if exec_users:
        users = {backend.account_id if user == "self" else user for user in exec_users}
        images = [
            (image, explicit)
            for image, explicit in images
            if (explicit and backend.account_id in users) or (image.is_public and "all" in users)
        ]
    selected = [image for image, _explicit in images]
    return generic_filter(filters, selected) if filters else selected


def _describe_images(original: Any) -> Any:
    # EC2 DescribeImages: "The images available to you include public images, private images
    # that you own, and private images owned by other Amazon Web Services accounts for which
    # you have explicit launch permissions" (an account, its organization or one of its OUs).
    # Owner-only data stays with the owner: tags are never shared.
    def describe_images(
        self: Any,
        ami_ids: list[str] | None = None,
        filters: Any = None,
        exec_users: list[str] | None = None,
        owners: list[str] | None = None,
    ) -> list[Any]:
        foreign = _foreign_images(self)
        if not ami_ids:
            own = original(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
            return own + _narrow(self, list(foreign.values()), filters, exec_users, owners)
        found = [foreign[image_id][0] for image_id in ami_ids if image_id in foreign]
        rest = [image_id for image_id in ami_ids if image_id not in foreign]
        if not found:
            return original(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
        try:
            own = original(self, ami_ids=rest, filters=filters, exec_users=exec_users, owners=owners) if rest else []
        except InvalidAMIIdError:
            own = []
        return own + found

    return describe_images


def apply() -> None:
    """Install the image sharing patch."""
    install(AmiBackend, "describe_images", _describe_images)
