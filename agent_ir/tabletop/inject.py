"""Changes an attacker makes to the lab during an exercise.

Each provider's lab plugin names its inject (the built-in ones are the modules
``inject_aws``, ``inject_entra``, ``inject_gcp``, ``inject_okta``), one function, ``apply(lab, inventory, part, change) -> str``: it makes
the change through the provider's real API (as the lab's responder, standing in for the
attacker's own power), hands any credential it creates to that provider's probe ``part``,
and returns one line saying what changed (never a secret). When the attacker's own
credential no longer works, it raises :class:`ChangeRefused`, and the timeline says the
attempt failed.
"""

from __future__ import annotations

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.plugin import lab_plugin
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.model import Change
from agent_ir.tabletop.probe import Probe


class ChangeRefused(LabError):
    """The provider refused the attacker's change because the attacker no longer has the
    power to make it (its credential was revoked): an outcome of the exercise, not a
    fault of the lab."""


def apply_change(lab: Lab, inventory: Inventory, probe: Probe, change: Change) -> str:
    """Make ``change`` in the lab; what changed, in one line."""
    part = probe.parts.get(change.provider)
    if part is None:
        raise LabError(
            f"the change at {change.at:g}s ({change.change}) needs {change.provider}, "
            "which this exercise's world does not run"
        )
    inject = lab_plugin(change.provider).inject
    if inject is None:
        raise LabError(f"the {change.provider} lab plugin makes no attacker changes")
    return inject(lab, inventory, part, change)
