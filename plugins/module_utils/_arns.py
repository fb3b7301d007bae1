# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Organization and OU identifiers, ARNs and principal paths: parse, check, build.

Pure code (no AWS call). EC2 launch permissions and key-policy conditions take
organization/OU *ARNs*; a bare ``o-...``/``ou-...`` ID is rejected by EC2, so it
is refused here first with a message that says how to get the ARN.

ID patterns are the ones the Organizations API documents. An OU ID is
``ou-<root suffix>-<suffix>``: its first segment is the suffix of the ID of the
root it lives under, which is how the root ID can be known without a call.
Organizations IDs and ARNs are all lowercase, so something that looks like one
in any letter case is judged as one (never as a name), and refused with its
lowercase form when that form would do.

The parsers take ``option`` (and ``index``, 1-based, for a list entry) only to
name where an empty value came from; they never see a module.
"""

import re
from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique

PARTITION_PATTERN = r"aws[a-z-]*"
ACCOUNT_ID_PATTERN = r"\d{12}"
ORGANIZATION_ID_PATTERN = r"o-[a-z0-9]{10,32}"
ROOT_ID_PATTERN = r"r-[0-9a-z]{4,32}"
OU_ID_PATTERN = r"ou-(?P<root_suffix>[0-9a-z]{4,32})-[a-z0-9]{8,32}"

_PARTITION = re.compile(rf"^{PARTITION_PATTERN}$")
_ACCOUNT_ID = re.compile(rf"^{ACCOUNT_ID_PATTERN}$")
_ORGANIZATION_ID = re.compile(rf"^{ORGANIZATION_ID_PATTERN}$")
_ROOT_ID = re.compile(rf"^{ROOT_ID_PATTERN}$")
_OU_ID = re.compile(rf"^{OU_ID_PATTERN}$")

ORG_ARN_INFO_HINT = "orgshare.aws.org_arn_info returns the ARNs for organization and OU IDs or name paths"
ORG_ID_FORMAT = "o- followed by 10 to 32 lowercase letters or digits (e.g. o-a1b2c3d4e5)"
OU_ID_FORMAT = "ou-<4 to 32 letters or digits of its root ID>-<8 to 32 letters or digits> (e.g. ou-ab12-cd34ef56)"
ORG_ARN_FORMAT = "arn:<partition>:organizations::<management account>:organization/<o-id>"
OU_ARN_FORMAT = "arn:<partition>:organizations::<management account>:ou/<o-id>/<ou-id>"
# The name AWS Organizations gives the root (ListRoots); name paths start with it. The
# Organizations API has no call to rename a root (UpdateOrganizationalUnit takes OU IDs only).
ROOT_NAME = "Root"
SHARE_WITH_ORGANIZATION = (
    "the root stands for the whole organization: share with the organization instead (orgshare.aws.org_arn_info "
    "returns its ARN as organization.arn; in the share_ami role, set share_ami_share_with_organization: true)"
)
# What to give instead of an empty value, by what was expected.
_WHAT_TO_GIVE = {
    "organization ARN": f"the organization ARN ({ORG_ARN_FORMAT})",
    "OU ARN": f"the OU ARN ({OU_ARN_FORMAT})",
    "organizational unit": "an OU ID, an OU ARN or a name path from the root such as 'Root/Workloads/Prod'",
    "organization ID": "the organization ID (o-...) or ARN",
}


class Organization(namedtuple("Organization", "id management_account_id partition")):
    """An organization: its ID, the management account that owns its ARNs, the partition."""

    __slots__ = ()

    @property
    def arn(self):
        return organization_arn(self.partition, self.management_account_id, self.id)


class OrganizationalUnit(namedtuple("OrganizationalUnit", "id organization_id management_account_id partition")):
    """An OU as far as it is known; fields other than ``id`` may be None."""

    __slots__ = ()

    @property
    def root_id(self):
        return root_id_of_ou(self.id)


class OuReference(namedtuple("OuReference", "requested kind ou segments")):
    """One ``organizational_units`` input, classified.

    ``kind`` is ``id``, ``arn`` or ``path``; ``ou`` is an :class:`OrganizationalUnit`
    for IDs and ARNs; ``segments`` the names from the root for name paths.
    """

    __slots__ = ()


def organization_arn(partition, management_account_id, organization_id):
    """ARN of an organization, as EC2 launch permissions take it."""
    return f"arn:{partition}:organizations::{management_account_id}:organization/{organization_id}"


def ou_arn(partition, management_account_id, organization_id, ou_id):
    """ARN of an organizational unit, as EC2 launch permissions take it."""
    return f"arn:{partition}:organizations::{management_account_id}:ou/{organization_id}/{ou_id}"


def root_id_of_ou(ou_id):
    """The ID of the root an OU lives under, read from the OU ID itself."""
    match = _OU_ID.match(ou_id or "")
    return f"r-{match.group('root_suffix')}" if match else None


def principal_org_path(organization_id, root_id, ou_ids):
    """The full ``aws:PrincipalOrgPaths`` value of an OU: ``o-x/r-y/ou-a/ou-b/``.

    ``ou_ids`` runs from the child of the root down to the OU itself.
    """
    return "/".join([organization_id, root_id] + list(ou_ids)) + "/"


def principal_org_paths_value(organization_id, ou_id, path=None):
    """The key-policy value that matches principals in an OU and below it.

    With the full path known this is ``path*``; otherwise the pattern
    ``o-x/*/ou-b/*`` (matches the OU wherever it sits in the tree).
    """
    if path:
        return path + "*"
    return f"{organization_id}/*/{ou_id}/*"


def _quote(text):
    return repr(text) if isinstance(text, str) else repr(str(text))


def _bare_id_error(text, what):
    """Message for a bare ID where an ARN is needed (EC2 would refuse it)."""
    return OrgShareError(
        f"{_quote(text)} is a bare {what} ID, but launch permissions and key policies need its ARN "
        f"({ORG_ARN_FORMAT if what == 'organization' else OU_ARN_FORMAT}); {ORG_ARN_INFO_HINT}."
    )


def _looks_like_an_identifier(lowered):
    """Whether lowercased text is written like an ARN or an organization, OU or root ID."""
    if lowered.startswith("arn:"):
        return True
    return "/" not in lowered and (lowered.startswith(("o-", "ou-")) or bool(_ROOT_ID.match(lowered)))


def _refuse_capitals(text, parse):
    """Refuse an ID or ARN with capital letters; show its lowercase form when ``parse`` accepts it."""
    lowered = text.lower()
    if text == lowered or not _looks_like_an_identifier(lowered):
        return
    lead = f"{_quote(text)} has capital letters, but IDs and ARNs are lowercase in AWS Organizations"
    try:
        parse(lowered)
    except OrgShareError as e:
        raise OrgShareError(f"{lead}; even in lowercase it is not usable: {e.message}") from None
    raise OrgShareError(f"{lead}: give {lowered!r}.")


def _arn_problem(text, resource_type):
    """Say what exactly is wrong with something offered as an organization/OU ARN."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return "it does not have the six colon-separated fields of an ARN"
    _arn, partition, service, region, account, resource = parts
    if not _PARTITION.match(partition):
        return f"the partition {partition!r} is not an AWS partition (aws, aws-cn, aws-us-gov)"
    if service != "organizations":
        return f"the service is {service!r}, not 'organizations'"
    if region:
        return f"organization ARNs have no region, but this one has {region!r}"
    if not _ACCOUNT_ID.match(account):
        return f"the account {account!r} is not a 12-digit management account ID"
    pieces = resource.split("/")
    if pieces[0] != resource_type:
        return f"the resource is {pieces[0]!r}, not {resource_type!r}"
    expected = 2 if resource_type == "organization" else 3
    if len(pieces) != expected:
        return f"the resource part {resource!r} should be " + (
            "organization/<o-id>" if expected == 2 else "ou/<o-id>/<ou-id>"
        )
    if not _ORGANIZATION_ID.match(pieces[1]):
        return f"{pieces[1]!r} is not an organization ID ({ORG_ID_FORMAT})"
    if resource_type == "ou" and not _OU_ID.match(pieces[2]):
        return f"{pieces[2]!r} is not an OU ID ({OU_ID_FORMAT})"
    return None


def parse_organization_arn(text, option=None, index=None):
    """Parse an organization ARN into an :class:`Organization`, or raise OrgShareError."""
    text = _require_text(text, "organization ARN", option, index)
    _refuse_capitals(text, parse_organization_arn)
    if _ORGANIZATION_ID.match(text):
        raise _bare_id_error(text, "organization")
    problem = _arn_problem(text, "organization")
    if problem:
        raise OrgShareError(f"{_quote(text)} is not a valid organization ARN ({ORG_ARN_FORMAT}): {problem}.")
    _arn, partition, _service, _region, account, resource = text.split(":", 5)
    return Organization(resource.split("/")[1], account, partition)


def parse_ou_arn(text, option=None, index=None):
    """Parse an OU ARN into an :class:`OrganizationalUnit`, or raise OrgShareError."""
    text = _require_text(text, "OU ARN", option, index)
    _refuse_capitals(text, parse_ou_arn)
    if _OU_ID.match(text):
        raise _bare_id_error(text, "OU")
    if _ORGANIZATION_ID.match(text):
        raise OrgShareError(
            f"{_quote(text)} is an organization ID, not an OU ARN ({OU_ARN_FORMAT}); {ORG_ARN_INFO_HINT}."
        )
    problem = _arn_problem(text, "ou")
    if problem:
        raise OrgShareError(f"{_quote(text)} is not a valid OU ARN ({OU_ARN_FORMAT}): {problem}.")
    _arn, partition, _service, _region, account, resource = text.split(":", 5)
    _ou, organization_id, ou_id = resource.split("/")
    return OrganizationalUnit(ou_id, organization_id, account, partition)


def parse_organization_id(text, option=None):
    """Check an organization ID (``o-...``); an organization ARN is accepted and reduced to it.

    Returns ``(organization_id, Organization or None)``: the second is set when
    an ARN was given, since it also names the management account.
    """
    text = _require_text(text, "organization ID", option)
    _refuse_capitals(text, parse_organization_id)
    if text.startswith("arn:"):
        organization = parse_organization_arn(text)
        return organization.id, organization
    if not _ORGANIZATION_ID.match(text):
        raise OrgShareError(f"{_quote(text)} is not a valid organization ID: expected {ORG_ID_FORMAT}.")
    return text, None


def parse_account_id(text, what="management account ID", option=None):
    """Check a 12-digit AWS account ID."""
    text = _require_text(text, what, option)
    if not _ACCOUNT_ID.match(text):
        raise OrgShareError(f"{_quote(text)} is not a valid {what}: expected exactly 12 digits.")
    return text


def parse_partition(text, option=None):
    """Check an AWS partition name (aws, aws-cn, aws-us-gov, ...)."""
    text = _require_text(text, "partition", option)
    if not _PARTITION.match(text):
        raise OrgShareError(f"{_quote(text)} is not an AWS partition: expected aws, aws-cn or aws-us-gov.")
    return text


def parse_ou_reference(text, option=None, index=None):
    """Classify one OU reference: an OU ID, an OU ARN or a name path from the root.

    Anything that looks like an ID or an ARN, in any letter case, must be a valid
    one (``ou-123`` is a malformed ID, not the name of an OU); everything else is a
    name path such as ``Root/Workloads/Prod``, which has at least two names: one
    name alone would be the root itself, or an OU written without its path.
    """
    text = _require_text(text, "organizational unit", option, index)
    _refuse_capitals(text, parse_ou_reference)
    if text.startswith("arn:"):
        return OuReference(text, "arn", parse_ou_arn(text), None)
    if text.startswith("ou-") and "/" not in text:
        if not _OU_ID.match(text):
            raise OrgShareError(f"{_quote(text)} is not a valid OU ID: expected {OU_ID_FORMAT}.")
        return OuReference(text, "id", OrganizationalUnit(text, None, None, None), None)
    if _ORGANIZATION_ID.match(text) or text.startswith("o-") and "/" not in text:
        raise OrgShareError(
            f"{_quote(text)} is an organization ID, not an organizational unit; "
            "give the organization with organization_id (its ARN is returned as organization.arn)."
        )
    if _ROOT_ID.match(text):
        raise OrgShareError(f"{_quote(text)} is a root ID, and {SHARE_WITH_ORGANIZATION}.")
    segments = text.split("/")
    if len(segments) == 1 and text.lower() == ROOT_NAME.lower():
        raise OrgShareError(
            f"{_quote(text)} is the root of the organization, not an OU, and {SHARE_WITH_ORGANIZATION}."
        )
    if len(segments) == 1:
        raise OrgShareError(
            f"{_quote(text)} is a single name, but name paths start at the root, which AWS Organizations names "
            f"{ROOT_NAME!r}: give {ROOT_NAME + '/' + text!r} for an OU right under the root, or its whole path "
            f"(e.g. {ROOT_NAME + '/Workloads/' + text!r}) for one further down."
        )
    if any(segment == "" for segment in segments):
        raise OrgShareError(
            f"{_quote(text)} is neither an OU ID ({OU_ID_FORMAT}), an OU ARN ({OU_ARN_FORMAT}) "
            "nor a name path from the root such as 'Root/Workloads/Prod' (names separated by '/', none empty)."
        )
    return OuReference(text, "path", None, segments)


def check_units_in_organization(references, organization):
    """Refuse OU ARNs that name another organization, management account or partition."""
    fix = (
        "an OU can only be resolved within its own organization; check the ARN, or give that organization's "
        "organization_id and management_account_id."
    )
    for ref in references:
        unit = ref.ou
        if unit is None:
            continue
        if unit.organization_id is not None and unit.organization_id != organization.id:
            raise OrgShareError(
                f"The OU {ref.requested!r} belongs to organization {unit.organization_id}, not to {organization.id}: {fix}"
            )
        if unit.management_account_id is not None and unit.management_account_id != organization.management_account_id:
            raise OrgShareError(
                f"The OU ARN {ref.requested!r} names management account {unit.management_account_id}, but organization "
                f"{organization.id} belongs to {organization.management_account_id}: {fix}"
            )
        if unit.partition is not None and unit.partition != organization.partition:
            raise OrgShareError(
                f"The OU ARN {ref.requested!r} is in partition {unit.partition}, but organization {organization.id} is in "
                f"{organization.partition}: set partition, or fix the ARN."
            )


def common_root_id(references):
    """The root ID all OU IDs/ARNs share (read from the IDs), or None when no OU ID is given.

    One organization has one root, so OU IDs under different roots cannot all
    belong to it: that is refused here, before any call.
    """
    roots = unique((ref.requested, ref.ou.root_id) for ref in references if ref.ou is not None)
    root_ids = unique(root_id for _requested, root_id in roots)
    if len(root_ids) > 1:
        listing = ", ".join(f"{requested!r} (root {root_id})" for requested, root_id in roots)
        raise OrgShareError(
            f"These OUs sit under different roots, so they cannot belong to one organization: {listing}."
        )
    return root_ids[0] if root_ids else None


def organization_entry(organization, root_id=None):
    """The ``organization`` result of org_arn_info."""
    return {
        "id": organization.id,
        "arn": organization.arn,
        "management_account_id": organization.management_account_id,
        "root_id": root_id,
    }


def unit_entry(requested, organization, ou_id, name=None, path=None):
    """One ``organizational_units`` result of org_arn_info."""
    return {
        "requested": requested,
        "id": ou_id,
        "arn": ou_arn(organization.partition, organization.management_account_id, organization.id, ou_id),
        "name": name,
        "path": path,
        "principal_org_paths": principal_org_paths_value(organization.id, ou_id, path),
    }


def parse_ou_references(texts, option="organizational_units"):
    """:func:`parse_ou_reference` for each entry of the list option ``option``."""
    return [parse_ou_reference(text, option, index) for index, text in enumerate(texts or [], 1)]


def check_share_targets(
    organization_arns, organizational_unit_arns, options=("organization_arns", "organizational_unit_arns")
):
    """Validate and de-duplicate the organization and OU ARNs to share with.

    Returns two lists in first-seen order. Raises OrgShareError naming the first
    bad entry, before anything is written anywhere. ``options`` are the names of
    the two list options, for the message about an empty or null entry.
    """
    for index, arn in enumerate(organization_arns or [], 1):
        parse_organization_arn(arn, options[0], index)
    for index, arn in enumerate(organizational_unit_arns or [], 1):
        parse_ou_arn(arn, options[1], index)
    return unique(organization_arns or []), unique(organizational_unit_arns or [])


def check_same_partition(arns, region, expected):
    """Refuse organization/OU ARNs of another partition than ``expected``, the region's: EC2 shares only within a partition.

    ``expected`` None (a region the installed botocore does not know) checks nothing: EC2 will judge.
    """
    if expected is None:
        return
    for arn in arns:
        partition = arn.split(":", 2)[1]
        if partition != expected:
            raise OrgShareError(
                f"{arn!r} is in partition {partition}, but region {region} is in partition {expected}: an AMI can only be "
                "shared with organizations and OUs of its own partition."
            )


def _empty_value_error(value, what, option, index):
    """Message for an empty or null value; ansible-core hands a module "" for a null entry of a list of strings."""
    message = f"{'Null' if value is None else 'An empty string'} was given for the {what}"
    to_give = _WHAT_TO_GIVE.get(what, f"the {what}")
    if option and index:
        return OrgShareError(f"{message}: entry {index} of {option} is empty or null; remove it, or give {to_give}.")
    if option:
        return OrgShareError(f"{message}: {option} is empty; leave it out, or give {to_give}.")
    return OrgShareError(f"{message}.")


def _require_text(value, what, option=None, index=None):
    """The value, checked to be a non-empty string without surrounding white space."""
    if value is None or isinstance(value, str) and not value.strip():
        raise _empty_value_error(value, what, option, index)
    if not isinstance(value, str):
        raise OrgShareError(f"{_quote(value)} is not a valid {what}: expected a string.")
    if value != value.strip():
        raise OrgShareError(f"{_quote(value)} has leading or trailing white space; give the {what} without it.")
    return value
