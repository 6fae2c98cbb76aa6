"""Run in a subprocess (moto is process-global): play the shipped exercises that create
credentials mid-exercise and check that no secret the probe holds (access key secrets and
session tokens, client secrets, private keys, API tokens) appears in the after-action
report, as Markdown or JSON, or in anything printed. Prints one JSON row per exercise."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from agent_ir.engine.executor import Tuning
from agent_ir.engine.incident import Who
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop import run as tabletop_run
from agent_ir.tabletop.loader import find_exercise, load_exercise
from agent_ir.tabletop.probe import Probe
from agent_ir.tabletop.report import report_json, report_markdown

EXERCISES = {"cross-provider-chain": "invoice-agent", "shadow-token": "gpt-scraper-bot"}
HELD: set[str] = set()


class RecordingProbe(Probe):
    """The probe, noting every secret it holds each time it checks (its key files are
    gone once the exercise ends)."""

    def check(self) -> list[Any]:
        HELD.update(secrets(self))
        return super().check()


def secrets(probe: Probe) -> set[str]:
    """Every secret value the probe holds (PEM bodies as their longest base64 lines)."""
    found: set[str] = set()
    parts: dict[str, Any] = dict(probe.parts)
    if "aws" in parts:
        found |= {k.secret for k in parts["aws"].keys}
        for s in parts["aws"].sessions.values():
            found |= {s.secret, s.token}
    if "entra" in parts:
        found |= {s.value for s in parts["entra"].secrets}
    if "gcp" in parts:
        for key in parts["gcp"].keys:
            data = json.loads(Path(key.path).read_text())
            found |= set(re.findall(r"[A-Za-z0-9+/=]{60,}", data["private_key"]))
    if "okta" in parts:
        found |= {t.value for t in parts["okta"].tokens}
        for key in [*parts["okta"].keys, *parts["okta"].scoped]:
            found |= set(re.findall(r"[A-Za-z0-9+/=]{60,}", key.pem))
    return {s for s in found if len(s) >= 16}


def main() -> None:
    tabletop_run.Probe = RecordingProbe  # type: ignore[misc]
    playbook = load_playbook(find_playbook("contain-agent"))
    rows = []
    for name, agent in EXERCISES.items():
        HELD.clear()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            result = asyncio.run(
                tabletop_run.run_exercise(
                    load_exercise(find_exercise(name)),
                    playbook,
                    {},
                    agent,
                    Who(responder="secrets-check", reason="tabletop: secrets check"),
                    tuning=Tuning(backoff_s=0.05, max_backoff_s=0.5, verify_interval_s=0.05),
                )
            )
        text = report_markdown(result) + json.dumps(report_json(result)) + printed.getvalue()
        leaked = sorted(s[:6] + "…" for s in HELD if s in text)
        rows.append({"exercise": name, "secrets": len(HELD), "leaked": leaked})
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
