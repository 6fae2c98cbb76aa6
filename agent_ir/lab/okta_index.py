"""Indexed tables for the Okta emulator: a dictionary that keeps its keys in order and
its entries by the fields requests look them up by, updated on every write.

Okta pages by ``after`` (the last id of the previous page), so a page starts by bisection
in the ordered ids and reads ``limit`` entries; an app's refresh tokens or a user's grants
are read from the field index, not by walking every token of the org. Every read counts
what it touched (:func:`agent_ir.lab.work.touch`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from agent_ir.lab.work import touch

V = TypeVar("V")


class IndexedDict(dict[str, V]):
    """A ``dict`` by id whose ids are also kept sorted, and whose values are indexed by
    the attributes named in ``fields`` (which must not change once stored)."""

    def __init__(self, fields: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._fields = fields
        self._order: list[str] = []
        self._by: dict[str, dict[Any, set[str]]] = {name: {} for name in fields}
        self.version = 0
        """Bumped on every write, for derived maps (a token's value → its id)."""

    def _state(self) -> None:
        """Create the bookkeeping when pickle or copy filled the dictionary before
        restoring its attributes (they are rebuilt from the items)."""
        if "_order" not in self.__dict__:
            self.__dict__.update(_fields=(), _order=[], _by={}, version=0)

    def __setitem__(self, key: str, value: V) -> None:
        self._state()
        if key in self:
            self._unindex(key, self[key])
        else:
            bisect.insort(self._order, key)
        super().__setitem__(key, value)
        for name in self._fields:
            self._by[name].setdefault(getattr(value, name), set()).add(key)
        self.version += 1

    def __delitem__(self, key: str) -> None:
        self._state()
        value = self[key]
        super().__delitem__(key)
        self._unindex(key, value)
        del self._order[bisect.bisect_left(self._order, key)]
        self.version += 1

    def pop(self, key: str, *default: Any) -> Any:
        """As ``dict.pop``, keeping the indexes."""
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self[key]
        return value

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled and copied as its items plus the fields it indexes."""
        return (_rebuild, (self._fields, list(self.items())))

    def _unindex(self, key: str, value: V) -> None:
        for name in self._fields:
            keys = self._by[name].get(getattr(value, name))
            if keys is not None:
                keys.discard(key)

    def after(self, after: str | None) -> Iterator[V]:
        """The values with an id above ``after`` (all when None), in id order, lazily."""
        self._state()
        start = 0 if after is None else bisect.bisect_right(self._order, after)
        for position in range(start, len(self._order)):
            touch()
            yield self[self._order[position]]

    def where(self, field: str, value: Any) -> list[V]:
        """The values whose ``field`` (an indexed attribute) is ``value``, in id order."""
        keys = sorted(self._by[field].get(value, ()))
        touch(len(keys))
        return [self[key] for key in keys]

    def find(self, derived: str, make: Callable[[V], Any], wanted: Any) -> V | None:
        """The value for which ``make(value) == wanted``, from a map of ``make`` kept by
        the name ``derived`` and rebuilt only after a write (one lookup per request)."""
        cache = self.__dict__.setdefault("_derived", {})
        version, mapping = cache.get(derived, (-1, {}))
        if version != self.version:
            touch(len(self))
            # the first entry wins, as a walk in insertion order would find it
            mapping = {make(value): key for key, value in reversed(list(self.items()))}
            cache[derived] = (self.version, mapping)
        touch()
        key = mapping.get(wanted)
        return self.get(key) if key is not None else None


def _rebuild(fields: tuple[str, ...], items: list[tuple[str, Any]]) -> IndexedDict[Any]:
    table: IndexedDict[Any] = IndexedDict(fields)
    for key, value in items:
        table[key] = value
    return table
