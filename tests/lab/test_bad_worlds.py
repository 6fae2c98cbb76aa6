"""A corpus of bad world files: each gets every problem located, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent_ir.data import default_world
from agent_ir.errors import WorldError
from agent_ir.lab.world import load_world

CORPUS = Path(__file__).parents[1] / "corpus" / "worlds"
EXPECTED: dict[str, list] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
AGENT_IR = [sys.executable, "-m", "agent_ir"]


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in (CORPUS / "bad").glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_world_is_refused_with_a_located_problem(name: str) -> None:
    line, fragment = EXPECTED[name]
    with pytest.raises(WorldError) as caught:
        load_world(CORPUS / "bad" / name)
    problems = caught.value.problems
    assert problems, "a WorldError must list its problems"
    assert all(p.file.endswith(name) for p in problems)
    first = problems[0]
    assert first.line == line, str(caught.value)
    assert fragment in str(caught.value)


def test_lab_check_reports_every_bad_file_and_exits_3() -> None:
    files = sorted(str(p) for p in (CORPUS / "bad").glob("*.yaml"))
    result = subprocess.run([*AGENT_IR, "lab", "check", *files], capture_output=True, text=True)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    for name in EXPECTED:
        assert name in result.stderr


def test_a_bad_world_on_the_command_line_is_a_located_error() -> None:
    bad = CORPUS / "bad" / "dangling-policy.yaml"
    result = subprocess.run(
        [*AGENT_IR, "--world", str(bad), "inventory"], capture_output=True, text=True
    )
    assert result.returncode == 3
    assert f"{bad}:8" in result.stderr and "Traceback" not in result.stderr


def test_the_default_world_and_a_generated_world_are_valid() -> None:
    from agent_ir.lab.generator import generate_yaml
    from agent_ir.lab.world import load_world_text

    default = load_world(default_world())
    assert default.name == "default"
    world = load_world_text(generate_yaml(50, 3, seed=1), "generated")
    assert sum(len(a.users) for a in world.aws.accounts) == 50
    assert generate_yaml(50, 3, seed=1) == generate_yaml(50, 3, seed=1)


def test_generate_covers_every_provider_and_rejects_unknown_ones(tmp_path) -> None:
    from agent_ir.lab.world import load_world_text

    run = subprocess.run(
        [*AGENT_IR, "lab", "generate", "--agents", "30", "--providers", "aws,entra,gcp,okta"],
        capture_output=True,
        text=True,
        check=True,
    )
    world = load_world_text(run.stdout, "generated")
    assert all(world.has(p) for p in ("aws", "entra", "gcp", "okta"))
    bad = subprocess.run(
        [*AGENT_IR, "lab", "generate", "--providers", "azure"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "azure" in bad.stderr and "Traceback" not in bad.stderr
