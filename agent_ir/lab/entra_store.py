"""The Entra emulator's directory: tables of Graph objects with a replication delay.

Every write lands on the "primary" at once but reaches the replicas reads are served from
only ``delay_s`` later, as Entra's directory does: a read right after a write may still see
the old object, and a client must verify by polling. Writes are computed on the primary
(the latest version), so the emulator never loses its own updates.

Objects are the JSON dictionaries Graph returns; keys starting with ``_`` are the lab's own
bookkeeping (owners, sponsors, secret values) and never leave the emulator.
"""

from __future__ import annotations

import bisect
import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agent_ir.lab.work import touch

Obj = dict[str, Any]
_SEEDED = float("-inf")


class Table:
    """One collection of objects by id, each with its recent versions.

    Indexed on write, so that no read walks the whole table: the ids in order (a page
    starts by bisection after its ``$skiptoken``) and, for each field named in
    ``indexed``, the ids of every object that has held each value (a child listing such
    as a service principal's assignments reads only its own). An index may name an id
    whose visible version no longer matches (replicas lag, a write changed the field);
    readers check the visible object, so answers are as a scan would give them.
    """

    def __init__(
        self, clock: Callable[[], float], delay_s: float, indexed: tuple[str, ...] = ()
    ) -> None:
        self._clock = clock
        self._delay_s = delay_s
        self._rows: dict[str, list[tuple[float, Obj | None]]] = {}
        self._indexed = indexed
        self._order: list[str] = []
        self._by: dict[str, dict[Any, list[str]]] = {name: {} for name in indexed}
        self._folded: dict[str, dict[str, list[str]]] = {name: {} for name in indexed}

    def seed(self, key: str, value: Obj) -> None:
        """Store an object that every replica already has."""
        self._index(key, value)
        self._rows[key] = [(_SEEDED, value)]

    def get(self, key: str) -> Obj | None:
        """The object as the replicas see it (None when absent there)."""
        history = self._rows.get(key)
        touch()
        return _visible(history, self._clock()) if history else None

    def latest(self, key: str) -> Obj | None:
        """The object as the primary has it."""
        history = self._rows.get(key)
        touch()
        return history[-1][1] if history else None

    def values(self) -> list[Obj]:
        """Every object the replicas see, in id order."""
        return list(self.after(None))

    def latest_values(self) -> list[Obj]:
        """Every object the primary has, in id order."""
        touch(len(self._order))
        rows = (self._rows[key][-1][1] for key in self._order)
        return [value for value in rows if value is not None]

    def after(self, after: str | None, field: str = "", value: Any = None) -> Iterator[Obj]:
        """The objects the replicas see with an id above ``after`` (all when None), in id
        order, lazily: a page reads only as far as it needs. With ``field``, only those
        whose ``field`` is ``value`` (``field`` must be indexed)."""
        keys = self._order if not field else self._by[field].get(value, [])
        start = 0 if after is None else bisect.bisect_right(keys, after)
        now = self._clock()
        for position in range(start, len(keys)):
            touch()
            seen = _visible(self._rows[keys[position]], now)
            if seen is not None and (not field or seen.get(field) == value):
                yield seen

    def indexes(self, field: str) -> bool:
        """Whether ``field`` is indexed (:meth:`candidates` can answer for it)."""
        return field in self._indexed

    def candidates(self, after: str | None, field: str, text: str) -> Iterator[Obj]:
        """As :meth:`after`, for the objects whose ``field`` has ever been a string equal to
        ``text`` ignoring case (a superset of what ``$filter=field eq 'text'`` keeps; the
        filter itself still decides)."""
        keys = self._folded[field].get(text.lower(), [])
        start = 0 if after is None else bisect.bisect_right(keys, after)
        now = self._clock()
        for position in range(start, len(keys)):
            touch()
            seen = _visible(self._rows[keys[position]], now)
            if seen is not None:
                yield seen

    def where(self, field: str, value: Any, *, latest: bool = False) -> list[Obj]:
        """The objects whose ``field`` is ``value``, in id order (``field`` indexed), as the
        replicas see them or, with ``latest``, as the primary has them."""
        if not latest:
            return list(self.after(None, field, value))
        keys = self._by[field].get(value, [])
        touch(len(keys))
        rows = (self._rows[key][-1][1] for key in keys)
        return [row for row in rows if row is not None and row.get(field) == value]

    def put(self, key: str, value: Obj) -> None:
        """Write an object (a copy is kept); replicas see it after the delay."""
        self._index(key, value)
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
        state["_order"] = []
        state["_by"] = {name: {} for name in self._indexed}
        state["_folded"] = {name: {} for name in self._indexed}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Loaded: the indexes are rebuilt from the rows."""
        self.__dict__.update(state)
        self._order = sorted(self._rows)
        for key, history in self._rows.items():
            self._index_fields(key, history[-1][1] or {})

    def _index(self, key: str, value: Obj) -> None:
        """Enter ``key`` in the id order (when new) and under its indexed field values."""
        if key not in self._rows:
            bisect.insort(self._order, key)
        self._index_fields(key, value)

    def _index_fields(self, key: str, value: Obj) -> None:
        for name in self._indexed:
            found = value.get(name)
            if found is None:
                continue
            _enter(self._by[name].setdefault(found, []), key)
            if isinstance(found, str):
                _enter(self._folded[name].setdefault(found.lower(), []), key)

    def _append(self, key: str, value: Obj | None) -> None:
        now = self._clock()
        history = self._rows.setdefault(key, [])
        # Keep only what a replica may still serve: the newest visible version and later.
        visible = [i for i, (at, _) in enumerate(history) if at <= now]
        if visible:
            del history[: visible[-1]]
        history.append((now + self._delay_s, value))


def _enter(keys: list[str], key: str) -> None:
    """Put ``key`` in the sorted list ``keys`` unless it is there."""
    at = bisect.bisect_left(keys, key)
    if at == len(keys) or keys[at] != key:
        keys.insert(at, key)


def _visible(history: list[tuple[float, Obj | None]], now: float) -> Obj | None:
    for at, value in reversed(history):
        if at <= now:
            return value
    return None


INDEXED: dict[str, tuple[str, ...]] = {
    "users": (),
    "applications": ("_kind", "displayName"),
    "fics": ("_app",),
    "service_principals": ("_kind", "displayName"),
    "grants": ("clientId",),
    "assignments": ("principalId", "resourceId"),
    "role_definitions": (),
    "role_assignments": ("principalId",),
    "sign_ins": (),
}
"""Every table of a directory and the fields it is indexed on (what requests look up)."""


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
        for name, indexed in INDEXED.items():
            setattr(self, name, Table(self.clock, self.delay_s, indexed))

    def app_of_sp(self, sp: Obj) -> Obj | None:
        """The application behind a service principal, when it lives in this tenant."""
        app_id = self.app_by_client_id.get(str(sp.get("appId")))
        return self.applications.get(app_id) if app_id else None

    def sp_by_app_id(self, client_id: str) -> Obj | None:
        """A service principal by its application (client) id, as replicas see it."""
        sp_id = self.sp_by_client_id.get(client_id)
        return self.service_principals.get(sp_id) if sp_id else None
