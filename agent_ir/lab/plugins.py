"""The lab plugins of the four built-in providers (entry-point group ``agent_ir.lab``).

Each factory imports its emulator, probe or inject module only when called, so listing
the plugins stays cheap.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_ir.lab.entra_world import EntraWorld
from agent_ir.lab.gcp_world import GcpWorld
from agent_ir.lab.okta_world import OktaWorld
from agent_ir.lab.plugin import EmulatorFactory, InjectFn, LabPlugin
from agent_ir.lab.world import AwsWorld

if TYPE_CHECKING:
    from agent_ir.engine.inventory import Inventory
    from agent_ir.lab.runner import Emulator, Lab
    from agent_ir.lab.tls import LabTLS
    from agent_ir.lab.world import World
    from agent_ir.tabletop.model import Change
    from agent_ir.tabletop.probe import ProviderProbe


def _aws(world: World, tls: LabTLS, now: datetime) -> Emulator | None:
    from agent_ir.lab.aws import AwsEmulator

    return AwsEmulator(
        world.aws,
        tls,
        now=now,
        faults=world.faults.aws,
        activity=world.activity,
        world_name=world.name,
    )


def _by_name(module: str) -> EmulatorFactory:
    """A factory calling ``create(world, tls, now)`` of an emulator module, imported late."""

    def factory(world: World, tls: LabTLS, now: datetime) -> Emulator | None:
        create: EmulatorFactory = importlib.import_module(module).create
        return create(world, tls, now)

    return factory


def _inject(provider: str) -> InjectFn:
    """The ``apply`` of ``agent_ir.tabletop.inject_<provider>``, imported late."""

    def inject(lab: Lab, inventory: Inventory, part: Any, change: Change) -> str:
        module: Any = importlib.import_module(f"agent_ir.tabletop.inject_{provider}")
        return str(module.apply(lab, inventory, part, change))

    return inject


def _aws_probe(lab: Lab, workdir: Path) -> ProviderProbe:
    from agent_ir.tabletop.probe_aws import AwsProbe

    return AwsProbe(lab)


def _entra_probe(lab: Lab, workdir: Path) -> ProviderProbe:
    from agent_ir.tabletop.probe_entra import EntraProbe

    return EntraProbe(lab)


def _gcp_probe(lab: Lab, workdir: Path) -> ProviderProbe:
    from agent_ir.tabletop.probe_gcp import GcpProbe

    return GcpProbe(lab, workdir)


def _okta_probe(lab: Lab, workdir: Path) -> ProviderProbe:
    from agent_ir.tabletop.probe_okta import OktaProbe

    return OktaProbe(lab)


def _entra_generate(agents: int, seed: int) -> dict[str, Any]:
    from agent_ir.lab.entra_generate import generate_entra

    return generate_entra(max(10, agents), seed=seed)


def _gcp_generate(agents: int, seed: int) -> dict[str, Any]:
    from agent_ir.lab.gcp_generate import generate_gcp_section

    return generate_gcp_section(agents, seed=seed)


def _okta_generate(agents: int, seed: int) -> dict[str, Any]:
    from agent_ir.lab.okta_generator import generate_okta_data

    return generate_okta_data(agents, tokens=agents // 20, agents=agents // 20, seed=seed)


AWS = LabPlugin("aws", AwsWorld, _aws, probe=_aws_probe, inject=_inject("aws"))
ENTRA = LabPlugin(
    "entra",
    EntraWorld,
    _by_name("agent_ir.lab.entra"),
    probe=_entra_probe,
    inject=_inject("entra"),
    generate=_entra_generate,
)
GCP = LabPlugin(
    "gcp",
    GcpWorld,
    _by_name("agent_ir.lab.gcp"),
    probe=_gcp_probe,
    inject=_inject("gcp"),
    generate=_gcp_generate,
)
OKTA = LabPlugin(
    "okta",
    OktaWorld,
    _by_name("agent_ir.lab.okta"),
    probe=_okta_probe,
    inject=_inject("okta"),
    generate=_okta_generate,
)
