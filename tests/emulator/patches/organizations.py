"""Organizations: only the management account (or a delegated administrator) reads the tree,
and ListChildren pages as AWS does."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from moto.organizations.exceptions import (
    AWSOrganizationsNotInUseException,
    InvalidInputException,
    OrganizationsClientError,
)
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse

from ._support import install


# "This operation can be called only from the organization's management account or by a
# member account that is a delegated administrator." (Organizations API reference)
MANAGEMENT_ONLY = (
    "list_roots",
    "list_parents",
    "list_children",
    "list_organizational_units_for_parent",
    "describe_organizational_unit",
    "list_accounts",
    "list_accounts_for_parent",
    "describe_account",
)
ACCESS_DENIED_MESSAGE = "You don't have permissions to access this resource."
# Organizations list operations return at most 20 results per page (MaxResults 1-20).
MAX_PAGE_SIZE = 20


def _management_backend(backend: Any) -> Any:
    """The backend of the management account of ``backend``'s organization, or None."""
    if backend.org is not None:
        return backend
    management = organizations_backends.master_accounts.get(backend.account_id)
    return organizations_backends[management[0]][management[1]] if management else None


def _management_only(original: Any) -> Any:
    # Organizations ListRoots/ListParents/ListChildren/ListOrganizationalUnitsForParent/
    # DescribeOrganizationalUnit/ListAccounts...: a member account that is not a delegated
    # administrator gets AccessDeniedException; an account in no organization gets
    # AWSOrganizationsNotInUseException. moto lets members read (part of) the tree.
    # DescribeOrganization is not patched: it works from every member, in AWS and in moto.
    @functools.wraps(original)
    def management_only(self: Any, *args: Any, **kwargs: Any) -> Any:
        management = _management_backend(self)
        if management is None:
            raise AWSOrganizationsNotInUseException()
        if management is not self and not any(admin.account.id == self.account_id for admin in management.admins):
            raise OrganizationsClientError("AccessDeniedException", ACCESS_DENIED_MESSAGE)
        return original(management, *args, **kwargs)

    return management_only


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidInputException("You specified an invalid value for nextToken.") from error


def _list_children_response(_original: Any) -> Any:
    # Organizations ListChildren pages like every Organizations list: at most MaxResults
    # (1-20, default 20) children and a NextToken while more remain. moto returns all at once.
    def list_children(self: Any) -> str:
        children = self.organizations_backend.list_children(
            ParentId=self._get_param("ParentId"), ChildType=self._get_param("ChildType")
        )
        size = min(int(self._get_param("MaxResults") or MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        offset = _page_offset(self._get_param("NextToken"))
        page = children["Children"][offset : offset + size]
        response: dict[str, Any] = {"Children": page}
        if offset + size < len(children["Children"]):
            response["NextToken"] = _page_token(offset + size)
        return json.dumps(response)

    return list_children


def apply() -> None:
    """Install the Organizations patches."""
    for name in MANAGEMENT_ONLY:
        install(OrganizationsBackend, name, _management_only)
    install(OrganizationsResponse, "list_children", _list_children_response)
