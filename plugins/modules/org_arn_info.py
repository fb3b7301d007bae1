#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: org_arn_info
version_added: 0.1.0
short_description: Resolve an AWS Organization and its OUs to ARNs and principal paths
description:
  - Turns an organization and organizational units (OUs), given as IDs, ARNs or name paths from the
    root such as C(Root/Workloads/Prod), into the values the other modules of this collection take,
    namely organization and OU ARNs for EC2 launch permissions and C(aws:PrincipalOrgPaths) values
    for KMS key policies.
  - EC2 refuses bare C(o-...)/C(ou-...) IDs in launch permissions; this module builds the ARNs.
  - With O(organization_id) and O(management_account_id) given and only OU IDs or ARNs requested,
    it makes no AWS call at all. That is the mode for member accounts, which cannot read the
    organization tree, and for owners sharing with an organization they do not belong to.
  - Otherwise it calls C(DescribeOrganization) once and, for name paths and full paths, reads the
    tree with C(ListRoots), C(ListOrganizationalUnitsForParent), C(ListParents) and
    C(DescribeOrganizationalUnit), each parent and OU looked up at most once. Reading the tree needs
    the management account or a delegated administrator for AWS Organizations.
  - When the tree may not be read and only OU IDs or ARNs were requested, the module warns and returns
    the ARNs with RV(organizational_units[].path=null) and the path pattern C(o-x/*/ou-y/*) instead of
    failing. Name paths always need the tree.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  organizational_units:
    description:
      - OUs to resolve, each an OU ID (C(ou-ab12-cd34ef56)), an OU ARN
        (C(arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56)) or a name path from
        the root (C(Root/Workloads/Prod)), names separated by C(/).
      - Anything that starts like an ID or an ARN must be a valid one; C(ou-123) is refused, not looked
        up as a name. IDs and ARNs are lowercase in AWS Organizations, so one written with capitals
        (C(OU-AB12-CD34EF56)) is refused too, with its lowercase form.
      - A name path has at least two names, the first being the root's (C(Root)). The root alone is
        refused, since it stands for the whole organization; share with RV(organization.arn) instead.
    type: list
    elements: str
    default: []
  organization_id:
    description:
      - The organization ID (C(o-...)) or organization ARN.
      - Defaults to the organization of the calling account (C(DescribeOrganization)).
      - With O(management_account_id) (or an organization ARN, which names it) and no name paths in
        O(organizational_units), no AWS call is made.
    type: str
  management_account_id:
    description:
      - The 12-digit ID of the organization's management account, which owns the organization's ARNs.
    type: str
  partition:
    description:
      - The AWS partition used to build ARNs when no AWS call is made. When the organization is looked
        up, its own ARN tells the partition.
    type: str
    default: aws
notes:
  - The result is the same in check mode; the module never changes anything.
extends_documentation_fragment:
  - orgshare.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    details: The module only reads; there is never a change to show.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Resolve OUs by name path from the management account
  orgshare.aws.org_arn_info:
    organizational_units:
      - Root/Workloads/Prod
      - Root/Workloads/Dev
  register: org

- name: Share an AMI with those OUs
  orgshare.aws.ami_org_share:
    image_ids: [ami-0123456789abcdef0]
    organizational_unit_arns: "{{ org.organizational_units | map(attribute='arn') }}"

- name: From a member account (cannot read the tree), build the ARNs without any AWS call
  orgshare.aws.org_arn_info:
    organization_id: o-a1b2c3d4e5
    management_account_id: "111122223333"
    organizational_units:
      - ou-ab12-cd34ef56
  register: org

- name: The whole organization of the calling account
  orgshare.aws.org_arn_info:
  register: org
"""

RETURN = r"""
organization:
  description: The organization.
  returned: always
  type: dict
  contains:
    id:
      description: The organization ID.
      type: str
      returned: always
      sample: o-a1b2c3d4e5
    arn:
      description: The organization ARN, as launch permissions take it.
      type: str
      returned: always
      sample: arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5
    management_account_id:
      description: The ID of the management account.
      type: str
      returned: always
      sample: "111122223333"
    root_id:
      description:
        - The ID of the root, when known (read from the tree, or from the OU IDs, whose first segment
          is the root's suffix); otherwise null.
      type: str
      returned: always
      sample: r-ab12
organizational_units:
  description: One entry per O(organizational_units) input, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    requested:
      description: The input as given.
      type: str
      returned: always
      sample: Root/Workloads/Prod
    id:
      description: The OU ID.
      type: str
      returned: always
      sample: ou-ab12-cd34ef56
    arn:
      description: The OU ARN, as launch permissions take it.
      type: str
      returned: always
      sample: arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56
    name:
      description: The OU name when it was read from AWS, else null.
      type: str
      returned: always
      sample: Prod
    path:
      description:
        - The full C(aws:PrincipalOrgPaths) value of the OU, from the organization through every parent
          OU, ending in C(/); null when the tree could not be read.
      type: str
      returned: always
      sample: o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/
    principal_org_paths:
      description:
        - The value to use with C(aws:PrincipalOrgPaths) in a key policy to match principals in the OU
          and every OU below it; RV(organizational_units[].path) followed by C(*) when known, else the
          pattern C(o-x/*/ou-y/*), which matches the OU wherever it sits.
      type: str
      returned: always
      sample: o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-cd34ef56/*
"""

from ansible_collections.orgshare.aws.plugins.module_utils import _arns
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._module import run_module
from ansible_collections.orgshare.aws.plugins.module_utils._organizations import OrganizationTree
from ansible_collections.orgshare.aws.plugins.module_utils._organizations import OrganizationalUnitNotFound
from ansible_collections.orgshare.aws.plugins.module_utils._organizations import OrganizationsAccessDenied


ARGUMENT_SPEC = dict(
    organizational_units=dict(type="list", elements="str", default=[]),
    organization_id=dict(type="str"),
    management_account_id=dict(type="str"),
    partition=dict(type="str", default="aws"),
)


def requested_organization(params):
    """``(organization_id, management_account_id, partition)`` from the options, each checked; None where not given."""
    organization_id, management_account_id = None, None
    partition = _arns.parse_partition(params["partition"], option="partition")
    if params["organization_id"] is not None:
        organization_id, from_arn = _arns.parse_organization_id(params["organization_id"], option="organization_id")
        if from_arn is not None:
            management_account_id, partition = from_arn.management_account_id, from_arn.partition
    if params["management_account_id"] is not None:
        given = _arns.parse_account_id(params["management_account_id"], option="management_account_id")
        if management_account_id is not None and given != management_account_id:
            raise OrgShareError(
                f"management_account_id {given} contradicts the organization ARN {params['organization_id']!r}, "
                f"which names {management_account_id}; give one or make them agree."
            )
        management_account_id = given
    return organization_id, management_account_id, partition


def organization_from_api(tree, organization_id, management_account_id):
    """The caller's organization, checked against what the options asked for."""
    described = tree.organization
    found = _arns.parse_organization_arn(described["Arn"])
    if organization_id is not None and organization_id != found.id:
        raise OrgShareError(
            f"organization_id {organization_id} is not the caller's organization ({found.id}). To work with another "
            "organization, also give its management_account_id and the OUs as IDs or ARNs (no AWS call is made then); "
            "name paths can only be resolved in the caller's own organization."
        )
    if management_account_id is not None and management_account_id != found.management_account_id:
        raise OrgShareError(
            f"management_account_id {management_account_id} is not the management account of organization "
            f"{found.id}, which is {found.management_account_id}."
        )
    return found


def resolve_offline(organization, references, root_id):
    """Everything from the inputs alone: no AWS call."""
    units = [_arns.unit_entry(ref.requested, organization, ref.ou.id) for ref in references]
    return _arns.organization_entry(organization, root_id), units


def resolve_unit_online(tree, organization, ref):
    """``(root_id, entry)`` for one OU given as ID or ARN, its path read from the tree."""
    try:
        root_id, chain = tree.ancestry(ref.ou.id)
        name = tree.unit(ref.ou.id)["Name"]
    except OrganizationalUnitNotFound as e:
        raise OrgShareError(
            f"The OU {ref.requested!r} is not in organization {organization.id}: check the ID; for an OU of another "
            "organization, give that organization's organization_id and management_account_id.",
            exception=e.exception,
        ) from e
    path = _arns.principal_org_path(organization.id, root_id, chain)
    return root_id, _arns.unit_entry(ref.requested, organization, ref.ou.id, name, path)


def resolve_online(module, tree, organization, references, root_id):
    """Read what is needed from the tree: name paths must resolve; IDs/ARNs degrade to the path pattern if denied."""
    units, denied = [], None
    for ref in references:
        if ref.kind == "path":
            root_id, chain = tree.find_path(ref.requested, ref.segments)
            path = _arns.principal_org_path(organization.id, root_id, [unit["Id"] for unit in chain])
            units.append(_arns.unit_entry(ref.requested, organization, chain[-1]["Id"], chain[-1]["Name"], path))
            continue
        if denied is None:
            try:
                root_id, entry = resolve_unit_online(tree, organization, ref)
                units.append(entry)
                continue
            except OrganizationsAccessDenied as e:
                denied = e
        units.append(_arns.unit_entry(ref.requested, organization, ref.ou.id))
    if denied is not None:
        module.warn(
            f"{denied.message} Until then the OU paths are unknown: organizational_units[].path is null and "
            "principal_org_paths uses the pattern o-x/*/ou-y/*."
        )
    return _arns.organization_entry(organization, root_id), units


def describe_arns(module):
    """The module's whole job: validate every input, then resolve with as few calls as possible."""
    references = _arns.parse_ou_references(module.params["organizational_units"], "organizational_units")
    root_id = _arns.common_root_id(references)
    organization_id, management_account_id, partition = requested_organization(module.params)
    if organization_id and management_account_id and all(ref.kind != "path" for ref in references):
        organization = _arns.Organization(organization_id, management_account_id, partition)
        _arns.check_units_in_organization(references, organization)
        organization_result, units = resolve_offline(organization, references, root_id)
    else:
        # Organizations is a global service, served from us-east-1 in the aws partition.
        tree = OrganizationTree(module.client("organizations", region=module.region or "us-east-1"))
        organization = organization_from_api(tree, organization_id, management_account_id)
        _arns.check_units_in_organization(references, organization)
        organization_result, units = resolve_online(module, tree, organization, references, root_id)
    return {"organization": organization_result, "organizational_units": units}


def main():
    run_module(ARGUMENT_SPEC, describe_arns, changed=False)


if __name__ == "__main__":
    main()
