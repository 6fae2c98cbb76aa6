"""Playbook loading: the malformed corpus, the shipped playbooks, parameters and the schema."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from agent_ir.actions.catalog import (
    CATALOG,
    DisableCredentialsParams,
    RemoveDelegationParams,
    RemoveGrantsParams,
)
from agent_ir.cli import playbook_commands
from agent_ir.engine import findings
from agent_ir.engine.planner import condition_holds
from agent_ir.errors import NotFoundError, PlaybookError, UsageError
from agent_ir.exit_codes import ExitCode
from agent_ir.model import Agent
from agent_ir.playbook.loader import (
    MAX_BYTES,
    SHIPPED_DIR,
    find_playbook,
    load_playbook,
    load_playbook_text,
    resolve_params,
    shipped_playbooks,
    step_params,
)
from agent_ir.playbook.model import FINDING_CODES, Playbook
from agent_ir.playbook.schema import SCHEMA_PATH, playbook_schema, schema_text

CORPUS = Path(__file__).parents[1] / "corpus" / "playbooks"
BAD = CORPUS / "bad"
EXPECTED: dict[str, dict[str, object]] = yaml.safe_load(
    (CORPUS / "expected.yaml").read_text(encoding="utf-8")
)
AGENT_IR = Path(sys.executable).parent / "agent-ir"
SHIPPED = ("contain-agent", "cut-delegation", "rotate-credentials", "scope-down")


# --- the malformed corpus ------------------------------------------------------------------


def _huge(tmp: Path) -> Path:
    path = tmp / "huge.yaml"
    padding = "# " + "x" * 98 + "\n"
    path.write_text("name: huge\n" + padding * (MAX_BYTES // len(padding) + 1), encoding="utf-8")
    return path


def _not_utf8(tmp: Path) -> Path:
    path = tmp / "latin1.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\nsteps: []\n")
    return path


def _nul_byte(tmp: Path) -> Path:
    path = tmp / "nul.yaml"
    path.write_bytes(b"name: x\nsteps:\n  - id: a\x00\n    action: deny-all\n")
    return path


def _directory(tmp: Path) -> Path:
    path = tmp / "directory.yaml"
    path.mkdir()
    return path


def _missing(tmp: Path) -> Path:
    return tmp / "missing.yaml"


# name -> (make the file, expected fragment, expected line or None when there is no content)
GENERATED: dict[str, tuple[Callable[[Path], Path], str, int | None]] = {
    "huge": (_huge, f"the limit is {MAX_BYTES}", None),
    "not-utf8": (_not_utf8, "not UTF-8 text", 2),
    "nul-byte": (_nul_byte, "special characters are not allowed", 3),
    "directory": (_directory, "is a directory, not a file", None),
    "missing": (_missing, "no such file", None),
}


def test_expected_table_covers_the_corpus_exactly() -> None:
    files = {path.name for path in BAD.glob("*.yaml")}
    assert files == set(EXPECTED)
    assert len(files) + len(GENERATED) >= 35


def _assert_refused(path: Path, fragment: str, line: int | None, count: int = 1) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    problems = caught.value.problems
    assert len(problems) >= count
    for problem in problems:
        assert problem.file == str(path)
        if line is not None:
            assert problem.line is not None, f"{problem} has no line"
    matching = [p for p in problems if fragment in str(p)]
    assert matching, f"no problem mentions {fragment!r}: {[str(p) for p in problems]}"
    assert any(p.line == line for p in matching), [str(p) for p in matching]
    assert fragment in caught.value.message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_playbook_is_refused_with_a_located_problem(name: str) -> None:
    case = EXPECTED[name]
    _assert_refused(
        BAD / name, str(case["fragment"]), int(str(case["line"])), int(str(case.get("count", 1)))
    )


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_malformed_file_is_refused(name: str, tmp_path: Path) -> None:
    make, fragment, line = GENERATED[name]
    _assert_refused(make(tmp_path), fragment, line)


def test_problems_of_every_layer_come_back_together_in_line_order() -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(BAD / "many-problems.yaml")
    problems = caught.value.problems
    lines = [p.line or 0 for p in problems]
    assert lines == sorted(lines)
    text = caught.value.message
    assert "default '30' is a string, not an int" in text  # layer 4 on a valid parameter
    assert "parameter 'weeks' is not declared" in text  # layer 4 on a valid step
    assert "approve: input should be a valid boolean" in text  # layer 3
    assert "'days' is an int; when.param needs a bool parameter" in text  # layer 4


def test_text_over_the_size_limit_is_refused() -> None:
    with pytest.raises(PlaybookError, match="the limit is"):
        load_playbook_text("name: x\n" + "#" * MAX_BYTES, "big.yaml")


def test_text_is_validated_like_a_file() -> None:
    text = (BAD / "unknown-action.yaml").read_text(encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, "inline.yaml")
    assert str(caught.value.problems[0]).startswith("inline.yaml:4: steps[0].action")


def test_reference_without_default_is_only_type_checked_at_load() -> None:
    text = """
name: refs
parameters:
  days: {type: int}
  risk_level: {type: string, required: true}
steps:
  - id: cut
    action: disable-credentials
    with: {older_than_days: "${days}"}
  - id: delegation
    action: remove-delegation
    with: {from: "${risk_level}", to: processor}
"""
    playbook = load_playbook_text(text, "refs.yaml")
    assert [s.id for s in playbook.steps] == ["cut", "delegation"]


# --- the console script --------------------------------------------------------------------


@pytest.fixture(scope="module")
def playbook_cli() -> Path:
    probe = subprocess.run(
        [str(AGENT_IR), "playbook", "--help"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("`agent-ir playbook` is not wired into the command line")
    return AGENT_IR


def _run_validate(cli: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(cli), "playbook", "validate", str(path)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_console_script_refuses_malformed_playbook(name: str, playbook_cli: Path) -> None:
    result = _run_validate(playbook_cli, BAD / name)
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert "Traceback" not in result.stderr
    assert str(EXPECTED[name]["fragment"]) in result.stderr


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_console_script_refuses_generated_file(
    name: str, playbook_cli: Path, tmp_path: Path
) -> None:
    make, fragment, _ = GENERATED[name]
    result = _run_validate(playbook_cli, make(tmp_path))
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


# --- the CLI functions ---------------------------------------------------------------------


def test_validate_reports_good_and_bad_files(capsys: pytest.CaptureFixture[str]) -> None:
    good = SHIPPED_DIR / "contain-agent.yaml"
    bad = BAD / "many-problems.yaml"
    code = playbook_commands.validate(argparse.Namespace(files=[good, bad]))
    out, err = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT
    assert out == f"{good}: ok (7 steps)\n"
    lines = err.splitlines()
    assert len(lines) == 6
    assert all(line.startswith(f"agent-ir: {bad}:") for line in lines)


def test_validate_all_good_exits_ok(capsys: pytest.CaptureFixture[str]) -> None:
    files = [SHIPPED_DIR / f"{name}.yaml" for name in SHIPPED]
    assert playbook_commands.validate(argparse.Namespace(files=files)) == ExitCode.OK
    assert capsys.readouterr().err == ""


def test_list_shows_shipped_and_user_playbooks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user_dir = tmp_path / "agent-ir" / "playbooks"
    user_dir.mkdir(parents=True)
    (user_dir / "mine.yaml").write_text(
        "name: mine\ndescription: my own\nsteps: [{id: a, action: deny-all}]\n", encoding="utf-8"
    )
    (user_dir / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
    code = playbook_commands.list_(argparse.Namespace())
    out, err = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT
    for name in SHIPPED:
        assert name in out
    assert "Kill switch" in out
    assert "mine" in out and "my own" in out
    assert "broken" in out and "invalid" in out
    assert "steps: required key is missing" in err


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert playbook_commands.schema(argparse.Namespace()) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == playbook_schema()


# --- shipped playbooks -----------------------------------------------------------------------


def test_shipped_playbooks_are_the_expected_ones() -> None:
    assert sorted(shipped_playbooks()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_playbook_validates(name: str) -> None:
    playbook = load_playbook(find_playbook(name))
    assert playbook.name == name
    assert playbook.description
    source = (SHIPPED_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert source.startswith("#"), "each shipped playbook opens with a comment on its intent"


def test_contain_agent_is_the_kill_switch() -> None:
    playbook = load_playbook(find_playbook("contain-agent"))
    assert playbook.max_targets == 50
    assert [(s.action, s.scope) for s in playbook.steps] == [
        ("disable-credentials", "own"),
        ("revoke-sessions", "reachable"),
        ("deny-all", "own"),
        ("cut-federation", "reachable"),
        ("lock-trust", "reachable"),
        ("disable-identity", "own"),
        ("disable-identity", "reachable"),
    ]
    lock = playbook.steps[4]
    assert lock.approve and lock.when is not None and lock.when.param == "lock_trust"
    for name in ("lock_trust", "revoke_delegating_user_sessions"):
        assert playbook.parameters[name].type == "bool"
        assert playbook.parameters[name].default is False
    # reach: own by default; reachable also disables the accounts it can become
    assert playbook.parameters["reach"].default == "own"
    reach = playbook.steps[6]
    assert reach.when is not None and (reach.when.param, reach.when.equals) == (
        "reach",
        "reachable",
    )
    assert condition_holds(reach.when, Agent("a", None), {"reach": "own"})[0] is False
    assert condition_holds(reach.when, Agent("a", None), {"reach": "reachable"})[0] is True


def test_when_equals_needs_param() -> None:
    text = (
        "name: x\nparameters:\n  reach: {type: string, default: own}\nsteps:\n"
        "  - {id: a, action: disable-identity, when: {equals: reachable}}\n"
    )
    with pytest.raises(PlaybookError, match=r"when\.equals needs when\.param"):
        load_playbook_text(text, "<x>")


def test_rotate_credentials_runs_on_stale_credentials_only() -> None:
    playbook = load_playbook(find_playbook("rotate-credentials"))
    (step,) = playbook.steps
    assert step.when is not None and step.when.has_finding == ["stale-static-credential"]
    params = resolve_params(playbook, {})
    assert step_params(step, params) == DisableCredentialsParams(older_than_days=90)


def test_scope_down_removes_admin_and_wildcard_grants() -> None:
    playbook = load_playbook(find_playbook("scope-down"))
    (step,) = playbook.steps
    assert step.scope == "reachable"
    assert step.when is not None and step.when.has_finding == ["admin-grant", "wildcard-grant"]
    assert step_params(step, {}) == RemoveGrantsParams(risk=["admin", "wildcard"])


# --- finding playbooks -----------------------------------------------------------------------


def test_find_playbook_prefers_an_existing_path(tmp_path: Path) -> None:
    path = tmp_path / "contain-agent.yaml"
    path.write_text("x", encoding="utf-8")
    assert find_playbook(str(path)) == path


def test_find_playbook_looks_in_user_dirs(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("x", encoding="utf-8")
    assert find_playbook("mine", [tmp_path]) == tmp_path / "mine.yaml"


def test_find_playbook_uses_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user_dir = tmp_path / "agent-ir" / "playbooks"
    user_dir.mkdir(parents=True)
    (user_dir / "mine.yaml").write_text("x", encoding="utf-8")
    assert find_playbook("mine") == user_dir / "mine.yaml"


def test_user_dirs_come_before_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    xdg_dir = tmp_path / "config" / "agent-ir" / "playbooks"
    extra = tmp_path / "extra"
    for directory in (xdg_dir, extra):
        directory.mkdir(parents=True)
        (directory / "mine.yaml").write_text("x", encoding="utf-8")
    assert find_playbook("mine", [extra]) == extra / "mine.yaml"
    assert find_playbook("mine", []) == xdg_dir / "mine.yaml"


def test_unknown_playbook_lists_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(NotFoundError) as caught:
        find_playbook("contain-agnet", [])
    for name in SHIPPED:
        assert name in caught.value.message
    assert str(tmp_path / "agent-ir" / "playbooks") in caught.value.message


def test_a_name_cannot_climb_out_of_the_playbook_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(NotFoundError):
        find_playbook("../worlds/default", [tmp_path])


# --- parameters ------------------------------------------------------------------------------


def _typed_playbook() -> Playbook:
    return load_playbook_text(
        """
name: typed
parameters:
  flag: {type: bool}
  count: {type: int, default: 3}
  label: {type: string}
  target: {type: string, required: true}
steps:
  - id: cut
    action: disable-credentials
    with: {older_than_days: "${count}"}
""",
        "typed.yaml",
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False), ("0", False)],
)
def test_bool_parameter_conversions(text: str, value: bool) -> None:
    params = resolve_params(_typed_playbook(), {"flag": text, "target": "t"})
    assert params["flag"] is value


def test_int_and_string_parameters_and_defaults() -> None:
    params = resolve_params(_typed_playbook(), {"count": "-12", "target": "role/x"})
    assert params == {"flag": False, "count": -12, "target": "role/x"}
    assert resolve_params(_typed_playbook(), {"target": "t"})["count"] == 3


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"target": "t", "flga": "true"}, "unknown parameter 'flga'; did you mean 'flag'?"),
        ({"target": "t", "flag": "maybe"}, "--param flag='maybe': expected true or false"),
        ({"target": "t", "count": "3.5"}, "--param count='3.5': expected a whole number"),
        ({"target": "t", "count": "1_000"}, "expected a whole number"),
        ({}, "missing required parameter: --param target=..."),
    ],
)
def test_parameter_errors(given: dict[str, str], fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_params(_typed_playbook(), given)
    assert fragment in caught.value.message


def test_every_parameter_error_is_reported_at_once() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_params(_typed_playbook(), {"nope": "1", "count": "x"})
    message = caught.value.message
    assert "'nope'" in message and "--param count" in message and "target" in message


def test_parameters_on_a_playbook_without_any() -> None:
    playbook = load_playbook(find_playbook("scope-down"))
    assert resolve_params(playbook, {}) == {}
    with pytest.raises(UsageError, match="takes no parameters"):
        resolve_params(playbook, {"x": "1"})


def test_step_params_substitutes_references() -> None:
    playbook = load_playbook(find_playbook("cut-delegation"))
    params = resolve_params(playbook, {"from": "invoice-agent", "to": "invoice-processor"})
    got = step_params(playbook.steps[0], params)
    assert got == RemoveDelegationParams(source="invoice-agent", target="invoice-processor")


def test_step_params_overrides_a_default() -> None:
    playbook = load_playbook(find_playbook("rotate-credentials"))
    params = resolve_params(playbook, {"older_than_days": "30"})
    assert step_params(playbook.steps[0], params) == DisableCredentialsParams(older_than_days=30)


def test_step_params_leaves_out_a_parameter_without_value() -> None:
    playbook = load_playbook_text(
        "name: x\nparameters: {days: {type: int}}\n"
        'steps: [{id: a, action: disable-credentials, with: {older_than_days: "${days}"}}]\n',
        "x.yaml",
    )
    params = resolve_params(playbook, {})
    assert params == {}
    assert step_params(playbook.steps[0], params) == DisableCredentialsParams()


def test_step_params_refuses_a_value_the_action_does_not_accept() -> None:
    playbook = load_playbook(find_playbook("rotate-credentials"))
    params = resolve_params(playbook, {"older_than_days": "-5"})
    with pytest.raises(UsageError, match=r"disable-stale-credentials.*greater than or equal to 0"):
        step_params(playbook.steps[0], params)


# --- schema and catalog ------------------------------------------------------------------------


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "agent_ir/data/playbooks/playbook.schema.json is stale; regenerate it with "
        "`.venv/bin/python scripts/gen_schema.py`"
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_playbook_fits_the_schema(name: str) -> None:
    document = yaml.safe_load(find_playbook(name).read_text(encoding="utf-8"))
    errors = jsonschema.Draft202012Validator(playbook_schema()).iter_errors(document)
    assert [e.message for e in errors] == []


def test_schema_names_every_action_and_keeps_yaml_names() -> None:
    schema = playbook_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["$id"] and schema["title"]
    step = schema["$defs"]["Step"]
    assert step["properties"]["action"]["enum"] == list(CATALOG)
    assert "with" in step["properties"] and "with_" not in step["properties"]
    assert len(step["allOf"]) == len(CATALOG)


def test_finding_codes_match_the_findings_table() -> None:
    doc = findings.__doc__ or ""
    table = [line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| ")]
    assert set(table[1:]) == set(FINDING_CODES)


def test_an_empty_when_means_no_condition() -> None:
    playbook = load_playbook_text("name: x\nsteps:\n  - {id: a, action: deny-all, when: }\n", "x")
    assert playbook.steps[0].when is None
