"""IAM policy evaluation for the AWS emulator, written from AWS's documented logic rather
than from moto's (which ignores conditions other than ``StringEquals``, matches trust
principals literally and skips the trust policy of a role in another account).

Two questions are answered:

* :func:`identity_decision`: do a principal's identity policies (and its permissions
  boundary) allow an action on a resource? An explicit ``Deny`` wins, then an ``Allow`` in
  every policy set, else the implicit deny.
* :func:`trust_decision`: does a role's trust policy let this caller assume it?

A request context carries the condition keys AWS would set (``aws:TokenIssueTime`` for a
session, ``aws:PrincipalTag/…``, ``sts:ExternalId``, ``sts:SourceIdentity``…). A condition
operator this module does not know raises :class:`NotEvaluated`: the emulator then refuses
the request and says so, rather than guessing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


class Decision(enum.Enum):
    """The outcome of evaluating a set of policies."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


class NotEvaluated(Exception):
    """A policy uses something the lab does not evaluate (an unknown condition operator)."""


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What one request is: who, doing what, on what, with which condition keys."""

    principal_arn: str
    account: str
    action: str
    resource: str
    keys: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def values(self, key: str) -> Sequence[str] | None:
        """The values of a condition key (keys are case-insensitive), or None if absent."""
        wanted = key.lower()
        for name, values in self.keys.items():
            if name.lower() == wanted:
                return values
        return None


def identity_decision(
    policies: Iterable[Any], boundary: Any | None, context: RequestContext
) -> Decision:
    """Identity policies and an optional permissions boundary, as AWS combines them."""
    decision = _combine(policies, context)
    if decision is not Decision.ALLOW or boundary is None:
        return decision
    bounded = _combine([boundary], context)
    return Decision.ALLOW if bounded is Decision.ALLOW else bounded


def trust_decision(trust: Any, caller_principals: Sequence[str], context: RequestContext) -> str:
    """The trust policy's answer: ``"named"`` (it allows the caller's own ARN), ``"account"``
    (it allows the caller's whole account, so the caller's identity policies decide),
    ``"deny"`` (explicit deny) or ``"none"`` (nothing allows it)."""
    answer = "none"
    for statement in _statements(trust):
        if not _action_matches(statement, context.action):
            continue
        match = _principal_match(statement.get("Principal"), caller_principals, context.account)
        if match is None or not _conditions_hold(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return "deny"
        if match == "named" or answer == "none":
            answer = match
    return answer


def _combine(policies: Iterable[Any], context: RequestContext) -> Decision:
    allowed = False
    for document in policies:
        for statement in _statements(document):
            if not _applies(statement, context):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement")
    listed = raw if isinstance(raw, list) else [raw]
    return [s for s in listed if isinstance(s, dict)]


def _applies(statement: Mapping[str, Any], context: RequestContext) -> bool:
    if not _action_matches(statement, context.action):
        return False
    if "NotResource" in statement:
        if any(_glob(p, context.resource, case=True) for p in _as_list(statement["NotResource"])):
            return False
    elif not any(
        _glob(p, context.resource, case=True) for p in _as_list(statement.get("Resource"))
    ):
        return False
    return _conditions_hold(statement.get("Condition"), context)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_glob(p, action) for p in _as_list(statement["NotAction"]))
    return any(_glob(p, action) for p in _as_list(statement.get("Action")))


def _principal_match(principal: Any, callers: Sequence[str], account: str) -> str | None:
    """``"named"``, ``"account"`` or None: how a statement's Principal covers the caller.

    ``callers`` lists the ARNs the caller answers to (a session answers to its own
    ``assumed-role`` ARN and to its role's ARN). Service and federated principals never
    cover an IAM caller.
    """
    if principal == "*":
        return "account"
    if not isinstance(principal, Mapping):
        return None
    found: str | None = None
    for value in _as_list(principal.get("AWS")):
        text = str(value)
        if text == "*" or text in (account, f"arn:aws:iam::{account}:root"):
            found = found or "account"
        elif text in callers:
            return "named"
    return found


def _conditions_hold(conditions: Any, context: RequestContext) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, Mapping):
        raise NotEvaluated("a Condition block that is not an object")
    return all(
        _condition_holds(str(operator), str(key), _as_list(expected), context)
        for operator, block in conditions.items()
        for key, expected in (block.items() if isinstance(block, Mapping) else [])
    )


def _condition_holds(operator: str, key: str, expected: list[Any], context: RequestContext) -> bool:
    quantifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    actual = context.values(key)
    if name == "Null":
        wanted_absent = str(expected[0]).lower() == "true"
        return (actual is None) == wanted_absent
    test = _OPERATORS.get(name)
    if test is None or quantifier not in ("", "ForAnyValue", "ForAllValues"):
        raise NotEvaluated(f"the condition operator {operator}")
    negated = name in _NEGATED
    if actual is None:
        return if_exists or negated or quantifier == "ForAllValues"

    def one(value: str) -> bool:
        hit = any(test(value, str(e)) for e in expected)
        return not hit if negated else hit

    if quantifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


def _date(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(text: str) -> float:
    return float(text)


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda a, e: a == e,
    "StringNotEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringNotEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringLike": lambda a, e: _glob(e, a, case=True),
    "StringNotLike": lambda a, e: _glob(e, a, case=True),
    "ArnEquals": lambda a, e: _glob(e, a, case=True),
    "ArnLike": lambda a, e: _glob(e, a, case=True),
    "ArnNotEquals": lambda a, e: _glob(e, a, case=True),
    "ArnNotLike": lambda a, e: _glob(e, a, case=True),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "DateEquals": lambda a, e: _date(a) == _date(e),
    "DateNotEquals": lambda a, e: _date(a) != _date(e),
    "DateLessThan": lambda a, e: _date(a) < _date(e),
    "DateLessThanEquals": lambda a, e: _date(a) <= _date(e),
    "DateGreaterThan": lambda a, e: _date(a) > _date(e),
    "DateGreaterThanEquals": lambda a, e: _date(a) >= _date(e),
    "NumericEquals": lambda a, e: _number(a) == _number(e),
    "NumericNotEquals": lambda a, e: _number(a) != _number(e),
    "NumericLessThan": lambda a, e: _number(a) < _number(e),
    "NumericLessThanEquals": lambda a, e: _number(a) <= _number(e),
    "NumericGreaterThan": lambda a, e: _number(a) > _number(e),
    "NumericGreaterThanEquals": lambda a, e: _number(a) >= _number(e),
}
"""Each operator's test of one actual value against one expected value. For the negated
string and ARN operators (:data:`_NEGATED`) the test is the positive one and
:func:`_condition_holds` negates it; as on AWS, those also hold when the key is absent."""

_NEGATED = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run, ``?`` one character; actions ignore case."""
    return _compiled(str(pattern), case).match(value) is not None


@lru_cache(maxsize=4096)
def _compiled(pattern: str, case: bool) -> re.Pattern[str]:
    body = ".*".join(
        ".".join(re.escape(piece) for piece in chunk.split("?")) for chunk in pattern.split("*")
    )
    return re.compile(body + r"\Z", 0 if case else re.IGNORECASE)
