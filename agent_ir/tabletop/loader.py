"""Loading exercise files: YAML syntax, then the typed model, then cross-checks (every
problem located by file and line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from agent_ir import data
from agent_ir.errors import InputError, Problem, UsageError
from agent_ir.tabletop.model import Exercise
from agent_ir.yamlsrc import Located, load_file, load_text, render_path, validation_problems

MAX_BYTES = 500_000
MAX_NODES = 50_000
EXERCISES = data.exercise_dir()
DEFAULT_WORLD = data.default_world()


class ExerciseError(InputError):
    """An exercise file is invalid."""

    kind = "exercise"


@dataclass(frozen=True, slots=True)
class LoadedExercise:
    """An exercise with its world file resolved."""

    exercise: Exercise
    path: Path
    world_path: Path

    def suspect(self, agent: str | None) -> str:
        """``agent`` (the first suspect when None), refused unless it is a suspect."""
        exercise = self.exercise
        chosen = agent or exercise.suspects[0]
        if chosen not in exercise.suspects:
            raise UsageError(
                f"{chosen} is not a suspect of exercise {exercise.name} "
                f"(suspects: {', '.join(exercise.suspects)})"
            )
        return chosen


def find_exercise(name_or_path: str) -> Path:
    """A file path as given, else a shipped exercise by name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    return EXERCISES / f"{name_or_path}.yaml"


def load_exercise(path: Path) -> LoadedExercise:
    """Load and validate one exercise file; raises :class:`ExerciseError` with every problem."""
    doc = load_file(path, error=ExerciseError, max_bytes=MAX_BYTES, max_nodes=MAX_NODES)
    return _validate(doc, path.resolve().parent)


def load_exercise_text(text: str, name: str, base: Path) -> LoadedExercise:
    """Load and validate an exercise from text; a relative world resolves against ``base``."""
    doc = load_text(text, name, error=ExerciseError, max_nodes=MAX_NODES)
    return _validate(doc, base)


def _validate(doc: Located, base: Path) -> LoadedExercise:
    if not isinstance(doc.data, dict):
        raise ExerciseError([doc.problem((), "expected a mapping at the top of the file")])
    try:
        exercise = Exercise.model_validate(doc.data)
    except ValidationError as exc:
        raise ExerciseError([_untagged(doc, p) for p in validation_problems(doc, exc)]) from None
    problems: list[Problem] = []
    world = DEFAULT_WORLD if exercise.world == "default" else base / exercise.world
    if not world.is_file():
        problems.append(doc.problem(("world",), f"no world file at {world}"))
    for objective in exercise.scoring:
        if objective not in exercise.objectives:
            message = f"weight for {objective}, which is not among the objectives"
            problems.append(doc.problem(("scoring", objective), message))
    if len(set(exercise.suspects)) != len(exercise.suspects):
        problems.append(doc.problem(("suspects",), "a suspect is named twice"))
    if sum(exercise.weight(o) for o in exercise.objectives) <= 0:
        problems.append(doc.problem(("scoring",), "the weights must not all be zero"))
    times = [inject.at for inject in exercise.injects]
    if times != sorted(times):
        problems.append(doc.problem(("injects",), "injects must be listed in time order"))
    if problems:
        raise ExerciseError(problems)
    return LoadedExercise(exercise, Path(doc.file), world)


_TAG = re.compile(r"^(injects\[\d+\])\.(alert|change(\.[a-z-]+)?)(?=\.|$)")


def _untagged(doc: Located, problem: Problem) -> Problem:
    """Drop the inject kind (and the change) pydantic puts into an error's location, and
    locate it again; an unknown change is located at its ``change`` key."""
    match = _TAG.match(problem.where)
    if match is None:
        return problem
    where = match.group(1) + problem.where[match.end() :]
    if where == match.group(1) and "using 'change'" in problem.message:
        where += ".change"
    path: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        path.append(int(part[1:-1]) if part.startswith("[") else part)
    return replace(problem, line=doc.line_of(path), where=render_path(path))
