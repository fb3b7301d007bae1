# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Organizations calls: one small function per call, retried, errors mapped once.

``DescribeOrganization`` works from any member account; reading the tree
(``ListRoots``, ``ListParents``, ``ListOrganizationalUnitsForParent``,
``DescribeOrganizationalUnit``) needs the management account or a delegated
administrator (``ListAccountsForParent`` too). :class:`OrganizationTree` reads the tree lazily and remembers
what it has seen, so each parent is listed and each OU looked up at most once.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils._api import ErrorRule
from ansible_collections.orgshare.aws.plugins.module_utils._api import api_call
from ansible_collections.orgshare.aws.plugins.module_utils._api import list_all
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# TooManyRequestsException (throttling) is in AWSRetry's list already;
# ServiceException is how Organizations reports its own 5xx failures.
organizations_retry = AWSRetry.jittered_backoff(
    retries=10, delay=1, max_delay=20, catch_extra_error_codes=["ServiceException"]
)

ACCESS_FIX = (
    "Either give organization_id and management_account_id (OU IDs and ARNs then need no AWS call at all), "
    "or run with credentials of the organization's management account or of a delegated administrator for AWS Organizations."
)
NOT_IN_USE_FIX = (
    "To share with an organization this account is not a member of, give its organization_id and management_account_id "
    "and the OUs as IDs or ARNs: they need no AWS call."
)


class OrganizationsAccessDenied(OrgShareError):
    """The caller may not read this part of the organization (a member account, most often)."""


class OrganizationalUnitNotFound(OrgShareError):
    """The OU is not in the caller's organization."""


ORGANIZATIONS_ERRORS = (
    ErrorRule(
        "AccessDeniedException",
        "AWS Organizations denied the request to {what} ({code}). " + ACCESS_FIX,
        OrganizationsAccessDenied,
    ),
    ErrorRule(
        "AWSOrganizationsNotInUseException",
        "Cannot {what}: the calling account is not a member of any organization ({code}). " + NOT_IN_USE_FIX,
    ),
    ErrorRule(
        ("ChildNotFoundException", "OrganizationalUnitNotFoundException"),
        "Cannot {what}: AWS Organizations does not know it in the caller's organization ({code}).",
        OrganizationalUnitNotFound,
    ),
)


def _organizations_call(description):
    return api_call(description, ORGANIZATIONS_ERRORS)


_list_all = organizations_retry(list_all)


@_organizations_call("describe the caller's organization")
def describe_organization(client):
    return organizations_retry(client.describe_organization)()["Organization"]


@_organizations_call("list the roots of the organization")
def list_roots(client):
    return _list_all(client, "list_roots").get("Roots", [])


@_organizations_call("list the organizational units under {0}")
def list_child_units(client, parent_id):
    return _list_all(client, "list_organizational_units_for_parent", ParentId=parent_id).get("OrganizationalUnits", [])


@_organizations_call("look up the parent of {0}")
def list_parents(client, child_id):
    return _list_all(client, "list_parents", ChildId=child_id).get("Parents", [])


@_organizations_call("list the accounts directly under {0}")
def list_accounts_for_parent(client, parent_id):
    return _list_all(client, "list_accounts_for_parent", ParentId=parent_id).get("Accounts", [])


@_organizations_call("describe organizational unit {0}")
def describe_unit(client, ou_id):
    return organizations_retry(client.describe_organizational_unit)(OrganizationalUnitId=ou_id)["OrganizationalUnit"]


class OrganizationTree:
    """The caller's organization, read lazily: every call is made at most once per node."""

    def __init__(self, client):
        self._client = client
        self._organization = None
        self._root = None
        self._children = {}  # parent ID -> [OU dicts]
        self._parent = {}  # child ID -> parent ID
        self._units = {}  # OU ID -> OU dict (Id, Name, Arn)
        self._accounts = {}  # parent ID -> [account dicts]

    @property
    def organization(self):
        """``DescribeOrganization``, once."""
        if self._organization is None:
            self._organization = describe_organization(self._client)
        return self._organization

    @property
    def root(self):
        """The organization's root (an organization has exactly one)."""
        if self._root is None:
            roots = list_roots(self._client)
            if not roots:
                raise OrgShareError("AWS Organizations returned no root for the caller's organization.")
            self._root = roots[0]
        return self._root

    def children(self, parent_id):
        """The OUs directly under a root or OU, listed once."""
        if parent_id not in self._children:
            units = list_child_units(self._client, parent_id)
            self._children[parent_id] = units
            for unit in units:
                self._units[unit["Id"]] = unit
                self._parent[unit["Id"]] = parent_id
        return self._children[parent_id]

    def accounts(self, parent_id):
        """The accounts directly under a root or OU (``ListAccountsForParent``), listed once."""
        if parent_id not in self._accounts:
            self._accounts[parent_id] = list_accounts_for_parent(self._client, parent_id)
            for account in self._accounts[parent_id]:
                self._parent[account["Id"]] = parent_id
        return self._accounts[parent_id]

    def unit(self, ou_id):
        """``DescribeOrganizationalUnit`` unless the OU was already seen in a listing."""
        if ou_id not in self._units:
            self._units[ou_id] = describe_unit(self._client, ou_id)
        return self._units[ou_id]

    def parent_id(self, child_id):
        """The ID of the parent of an OU, looked up once."""
        if child_id not in self._parent:
            parents = list_parents(self._client, child_id)
            if not parents:
                raise OrgShareError(f"AWS Organizations returned no parent for {child_id}.")
            self._parent[child_id] = parents[0]["Id"]
        return self._parent[child_id]

    def ancestry(self, ou_id):
        """``(root_id, [OU IDs from the root's child down to ou_id])``."""
        chain = [ou_id]
        while True:
            parent = self.parent_id(chain[0])
            if parent.startswith("r-"):
                return parent, chain
            chain.insert(0, parent)

    def find_path(self, path, segments):
        """Follow a name path (``Root/Workloads/Prod``) down from the root.

        Returns ``(root_id, [OU dicts along the path])``. Raises OrgShareError
        naming where the path broke off and the names that do exist there.
        """
        root = self.root
        if segments[0] != root["Name"]:
            raise OrgShareError(
                f"{path!r} does not start at the root: name paths begin with the root's name, "
                f"which is {root['Name']!r} in organization {self.organization['Id']}."
            )
        parent_id, parent_path, chain = root["Id"], root["Name"], []
        for name in segments[1:]:
            siblings = self.children(parent_id)
            match = next((unit for unit in siblings if unit["Name"] == name), None)
            if match is None:
                existing = ", ".join(repr(n) for n in sorted(unit["Name"] for unit in siblings)) or "none"
                raise OrgShareError(
                    f"The OU path {path!r} does not exist: {parent_path!r} has no OU named {name!r}. OUs under {parent_path!r}: {existing}."
                )
            chain.append(match)
            parent_id, parent_path = match["Id"], f"{parent_path}/{name}"
        return root["Id"], chain
