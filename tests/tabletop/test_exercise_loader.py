"""Exercise files: the shipped ones load; bad ones are refused with every problem located."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from agent_ir.errors import InputError
from agent_ir.tabletop.loader import DEFAULT_WORLD, ExerciseError, find_exercise, load_exercise
from agent_ir.tabletop.loader import load_exercise_text as load
from agent_ir.tabletop.model import AlertInject, NewAccessKey
from agent_ir.tabletop.schema import SCHEMA_PATH, exercise_schema, schema_text
from tests.tabletop.conftest import EXERCISES

GOOD = """\
version: 1
name: t
world: default
suspects: [invoice-agent]
injects:
  - {kind: alert, at: 0, text: hello}
  - {kind: change, at: 10, change: new-access-key, user: invoice-agent}
objectives: [no-residual-access]
scoring: {no-residual-access: 3}
"""


def problems(text: str, base: Path = EXERCISES) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ExerciseError) as caught:
        load(text, "x.yaml", base)
    assert isinstance(caught.value, InputError)
    return [(p.line, p.where, p.message) for p in caught.value.problems]


def test_the_shipped_exercises_load() -> None:
    names = sorted(p.stem for p in EXERCISES.glob("*.yaml"))
    assert {"default-story", "cross-provider-chain", "shadow-token"} <= set(names)
    for name in names:
        loaded = load_exercise(find_exercise(name))
        assert loaded.world_path == DEFAULT_WORLD
        assert loaded.exercise.suspects


def test_a_good_exercise_is_typed() -> None:
    loaded = load(GOOD, "x.yaml", EXERCISES)
    alert, change = loaded.exercise.injects
    assert isinstance(alert, AlertInject) and alert.text == "hello"
    assert isinstance(change, NewAccessKey) and change.user == "invoice-agent"
    assert loaded.exercise.weight("no-residual-access") == 3


def test_unknown_keys_and_bad_values_are_located() -> None:
    text = GOOD.replace("name: t\n", "name: t\nclock: 5\n").replace("at: 10", "at: -1")
    found = problems(text)
    assert (3, "clock", "unknown key") in found
    assert any(line == 8 and where == "injects[1].at" for line, where, _ in found), found


def test_an_unknown_inject_kind_or_change_is_refused_where_it_is() -> None:
    found = problems(GOOD.replace("change: new-access-key", "change: new-rumour"))
    assert [(line, where) for line, where, _ in found] == [(7, "injects[1].change")]
    found = problems(GOOD.replace("kind: alert", "kind: rumour"))
    assert found and found[0][0] == 6 and found[0][1].startswith("injects[0]")


def test_cross_checks_are_located() -> None:
    text = (
        GOOD.replace("world: default", "world: missing.yaml")
        .replace("scoring: {no-residual-access: 3}", "scoring: {every-write-has-reason: 1}")
        .replace("at: 10", "at: 0")
        .replace("at: 0, text", "at: 5, text")
    )
    found = problems(text)
    messages = {where: (line, message) for line, where, message in found}
    assert messages["world"][0] == 3 and "no world file" in messages["world"][1]
    assert messages["scoring.every-write-has-reason"][0] == 9
    assert "not among the objectives" in messages["scoring.every-write-has-reason"][1]
    assert messages["injects"][1] == "injects must be listed in time order"


def test_syntax_errors_and_missing_files_are_refused(tmp_path: Path) -> None:
    assert problems("name: [unclosed\n")[0][2].startswith("YAML syntax")
    with pytest.raises(ExerciseError, match="no such file"):
        load_exercise(tmp_path / "nope.yaml")
    assert problems("- a list\n")[0][2] == "expected a mapping at the top of the file"
    assert (1, "suspects", "required key is missing") in problems("name: t\n")


def test_each_change_is_checked_for_its_own_fields_and_providers() -> None:
    text = GOOD.replace(
        "  - {kind: change, at: 10, change: new-access-key, user: invoice-agent}\n",
        "  - {kind: change, at: 10, change: new-consent, provider: entra, app: x}\n"
        "  - {kind: change, at: 11, change: new-binding, provider: aws, member: m, role: r,"
        " resource: project}\n"
        "  - {kind: change, at: 12, change: spawn-sub-agent, provider: gcp, name: w, user: u}\n",
    )
    found = problems(text)
    assert (7, "injects[1].scope", "required key is missing") in found, found
    assert any(line == 8 and where == "injects[2].provider" for line, where, _ in found), found
    assert (9, "injects[3].user", "unknown key") in found, found


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "agent_ir/data/exercises/exercise.schema.json is stale; regenerate it with "
        "`.venv/bin/python scripts/gen_schema.py`"
    )


def test_the_shipped_exercises_fit_the_schema_and_a_bad_one_does_not() -> None:
    validator = jsonschema.Draft202012Validator(exercise_schema())
    for path in sorted(EXERCISES.glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert errors == [], (path.name, [e.message for e in errors])
    bad = yaml.safe_load(GOOD.replace("user: invoice-agent}", "provider: aws, user: x}"))
    bad["injects"].append({"kind": "change", "at": 20, "change": "new-binding", "provider": "aws"})
    assert list(validator.iter_errors(bad))
