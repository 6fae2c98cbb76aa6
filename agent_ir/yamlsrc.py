"""Safe, located YAML loading for every user file (worlds, playbooks, configuration).

Layer one of validation: a safe parse with limits on size, nesting and alias expansion,
duplicate keys refused, and a line number remembered for every path in the document so
later layers can say exactly where a problem is.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agent_ir.errors import InputError, Problem

PathKey = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 64
MAX_ALIAS_NODES = 10_000
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(slots=True)
class Located:
    """A parsed YAML document and the line (1-based) of every path inside it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def problem(self, path: Iterable[str | int], message: str) -> Problem:
        """A problem located at ``path``."""
        key = tuple(path)
        return Problem(self.file, self.line_of(key), render_path(key), message)


def render_path(path: Iterable[str | int]) -> str:
    """``steps[2].action`` style text for a path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Walker:
    def __init__(self, file: str, budget: int, error: type[InputError]) -> None:
        self.file = file
        self.budget = budget
        self.error = error
        self.lines: dict[PathKey, int] = {}
        self.constructor = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.alias_depth = 0
        self.alias_budget = MAX_ALIAS_NODES

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return self.error([Problem(self.file, node.start_mark.line + 1, "", message)])

    def walk(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        # A collection met a second time is an alias being expanded. Aliases get a small
        # budget of their own: a 2 KB "billion laughs" must be refused at once, while
        # generated worlds of millions of plain nodes stay within the general budget.
        if isinstance(node, yaml.CollectionNode) and id(node) in self.seen:
            self.alias_depth += 1
            try:
                return self._walk(node, path, depth)
            finally:
                self.alias_depth -= 1
        self.seen.add(id(node))
        return self._walk(node, path, depth)

    def _walk(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, "document too large (after expanding aliases)")
        if self.alias_depth:
            self.alias_budget -= 1
            if self.alias_budget < 0:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_NODES} values")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_COLLECTIONS:
            raise self.fail(node, f"YAML: unsupported tag {node.tag!r}")
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "mapping keys must be plain values")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "merge keys (<<) are not supported")
                key = self.scalar(key_node)
                if not isinstance(key, str | int | bool) or key is None:
                    key = str(key)
                if key in result:
                    raise self.fail(key_node, f"duplicate key {key!r}")
                child = (*path, str(key))
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self.walk(value_node, child, depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [
                self.walk(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        # PyYAML's constructors fail in several ways on a bad tag or value (an unknown
        # ``!tag``, ``2024-02-30``, ``!!int x``); each is the file's fault, so say where.
        try:
            return self.constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            raise self.fail(node, f"YAML: {exc.problem or exc.context or 'bad value'}") from None
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            raise self.fail(node, f"YAML: not a valid {node.tag.rsplit(':', 1)[-1]}") from None


def _check_nesting(text: str, file: str, error: type[InputError]) -> None:
    # The composer recurses once per level and overflows the stack long before the walker
    # could refuse the depth; the event stream is flat, so count levels there first.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH + 1:
                line = event.start_mark.line + 1 if event.start_mark else None
                message = f"nested deeper than {MAX_DEPTH} levels"
                raise error([Problem(file, line, "", message)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_text(
    text: str,
    file: str,
    *,
    error: type[InputError],
    max_nodes: int = 200_000,
) -> Located:
    """Parse one YAML document from text; every syntax or limit problem raises ``error``."""
    try:
        _check_nesting(text, file, error)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "bad YAML"
        raise error([Problem(file, line, "", f"YAML syntax: {message}")]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise error([Problem(file, line, "", f"YAML: {exc.reason}")]) from None
    except yaml.YAMLError as exc:
        raise error([Problem(file, None, "", f"YAML: {exc}")]) from None
    if node is None:
        return Located(file, None, {(): 1})
    walker = _Walker(file, max_nodes, error)
    data = walker.walk(node, (), 0)
    return Located(file, data, walker.lines)


class NotRegularFile(Exception):
    """A device, FIFO or socket where a file was expected."""


class FileTooLarge(Exception):
    """A file over the size limit."""


_CHUNK = 64 * 1024


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, read in chunks and never more than ``max_bytes``.

    Opened non-blocking so that a FIFO cannot hang the open, and refused unless regular
    (``/dev/zero`` would never end, a FIFO may never answer); the size is enforced while
    reading, not trusted from ``stat``. Raises ``OSError`` subclasses for the usual cases.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                raise IsADirectoryError(errno.EISDIR, "is a directory")
            raise NotRegularFile(str(path))
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise FileTooLarge(str(path))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_file(
    path: Path,
    *,
    error: type[InputError],
    max_bytes: int = 2_000_000,
    max_nodes: int = 200_000,
) -> Located:
    """Read and parse one YAML file, refusing missing, unreadable or oversized files."""
    name = str(path)
    try:
        text = read_bounded(path, max_bytes).decode("utf-8")
    except NotRegularFile:
        message = "is not a regular file (a device, FIFO or socket cannot be read as one)"
        raise error([Problem(name, None, "", message)]) from None
    except FileTooLarge:
        raise error(
            [Problem(name, None, "", f"file is over the size limit; the limit is {max_bytes} bytes")]
        ) from None
    except FileNotFoundError:
        raise error([Problem(name, None, "", "no such file")]) from None
    except IsADirectoryError:
        raise error([Problem(name, None, "", "is a directory, not a file")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise error([Problem(name, line, "", f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise error([Problem(name, None, "", f"cannot read: {exc.strerror}")]) from None
    return load_text(text, name, error=error, max_nodes=max_nodes)


def validation_problems(doc: Located, exc: ValidationError, prefix: PathKey = ()) -> list[Problem]:
    """Turn a pydantic error into located problems, one per error."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = (*prefix, *(part for part in err["loc"] if not _is_union_tag(part)))
        message = _message(err)
        problems.append(doc.problem(loc, message))
    return problems


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member or tag name into loc; it is not a path element
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] if msg else kind


def parse_model(doc: Located, model: type[M], error: type[InputError], prefix: PathKey = ()) -> M:
    """Validate a located document against a typed model (unknown keys are refused)."""
    if not isinstance(doc.data, dict):
        raise error([doc.problem((), "expected a mapping at the top of the file")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise error(validation_problems(doc, exc, prefix)) from None
