"""Adapters are registered in the entry-point group ``agent_ir.providers``.

Listing reads package metadata only; an adapter's module is imported when it is loaded,
one at a time (the okta SDK alone costs over a second to import).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import cast

from agent_ir.errors import NotFoundError
from agent_ir.providers.base import Provider

GROUP = "agent_ir.providers"


def available() -> dict[str, EntryPoint]:
    """Installed adapters by name, without importing any of them."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type[Provider]:
    """Import and return one adapter class; an unknown name says what is installed."""
    found = available()
    if name not in found:
        installed = ", ".join(sorted(found)) or "none"
        raise NotFoundError(f"no provider adapter named {name!r} (installed: {installed})")
    try:
        return cast(type[Provider], found[name].load())
    except ImportError as exc:
        raise NotFoundError(
            f"the {name!r} provider adapter is registered but cannot be imported: {exc}"
        ) from None
