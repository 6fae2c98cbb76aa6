"""Just enough IAM policy logic to answer a responder's questions.

Which actions a document allows on which resources, how risky a document is, and who a
trust policy trusts. Deliberately conservative: conditions are reported, not evaluated,
and ``NotAction``/``NotResource`` count as broad grants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from agent_ir import boundedjson
from agent_ir.wildcard import glob_match

PolicyDoc = dict[str, Any]


def parse_document(raw: str | PolicyDoc) -> PolicyDoc:
    """A policy document as a dict (IAM sends URL-encoded JSON; botocore usually decodes it)."""
    if isinstance(raw, dict):
        return raw
    text = raw if raw.lstrip().startswith("{") else unquote(raw)
    data = boundedjson.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a policy document must be a JSON object")
    return data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True, slots=True)
class Statement:
    """One normalised policy statement."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: tuple[tuple[str, str], ...]
    conditional: bool


def statements(doc: PolicyDoc) -> Iterator[Statement]:
    """The statements of a document, normalised."""
    for raw in _as_list(doc.get("Statement")):
        if not isinstance(raw, dict):
            continue
        principals: list[tuple[str, str]] = []
        principal = raw.get("Principal")
        if principal == "*":
            principals.append(("AWS", "*"))
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                principals.extend((str(kind), str(v)) for v in _as_list(values))
        yield Statement(
            effect=str(raw.get("Effect", "")),
            actions=tuple(str(a) for a in _as_list(raw.get("Action"))),
            not_actions=tuple(str(a) for a in _as_list(raw.get("NotAction"))),
            resources=tuple(str(r) for r in _as_list(raw.get("Resource"))),
            not_resources=tuple(str(r) for r in _as_list(raw.get("NotResource"))),
            principals=tuple(principals),
            conditional=bool(raw.get("Condition")),
        )


def matches(glob: str, value: str) -> bool:
    """IAM wildcard match (``*`` and ``?``), case-insensitive as IAM actions are; linear,
    never a regex (policy text is attacker-shaped data)."""
    return glob_match(glob, value)


def _covers(statement: Statement, action: str, resource: str) -> bool:
    if statement.actions:
        if not any(matches(a, action) for a in statement.actions):
            return False
    elif not statement.not_actions or any(matches(a, action) for a in statement.not_actions):
        return False
    if statement.resources:
        return any(matches(r, resource) for r in statement.resources)
    if statement.not_resources:
        return not any(matches(r, resource) for r in statement.not_resources)
    return False


def allowing(doc: PolicyDoc, action: str, resource: str) -> Statement | None:
    """The statement of ``doc`` that allows ``action`` on ``resource``, if any."""
    return next(
        (s for s in statements(doc) if s.effect == "Allow" and _covers(s, action, resource)), None
    )


def denying(doc: PolicyDoc, action: str, resource: str) -> Statement | None:
    """The statement of ``doc`` that denies ``action`` on ``resource`` without conditions."""
    return next(
        (
            s
            for s in statements(doc)
            if s.effect == "Deny" and not s.conditional and _covers(s, action, resource)
        ),
        None,
    )


def risk(doc: PolicyDoc) -> str | None:
    """``admin`` for Allow * on *; ``wildcard`` for a whole service (``s3:*``), ``*`` on some
    resources, or ``NotAction``; else None. Verb wildcards such as ``s3:Get*`` are ordinary."""
    worst: str | None = None
    for s in statements(doc):
        if s.effect != "Allow":
            continue
        everything = any(a in ("*", "*:*") for a in s.actions) or bool(s.not_actions)
        if everything and ("*" in s.resources or s.not_resources):
            return "admin"
        if everything or any(a.endswith(":*") for a in s.actions):
            worst = "wildcard"
    return worst


def summary(doc: PolicyDoc, limit: int = 3) -> str:
    """A one-line human summary of what a document allows."""
    parts = []
    for s in statements(doc):
        actions = _clip(s.actions) or f"not {_clip(s.not_actions)}"
        resources = _clip(s.resources) or f"not {_clip(s.not_resources)}"
        parts.append(f"{s.effect} {actions} on {resources}")
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more


def _clip(items: tuple[str, ...], limit: int = 4) -> str:
    shown = ",".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")


def trusted_principals(trust: PolicyDoc) -> Iterator[tuple[str, str, str, bool]]:
    """``(kind, principal, action, conditional)`` for each principal a trust policy allows."""
    for s in statements(trust):
        if s.effect != "Allow":
            continue
        for action in ASSUME_ACTIONS:
            if any(matches(a, action) for a in s.actions):
                for kind, principal in s.principals:
                    yield kind, principal, action, s.conditional
