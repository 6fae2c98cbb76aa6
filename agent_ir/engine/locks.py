"""One writer per agent: an advisory lock file per agent beside the journals.

Two runs changing one agent at once leave it half contained (a restore undoing what a
revoke just did, two revokes journaling the same steps). Every write (run, revoke,
restore, resume) holds ``<journal_dir>.locks/agent-<name>-<hash>.lock`` under
``fcntl.flock`` for as long as it runs; the file says who holds it (incident, pid, user,
host, since), so whoever is refused can be told whom to ask. The kernel drops the lock when
its holder dies, so a crashed run never leaves the agent locked. Each incident's journal is
locked the same way (see :mod:`agent_ir.engine.journal`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_ir.errors import JournalError, RefusedError

POLL_S = 0.25
"""How often a waiting writer tries the lock again."""


class AgentBusy(RefusedError):
    """Another writer holds the agent; ``holder`` is what its lock file says."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(directory: Path, agent: str) -> Path:
    """The lock file of one agent (any name maps to a safe, distinct file name)."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", agent.lower())[:64].strip(".-") or "agent"
    digest = hashlib.sha256(agent.lower().encode()).hexdigest()[:12]
    # Beside the journal directory, not in it: whoever shares the journals shares the
    # locks, and the journal directory keeps holding journals only.
    return directory.with_name(directory.name + ".locks") / f"agent-{slug}-{digest}.lock"


def holder(directory: Path, agent: str) -> dict[str, Any] | None:
    """Who holds the agent now, or None when no one does."""
    path = lock_path(directory, agent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot open the lock file {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def describe(agent: str, who: dict[str, Any]) -> str:
    """One line naming the holder of an agent's lock."""
    return (
        f"agent {agent} is being changed by incident {who.get('incident', '?')} "
        f"(pid {who.get('pid', '?')}, user {who.get('user', '?')} on {who.get('host', '?')}, "
        f"since {who.get('since', '?')})"
    )


@contextlib.asynccontextmanager
async def agent_lock(
    directory: Path,
    agent: str,
    incident: str,
    user: str,
    *,
    wait: bool = False,
    wait_s: float | None = None,
) -> AsyncIterator[None]:
    """Hold ``agent``'s lock for the block; refuse at once (AgentBusy, exit 8) when another
    writer holds it, or with ``wait`` try again until it is free (for ``wait_s`` at most)."""
    path = lock_path(directory, agent)
    fd = _open(path)
    try:
        await _acquire(fd, agent, wait, wait_s)
        _write_holder(fd, {"incident": incident, "agent": agent, "user": user})
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise JournalError(f"cannot open the lock file {path}: {exc.strerror}") from exc


async def _acquire(fd: int, agent: str, wait: bool, wait_s: float | None) -> None:
    loop = asyncio.get_running_loop()
    give_up = None if wait_s is None else loop.time() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            who = _read_holder(fd)
            if not wait or (give_up is not None and loop.time() >= give_up):
                hint = "" if wait else "; wait for it to finish, or pass --wait"
                raise AgentBusy(describe(agent, who) + hint, who) from None
        await asyncio.sleep(POLL_S)


def _write_holder(fd: int, fields: dict[str, Any]) -> None:
    info = {
        **fields,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    data = (json.dumps(info, sort_keys=True) + "\n").encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        info = {}
    return info if isinstance(info, dict) else {}
