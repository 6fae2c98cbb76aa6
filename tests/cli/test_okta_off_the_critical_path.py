"""The okta SDK (seconds to import) never sits on the event loop, only the parts of it
the adapter calls are imported, and a revoke that has no Okta to talk to never imports it. Each case runs in a fresh interpreter, since a test
session may have imported the SDK already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from agent_ir.data import default_world

WORLD = default_world()

PROBE = r"""
import json, sys, threading
from importlib.abc import MetaPathFinder

seen = {}

class Watch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith("okta") and "okta" not in seen:
            seen["okta"] = threading.current_thread() is threading.main_thread()
        return None

sys.meta_path.insert(0, Watch())
from agent_ir.cli.main import main

code = main(sys.argv[1:])
print(json.dumps({
    "code": int(code),
    "okta_on_main_thread": seen.get("okta"),
    "whole_sdk_client": "okta.client" in sys.modules,
    "okta_loaded": "okta" in sys.modules,
    "adapter_loaded": "agent_ir.providers.okta.adapter" in sys.modules,
}), file=sys.stderr)
"""


def _revoke(world: Path, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    args = ["--world", str(world), "revoke", "invoice-agent", "--reason", "t", "--yes"]
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    report: dict[str, object] = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    return report


def test_the_okta_sdk_is_imported_off_the_event_loop(tmp_path: Path) -> None:
    report = _revoke(WORLD, tmp_path)
    assert report["okta_loaded"] is True
    assert report["okta_on_main_thread"] is False
    # Only the API classes the adapter calls: the SDK's whole client (every API class,
    # seconds of import) is never loaded.
    assert report["whole_sdk_client"] is False


def test_a_revoke_without_okta_never_imports_it(tmp_path: Path) -> None:
    data = yaml.safe_load(WORLD.read_text())
    data.pop("okta")
    world = tmp_path / "no-okta.yaml"
    world.write_text(yaml.safe_dump(data, sort_keys=False))
    report = _revoke(world, tmp_path)
    assert report["okta_loaded"] is False and report["adapter_loaded"] is False
