"""Loading playbooks: four layers of validation, every problem collected and located.

1. **YAML** (:mod:`agent_ir.yamlsrc`): a safe parse within the limits below; no duplicate
   keys, no merge keys, no alias bombs, no deep nesting.
2. **Structure**: the top level is a mapping, ``parameters`` a mapping of mappings,
   ``steps`` a list of mappings, each ``with:`` and ``when:`` a mapping.
3. **Typed model** (:mod:`agent_ir.playbook.model`): unknown keys and wrong types.
4. **Meaning**: each step's action is in the catalog and its ``with:`` fits that action's
   parameters; step ids are unique; ``${name}`` references and ``when.param`` name declared
   parameters of the right type; finding codes exist; parameter defaults fit their type.

A layer that fails does not hide the next one: layer 4 still checks every step and
parameter that passed layer 3. All problems come back together, sorted by line, in one
:class:`~agent_ir.errors.PlaybookError`.

Also here: finding a playbook by name (:func:`find_playbook`), turning ``--param NAME=VALUE``
strings into typed values (:func:`resolve_params`) and a step's action parameters with the
references filled in (:func:`step_params`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent_ir import data
from agent_ir.actions.catalog import CATALOG, ActionParams, ActionSpec
from agent_ir.errors import NotFoundError, PlaybookError, Problem, UsageError
from agent_ir.playbook.model import (
    FINDING_CODES,
    PARAM_NAME,
    PARAM_REF,
    Condition,
    Parameter,
    Playbook,
    Step,
)
from agent_ir.yamlsrc import (
    Located,
    PathKey,
    load_file,
    load_text,
    render_path,
    validation_problems,
)

MAX_BYTES = 1_000_000
"""The largest playbook file accepted."""

MAX_NODES = 50_000
"""The most YAML nodes a playbook may hold, counting every alias expansion."""

SHIPPED_DIR = data.playbook_dir()
"""Where the playbooks that come with agent-ir live."""

ParamValue = str | bool | int
"""The typed value of one playbook parameter."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_INT = re.compile(r"^[+-]?[0-9]{1,18}$")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_PYTHON_TYPE: dict[str, type] = {"string": str, "bool": bool, "int": int}


# --- loading -------------------------------------------------------------------------------


def load_playbook(path: Path) -> Playbook:
    """Load and validate one playbook file.

    Raises :class:`PlaybookError` carrying every problem found, each with file and line.
    """
    doc = load_file(path, error=PlaybookError, max_bytes=MAX_BYTES, max_nodes=MAX_NODES)
    return _validate(doc)


def load_playbook_text(text: str, name: str) -> Playbook:
    """Load and validate a playbook from text; ``name`` is the file name used in problems."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        message = f"playbook is {size} bytes; the limit is {MAX_BYTES}"
        raise PlaybookError([Problem(name, None, "", message)])
    return _validate(load_text(text, name, error=PlaybookError, max_nodes=MAX_NODES))


def _validate(doc: Located) -> Playbook:
    problems, covered = _check_structure(doc)
    data: dict[Any, Any] = doc.data
    playbook: Playbook | None = None
    try:
        playbook = Playbook.model_validate(data, by_name=False)
    except ValidationError as exc:
        for err, problem in zip(exc.errors(), validation_problems(doc, exc), strict=True):
            if _under(problem.where, covered):
                continue  # layer 2 already said what is wrong there
            if err["type"] == "extra_forbidden":
                problem = replace(problem, message=_unknown_key(err["loc"]))
            elif err["type"] == "value_error" and "error" in err.get("ctx", {}):
                problem = replace(problem, message=str(err["ctx"]["error"]))
            problems.append(problem)
    if playbook is not None:
        parameters = dict(playbook.parameters)
        steps = list(enumerate(playbook.steps))
    else:
        parameters = _valid_parameters(data.get("parameters"))
        steps = _valid_steps(data.get("steps"))
    raw_parameters = data.get("parameters")
    declared = {str(k) for k in raw_parameters} if isinstance(raw_parameters, dict) else set()
    problems.extend(_check_parameters(doc, parameters))
    problems.extend(_check_steps(doc, steps, parameters, declared))
    if playbook is None or problems:
        raise PlaybookError(sorted(problems, key=lambda p: (p.line is None, p.line or 0)))
    return playbook


# --- layer 2: structure ------------------------------------------------------------------


def _check_structure(doc: Located) -> tuple[list[Problem], list[str]]:
    """Problems of shape, and the rendered paths they cover (layer 3 stays quiet there)."""
    data = doc.data
    if data is None:
        raise PlaybookError([doc.problem((), "the file is empty; a playbook needs name and steps")])
    if not isinstance(data, dict):
        message = f"the top level must be a mapping (name, steps, ...), not {_kind(data)}"
        raise PlaybookError([doc.problem((), message)])
    problems: list[Problem] = []

    def wrong(path: PathKey, message: str) -> None:
        problems.append(doc.problem(path, message))

    if "parameters" in data:
        parameters = data["parameters"]
        if not isinstance(parameters, dict):
            wrong(
                ("parameters",), f"parameters must be a mapping of names, not {_kind(parameters)}"
            )
        else:
            for name, spec in parameters.items():
                if not isinstance(spec, dict):
                    message = f"parameter {name!r} must be a mapping (type, default, ...), "
                    wrong(("parameters", str(name)), message + f"not {_kind(spec)}")
    if "steps" in data:
        steps = data["steps"]
        if not isinstance(steps, list):
            wrong(("steps",), f"steps must be a list of steps, not {_kind(steps)}")
        else:
            for index, step in enumerate(steps):
                if not isinstance(step, dict):
                    message = f"each step must be a mapping (id, action, ...), not {_kind(step)}"
                    wrong(("steps", index), message)
                    continue
                for key in ("with", "when"):
                    value = step.get(key, {})
                    # an empty ``when:`` means no condition, as the model has it
                    if not isinstance(value, dict) and not (key == "when" and value is None):
                        wrong(("steps", index, key), f"{key} must be a mapping, not {_kind(value)}")
    return problems, [p.where for p in problems]


def _unknown_key(loc: tuple[str | int, ...]) -> str:
    model: type[BaseModel] | None
    match loc:
        case (_,):
            model = Playbook
        case ("steps", int(), _):
            model = Step
        case ("steps", int(), "when", _):
            model = Condition
        case ("parameters", str(), _):
            model = Parameter
        case _:
            model = None
    if model is None:
        return "unknown key"
    accepted = [field.alias or name for name, field in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), accepted, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {loc[-1]!r}{hint} (keys: {', '.join(accepted)})"


def _under(where: str, covered: Iterable[str]) -> bool:
    return any(where == c or where.startswith((c + ".", c + "[")) for c in covered)


def _kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


# --- layer 3 leftovers: the parts that are valid on their own ----------------------------


def _valid_parameters(raw: Any) -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    if not isinstance(raw, dict):
        return found
    for name, spec in raw.items():
        try:
            found[str(name)] = Parameter.model_validate(spec, by_name=False)
        except ValidationError:
            continue  # already reported by layer 3, with its location
    return found


def _valid_steps(raw: Any) -> list[tuple[int, Step]]:
    found: list[tuple[int, Step]] = []
    if not isinstance(raw, list):
        return found
    for index, spec in enumerate(raw):
        try:
            found.append((index, Step.model_validate(spec, by_name=False)))
        except ValidationError:
            continue  # already reported by layer 3, with its location
    return found


# --- layer 4: meaning --------------------------------------------------------------------


def _check_parameters(doc: Located, parameters: Mapping[str, Parameter]) -> list[Problem]:
    problems: list[Problem] = []
    for name, param in parameters.items():
        path: PathKey = ("parameters", name)
        if not PARAM_NAME.fullmatch(name):
            message = (
                f"parameter name {name!r} must be letters, digits and underscores, "
                "not starting with a digit, so that ${name} can refer to it"
            )
            problems.append(doc.problem(path, message))
        if param.default is None:
            continue
        if param.required:
            message = "a required parameter cannot have a default; drop one of them"
            problems.append(doc.problem((*path, "default"), message))
        if not _fits(param.type, param.default):
            message = f"default {param.default!r} is {_kind(param.default)}, not {_a(param.type)}"
            problems.append(doc.problem((*path, "default"), message))
    return problems


def _fits(kind: str, value: ParamValue) -> bool:
    # bool is an int in Python, never in a playbook
    return type(value) is _PYTHON_TYPE[kind]


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _check_steps(
    doc: Located,
    steps: Sequence[tuple[int, Step]],
    parameters: Mapping[str, Parameter],
    declared: set[str],
) -> list[Problem]:
    problems: list[Problem] = []
    first_line: dict[str, int | None] = {}
    for index, step in steps:
        id_path: PathKey = ("steps", index, "id")
        if step.id in first_line:
            earlier = first_line[step.id]
            where = f" (first used on line {earlier})" if earlier else ""
            problems.append(doc.problem(id_path, f"duplicate step id {step.id!r}{where}"))
        else:
            first_line[step.id] = doc.line_of(id_path)
        spec = CATALOG.get(step.action)
        if spec is None:
            problems.append(doc.problem(("steps", index, "action"), _unknown_action(step.action)))
        else:
            problems.extend(_check_with(doc, index, step, spec, parameters, declared))
        problems.extend(_check_when(doc, index, step, parameters, declared))
    return problems


def _unknown_action(action: str) -> str:
    close = difflib.get_close_matches(action, list(CATALOG), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown action {action!r}{hint} (actions: {', '.join(CATALOG)})"


def _check_with(
    doc: Located,
    index: int,
    step: Step,
    spec: ActionSpec,
    parameters: Mapping[str, Parameter],
    declared: set[str],
) -> list[Problem]:
    """Validate ``with:`` against the action's parameters.

    A reference takes its parameter's default; with no default its value is only known at
    run time, so only its type is checked then (a placeholder of the parameter's type).
    """
    base: PathKey = ("steps", index, "with")
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    refs: dict[str, str] = {}
    unchecked: set[str] = set()
    open_values: set[str] = set()
    for key, value in step.with_.items():
        values[key] = value
        name = _ref_name(value)
        if name is None:
            problems.extend(_stray_refs(doc, (*base, key), value, whole_value=True))
            continue
        refs[key] = name
        param = parameters.get(name)
        if name not in declared:
            problems.append(doc.problem((*base, key), _undeclared(name, declared)))
            unchecked.add(key)
        elif param is None:
            unchecked.add(key)  # the parameter itself is invalid and reported
        elif param.default is not None:
            values[key] = param.default
        else:
            values[key] = _placeholder(param, value)
            open_values.add(key)
    try:
        spec.params.model_validate(values, strict=True, by_name=False)
    except ValidationError as exc:
        located = validation_problems(doc, exc, base)
        for err, problem in zip(exc.errors(include_url=False), located, strict=True):
            key = str(err["loc"][0]) if err["loc"] else ""
            if key in unchecked:
                continue  # the reference itself is the problem, reported above
            if key in open_values and not str(err["type"]).endswith("_type"):
                continue  # a limit on a value only known at run time; checked then
            message = problem.message
            if err["type"] == "extra_forbidden":
                message = _unknown_with_key(spec, key)
            elif key in refs:
                param = parameters[refs[key]]
                message += f" (from parameter {refs[key]!r}, {_a(param.type)})"
            problems.append(replace(problem, message=message))
    return problems


def _ref_name(value: Any) -> str | None:
    match = PARAM_REF.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _placeholder(param: Parameter, ref: str) -> ParamValue:
    if param.type == "bool":
        return False
    if param.type == "int":
        return 0
    return ref


def _stray_refs(doc: Located, path: PathKey, value: Any, *, whole_value: bool) -> list[Problem]:
    """``${...}`` anywhere but as a whole ``with:`` value would be passed on literally."""
    found: list[Problem] = []
    if isinstance(value, str) and "${" in value:
        message = (
            'a parameter reference must be the whole value, like key: "${name}"'
            if whole_value
            else "a parameter reference can only be a whole with: value, not inside a list"
        )
        found.append(doc.problem(path, message))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_stray_refs(doc, (*path, i), item, whole_value=False))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(_stray_refs(doc, (*path, str(key)), item, whole_value=False))
    return found


def _undeclared(name: str, declared: Iterable[str]) -> str:
    names = sorted(declared)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = f" (declared: {', '.join(names)})" if names else " (this playbook declares none)"
    return f"parameter {name!r} is not declared under parameters{hint}{known}"


def _unknown_with_key(spec: ActionSpec, key: str) -> str:
    accepted = [field.alias or name for name, field in spec.params.model_fields.items()]
    if not accepted:
        return f"unknown key; {spec.name} takes no parameters"
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key for {spec.name}{hint} (it takes: {', '.join(accepted)})"


def _check_when(
    doc: Located,
    index: int,
    step: Step,
    parameters: Mapping[str, Parameter],
    declared: set[str],
) -> list[Problem]:
    condition = step.when
    if condition is None:
        return []
    base: PathKey = ("steps", index, "when")
    problems: list[Problem] = []
    if all(value is None for value in condition.model_dump().values()):
        keys = ", ".join(type(condition).model_fields)
        problems.append(doc.problem(base, f"when needs at least one condition ({keys})"))
    for key, name in (("param", condition.param), ("not_param", condition.not_param)):
        if name is None:
            continue
        if name not in declared:
            problems.append(doc.problem((*base, key), _undeclared(name, declared)))
            continue
        param = parameters.get(name)
        compared = key == "param" and condition.equals is not None
        if param is not None and param.type != "bool" and not compared:
            message = f"parameter {name!r} is {_a(param.type)}; when.{key} needs a bool parameter"
            problems.append(doc.problem((*base, key), message))
    if condition.equals is not None and condition.param is None:
        problems.append(doc.problem((*base, "equals"), "when.equals needs when.param"))
    for position, code in enumerate(condition.has_finding or []):
        if code not in FINDING_CODES:
            close = difflib.get_close_matches(code, FINDING_CODES, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"unknown finding code {code!r}{hint} (codes: {', '.join(FINDING_CODES)})"
            problems.append(doc.problem((*base, "has_finding", position), message))
    return problems


# --- parameters at run time --------------------------------------------------------------


def resolve_params(playbook: Playbook, given: Mapping[str, str]) -> dict[str, ParamValue]:
    """Turn ``--param NAME=VALUE`` strings into typed values, adding defaults.

    Bool values are ``true/false/yes/no/1/0`` (any case); ints are decimal. A bool
    parameter with neither value nor default is false; other such optional parameters are
    left out, so the steps that refer to them use the action's own default.
    Raises :class:`UsageError` naming every unknown, bad or missing parameter.
    """
    errors: list[str] = []
    declared = playbook.parameters
    for name in given:
        if name not in declared:
            errors.append(_unknown_param(name, declared))
    values: dict[str, ParamValue] = {}
    missing: list[str] = []
    for name, param in declared.items():
        if name in given:
            value, error = _convert(param, given[name])
            if error:
                errors.append(f"--param {name}={given[name]!r}: {error}")
            elif value is not None:
                values[name] = value
        elif param.default is not None:
            values[name] = param.default
        elif param.required:
            missing.append(name)
        elif param.type == "bool":
            values[name] = False
    if missing:
        wanted = " ".join(f"--param {name}=..." for name in missing)
        errors.append(f"missing required parameter{'s' if len(missing) > 1 else ''}: {wanted}")
    if errors:
        raise UsageError(f"playbook {playbook.name}: " + "; ".join(errors))
    return values


def _unknown_param(name: str, declared: Mapping[str, Parameter]) -> str:
    if not declared:
        return f"unknown parameter {name!r}: this playbook takes no parameters"
    close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown parameter {name!r}{hint} (parameters: {', '.join(declared)})"


def _convert(param: Parameter, text: str) -> tuple[ParamValue | None, str]:
    """The typed value, or ``None`` and why the text is not one."""
    if param.type == "bool":
        value = _BOOLS.get(text.strip().lower())
        if value is None:
            return None, "expected true or false (also yes/no, 1/0)"
        return value, ""
    if param.type == "int":
        if not _INT.fullmatch(text.strip()):
            return None, "expected a whole number"
        return int(text), ""
    return text, ""


def step_params(step: Step, params: Mapping[str, ParamValue]) -> ActionParams:
    """The step's action parameters, each ``${name}`` replaced by its resolved value.

    A reference to a parameter with no value is left out, so the action's own default
    applies. Raises :class:`UsageError` when the values do not fit the action.
    """
    spec = CATALOG.get(step.action)
    if spec is None:
        problem = Problem("", None, f"step {step.id}", _unknown_action(step.action))
        raise PlaybookError([problem])
    values: dict[str, Any] = {}
    unset: dict[str, str] = {}
    for key, value in step.with_.items():
        name = _ref_name(value)
        if name is None:
            values[key] = value
        elif name in params:
            values[key] = params[name]
        else:
            unset[key] = name
    try:
        return spec.params.model_validate(values, strict=True, by_name=False)
    except ValidationError as exc:
        details = []
        for err in exc.errors(include_url=False):
            key = str(err["loc"][0]) if err["loc"] else ""
            hint = f" (set it with --param {unset[key]}=...)" if key in unset else ""
            details.append(f"{render_path(err['loc'])}: {err['msg']}{hint}")
        raise UsageError(f"step {step.id} ({step.action}): " + "; ".join(details)) from None


# --- finding playbooks -------------------------------------------------------------------


def user_playbook_dir() -> Path:
    """``$XDG_CONFIG_HOME/agent-ir/playbooks`` (``~/.config/agent-ir/playbooks``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agent-ir" / "playbooks"


def shipped_playbooks() -> dict[str, Path]:
    """The playbooks that come with agent-ir, by name."""
    return {path.stem: path for path in sorted(SHIPPED_DIR.glob("*.yaml"))}


def find_playbook(name_or_path: str | Path, user_dirs: Sequence[Path] = ()) -> Path:
    """A playbook file: the path itself if it exists, else the shipped playbook of that name,
    else ``<name>.yaml`` in the first of ``user_dirs`` and then :func:`user_playbook_dir`
    that has it. Raises :class:`NotFoundError` listing the shipped names."""
    text = str(name_or_path)
    candidate = Path(name_or_path)
    is_name = bool(_NAME.fullmatch(text))
    if candidate.is_file() or (candidate.exists() and not is_name):
        return candidate
    dirs = [*user_dirs, user_playbook_dir()]
    if is_name:
        for directory in (SHIPPED_DIR, *dirs):
            path = directory / f"{text}.yaml"
            if path.is_file():
                return path
    shipped = ", ".join(shipped_playbooks()) or "none"
    searched = ", ".join(str(d) for d in dirs)
    raise NotFoundError(
        f"no playbook {text!r}: not a file, not a shipped playbook ({shipped}), "
        f"and not in {searched}"
    )
