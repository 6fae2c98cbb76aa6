"""The built wheel alone, installed into a clean virtual environment outside the checkout,
runs the lab, the playbooks, the tabletop and the console.

This is how people install a CLI tool (``pipx install``, ``uv tool install``, ``pip install
agent-ir``): nothing from the source tree may be needed at run time. One environment is
built per module (installing the dependencies is the slow part; pip's cache is reused).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 1200
"""A hang guard for building and installing, not a performance limit."""
COMMAND_TIMEOUT = 300

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    """A clean virtual environment holding only the wheel (with the lab extra)."""

    bin: Path
    home: Path

    def env(self) -> dict[str, str]:
        """The environment of a user with nothing configured, and no trace of the checkout."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "AGENT_IR_CONFIG", "PYTHONHOME")
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["HOME"] = str(self.home)
        env["XDG_CONFIG_HOME"] = str(self.home / "config")
        env["XDG_STATE_HOME"] = str(self.home / "state")
        env["XDG_CACHE_HOME"] = str(self.home / "cache")
        env["AGENT_IR_RESPONDER"] = "install-test"
        return env

    def run(self, *args: str, program: str = "agent-ir") -> subprocess.CompletedProcess[str]:
        """Run a program of the environment from a folder outside the checkout."""
        return subprocess.run(
            [str(self.bin / program), *args],
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )


def _copy_source(target: Path) -> Path:
    """What a source distribution holds: the package, pyproject.toml and README.md, so the
    build cannot pick anything else up from the checkout (and writes nothing into it)."""
    shutil.copytree(
        ROOT / "agent_ir",
        target / "agent_ir",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    return target


def _pip(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the source, install it with ``[lab]`` into a fresh
    venv, and hand back that venv."""
    base = tmp_path_factory.mktemp("install")
    source = _copy_source(base / "source")
    wheels = base / "wheels"
    built = _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(wheels), ".", cwd=source)
    assert "BuildBackendWarning" not in built.stderr, built.stderr
    (wheel,) = wheels.glob("agent_ir-*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    _pip(bin_dir / "python", "install", "--quiet", f"{wheel}[lab]", cwd=base)
    home = base / "home"
    home.mkdir()
    return Installed(bin=bin_dir, home=home)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    where = _ok(installed.run("-c", "import agent_ir; print(agent_ir.__file__)", program="python"))
    assert Path(where.strip()).is_relative_to(installed.bin.parent)
    assert not Path(where.strip()).is_relative_to(ROOT)


def test_inventory_on_the_lab(installed: Installed) -> None:
    out = _ok(installed.run("--lab", "inventory"))
    assert "invoice-agent" in out
    assert "gpt-scraper-bot" in out


def test_python_dash_m_runs_the_cli(installed: Installed) -> None:
    out = _ok(installed.run("-m", "agent_ir", "playbook", "list", program="python"))
    assert "contain-agent" in out


def test_playbook_list_finds_the_shipped_playbooks(installed: Installed) -> None:
    out = _ok(installed.run("playbook", "list"))
    for name in ("contain-agent", "cut-delegation", "rotate-credentials", "scope-down"):
        assert name in out
    assert "no playbooks found" not in out


def test_plan_revoke_and_restore(installed: Installed) -> None:
    plan = json.loads(_ok(installed.run("--lab", "plan", "invoice-agent", "-o", "json")))
    assert plan["agent"] == "invoice-agent" and plan["steps"]
    revoke = installed.run("--lab", "revoke", "invoice-agent", "--reason", "test", "--yes")
    _ok(revoke)
    assert "verified" in revoke.stdout
    incident = revoke.stdout.split()[1]
    assert incident.startswith("IR-")
    restored = installed.run("--lab", "restore", incident, "--yes", "-o", "json")
    assert json.loads(_ok(restored))["restore_of"] == incident


def test_tabletop_scores_the_default_story(installed: Installed) -> None:
    result = installed.run(
        "--lab",
        "tabletop",
        "default-story",
        "--playbook",
        "contain-agent",
        "--agent",
        "invoice-agent",
        "--yes",
    )
    assert "Score: 100/100" in _ok(result)


CONSOLE = """
import asyncio
from agent_ir.data import default_world
from agent_ir.factory import make_app
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world
from agent_ir.settings import load_settings
from agent_ir.tui.widgets.agent_table import AgentTable


async def main() -> None:
    with Lab(load_world(default_world())) as lab:
        app = make_app(load_settings(lab.config_path))
        async with app.run_test(size=(160, 50)) as pilot:
            for _ in range(2):
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
            names = app.screen.query_one(AgentTable).visible_names
            print(" ".join(names))
            print(" ".join(str(path) for path in app.css_path))


asyncio.run(main())
"""


def test_the_console_opens_headless(installed: Installed) -> None:
    out = _ok(installed.run("-c", CONSOLE, program="python"))
    names, styles = out.strip().splitlines()[-2:]
    assert "invoice-agent" in names.split()
    (stylesheet,) = (Path(p) for p in styles.split())
    assert stylesheet.name == "app.tcss"
    assert stylesheet.is_relative_to(installed.bin.parent)


def test_an_editable_install_prints_no_warning_box(tmp_path: Path) -> None:
    """``./dev`` and contributors run ``pip install -e .``; a setuptools warning box there
    looks like a failed install. (Recent pip shows the build backend's warnings, so the
    venv's pip is upgraded first, as ``./dev`` does.)"""
    source = _copy_source(tmp_path / "source")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    _pip(python, "install", "--quiet", "--upgrade", "pip", cwd=tmp_path)
    result = _pip(python, "install", "--quiet", "--no-deps", "-e", str(source), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "!!" not in output, output
    assert "Warning:" not in output, output


def test_completion_script_from_the_installed_wheel(installed: Installed) -> None:
    script = _ok(installed.run("completion", "bash"))
    assert "agent-ir completion --list agents" in script
