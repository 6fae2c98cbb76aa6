"""Selecting many agents at once: the small expression language of ``--select``.

An expression is terms separated by spaces; every term must hold (AND). A term is
``KEY OP VALUE``; a value may list alternatives separated by commas (OR)::

    name=invoice-* owner=alice* finding=cross-account-chain risk>=high provider=okta,gcp
    blueprint=billing-*        # agents with an Entra agent identity of that blueprint
    okta-agent=*               # agents with an Okta AI agent identity
    kind=ai-agent              # agents with an identity of that kind (any provider)
    @names.txt                 # agents named in a file (one per line, '#' comments)
    invoice-*                  # a bare word is a name glob

Keys: ``name``, ``owner`` (globs, case-insensitive), ``finding`` (a finding code, glob),
``risk`` (low < medium < high < critical, with ``= != < <= > >=``), ``provider``,
``blueprint``, ``okta-agent``, ``kind``. ``!=`` negates any key. A problem is reported with
its column and a caret under it, before anything is read from a provider.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent_ir.errors import UsageError
from agent_ir.model import Agent, EdgeKind, Severity
from agent_ir.providers import registry

if TYPE_CHECKING:
    from agent_ir.engine.inventory import Inventory

KEYS = ("name", "owner", "finding", "risk", "provider", "blueprint", "okta-agent", "kind")
_TERM = re.compile(r"^(?P<key>[a-z][a-z-]*)\s*(?P<op>>=|<=|!=|=|>|<)(?P<value>.*)$")
_ORDERED = (">=", "<=", ">", "<")
MAX_FILE_NAMES = 100_000


class SelectError(UsageError):
    """A ``--select`` expression that cannot be read; the message points at the column."""

    def __init__(self, expression: str, column: int, problem: str) -> None:
        caret = " " * column + "^"
        super().__init__(f"--select: {problem} (column {column + 1})\n  {expression}\n  {caret}")
        self.column = column


@dataclass(frozen=True, slots=True)
class Term:
    """One condition of a selection: ``key op values`` (any value may match)."""

    key: str
    op: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.key}{self.op}{','.join(self.values)}"


@dataclass(frozen=True, slots=True)
class Selection:
    """A parsed ``--select`` expression: every term must hold."""

    text: str
    terms: tuple[Term, ...]

    def matches(self, agent: Agent, inv: Inventory) -> bool:
        """Whether ``agent`` satisfies every term."""
        return all(_holds(term, agent, inv) for term in self.terms)

    def select(self, inv: Inventory) -> list[Agent]:
        """The agents of ``inv`` the selection names, sorted by name (a fixed order, so
        the plan and the lock order are the same every time)."""
        chosen = [a for a in inv.agents if self.matches(a, inv)]
        return sorted(chosen, key=lambda a: a.name.lower())


def parse(text: str, *, base: Path | None = None) -> Selection:
    """Parse a ``--select`` expression; ``@file`` terms are read relative to ``base``."""
    if not text.strip():
        raise SelectError(text, 0, "the expression is empty; say which agents, e.g. name=invoice-*")
    terms: list[Term] = []
    for column, word in _words(text):
        terms.append(_term(text, column, word, base))
    return Selection(text, tuple(terms))


def _words(text: str) -> Iterable[tuple[int, str]]:
    for match in re.finditer(r"\S+", text):
        yield match.start(), match.group()


def _term(text: str, column: int, word: str, base: Path | None) -> Term:
    if word.startswith("@"):
        return Term("name", "=", _names_file(text, column, word[1:], base))
    match = _TERM.match(word)
    if match is None:
        if any(c in word for c in "=<>!"):
            raise SelectError(text, column, f"cannot read {word!r}; expected KEY=VALUE")
        return Term("name", "=", _values(text, column, word))
    key, op, value = match["key"], match["op"], match["value"]
    if key not in KEYS:
        raise SelectError(text, column, f"unknown key {key!r}; keys: {', '.join(KEYS)}")
    at = column + match.start("value")
    values = _values(text, at, value)
    if op in _ORDERED and key != "risk":
        raise SelectError(text, column + match.start("op"), f"{key} takes = or != only")
    if key == "risk":
        for v in values:
            if v.lower() not in {s.value for s in Severity}:
                levels = ", ".join(s.value for s in Severity)
                raise SelectError(text, at, f"unknown risk {v!r}; levels: {levels}")
    if key == "provider":
        for v in values:
            if v.lower() not in registry.names():
                known = ", ".join(registry.names())
                raise SelectError(text, at, f"unknown provider {v!r}; providers: {known}")
    return Term(key, op, values)


def _values(text: str, column: int, value: str) -> tuple[str, ...]:
    parts = tuple(value.split(","))
    if not value or any(not p for p in parts):
        raise SelectError(text, column, "a value is missing")
    return parts


def _names_file(text: str, column: int, name: str, base: Path | None) -> tuple[str, ...]:
    if not name:
        raise SelectError(text, column, "@ must be followed by a file of agent names")
    path = Path(name) if base is None or Path(name).is_absolute() else base / name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SelectError(text, column, f"cannot read {path}: {why}") from exc
    names = [line.split("#", 1)[0].strip() for line in lines]
    names = [n for n in names if n]
    if not names:
        raise SelectError(text, column, f"{path} names no agent")
    if len(names) > MAX_FILE_NAMES:
        raise SelectError(text, column, f"{path} names more than {MAX_FILE_NAMES} agents")
    # Names from a file are exact, not globs: escape what fnmatch would read.
    return tuple(re.sub(r"([*?\[])", r"[\1]", n) for n in names)


def _glob(value: str, candidates: Iterable[str | None]) -> bool:
    pattern = value.lower()
    return any(c is not None and fnmatch.fnmatchcase(c.lower(), pattern) for c in candidates)


def _holds(term: Term, agent: Agent, inv: Inventory) -> bool:
    if term.key == "risk":
        return _risk(term, agent)
    test = _TESTS[term.key]
    found = any(test(v, agent, inv) for v in term.values)
    return not found if term.op == "!=" else found


def _risk(term: Term, agent: Agent) -> bool:
    rank = agent.risk.rank if agent.risk is not None else -1
    wanted = [Severity(v.lower()).rank for v in term.values]
    compare: dict[str, Callable[[int], bool]] = {
        "=": lambda w: rank == w,
        "!=": lambda w: rank != w,
        ">=": lambda w: rank >= w,
        ">": lambda w: rank > w,
        "<=": lambda w: 0 <= rank <= w,
        "<": lambda w: 0 <= rank < w,
    }
    test = compare[term.op]
    if term.op == "!=":
        return all(test(w) for w in wanted)
    return any(test(w) for w in wanted)


def _blueprint(value: str, agent: Agent, inv: Inventory) -> bool:
    """An agent of a blueprint: it holds the blueprint's principal, or an agent identity
    the blueprint obtains tokens as."""
    for ident in agent.identities:
        if ident.provider != "entra":
            continue
        if ident.kind == "agent-blueprint" and _glob(value, (ident.name, ident.id)):
            return True
        if ident.kind == "agent-identity":
            for edge in inv.graph.incoming(ident.id):
                if edge.kind is not EdgeKind.TOKEN_EXCHANGE:
                    continue
                source = inv.identities.get(edge.source)
                if source is not None and _glob(value, (source.name, source.id)):
                    return True
    return False


_TESTS: dict[str, Callable[[str, Agent, Inventory], bool]] = {
    "name": lambda v, a, _: _glob(v, (a.name,)),
    "owner": lambda v, a, _: _glob(v, (a.owner, *(i.owner for i in a.identities))),
    "finding": lambda v, a, _: _glob(v, (f.code for f in a.findings)),
    "provider": lambda v, a, _: v.lower() in a.providers,
    "kind": lambda v, a, _: _glob(v, (i.kind for i in a.identities)),
    "okta-agent": lambda v, a, _: any(
        i.provider == "okta" and i.kind == "ai-agent" and _glob(v, (i.name, i.id))
        for i in a.identities
    ),
    "blueprint": _blueprint,
}
