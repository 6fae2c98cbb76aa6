"""The --select expression language: parsing, matching, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ir.engine.graph import Graph
from agent_ir.engine.inventory import Inventory
from agent_ir.engine.select import SelectError, parse
from agent_ir.model import Agent, AgentLink, Finding, Identity, LinkSource, Severity


def _agent(name: str, owner: str, provider: str, severity: Severity | None) -> Agent:
    ident = Identity(provider, "iam-user", f"id-{name}", name, "acct")  # type: ignore[arg-type]
    findings = [Finding("cross-account-chain", severity, "x")] if severity else []
    return Agent(name, owner, [AgentLink(ident, LinkSource.TAG)], findings)


def _inv(*agents: Agent) -> Inventory:
    return Inventory(list(agents), Graph([], {}), {}, {}, {})


INV = _inv(
    _agent("invoice-a", "alice@corp.test", "aws", Severity.HIGH),
    _agent("invoice-b", "bob@corp.test", "okta", Severity.LOW),
    _agent("crm-bot", "alice@corp.test", "okta", Severity.CRITICAL),
    _agent("quiet", "carol@corp.test", "gcp", None),
)


def _names(text: str, base: Path | None = None) -> list[str]:
    return [a.name for a in parse(text, base=base).select(INV)]


def test_terms_and_alternatives() -> None:
    assert _names("name=invoice-*") == ["invoice-a", "invoice-b"]
    assert _names("invoice-* owner=alice*") == ["invoice-a"]
    assert _names("provider=okta,gcp") == ["crm-bot", "invoice-b", "quiet"]
    assert _names("risk>=high") == ["crm-bot", "invoice-a"]
    assert _names("risk<high") == ["invoice-b"]
    assert _names("finding=cross-account-chain provider!=okta") == ["invoice-a"]
    assert _names("name!=invoice-*") == ["crm-bot", "quiet"]


def test_names_file(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("# suspects\nquiet\ncrm-bot  # paged at 3am\n\n")
    assert _names("@names.txt", base=tmp_path) == ["crm-bot", "quiet"]
    assert _names("@names.txt provider=okta", base=tmp_path) == ["crm-bot"]


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("", 0, "empty"),
        ("name=invoice-* colour=red", 15, "unknown key 'colour'"),
        ("risk>=hgh", 6, "unknown risk 'hgh'"),
        ("provider=azure", 9, "unknown provider 'azure'"),
        ("owner>=alice", 5, "owner takes = or != only"),
        ("name=", 5, "a value is missing"),
        ("provider=okta,", 9, "a value is missing"),
        ("name=a =b", 7, "expected KEY=VALUE"),
        ("@", 0, "must be followed by a file"),
        ("x @missing.txt", 2, "cannot read"),
    ],
)
def test_errors_are_located(text: str, column: int, words: str, tmp_path: Path) -> None:
    with pytest.raises(SelectError) as caught:
        parse(text, base=tmp_path)
    assert caught.value.column == column
    assert words in caught.value.message
    assert caught.value.message.splitlines()[-1] == "  " + " " * column + "^"
