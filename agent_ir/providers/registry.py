"""Providers are registered in the entry-point group ``agent_ir.providers``, each as a
:class:`~agent_ir.providers.plugin.ProviderPlugin` descriptor.

Listing reads package metadata only; a descriptor is imported when it is asked for, and
its adapter's module only when the adapter is loaded, one at a time (the okta SDK alone
costs over a second to import). Every list of providers in the product comes from here.
"""

from __future__ import annotations

import functools
import sys
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from agent_ir.errors import NotFoundError

if TYPE_CHECKING:  # listing names must not import the contract (the CLI's parser lists them)
    from agent_ir.providers.base import Provider
    from agent_ir.providers.plugin import ProviderPlugin

GROUP = "agent_ir.providers"


def available() -> dict[str, EntryPoint]:
    """Installed providers by name, in canonical (sorted) order, without importing any."""
    return dict(_scan(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _scan(path: tuple[str, ...]) -> tuple[tuple[str, EntryPoint], ...]:
    """The entry points visible on one ``sys.path`` (metadata is read once per path, since
    validating a large world asks for every identity)."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    return tuple((name, found[name]) for name in sorted(found))


def names() -> list[str]:
    """The installed providers' names, in canonical order."""
    return list(available())


def plugin(name: str) -> ProviderPlugin:
    """One provider's descriptor; an unknown name says what is installed."""
    from agent_ir.providers.plugin import ProviderPlugin

    found = available()
    if name not in found:
        installed = ", ".join(found) or "none"
        raise NotFoundError(f"no provider adapter named {name!r} (installed: {installed})")
    try:
        loaded = found[name].load()
    except ImportError as exc:
        raise NotFoundError(
            f"the {name!r} provider adapter is registered but cannot be imported: {exc}"
        ) from exc
    if not isinstance(loaded, ProviderPlugin) or loaded.name != name:
        raise NotFoundError(f"the entry point {name!r} does not name a ProviderPlugin for it")
    return loaded


def plugins() -> dict[str, ProviderPlugin]:
    """Every installed provider's descriptor, by name (imports descriptors, not adapters)."""
    return {name: plugin(name) for name in available()}


def load(name: str) -> type[Provider]:
    """Import and return one adapter class; an unknown name says what is installed."""
    descriptor = plugin(name)
    try:
        return descriptor.load_adapter()
    except ImportError as exc:
        raise NotFoundError(
            f"the {name!r} provider adapter is registered but cannot be imported: {exc}"
        ) from exc
