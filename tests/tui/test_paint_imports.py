"""The console's first paint waits only for what the start-up screen needs: ``agent-ir
console`` run in a fresh interpreter (headless, its ``App.run`` patched, nothing else)
has not imported pydantic, the settings, the engine, a provider or an SDK when the app
is run, nor on the main thread before the first frame is drawn; those come in the
opening's thread or after the paint.

The child records the modules loaded when ``App.run`` is called, and every module the
main thread imports from then until the app's first ``_display`` (an audit hook on
``import``); it then quits. Its configuration is a file that does not parse, so the
opening fails at once in its thread and no lab or network is involved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 300  # only stops a hung child, never decides a result

HEAVY = (
    "pydantic",
    "agent_ir.settings",
    "agent_ir.engine",
    "agent_ir.tui.session",
    "agent_ir.tui.commands",
    "agent_ir.tui.screens.agent_detail",
    "agent_ir.tui.screens.agent_list",
    "agent_ir.playbook",
    "agent_ir.lab",
    "boto3",
    "botocore",
    "httpx",
    "okta",
    "google",
    "msal",
    "moto",
)
"""Modules (and their submodules) the start-up screen does not need."""

PROVIDERS_ALLOWED = {"agent_ir.providers", "agent_ir.providers.registry"}
"""The parser lists the installed providers (package metadata only): that much of
``agent_ir.providers`` may be loaded; a descriptor, adapter or config may not."""

CHILD = """
import json, sys, threading
out = sys.argv[1]
main_thread = threading.main_thread()
seen = {"painted": False, "at_run": None, "before_paint": []}

def audit(event, args):
    if (
        event == "import"
        and not seen["painted"]
        and seen["at_run"] is not None
        and threading.current_thread() is main_thread
    ):
        seen["before_paint"].append(args[0])

sys.addaudithook(audit)

from textual.app import App

run, display = App.run, App._display

def first_display(self, screen, renders):
    seen["painted"] = True
    return display(self, screen, renders)

def headless_run(self, *args, **kwargs):
    seen["at_run"] = sorted(sys.modules)

    async def quit_after_paint(pilot):
        for _ in range(3000):
            if seen["painted"]:
                break
            await pilot.pause(0.01)
        self.exit()

    return run(self, headless=True, size=(80, 24), auto_pilot=quit_after_paint)

App.run = headless_run
App._display = first_display

from agent_ir.cli.main import main
code = main(["--config", sys.argv[2], "console"])
with open(out, "w") as f:
    json.dump({**seen, "code": code}, f)
"""


def _heavy(names: list[str]) -> list[str]:
    """The names among ``names`` that are a heavy module or inside one."""
    bad = {n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY)}
    bad |= {
        n
        for n in names
        if (n == "agent_ir.providers" or n.startswith("agent_ir.providers."))
        and n not in PROVIDERS_ALLOWED
    }
    return sorted(bad)


def test_first_paint_imports_only_what_the_startup_screen_needs(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("providers: [not, a, mapping\n")
    out = tmp_path / "seen.json"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert out.exists(), result.stderr
    seen = json.loads(out.read_text())
    assert seen["painted"], "the console never drew its first frame"
    # the configuration does not parse: the opening failed in its thread, as it should
    assert seen["code"] != 0
    assert _heavy(seen["at_run"]) == [], "loaded before the console ran"
    assert _heavy(seen["before_paint"]) == [], "imported on the main thread before painting"
