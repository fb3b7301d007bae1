# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Properties of the key-policy planner's ownership rule over random policies and prefixes (hypothesis).

The policies mix foreign statements (any Sid, including ones that start with the prefix, differ
from an owned Sid only in case or by a character, or belong to another prefix; Denies; statements
shaped exactly like the module's that let another organization in) with the module's own
statements in the shapes it accepts, and with near misses: an owned Sid on another shape.
Which statement is which is known from how it was drawn, not asked of the planner.
"""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import Principals

MGMT = "111122223333"
ORG_ID = "o-a1b2c3d4e5"
EVIL_ORG_ID = "o-evilevil00"
EVIL_PATH = f"{EVIL_ORG_ID}/r-evil/ou-evil-00000000/*"
KEY_ARN = f"arn:aws:kms:us-east-1:{MGMT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
SUFFIXES = ["OrgUse", "OrgCreateGrant", "OrgAutoScalingGrant", "OuUse", "OuCreateGrant", "OuAutoScalingGrant"]

prefixes = st.text(ALNUM, min_size=1, max_size=10)
org_ids = st.text(LOWER_ALNUM, min_size=10, max_size=12).map(lambda suffix: "o-" + suffix)
ou_ids = st.tuples(st.text(LOWER_ALNUM, min_size=4, max_size=4), st.text(LOWER_ALNUM, min_size=8, max_size=8)).map(
    "ou-{0[0]}-{0[1]}".format
)
ou_paths = st.one_of(
    ou_ids.map(lambda ou_id: f"{ORG_ID}/*/{ou_id}/*"),
    ou_ids.map(lambda ou_id: f"{ORG_ID}/r-ab12/{ou_id}/*"),
    ou_ids.map(lambda ou_id: f"{ORG_ID}/r-ab12/{ou_id}/"),
)
principals = st.builds(
    Principals, st.lists(org_ids, max_size=3, unique=True), st.lists(ou_paths, max_size=3, unique=True)
)
requests = st.fixed_dictionaries(
    {
        "organization_arns": st.lists(
            org_ids.map(lambda org_id: f"arn:aws:organizations::{MGMT}:organization/{org_id}"), max_size=2
        ),
        "organizational_unit_arns": st.lists(
            ou_ids.map(lambda ou_id: f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{ou_id}"), max_size=2
        ),
        "organizational_unit_paths": st.lists(ou_paths, max_size=2),
    }
)
states = st.sampled_from(["present", "absent"])
values = st.one_of(st.text(max_size=12), st.lists(st.text(max_size=12), min_size=1, max_size=3), st.booleans())
conditions = st.one_of(
    st.dictionaries(
        st.sampled_from(["StringEquals", "StringLike", "Bool", "ForAnyValue:StringLike", "ArnLike"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "aws:SourceVpc",
                    "kms:ViaService",
                    "aws:PrincipalOrgID",
                    "aws:PrincipalOrgPaths",
                    "kms:GrantIsForAWSResource",
                ]
            ),
            values,
            min_size=1,
            max_size=2,
        ),
        min_size=1,
        max_size=2,
    ),
    st.just({"StringEquals": {"aws:PrincipalOrgID": EVIL_ORG_ID}}),
    st.just({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [EVIL_PATH]}}),
)


def foreign_sids(prefix):
    """Sids that are not the prefix's: none, anything, the prefix and more, an owned Sid in another case
    or with a character more or less, another prefix's owned Sid."""
    owned = _key_policy.owned_sids(prefix)
    suffixes = st.sampled_from(SUFFIXES)
    return st.one_of(
        st.text(ALNUM + " ", min_size=1, max_size=20),
        st.text(ALNUM, max_size=12).map(lambda rest: prefix + rest),
        suffixes.map(lambda suffix: (prefix + suffix).swapcase()),
        suffixes.map(lambda suffix: prefix + suffix.lower()),
        st.tuples(suffixes, st.text(ALNUM + " ", min_size=1, max_size=3)).map(lambda pair: prefix + pair[0] + pair[1]),
        suffixes.map(lambda suffix: prefix + suffix[:-1]),
        st.tuples(st.text(ALNUM, min_size=1, max_size=3), suffixes).map(lambda pair: pair[0] + prefix + pair[1]),
        st.tuples(prefixes, suffixes).map(lambda pair: pair[0] + pair[1]),
    ).filter(lambda sid: sid not in owned)


@st.composite
def foreign_statements(draw, prefix):
    """A statement the collection does not own: a foreign Sid (or none) on any shape, the module's own shapes included."""
    if draw(st.booleans()):
        statement = copy.deepcopy(
            draw(st.sampled_from(_key_policy.build_statements(Principals([EVIL_ORG_ID], [EVIL_PATH]), prefix, False)))
        )
        statement["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    else:
        statement = {
            "Effect": draw(st.sampled_from(["Allow", "Deny"])),
            "Principal": draw(
                st.sampled_from(
                    ["*", {"AWS": "*"}, {"AWS": f"arn:aws:iam::{MGMT}:root"}, {"Service": "ec2.amazonaws.com"}]
                )
            ),
            "Action": draw(
                st.lists(
                    st.sampled_from(_key_policy.ACCEPTED_USE_ACTIONS + ("kms:CreateGrant", "kms:*", "kms:Encrypt")),
                    min_size=1,
                    max_size=3,
                )
            ),
            "Resource": draw(st.sampled_from(["*", ["*"], KEY_ARN])),
        }
        if draw(st.booleans()):
            statement["Condition"] = draw(conditions)
    statement.pop("Sid", None)
    if draw(st.integers(0, 5)):
        statement["Sid"] = draw(foreign_sids(prefix))
    # Key order is the author's: it must survive too.
    return dict(draw(st.permutations(list(statement.items()))))


@st.composite
def owned_statements(draw, prefix):
    """The module's statements for some principals, in the spellings it accepts as its own."""
    statements = _key_policy.build_statements(draw(principals), prefix, draw(st.booleans()))
    for statement in statements:
        if draw(st.booleans()):
            statement["Principal"] = draw(st.sampled_from([{"AWS": "*"}, {"AWS": ["*"]}]))
        if draw(st.booleans()):
            kind = _key_policy.kind_of(statement, prefix)
            statement["Action"] = draw(st.lists(st.sampled_from(kind.actions), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()) and "Bool" in statement["Condition"]:
            statement["Condition"]["Bool"] = {_key_policy.GRANT_FOR_AWS_RESOURCE_KEY: True}
        if draw(st.booleans()) and _key_policy.GRANTEE_KEY in statement["Condition"].get("StringLike", {}):
            statement["Condition"]["StringLike"][_key_policy.GRANTEE_KEY].reverse()
            draw(st.randoms(use_true_random=False)).shuffle(
                statement["Condition"]["ForAllValues:StringEquals"]["kms:GrantOperations"]
            )
    return statements


def _condition_values(statement, replacement):
    block = next(iter(statement["Condition"].values()))
    block[next(iter(block))] = replacement


NEAR_MISSES = [
    lambda statement: statement.update(Effect="Deny"),
    lambda statement: statement.update(NotAction="kms:Encrypt"),
    lambda statement: statement.update(NotPrincipal={"AWS": f"arn:aws:iam::{MGMT}:root"}),
    lambda statement: statement.update(NotResource="*"),
    lambda statement: statement.update(Principal={"AWS": f"arn:aws:iam::{MGMT}:root"}),
    lambda statement: statement.update(Resource=KEY_ARN),
    lambda statement: statement.update(Action=statement["Action"] + ["kms:Encrypt"]),
    lambda statement: statement.update(Action="kms:*"),
    lambda statement: statement.update(Action=[]),
    lambda statement: statement.pop("Condition"),
    lambda statement: statement["Condition"].update({"StringLike": {"aws:PrincipalTag/team": "ops"}}),
    lambda statement: statement["Condition"].update({"Bool": {"kms:GrantIsForAWSResource": "false"}}),
    lambda statement: statement["Condition"].update({"Bool": {"aws:SecureTransport": "true"}}),
    lambda statement: _condition_values(statement, ["o-bad"]),
    lambda statement: _condition_values(statement, []),
    lambda statement: next(iter(statement["Condition"].values())).update({"aws:PrincipalAccount": MGMT}),
    lambda statement: statement["Condition"].update({"StringLike": {"kms:GranteePrincipal": "arn:aws:iam::*:role/*"}}),
    lambda statement: statement["Condition"].update(
        {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Sign"]}}
    ),
]


@st.composite
def near_misses(draw, prefix):
    """An owned Sid on a shape the module does not write: one of the module's statements, spoilt."""
    statement = draw(
        st.sampled_from(
            _key_policy.build_statements(Principals([ORG_ID], [f"{ORG_ID}/*/ou-ab12-cd34ef56/*"]), prefix, False)
        )
    )
    statement = copy.deepcopy(statement)
    draw(st.sampled_from(NEAR_MISSES))(statement)
    return statement


@st.composite
def policies(draw, with_near_misses=False):
    """(prefix, policy, foreign statements in order, near misses): foreign and owned statements interleaved."""
    prefix = draw(prefixes)
    foreign = draw(st.lists(foreign_statements(prefix), max_size=6))
    mixed = list(foreign)
    extra = draw(owned_statements(prefix))
    misses = draw(st.lists(near_misses(prefix), min_size=1, max_size=3)) if with_near_misses else []
    for statement in extra + misses:
        mixed.insert(draw(st.integers(0, len(mixed))), statement)
    document = {"Version": "2012-10-17"}
    document["Statement"] = mixed[0] if len(mixed) == 1 and draw(st.booleans()) else mixed
    return prefix, document, foreign, misses


def plan(prefix, document, requested, state, purge, only_for_aws):
    return _key_policy.plan_key_policy(
        document, _key_policy.requested_principals(**requested), state, purge, prefix, only_for_aws, KEY_ARN
    )


def texts(statements):
    return [json.dumps(statement) for statement in statements]


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, database=None)


@PROPERTY_SETTINGS
@given(policies(), requests, states, st.booleans(), st.booleans(), st.booleans())
def test_foreign_statements_come_out_unchanged_and_in_order(drawn, requested, state, purge, only_for_aws, as_text):
    prefix, document, foreign, _misses = drawn
    owned_sids = _key_policy.owned_sids(prefix)
    result = plan(prefix, json.dumps(document) if as_text else document, requested, state, purge, only_for_aws)
    for after in (result.after, json.loads(result.document())):
        statements = _key_policy.statements_of(after)
        assert texts(statement for statement in statements if statement.get("Sid") not in owned_sids) == texts(foreign)
        mine = [statement for statement in statements if statement.get("Sid") in owned_sids]
        if result.changed:
            assert mine == result.statements
        else:
            assert after == _key_policy.parse_policy(document)  # nothing is rewritten when nothing changes
        assert all(_key_policy.owned(statement, prefix) for statement in mine)
        # Principals come only from the module's own statements (and the request): never the other organization.
        assert EVIL_ORG_ID not in json.dumps(mine)
    assert {key: value for key, value in result.after.items() if key != "Statement"} == {"Version": "2012-10-17"}


@PROPERTY_SETTINGS
@given(policies(), requests, states, st.booleans(), st.booleans())
def test_planning_again_changes_nothing(drawn, requested, state, purge, only_for_aws):
    prefix, document, _foreign, _misses = drawn
    first = plan(prefix, document, requested, state, purge, only_for_aws)
    again = plan(prefix, first.document(), requested, state, purge, only_for_aws)
    assert not again.changed and again.after == first.after
    assert again.added == again.removed == Principals([], [])


@PROPERTY_SETTINGS
@given(policies(with_near_misses=True), requests, states, st.booleans(), st.booleans(), st.booleans())
def test_a_near_miss_is_always_refused_before_a_plan(drawn, requested, state, purge, only_for_aws, as_text):
    prefix, document, _foreign, misses = drawn
    given_text = json.dumps(document)
    with pytest.raises(OrgShareError) as err:
        plan(prefix, given_text if as_text else document, requested, state, purge, only_for_aws)
    message = err.value.message
    for statement in misses:
        assert f"Sid {statement['Sid']!r}: it" in message
        assert not _key_policy.owned(statement, prefix)
    assert KEY_ARN in message and "choose another statement_id_prefix" in message
    assert json.dumps(document) == given_text  # the planner changed nothing it was given


@PROPERTY_SETTINGS
@given(prefixes, st.data())
def test_foreign_statements_let_nobody_in(prefix, data):
    statements = data.draw(st.lists(foreign_statements(prefix), max_size=8))
    assert _key_policy.current_principals({"Statement": statements}, prefix) == Principals([], [])
    assert not any(_key_policy.owned(statement, prefix) for statement in statements)
