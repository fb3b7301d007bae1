# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether a KMS key policy lets a principal do a KMS action: a small evaluator. Pure code.

It answers from the **key policy alone**: given a policy document (dict or JSON text), an
action such as ``kms:Decrypt`` and a :class:`RequestContext` (who asks, from which
organization and OUs, with which other condition keys), :func:`evaluate` returns a
:class:`Decision` that says whether the key policy allows it and which statement decided.
:func:`can_launch` runs that for every KMS action EC2 performs for a consumer launching an
instance from an AMI whose snapshots the key encrypts (:data:`LAUNCH_ACTIONS`).

It imports nothing but the standard library, so that the modules (through AnsiballZ) and the
emulator under ``tests/emulator`` (which does not have amazon.aws on its path) can both load it.

**Evaluation** follows IAM "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html) for
one resource-based policy: an explicit ``Deny`` that matches wins; otherwise the request is
allowed when an ``Allow`` matches; otherwise it is implicitly denied. A statement matches when
its principal, action, resource and condition all match.

**Modelled.**

- ``Effect`` (``Allow``/``Deny``); ``Sid`` only names the statement in the decision.
- ``Principal``: ``"*"``, ``{"AWS": "*"}``, ``{"AWS": [...]}`` with account IDs,
  ``arn:<partition>:iam::<account>:root`` and exact IAM ARNs (roles, users). In a key policy the
  account principal delegates to the account's IAM policies (KMS Developer Guide, "Default key
  policy", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html): here it
  matches **every principal of that account**, and the IAM policies of the principal's own account
  are **assumed to allow** the action. That assumption holds the other way too: for a principal of
  another account KMS needs both the key policy and that account's IAM policies to allow, and only
  the first is looked at. ``Service``, ``Federated`` and ``CanonicalUser`` entries never match the
  account and IAM principals a :class:`RequestContext` describes.
- ``NotPrincipal``: IAM "NotPrincipal" (reference_policies_elements_notprincipal.html) says it
  "must be used with ``"Effect":"Deny"``; using it with ``"Effect":"Allow"`` is not supported" -
  so an ``Allow`` with it never grants. A ``Deny`` with it applies to every principal except
  those named; as that page warns, the account has to be named too or the whole account may be
  denied, so a principal is exempt only when its account is named and, unless it is the account
  itself, its own ARN as well.
- ``Action``/``NotAction`` with ``*`` and ``?`` wildcards, compared without regard to case (IAM
  "Action": "The prefix and the action name are case insensitive").
- ``Resource``/``NotResource``: in a key policy ``"*"`` means this key (KMS "Key policies"). A
  key ARN or ARN pattern there can only be judged with ``key_arn``; without it, it is not
  understood (see below).
- ``Condition`` with ``StringEquals``, ``StringNotEquals``, ``StringEqualsIgnoreCase``,
  ``StringNotEqualsIgnoreCase``, ``StringLike``, ``StringNotLike`` (``*`` and ``?``),
  ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``, ``ArnNotLike`` (each of the six ARN fields
  matched separately, wildcards allowed in both), ``Bool`` and ``Null``; the ``IfExists`` suffix
  and the ``ForAnyValue:``/``ForAllValues:`` prefixes. As IAM "Condition operators"
  (reference_policies_elements_condition_operators.html) says: a key missing from the context
  makes an operator false, a negated one (``StringNotEquals``, ``ArnNotLike``...) true, and
  ``...IfExists`` true; ``Null`` with ``"true"`` matches when the key is missing, with
  ``"false"`` when it is present. Several operators, and several keys under one operator, are
  ANDed; several values of one key are ORed (for a negated operator: none may match). Condition
  key names are compared without regard to case, values with it (except ``...IgnoreCase``).
- Multivalued keys (IAM "Single-valued vs. multivalued context keys",
  reference_policies_condition-single-vs-multi-valued-context-keys.html), such as
  ``aws:PrincipalOrgPaths`` and ``kms:GrantOperations``: ``ForAnyValue:`` is true when at least
  one value in the context matches, and false when the key is missing; ``ForAllValues:`` is true
  when every value in the context matches, and - as that page says - "also returns true if there
  are no context keys in the request" (a missing key or an empty list).
- Policy variables, as IAM "IAM policy elements: Variables and tags"
  (reference_policies_variables.html) describes them: in the values of the string and ARN
  condition operators and in ``Resource``, ``${key}`` is replaced by the request's value of that
  condition key (``${aws:PrincipalAccount}``, ``${aws:PrincipalArn}``, any key of ``extra``; key
  names without regard to case), ``${key, 'default'}`` by the default when the request does not
  set the key, and ``${*}``, ``${?}``, ``${$}`` by a literal ``*``, ``?`` and ``$`` (a ``*`` or
  ``?`` that is no wildcard). A substituted value is literal text too. Only under the policy's
  ``Version`` ``2012-10-17``: under any other version, or none, IAM "IAM JSON policy elements:
  Version" says variables "are treated as literal strings", and so they are here.

**Not understood, never granting.** Whatever it does not model makes the evaluation of that
part *unknown* rather than true or false: any other condition operator (``Numeric*``,
``Date*``, ``IpAddress``, ``BinaryEquals``...), operator names in another letter case, a
policy variable whose key the request does not hold and that has no default, one whose value
is a list (multivalued), one that is not closed or not a key name, one in a ``Bool`` or
``Null`` condition (IAM: variables are not for those operators), a substituted value holding
``*`` or ``?`` under a ``...Like``/``Arn...`` operator or in ``Resource`` (whether IAM reads
them as wildcards there is not documented), a plain (non-set) operator on a key whose context
value is a list, a wildcard inside a principal ARN, an ARN pattern of fewer than six fields, an
unknown statement element or ``Effect``, a missing ``Principal``/``Action``/``Resource``, values
of the wrong type. Parts combine as three-valued logic (false AND unknown is false; true AND unknown is
unknown). An ``Allow`` that is unknown does not match - it never grants. A ``Deny`` that is
unknown **is taken as matching**: the evaluator fails closed, since reporting "allowed" for a
request AWS might deny is the one answer that must never be wrong. A statement with an unknown
``Effect``, or that is no statement at all, counts as such a ``Deny``. Every such statement is
named in the decision, with what was not understood.

**Not modelled at all** (the decision is the key policy's alone): KMS grants, the key's state
(Disabled, PendingDeletion), service control and resource control policies, permissions
boundaries, the principal's IAM policies (assumed to allow, see above).
"""

import json
import re
from collections import namedtuple
from functools import lru_cache

ORG_ID_KEY = "aws:PrincipalOrgID"
ORG_PATHS_KEY = "aws:PrincipalOrgPaths"
PRINCIPAL_ARN_KEY = "aws:PrincipalArn"
PRINCIPAL_ACCOUNT_KEY = "aws:PrincipalAccount"
CALLER_ACCOUNT_KEY = "kms:CallerAccount"
VIA_SERVICE_KEY = "kms:ViaService"
GRANT_FOR_AWS_RESOURCE_KEY = "kms:GrantIsForAWSResource"

STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
IF_EXISTS = "IfExists"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")
_IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):.+$")
# What a principal that was deleted turns into in a key policy: its unique ID (AIDA..., AROA...),
# which no principal making a request can match.
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,127}$")
_KEY_ARN = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):\d{12}:key/.+$")
_BOOLEANS = ("true", "false")
# IAM "IAM JSON policy elements: Version": policy variables exist only under this version.
VARIABLES_VERSION = "2012-10-17"
# A variable's key name (service prefix, colon, name: aws:PrincipalTag/team, kms:EncryptionContext:App),
# optionally followed by a default as IAM "Specifying default values" writes it: ${key, 'default'}.
_VARIABLE_BODY = re.compile(r"^([A-Za-z0-9-]+:[A-Za-z0-9_.:/+=@-]+)(?:, '([^']*)')?$")
_SPECIAL_VARIABLES = ("*", "?", "$")


class PolicyDocumentError(ValueError):
    """The document is not a policy at all (not JSON, not an object, a Statement of the wrong type).

    A policy that parses but holds something the evaluator does not understand is not an error:
    it is evaluated, failing closed (see the module's docs).
    """


class RequestContext(
    namedtuple("RequestContext", "principal_arn principal_account principal_org_id principal_org_paths extra")
):
    """Who makes the request and the condition keys it carries.

    ``principal_arn`` is ``arn:aws:iam::111122223333:root`` for the account itself, or a role or
    user ARN (for a role session, give the role's ARN); ``principal_account`` its 12-digit account
    (read from the ARN when None); ``principal_org_id`` the ``o-...`` ID of its organization, None
    for an account outside any; ``principal_org_paths`` the ``aws:PrincipalOrgPaths`` values, one
    per path, ``o-x/r-y/ou-a/.../`` (empty outside an organization); ``extra`` a dict of any other
    condition keys, e.g. ``{"kms:GrantIsForAWSResource": "true", "kms:ViaService":
    "ec2.us-east-1.amazonaws.com", "kms:GrantOperations": ["Decrypt", "CreateGrant"]}``.
    """

    __slots__ = ()

    def __new__(cls, principal_arn, principal_account=None, principal_org_id=None, principal_org_paths=(), extra=None):
        if principal_account is None and isinstance(principal_arn, str):
            match = _IAM_ARN.match(principal_arn)
            principal_account = match.group(1) if match else None
        return super(RequestContext, cls).__new__(
            cls, principal_arn, principal_account, principal_org_id, tuple(principal_org_paths or ()), dict(extra or {})
        )

    def with_extra(self, extra):
        """This context with more condition keys (they replace keys of the same name)."""
        merged = dict(self.extra)
        merged.update(extra or {})
        return self._replace(extra=merged)

    def condition_keys(self):
        """The condition keys of the request, by lowercase name (condition key names are not case-sensitive).

        ``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` are left out for a principal outside
        any organization, as AWS leaves them out. ``kms:CallerAccount`` defaults to the principal's
        account, which is what KMS puts there. ``extra`` comes last and wins.
        """
        keys = {
            PRINCIPAL_ARN_KEY: self.principal_arn,
            PRINCIPAL_ACCOUNT_KEY: self.principal_account,
            CALLER_ACCOUNT_KEY: self.principal_account,
        }
        if self.principal_org_id:
            keys[ORG_ID_KEY] = self.principal_org_id
        if self.principal_org_paths:
            keys[ORG_PATHS_KEY] = list(self.principal_org_paths)
        keys.update(self.extra)
        return {name.lower(): value for name, value in keys.items() if value is not None}


def account_context(account_id, organization_id=None, org_path=None, partition="aws", extra=None):
    """The :class:`RequestContext` of an account's root principal, in an organization and OU.

    ``org_path`` is the ``aws:PrincipalOrgPaths`` value of the account, ``o-x/r-y/ou-a/ou-b/``
    (its parent OU's path, as AWS Organizations builds it; ``o-x/r-y/`` for an account right under
    the root); the organization ID is read from it when not given. Without both, the account is
    outside any organization.
    """
    if org_path and not organization_id:
        organization_id = org_path.split("/", 1)[0]
    return RequestContext(
        f"arn:{partition}:iam::{account_id}:root", account_id, organization_id, [org_path] if org_path else [], extra
    )


class Decision(namedtuple("Decision", "allowed reason sid index not_understood")):
    """The answer for one action: ``allowed``, a ``reason`` to show, and the deciding statement.

    ``sid`` and ``index`` (1-based) name the statement that decided (None for an implicit deny);
    ``not_understood`` lists, one sentence each, the statements that were not fully understood
    (an Allow among them granted nothing; a Deny among them was taken as matching).
    """

    __slots__ = ()

    def as_dict(self):
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "sid": self.sid,
            "index": self.index,
            "not_understood": list(self.not_understood),
        }


class LaunchAction(namedtuple("LaunchAction", "action condition_keys")):
    """A KMS action EC2 performs for a consumer launching from an encrypted snapshot, with the keys it sets."""

    __slots__ = ()


# What the EBS User Guide, "Share the KMS key used to encrypt a shared Amazon EBS snapshot"
# (https://docs.aws.amazon.com/ebs/latest/userguide/share-kms-key.html), says users of a shared key
# need: kms:DescribeKey, kms:CreateGrant, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext,
# kms:ReEncrypt* and kms:Decrypt, with kms:CreateGrant limited by kms:GrantIsForAWSResource (EC2
# creates the grant, so the flag is true). ReEncrypt* stands for the two concrete KMS actions
# ReEncryptFrom and ReEncryptTo. The EC2 guide, "Allow organizations and OUs to use a KMS key"
# (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/allow-org-ou-to-use-key.html), shows the
# same use for organizations and OUs through aws:PrincipalOrgID and aws:PrincipalOrgPaths.
LAUNCH_ACTIONS = (
    LaunchAction("kms:DescribeKey", ()),
    LaunchAction("kms:CreateGrant", ((GRANT_FOR_AWS_RESOURCE_KEY, "true"),)),
    LaunchAction("kms:Decrypt", ()),
    LaunchAction("kms:GenerateDataKeyWithoutPlaintext", ()),
    LaunchAction("kms:GenerateDataKey", ()),
    LaunchAction("kms:ReEncryptFrom", ()),
    LaunchAction("kms:ReEncryptTo", ()),
)


def launch_actions():
    """The names of the KMS actions a launch from an encrypted snapshot needs (see :data:`LAUNCH_ACTIONS`)."""
    return [launch.action for launch in LAUNCH_ACTIONS]


class ActionCheck(namedtuple("ActionCheck", "action decision")):
    """One action :func:`can_launch` checked, and its :class:`Decision`."""

    __slots__ = ()


class LaunchCheck(namedtuple("LaunchCheck", "allowed checks")):
    """Whether a consumer can launch: ``allowed`` only when every action in ``checks`` is."""

    __slots__ = ()

    def denied(self):
        """The checks whose action is not allowed."""
        return [check for check in self.checks if not check.decision.allowed]

    @property
    def reason(self):
        denied = self.denied()
        if not denied:
            return "the key policy allows every KMS action a launch needs"
        return "the key policy does not allow " + "; ".join(
            f"{check.action} ({check.decision.reason})" for check in denied
        )

    def as_dict(self):
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "actions": [dict(action=check.action, **check.decision.as_dict()) for check in self.checks],
        }


# --- three-valued logic ------------------------------------------------------------------------
# A part of a statement evaluates to True, False or Unknown(why): Unknown is what the evaluator
# does not understand, and it must never turn into a grant.


class Unknown(namedtuple("Unknown", "why")):
    """An evaluation the evaluator cannot decide, and why."""

    __slots__ = ()


def _combine(results, decisive):
    """Three-valued AND (``decisive`` False) or OR (True): the decisive value if any, else the first Unknown."""
    unknown = None
    for result in results:
        if result is decisive:
            return decisive
        if unknown is None and isinstance(result, Unknown):
            unknown = result
    return unknown or not decisive


def _all(results):
    return _combine(results, False)


def _any(results):
    return _combine(results, True)


def _not(result):
    return result if isinstance(result, Unknown) else not result


def _quote(value, limit=120):
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _glob(text):
    return "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text)


@lru_cache(maxsize=512)
def _wildcard(pattern, ignore_case):
    """A compiled regex for an IAM pattern: ``*`` is any run of characters, ``?`` any one character.

    ``pattern`` is a string, or the segments :func:`_resolve` makes of one with policy variables:
    (text, literal) pairs, whose literal text has no wildcards.
    """
    segments = ((pattern, False),) if isinstance(pattern, str) else pattern
    body = "".join(re.escape(text) if literal else _glob(text) for text, literal in segments)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _plain(pattern):
    """A pattern's text, policy variables substituted."""
    return pattern if isinstance(pattern, str) else "".join(text for text, _literal in pattern)


def _resolve(text, keys, where, like):
    """``text`` with its policy variables substituted from the request's condition ``keys``, or Unknown.

    Returns ``text`` itself when it holds none, else a tuple of (text, literal) segments; ``like``
    says whether the result is matched with wildcards, where a substituted ``*`` or ``?`` is not
    understood (see the module's docs).
    """
    if "${" not in text:
        return text
    segments, rest = [], text
    while "${" in rest:
        start = rest.index("${")
        end = rest.find("}", start)
        if end < 0:
            return Unknown(f"{where} {text!r} has a policy variable that is not closed")
        segments.append((rest[:start], False))
        body = rest[start + 2 : end]
        rest = rest[end + 1 :]
        if body in _SPECIAL_VARIABLES:
            segments.append((body, True))
            continue
        match = _VARIABLE_BODY.match(body)
        if not match:
            return Unknown(f"{where} {text!r} has the policy variable ${{{body}}}, which names no condition key")
        name, default = match.groups()
        value = keys.get(name.lower())
        if value is None or isinstance(value, (list, tuple)) and not value:
            if default is None:
                return Unknown(f"{where} {text!r} has the policy variable ${{{name}}}, which the request does not set")
            value = default
        if isinstance(value, (list, tuple)):
            return Unknown(
                f"{where} {text!r} has the policy variable ${{{name}}}, whose value in the request is a list"
            )
        value = _as_text(value)
        if value is None:
            return Unknown(
                f"{where} {text!r} has the policy variable ${{{name}}}, whose value in the request is not a string"
            )
        if like and ("*" in value or "?" in value):
            return Unknown(
                f"{where} {text!r} has the policy variable ${{{name}}}, whose value {value!r} holds a wildcard character"
            )
        segments.append((value, True))
    segments.append((rest, False))
    return tuple(segment for segment in segments if segment[0])


def _like(value, pattern, ignore_case=False):
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _strings(value, what):
    """A policy element's values as a list of strings, or Unknown when it holds anything else."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) for item in values):
        return Unknown(f"{what} {_quote(value)} is not a string or a list of strings")
    return values


# --- Principal, Action, Resource ---------------------------------------------------------------


def _account_of_entry(entry):
    """The account an ``AWS`` principal entry names as a whole (ID or root ARN), or None."""
    if _ACCOUNT_ID.match(entry):
        return entry
    match = _ACCOUNT_ROOT_ARN.match(entry)
    return match.group(1) if match else None


def _aws_entry_matches(entry, context):
    if entry == "*":
        return True
    account = _account_of_entry(entry)
    if account is not None:
        return account == context.principal_account
    if _UNIQUE_ID.match(entry):
        return False
    if entry.startswith("arn:") and ("*" in entry or "?" in entry):
        return Unknown(f"the principal {entry!r} has a wildcard, which a Principal element does not take")
    if _IAM_ARN.match(entry):
        return entry == context.principal_arn
    return Unknown(f'the principal {entry!r} is neither an account, an IAM ARN nor "*"')


def _principal_element(value, element, aws_entry):
    """Whether a Principal or NotPrincipal element names the one asked about; ``aws_entry`` judges each AWS entry."""
    if value == "*":
        return True
    if not isinstance(value, dict) or not value:
        return Unknown(f'its {element} {_quote(value)} is neither "*" nor a map of principal types')
    results = []
    for kind, entries in value.items():
        entries = _strings(entries, f"its {element} {kind}")
        if isinstance(entries, Unknown):
            results.append(entries)
        elif kind == "AWS":
            results.extend(aws_entry(entry) for entry in entries)
        elif kind in ("Service", "Federated", "CanonicalUser"):
            results.append(False)  # never an account or IAM principal, which is all a context describes
        else:
            results.append(Unknown(f"its {element} has the principal type {kind!r}"))
    return _any(results)


def _principal_matches(principal, context):
    """Whether a Principal element names the context's principal (an account entry names all of its principals)."""
    return _principal_element(principal, "Principal", lambda entry: _aws_entry_matches(entry, context))


def _names(not_principal, wanted):
    """Whether a NotPrincipal element names ``wanted`` (an account ID, or a principal's ARN) itself."""

    def names(entry):
        if entry == "*":
            return True
        if entry.startswith("arn:") and ("*" in entry or "?" in entry):
            return Unknown(f"the NotPrincipal {entry!r} has a wildcard, which it does not take")
        return _account_of_entry(entry) == wanted if _ACCOUNT_ID.match(wanted or "") else entry == wanted

    return _principal_element(not_principal, "NotPrincipal", names)


def _exempt_by_not_principal(not_principal, context):
    """Whether a Deny's NotPrincipal exempts the principal: its account must be named, and the principal
    itself unless it is the account (IAM evaluates the account first, then the role or user)."""
    account_named = _names(not_principal, context.principal_account)
    if _ACCOUNT_ROOT_ARN.match(context.principal_arn or ""):
        return account_named
    return _all([account_named, _names(not_principal, context.principal_arn)])


def _action_matches(patterns, action, element):
    patterns = _strings(patterns, f"its {element}")
    if isinstance(patterns, Unknown):
        return patterns
    return any(_like(action, pattern, ignore_case=True) for pattern in patterns)


def _resource_matches(patterns, key_arn, element, keys, variables):
    patterns = _strings(patterns, f"its {element}")
    if isinstance(patterns, Unknown):
        return patterns
    results = []
    for pattern in patterns:
        resolved = _resolve(pattern, keys, f"its {element}", True) if variables else pattern
        if pattern == "*":
            results.append(True)  # in a key policy, "*" is the key the policy is attached to
        elif isinstance(resolved, Unknown):
            results.append(resolved)
        elif key_arn is None:
            results.append(Unknown(f"its {element} {pattern!r} names a key, and no key ARN was given to compare"))
        else:
            results.append(_like(key_arn, resolved))
    return _any(results)


# --- Condition -----------------------------------------------------------------------------------


def _string_equals(value, pattern):
    return value == _plain(pattern)


def _string_equals_ignore_case(value, pattern):
    return value.lower() == _plain(pattern).lower()


def _string_like(value, pattern):
    return _like(value, pattern)


def _arn_fields(pattern):
    """An ARN pattern's six colon-separated fields (fewer for what is no ARN); segments split alike."""
    if isinstance(pattern, str):
        return pattern.split(":", 5)
    fields = [[]]
    for text, literal in pattern:
        for index, piece in enumerate(text.split(":")):
            if index and len(fields) < 6:
                fields.append([])
            elif index:
                fields[-1].append((":", True))  # past the sixth field a colon is text
            if piece:
                fields[-1].append((piece, literal))
    return [tuple(field) for field in fields]


def _arn_like(value, pattern):
    """ArnEquals/ArnLike: each of the six colon-separated fields is matched on its own, wildcards allowed."""
    fields = value.split(":", 5)
    if len(fields) != 6:
        return False
    return all(_like(field, wanted) for field, wanted in zip(fields, _arn_fields(pattern)))


def _bool_equals(value, pattern):
    return value.lower() == pattern


# Base operator -> (comparison of one context value with one policy value, negated).
OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool_equals, False),
}


def _as_text(value):
    """A condition value as the text IAM compares (JSON true is "true"), or None for what is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _policy_values(operator, key, value, booleans=False):
    """A condition's values for one key as texts (lowercase true/false for ``booleans``), or Unknown."""
    values = value if isinstance(value, list) else [value]
    texts = [_as_text(item) for item in values]
    if not texts or None in texts:
        return Unknown(f"its {operator} value for {key} {_quote(value)} is not a string or a list of them")
    if booleans and any("${" in text for text in texts):
        return Unknown(
            f"its {operator} value for {key} {_quote(value)} holds a policy variable, which IAM does not take there"
        )
    if booleans:
        texts = [text.lower() for text in texts]
        if any(text not in _BOOLEANS for text in texts):
            return Unknown(f"its {operator} value for {key} {_quote(value)} is not true or false")
    return texts


def _context_values(keys, key):
    """The context's value for a key: a text, a list of texts (multivalued), None when missing or empty, or Unknown."""
    value = keys.get(key.lower())
    if value is None or isinstance(value, (list, tuple)) and not value:
        return None
    texts = [_as_text(item) for item in value] if isinstance(value, (list, tuple)) else [_as_text(value)]
    if None in texts:
        return Unknown(f"the request's {key} {_quote(value)} is not a string or a list of them")
    return texts if isinstance(value, (list, tuple)) else texts[0]


def _split_operator(operator):
    """``ForAnyValue:StringLikeIfExists`` -> ("ForAnyValue:", "StringLike", True)."""
    prefix = next((candidate for candidate in SET_PREFIXES if operator.startswith(candidate)), "")
    base = operator[len(prefix) :]
    if_exists = base.endswith(IF_EXISTS) and base != IF_EXISTS
    return prefix, base[: -len(IF_EXISTS)] if if_exists else base, if_exists


def _null_matches(key, value, keys):
    """Null: "true" matches a missing key, "false" a present one; several values are ORed."""
    wanted = _policy_values("Null", key, value, booleans=True)
    present = _context_values(keys, key)
    for result in (wanted, present):
        if isinstance(result, Unknown):
            return result
    return any((text == "true") == (present is None) for text in wanted)


def _key_matches(operator, key, value, keys, variables=True):
    """One condition key under one operator, as IAM "Condition operators" and the set-operator page describe.

    ``variables`` is whether the policy's Version makes ``${...}`` policy variables (see :func:`_resolve`).
    """
    prefix, base, if_exists = _split_operator(operator)
    if operator == "Null":
        return _null_matches(key, value, keys)
    if base not in OPERATORS:
        return Unknown(f"its condition operator {operator!r} is not one this evaluator knows")
    compare, negated = OPERATORS[base]
    wanted = _policy_values(operator, key, value, booleans=base == "Bool")
    if variables and not isinstance(wanted, Unknown):
        like = compare in (_string_like, _arn_like)
        wanted = [_resolve(text, keys, f"its {operator} value for {key}", like) for text in wanted]
        wanted = next((result for result in wanted if isinstance(result, Unknown)), wanted)
    present = _context_values(keys, key)
    for result in (wanted, present):
        if isinstance(result, Unknown):
            return result
    if base.startswith("Arn") and any(len(_arn_fields(pattern)) != 6 for pattern in wanted):
        return Unknown(f"its {operator} value for {key} {_quote(value)} is not an ARN of six fields")
    if present is None:
        if if_exists or prefix == "ForAllValues:":
            return True  # ForAllValues "also returns true if there are no context keys in the request"
        return False if prefix == "ForAnyValue:" else negated  # a missing key matches only a negated operator

    def matches(text):
        # Values of one key are ORed; a negated operator matches when none of them does.
        return any(compare(text, pattern) for pattern in wanted) != negated

    if not prefix:
        if isinstance(present, list):
            return Unknown(f"its {operator} on {key} has no ForAnyValue/ForAllValues, but {key} has several values")
        return matches(present)
    present = present if isinstance(present, list) else [present]
    return any(map(matches, present)) if prefix == "ForAnyValue:" else all(map(matches, present))


def _condition_matches(condition, keys, variables=True):
    """A Condition element: every operator, and every key under it, must match."""
    if not isinstance(condition, dict):
        return Unknown(f"its Condition {_quote(condition)} is not a map of operators")
    results = []
    for operator, block in condition.items():
        if not isinstance(block, dict) or not block:
            results.append(Unknown(f"its Condition's {operator} {_quote(block)} is not a map of condition keys"))
        else:
            results.extend(_key_matches(operator, key, value, keys, variables) for key, value in block.items())
    return _all(results)


# --- statements and policies ---------------------------------------------------------------------


def _label(statement, index, total):
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    where = f"{index} of {total}"
    return (f"statement {sid!r} ({where})", sid) if isinstance(sid, str) and sid else (f"statement {where}", None)


def _shape_problem(statement):
    """Why a statement cannot be read as a statement at all, or None."""
    if not isinstance(statement, dict):
        return f"it is {_quote(statement)}, not a statement"
    unknown = [element for element in statement if element not in STATEMENT_ELEMENTS]
    if unknown:
        return f"it has the element(s) {', '.join(map(repr, unknown))}"
    if statement.get("Effect") not in ("Allow", "Deny"):
        return f'its Effect is {_quote(statement.get("Effect"))}, neither "Allow" nor "Deny"'
    for one, other in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
        if one in statement and other in statement:
            return f"it has both {one} and {other}"
        if one not in statement and other not in statement:
            return f"it has neither {one} nor {other}"
    if "NotPrincipal" in statement and statement["Effect"] == "Allow":
        return "it uses NotPrincipal with Allow, which IAM does not support"
    return None


def _statement_matches(statement, action, keys, context, key_arn, variables):
    """Whether one (well-shaped) statement applies to the request: True, False or Unknown."""
    if "Principal" in statement:
        principal = _principal_matches(statement["Principal"], context)
    else:
        principal = _not(_exempt_by_not_principal(statement["NotPrincipal"], context))
    if "Action" in statement:
        action_ok = _action_matches(statement["Action"], action, "Action")
    else:
        action_ok = _not(_action_matches(statement["NotAction"], action, "NotAction"))
    if "Resource" in statement:
        resource = _resource_matches(statement["Resource"], key_arn, "Resource", keys, variables)
    else:
        resource = _not(_resource_matches(statement["NotResource"], key_arn, "NotResource", keys, variables))
    condition = _condition_matches(statement["Condition"], keys, variables) if "Condition" in statement else True
    return _all([principal, action_ok, resource, condition])


def _document(policy):
    if isinstance(policy, (str, bytes)):
        try:
            policy = json.loads(policy)
        except ValueError as e:
            raise PolicyDocumentError(f"The key policy is not valid JSON: {e}.") from e
    if not isinstance(policy, dict):
        raise PolicyDocumentError(f"The key policy is {_quote(policy)}, not a JSON object.")
    return policy


def has_policy_variables(policy):
    """Whether ``${...}`` in the policy (dict or JSON text) are policy variables: only under Version 2012-10-17."""
    return _document(policy).get("Version") == VARIABLES_VERSION


def policy_statements(policy):
    """The statements of a policy given as a dict or JSON text (a lone statement becomes a list of one)."""
    policy = _document(policy)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        return [statements]
    if not isinstance(statements, list):
        raise PolicyDocumentError(
            f"The key policy's Statement is {_quote(statements)}, neither a statement nor a list of them."
        )
    return statements


def _check_action(action):
    if not isinstance(action, str) or ":" not in action:
        raise ValueError(f"The action {action!r} is not a service:Action name such as 'kms:Decrypt'.")


def evaluate(policy, action, context, key_arn=None):
    """Whether the key policy ``policy`` (dict or JSON text) allows ``action`` for ``context``: a :class:`Decision`.

    ``key_arn`` is the key's ARN, needed only to judge a Resource that names a key rather than
    ``"*"``. An explicit Deny (or a Deny not fully understood) wins over any Allow; otherwise the
    first Allow that matches decides; otherwise it is an implicit deny. Raises
    :class:`PolicyDocumentError` for a document that is not a policy, ValueError for a bad action.
    """
    _check_action(action)
    return _evaluate_statements(policy_statements(policy), action, context, key_arn, has_policy_variables(policy))


def _evaluate_statements(statements, action, context, key_arn, variables):
    keys = context.condition_keys()
    total = len(statements)
    deny = allow = None
    not_understood = []
    for index, statement in enumerate(statements, 1):
        label, sid = _label(statement, index, total)
        problem = _shape_problem(statement)
        if problem:
            # Only a statement that surely is an Allow may be skipped; anything else counts as a Deny.
            result = Unknown(problem)
            effect = "Allow" if isinstance(statement, dict) and statement.get("Effect") == "Allow" else "Deny"
        else:
            result = _statement_matches(statement, action, keys, context, key_arn, variables)
            effect = statement["Effect"]
        if isinstance(result, Unknown):
            consequence = "never grants" if effect == "Allow" else "taken as a matching Deny"
            not_understood.append(f"{label} is not understood ({result.why}), so it {consequence}")
        # The first Deny that surely matches is the one to report, else the first not understood.
        if effect == "Deny" and result is not False and (deny is None or result is True and deny[3] is not True):
            deny = (label, sid, index, result)
        elif effect == "Allow" and result is True and allow is None:
            allow = (label, sid, index)
    if deny is not None:
        label, sid, index, result = deny
        reason = f"explicit deny by {label}"
        if isinstance(result, Unknown):
            reason += f", taken as matching because it is not fully understood: {result.why}"
        return Decision(False, reason, sid, index, tuple(not_understood))
    if allow is not None:
        label, sid, index = allow
        return Decision(True, f"allowed by {label}", sid, index, tuple(not_understood))
    reason = "no statement allows it (implicit deny)"
    if not_understood:
        reason += "; " + "; ".join(not_understood)
    return Decision(False, reason, None, None, tuple(not_understood))


def _via_ec2(key_arn):
    """The kms:ViaService value of EC2 calling KMS in the key's region, or None when the key ARN does not say."""
    match = _KEY_ARN.match(key_arn or "")
    if not match:
        return None
    partition, region = match.groups()
    return f"ec2.{region}.amazonaws.com" + (".cn" if partition == "aws-cn" else "")


def can_launch(policy, context, key_arn=None):
    """Whether the key policy lets ``context``'s principal launch from a snapshot the key encrypts: a :class:`LaunchCheck`.

    Each action of :data:`LAUNCH_ACTIONS` is evaluated with the condition keys EC2 sets for it
    (``kms:GrantIsForAWSResource`` true for ``kms:CreateGrant``) and, when ``key_arn`` is given and
    the context does not set it, ``kms:ViaService`` of EC2 in the key's region, since EC2 makes
    these calls on the principal's behalf. The other keys come from the context.
    """
    statements = policy_statements(policy)
    variables = has_policy_variables(policy)
    via = _via_ec2(key_arn)
    if via and VIA_SERVICE_KEY.lower() not in {name.lower() for name in context.extra}:
        context = context.with_extra({VIA_SERVICE_KEY: via})
    checks = []
    for launch in LAUNCH_ACTIONS:
        decision = _evaluate_statements(
            statements, launch.action, context.with_extra(dict(launch.condition_keys)), key_arn, variables
        )
        checks.append(ActionCheck(launch.action, decision))
    return LaunchCheck(all(check.decision.allowed for check in checks), tuple(checks))
