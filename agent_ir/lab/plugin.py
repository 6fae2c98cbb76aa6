"""The lab side of a provider, registered apart from the product.

A provider's :class:`LabPlugin` (entry-point group ``agent_ir.lab``) says how the lab
serves it: its world section, its emulator, and for exercises its probe, its injects and a
generator of large sections. The product never imports this module; the lab runner, the
world loader and the tabletop find providers only through :func:`lab_plugins`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_ir.errors import LabError
from agent_ir.lab.section import WorldSection

if TYPE_CHECKING:
    from agent_ir.engine.inventory import Inventory
    from agent_ir.lab.runner import Emulator, Lab
    from agent_ir.lab.tls import LabTLS
    from agent_ir.lab.world import World
    from agent_ir.tabletop.model import Change
    from agent_ir.tabletop.probe import ProviderProbe

GROUP = "agent_ir.lab"

EmulatorFactory = Callable[["World", "LabTLS", datetime], "Emulator | None"]
ProbeFactory = Callable[["Lab", Path], "ProviderProbe"]
InjectFn = Callable[["Lab", "Inventory", Any, "Change"], str]
"""``inject(lab, inventory, probe_part, change) -> one line saying what changed``."""
GenerateFn = Callable[[int, int], dict[str, Any]]
"""``generate(agents, seed) -> the provider's world section as plain data``."""


@dataclass(frozen=True, slots=True)
class LabPlugin:
    """How the lab emulates one provider."""

    name: str
    section: type[WorldSection]
    """The model of the provider's part of a world file (its top-level key is ``name``)."""
    emulator: EmulatorFactory
    probe: ProbeFactory | None = None
    inject: InjectFn | None = None
    generate: GenerateFn | None = None


def lab_plugins() -> dict[str, LabPlugin]:
    """Every installed lab plugin by provider name, in canonical (sorted) order."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    out: dict[str, LabPlugin] = {}
    for name in sorted(found):
        try:
            loaded = found[name].load()
        except ImportError as exc:
            raise LabError(f"the lab plugin {name!r} cannot be imported: {exc}") from exc
        if not isinstance(loaded, LabPlugin) or loaded.name != name:
            raise LabError(f"the entry point {name!r} of {GROUP} does not name its LabPlugin")
        out[name] = loaded
    return out


def lab_plugin(name: str) -> LabPlugin:
    """One provider's lab plugin; an unknown name says which are installed."""
    found = lab_plugins()
    if name not in found:
        raise LabError(f"no lab plugin for {name!r} (installed: {', '.join(found) or 'none'})")
    return found[name]
