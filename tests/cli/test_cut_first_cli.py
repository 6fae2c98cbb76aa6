"""``revoke --yes`` cuts first and says so, with its timing; ``--no-cut-first`` and
``--expect-plan`` plan the whole closure before the first write."""

from __future__ import annotations

from typing import Any


def test_revoke_yes_cuts_first_and_reports_its_timing(cli: Any) -> None:
    run = cli("--lab", "revoke", "invoice-agent", "--reason", "leak", "--yes", "-o", "json")

    assert run.code == 0, run.err
    assert "running the first cut:" in run.err
    result = run.json()
    assert result["status"] == "complete"
    timing = result["timing"]
    assert timing["first_cut_s"] <= timing["all_cut_s"] <= timing["verified_s"]


def test_no_cut_first_plans_everything_before_writing(cli: Any) -> None:
    run = cli("--lab", "revoke", "invoice-agent", "--reason", "leak", "--yes", "--no-cut-first")

    assert run.code == 0, run.err
    assert "running the first cut:" not in run.err
    assert "Timing: first cut" in run.out
