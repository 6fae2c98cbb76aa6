"""The Entra emulator's directory: tables of Graph objects with a replication delay.

Every write lands on the "primary" at once but reaches the replicas reads are served from
only ``delay_s`` later, as Entra's directory does: a read right after a write may still see
the old object, and a client must verify by polling. Writes are computed on the primary
(the latest version), so the emulator never loses its own updates.

Objects are the JSON dictionaries Graph returns; keys starting with ``_`` are the lab's own
bookkeeping (owners, sponsors, secret values) and never leave the emulator.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
_SEEDED = float("-inf")


class Table:
    """One collection of objects by id, each with its recent versions."""

    def __init__(self, clock: Callable[[], float], delay_s: float) -> None:
        self._clock = clock
        self._delay_s = delay_s
        self._rows: dict[str, list[tuple[float, Obj | None]]] = {}

    def seed(self, key: str, value: Obj) -> None:
        """Store an object that every replica already has."""
        self._rows[key] = [(_SEEDED, value)]

    def get(self, key: str) -> Obj | None:
        """The object as the replicas see it (None when absent there)."""
        history = self._rows.get(key)
        return _visible(history, self._clock()) if history else None

    def latest(self, key: str) -> Obj | None:
        """The object as the primary has it."""
        history = self._rows.get(key)
        return history[-1][1] if history else None

    def values(self) -> list[Obj]:
        """Every object the replicas see, in id order."""
        now = self._clock()
        out = []
        for key in sorted(self._rows):
            value = _visible(self._rows[key], now)
            if value is not None:
                out.append(value)
        return out

    def latest_values(self) -> list[Obj]:
        """Every object the primary has, in id order."""
        return [h[-1][1] for _, h in sorted(self._rows.items()) if h[-1][1] is not None]

    def put(self, key: str, value: Obj) -> None:
        """Write an object (a copy is kept); replicas see it after the delay."""
        self._append(key, copy.deepcopy(value))

    def delete(self, key: str) -> None:
        """Remove an object; replicas still see it until the delay has passed."""
        if self.latest(key) is not None:
            self._append(key, None)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a saved lab state) as replicated: versions are dated by this process's
        monotonic clock, which means nothing to the process that loads them."""
        state = dict(self.__dict__)
        state["_rows"] = {
            key: [(_SEEDED, history[-1][1])]
            for key, history in self._rows.items()
            if history[-1][1] is not None
        }
        return state

    def _append(self, key: str, value: Obj | None) -> None:
        now = self._clock()
        history = self._rows.setdefault(key, [])
        # Keep only what a replica may still serve: the newest visible version and later.
        visible = [i for i, (at, _) in enumerate(history) if at <= now]
        if visible:
            del history[: visible[-1]]
        history.append((now + self._delay_s, value))


def _visible(history: list[tuple[float, Obj | None]], now: float) -> Obj | None:
    for at, value in reversed(history):
        if at <= now:
            return value
    return None


@dataclass
class Directory:
    """One tenant's objects, with the lock every request holds while it runs."""

    tenant_id: str
    domain: str
    name: str
    delay_s: float
    clock: Callable[[], float] = time.monotonic
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: Table = field(init=False)
    applications: Table = field(init=False)
    fics: Table = field(init=False)
    service_principals: Table = field(init=False)
    grants: Table = field(init=False)
    assignments: Table = field(init=False)
    role_definitions: Table = field(init=False)
    role_assignments: Table = field(init=False)
    sign_ins: Table = field(init=False)
    app_by_client_id: dict[str, str] = field(default_factory=dict)
    sp_by_client_id: dict[str, str] = field(default_factory=dict)
    user_by_upn: dict[str, str] = field(default_factory=dict)
    sign_in_log: list[Obj] = field(default_factory=list)
    """Sign-in events (``auditLogs/signIns``), in arrival order."""
    audit_log: list[Obj] = field(default_factory=list)
    """Directory audit events (``auditLogs/directoryAudits``), in arrival order."""

    def __post_init__(self) -> None:
        for name in (
            "users",
            "applications",
            "fics",
            "service_principals",
            "grants",
            "assignments",
            "role_definitions",
            "role_assignments",
            "sign_ins",
        ):
            setattr(self, name, Table(self.clock, self.delay_s))

    def app_of_sp(self, sp: Obj) -> Obj | None:
        """The application behind a service principal, when it lives in this tenant."""
        app_id = self.app_by_client_id.get(str(sp.get("appId")))
        return self.applications.get(app_id) if app_id else None

    def sp_by_app_id(self, client_id: str) -> Obj | None:
        """A service principal by its application (client) id, as replicas see it."""
        sp_id = self.sp_by_client_id.get(client_id)
        return self.service_principals.get(sp_id) if sp_id else None
