"""The core never imports Textual: the CLI and engine stay headless."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "agent_ir.cli.main",
    "agent_ir.cli.commands",
    "agent_ir.cli.incident_commands",
    "agent_ir.engine.inventory",
    "agent_ir.engine.incident",
    "agent_ir.engine.journal",
    "agent_ir.playbook.loader",
    "agent_ir.providers.aws.adapter",
    "agent_ir.providers.aws.actions",
    "agent_ir.lab.runner",
    "agent_ir.factory",
]


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'agent_ir.tui')))\n"
        "print('\\n'.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_help_does_not_import_the_providers() -> None:
    code = (
        "import sys\n"
        "from agent_ir.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'botocore', 'moto', 'httpx', 'pydantic') if m in sys.modules]\n"
        "print(' '.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == ""
