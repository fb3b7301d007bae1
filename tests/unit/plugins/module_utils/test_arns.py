# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Table-driven tests of the pure ID/ARN code."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _arns
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

ORG_ID = "o-a1b2c3d4e5"
OU_ID = "ou-ab12-cd34ef56"
MGMT = "111122223333"
ORG_ARN = f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}"
OU_ARN = f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{OU_ID}"
ORG = _arns.Organization(ORG_ID, MGMT, "aws")


def refusal(parse, *args, **kwargs):
    """The message of the OrgShareError ``parse(*args, **kwargs)`` must raise."""
    with pytest.raises(OrgShareError) as err:
        parse(*args, **kwargs)
    return err.value.message


@pytest.mark.parametrize(
    "text, expected",
    [
        (ORG_ARN, (ORG_ID, MGMT, "aws")),
        (f"arn:aws-cn:organizations::{MGMT}:organization/{ORG_ID}", (ORG_ID, MGMT, "aws-cn")),
        (f"arn:aws-us-gov:organizations::{MGMT}:organization/o-{'a' * 32}", ("o-" + "a" * 32, MGMT, "aws-us-gov")),
    ],
)
def test_parse_organization_arn_valid(text, expected):
    assert tuple(_arns.parse_organization_arn(text)) == expected


@pytest.mark.parametrize(
    "text, fragments",
    [
        (ORG_ID, ["bare organization ID", "org_arn_info"]),
        ("", ["empty string"]),
        (" " + ORG_ARN, ["white space"]),
        ("arn:aws:organizations::12345:organization/" + ORG_ID, ["'12345'", "12-digit"]),
        ("arn:azure:organizations::111122223333:organization/" + ORG_ID, ["'azure'", "partition"]),
        ("arn:aws:iam::111122223333:organization/" + ORG_ID, ["'iam'"]),
        ("arn:aws:organizations:us-east-1:111122223333:organization/" + ORG_ID, ["no region"]),
        ("arn:aws:organizations::111122223333:organization/o-short", ["'o-short'", "not an organization ID"]),
        ("arn:aws:organizations::111122223333:organization/O-A1B2C3D4E5", ["lowercase", f"give {ORG_ARN!r}"]),
        (OU_ARN, ["'ou'", "not 'organization'"]),
        ("arn:aws:organizations::111122223333:organization", ["organization/<o-id>"]),
        ("not-an-arn", ["six colon-separated fields"]),
        (42, ["expected a string"]),
    ],
)
def test_parse_organization_arn_invalid(text, fragments):
    with pytest.raises(OrgShareError) as err:
        _arns.parse_organization_arn(text)
    for fragment in fragments:
        assert fragment in err.value.message


def test_parse_ou_arn_valid():
    unit = _arns.parse_ou_arn(OU_ARN)
    assert unit == (OU_ID, ORG_ID, MGMT, "aws")
    assert unit.root_id == "r-ab12"


@pytest.mark.parametrize(
    "text, fragments",
    [
        (OU_ID, ["bare OU ID", "org_arn_info"]),
        (ORG_ID, ["organization ID, not an OU ARN"]),
        (ORG_ARN, ["'organization'", "not 'ou'"]),
        (f"arn:aws:organizations::{MGMT}:ou/{OU_ID}", ["ou/<o-id>/<ou-id>"]),
        (f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/ou-123", ["'ou-123'", "not an OU ID"]),
        (f"arn:aws:organizations::1111222233334:ou/{ORG_ID}/{OU_ID}", ["'1111222233334'"]),
    ],
)
def test_parse_ou_arn_invalid(text, fragments):
    with pytest.raises(OrgShareError) as err:
        _arns.parse_ou_arn(text)
    for fragment in fragments:
        assert fragment in err.value.message
    assert repr(text) in err.value.message  # the message quotes the input


@pytest.mark.parametrize(
    "text, kind, ou_id, segments",
    [
        (OU_ID, "id", OU_ID, None),
        (OU_ARN, "arn", OU_ID, None),
        ("Root/Workloads/Prod", "path", None, ["Root", "Workloads", "Prod"]),
        ("Root/ou-like name", "path", None, ["Root", "ou-like name"]),
        ("Root/Prod/ou-ab12-cd34ef56", "path", None, ["Root", "Prod", "ou-ab12-cd34ef56"]),
    ],
)
def test_parse_ou_reference(text, kind, ou_id, segments):
    ref = _arns.parse_ou_reference(text)
    assert ref.requested == text
    assert ref.kind == kind
    assert (ref.ou.id if ref.ou else None) == ou_id
    assert ref.segments == segments


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("ou-123", "not a valid OU ID"),
        ("ou-ab12-short", "not a valid OU ID"),
        ("o-abc", "organization ID, not an organizational unit"),
        (ORG_ID, "organization ID, not an organizational unit"),
        ("r-ab12", "root ID"),
        ("", "empty string"),
        ("Prod", "give 'Root/Prod'"),
        ("Root//Prod", "none empty"),
        ("Root/Prod/", "none empty"),
        ("arn:aws:organizations::12345:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56", "12-digit"),
    ],
)
def test_parse_ou_reference_invalid(text, fragment):
    with pytest.raises(OrgShareError) as err:
        _arns.parse_ou_reference(text)
    assert fragment in err.value.message


@pytest.mark.parametrize(
    "text, expected_id, expected_org",
    [
        (ORG_ID, ORG_ID, None),
        (ORG_ARN, ORG_ID, ORG),
    ],
)
def test_parse_organization_id(text, expected_id, expected_org):
    assert _arns.parse_organization_id(text) == (expected_id, expected_org)


@pytest.mark.parametrize("text", ["o-abc", "org-a1b2c3d4e5", OU_ID])
def test_parse_organization_id_invalid(text):
    with pytest.raises(OrgShareError, match="not a valid organization ID"):
        _arns.parse_organization_id(text)


@pytest.mark.parametrize(
    "text, valid", [("111122223333", True), ("11112222333", False), ("1111222233334", False), ("11112222333x", False)]
)
def test_parse_account_id(text, valid):
    if valid:
        assert _arns.parse_account_id(text) == text
    else:
        with pytest.raises(OrgShareError, match="12 digits"):
            _arns.parse_account_id(text)


@pytest.mark.parametrize(
    "text, valid", [("aws", True), ("aws-cn", True), ("aws-us-gov", True), ("gcp", False), ("AWS", False)]
)
def test_parse_partition(text, valid):
    if valid:
        assert _arns.parse_partition(text) == text
    else:
        with pytest.raises(OrgShareError, match="not an AWS partition"):
            _arns.parse_partition(text)


def test_builders_round_trip():
    assert _arns.organization_arn("aws", MGMT, ORG_ID) == ORG_ARN
    assert _arns.ou_arn("aws", MGMT, ORG_ID, OU_ID) == OU_ARN
    assert ORG.arn == ORG_ARN
    assert _arns.parse_ou_arn(_arns.ou_arn("aws-cn", MGMT, ORG_ID, OU_ID)).partition == "aws-cn"


@pytest.mark.parametrize(
    "ou_id, root_id", [(OU_ID, "r-ab12"), ("ou-abcdefgh-12345678", "r-abcdefgh"), ("ou-1", None), (None, None)]
)
def test_root_id_of_ou(ou_id, root_id):
    assert _arns.root_id_of_ou(ou_id) == root_id


def test_principal_org_paths():
    path = _arns.principal_org_path(ORG_ID, "r-ab12", ["ou-ab12-11111111", OU_ID])
    assert path == f"{ORG_ID}/r-ab12/ou-ab12-11111111/{OU_ID}/"
    assert _arns.principal_org_paths_value(ORG_ID, OU_ID, path) == path + "*"
    assert _arns.principal_org_paths_value(ORG_ID, OU_ID) == f"{ORG_ID}/*/{OU_ID}/*"


# IDs and ARNs are lowercase in AWS Organizations: anything that looks like one in any letter
# case is judged as one (never read as a name path), and the lowercase form is shown when it is valid.
@pytest.mark.parametrize(
    "parse, text, suggested",
    [
        (_arns.parse_organization_arn, ORG_ARN.upper(), ORG_ARN),
        (_arns.parse_organization_arn, "Arn:Aws:Organizations::111122223333:Organization/o-a1b2c3d4e5", ORG_ARN),
        (_arns.parse_ou_arn, OU_ARN.upper(), OU_ARN),
        (_arns.parse_ou_arn, f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/OU-AB12-CD34EF56", OU_ARN),
        (_arns.parse_organization_id, ORG_ID.upper(), ORG_ID),
        (_arns.parse_organization_id, ORG_ARN.upper(), ORG_ARN),
        (_arns.parse_ou_reference, OU_ID.upper(), OU_ID),
        (_arns.parse_ou_reference, OU_ARN.upper(), OU_ARN),
        (_arns.parse_ou_reference, "Ou-Ab12-Cd34ef56", OU_ID),
    ],
)
def test_capitals_are_refused_with_the_lowercase_form(parse, text, suggested):
    message = refusal(parse, text)
    assert message.startswith(f"{text!r} has capital letters, but IDs and ARNs are lowercase in AWS Organizations")
    assert message.endswith(f"give {suggested!r}.")
    assert parse(suggested)  # what the message suggests is accepted


@pytest.mark.parametrize(
    "parse, text, fragment",
    [
        (_arns.parse_organization_arn, ORG_ID.upper(), f"{ORG_ID!r} is a bare organization ID"),
        (_arns.parse_ou_arn, OU_ID.upper(), f"{OU_ID!r} is a bare OU ID"),
        (_arns.parse_organization_arn, OU_ARN.upper(), "the resource is 'ou', not 'organization'"),
        (_arns.parse_ou_reference, "OU-123", "'ou-123' is not a valid OU ID"),
        (_arns.parse_ou_reference, "R-AB12", "'r-ab12' is a root ID"),
        (_arns.parse_ou_reference, ORG_ID.upper(), "organization ID, not an organizational unit"),
        (_arns.parse_organization_id, "O-ABC", "'o-abc' is not a valid organization ID"),
    ],
)
def test_capitals_are_refused_saying_what_else_is_wrong(parse, text, fragment):
    message = refusal(parse, text)
    assert message.startswith(f"{text!r} has capital letters, but IDs and ARNs are lowercase in AWS Organizations")
    assert "even in lowercase" in message and fragment in message


@pytest.mark.parametrize("text", ["Root/OU-AB12-CD34EF56", "Root/Workloads/O-Team", "Root/ARN:team"])
def test_capitals_inside_a_name_path_are_names(text):
    assert _arns.parse_ou_reference(text).kind == "path"


@pytest.mark.parametrize("text", ["Root", "root", "ROOT"])
def test_the_root_alone_is_the_whole_organization(text):
    message = refusal(_arns.parse_ou_reference, text)
    assert message.startswith(f"{text!r} is the root")
    assert "stands for the whole organization" in message
    assert "organization.arn" in message and "share_ami_share_with_organization: true" in message


@pytest.mark.parametrize("text", ["Prod", "Workloads", "team-01", "Sandbox team"])
def test_a_single_name_is_told_to_start_at_the_root(text):
    message = refusal(_arns.parse_ou_reference, text)
    assert message.startswith(f"{text!r} is a single name")
    assert "name paths start at the root" in message
    assert f"give {'Root/' + text!r}" in message


@pytest.mark.parametrize(
    "call, expected",
    [
        (
            lambda: _arns.parse_organization_arn("", option="organization_arns", index=2),
            "An empty string was given for the organization ARN: entry 2 of organization_arns is empty or null; remove it, or give",
        ),
        (
            lambda: _arns.parse_organization_arn(None, option="organization_arns", index=1),
            "Null was given for the organization ARN: entry 1 of organization_arns is empty or null; remove it, or give",
        ),
        (
            lambda: _arns.parse_ou_arn("", option="organizational_unit_arns", index=1),
            "entry 1 of organizational_unit_arns is empty or null; remove it, or give the OU ARN (arn:",
        ),
        (
            lambda: _arns.parse_ou_reference("", option="organizational_units", index=3),
            "An empty string was given for the organizational unit: entry 3 of organizational_units is empty or null",
        ),
        (
            lambda: _arns.parse_organization_id("", option="organization_id"),
            "An empty string was given for the organization ID: organization_id is empty; leave it out, or give",
        ),
        (
            lambda: _arns.parse_account_id("", option="management_account_id"),
            "management_account_id is empty; leave it out",
        ),
        (lambda: _arns.parse_partition("", option="partition"), "partition is empty; leave it out"),
    ],
)
def test_empty_or_null_names_the_option(call, expected):
    assert expected in refusal(call)


def test_parse_ou_references_numbers_the_entries():
    refs = _arns.parse_ou_references([OU_ID, "Root/Prod"], "organizational_units")
    assert [ref.kind for ref in refs] == ["id", "path"]
    message = refusal(_arns.parse_ou_references, [OU_ID, "Root/Prod", ""], "organizational_units")
    assert "entry 3 of organizational_units is empty or null" in message


@pytest.mark.parametrize(
    "orgs, units, expected",
    [
        ([ORG_ARN, ""], [], "entry 2 of organization_arns is empty or null; remove it, or give the organization ARN"),
        ([None], [], "entry 1 of organization_arns is empty or null"),
        (
            [],
            [OU_ARN, OU_ARN, ""],
            "entry 3 of organizational_unit_arns is empty or null; remove it, or give the OU ARN",
        ),
    ],
)
def test_check_share_targets_names_the_empty_entry(orgs, units, expected):
    assert expected in refusal(_arns.check_share_targets, orgs, units)


def test_check_share_targets_takes_the_option_names():
    message = refusal(
        _arns.check_share_targets, [], [""], ("share_ami_organization_arns", "share_ami_organizational_unit_arns")
    )
    assert "entry 1 of share_ami_organizational_unit_arns is empty or null" in message


def test_check_share_targets_dedupes_in_order():
    other = f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/ou-ab12-99999999"
    orgs, units = _arns.check_share_targets([ORG_ARN, ORG_ARN], [other, OU_ARN, other])
    assert orgs == [ORG_ARN]
    assert units == [other, OU_ARN]
    assert _arns.check_share_targets(None, None) == ([], [])


@pytest.mark.parametrize(
    "orgs, units, fragment",
    [
        ([ORG_ID], [], "bare organization ID"),
        ([], [OU_ID], "bare OU ID"),
        ([OU_ARN], [], "not 'organization'"),
        ([], [ORG_ARN], "not 'ou'"),
    ],
)
def test_check_share_targets_refuses(orgs, units, fragment):
    with pytest.raises(OrgShareError) as err:
        _arns.check_share_targets(orgs, units)
    assert fragment in err.value.message


def _refs(*texts):
    return [_arns.parse_ou_reference(text) for text in texts]


def test_check_units_in_organization():
    _arns.check_units_in_organization(_refs(OU_ARN, OU_ID, "Root/Prod"), ORG)
    cases = [
        (f"arn:aws:organizations::{MGMT}:ou/o-zzzzzzzzzz/{OU_ID}", "belongs to organization o-zzzzzzzzzz"),
        (f"arn:aws:organizations::999988887777:ou/{ORG_ID}/{OU_ID}", "names management account 999988887777"),
        (f"arn:aws-cn:organizations::{MGMT}:ou/{ORG_ID}/{OU_ID}", "partition aws-cn"),
    ]
    for arn, fragment in cases:
        with pytest.raises(OrgShareError) as err:
            _arns.check_units_in_organization(_refs(arn), ORG)
        assert fragment in err.value.message


def test_common_root_id():
    assert _arns.common_root_id(_refs("Root/Prod")) is None
    assert _arns.common_root_id(_refs(OU_ID, OU_ARN, "Root/Prod")) == "r-ab12"
    with pytest.raises(OrgShareError, match="different roots"):
        _arns.common_root_id(_refs(OU_ID, "ou-zz99-cd34ef56"))


def test_entries():
    assert _arns.organization_entry(ORG, "r-ab12") == {
        "id": ORG_ID,
        "arn": ORG_ARN,
        "management_account_id": MGMT,
        "root_id": "r-ab12",
    }
    entry = _arns.unit_entry("Root/Prod", ORG, OU_ID, "Prod", f"{ORG_ID}/r-ab12/{OU_ID}/")
    assert entry == {
        "requested": "Root/Prod",
        "id": OU_ID,
        "arn": OU_ARN,
        "name": "Prod",
        "path": f"{ORG_ID}/r-ab12/{OU_ID}/",
        "principal_org_paths": f"{ORG_ID}/r-ab12/{OU_ID}/*",
    }
    assert _arns.unit_entry(OU_ID, ORG, OU_ID)["principal_org_paths"] == f"{ORG_ID}/*/{OU_ID}/*"


def test_check_same_partition():
    _arns.check_same_partition([ORG_ARN, OU_ARN], "eu-west-1", "aws")
    china = f"arn:aws-cn:organizations::{MGMT}:ou/{ORG_ID}/{OU_ID}"
    _arns.check_same_partition([china], "cn-north-1", "aws-cn")
    _arns.check_same_partition([china], "xx-new-1", None)  # a region botocore does not know: EC2 judges
    with pytest.raises(OrgShareError) as err:
        _arns.check_same_partition([ORG_ARN, china], "eu-west-1", "aws")
    assert (
        repr(china) in err.value.message
        and "partition aws-cn" in err.value.message
        and "eu-west-1" in err.value.message
    )
