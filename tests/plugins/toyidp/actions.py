"""The toy provider's one containment action: disable the agent's API keys."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, ProviderAction, Reversibility
from agent_ir.actions.catalog import DisableCredentialsParams
from agent_ir.errors import ObjectMissing
from tests.plugins.toyidp.adapter import ToyProvider


class DisableApiKeys(ProviderAction[ToyProvider]):
    """Disable every enabled API key of the agent's toy identities.

    ```yaml
    - id: cut-keys
      action: disable-credentials
      providers: [toy]
    ```
    """

    action: ClassVar[str] = "disable-credentials"
    provider: ClassVar[str] = "toy"
    permissions = ("toy:keys.read", "toy:keys.write")
    restore_permissions = ("toy:keys.write",)
    reversible = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per enabled key of each target agent."""
        params = cast(DisableCredentialsParams, ctx.params)
        drafts = []
        for ident in ctx.targets:
            for cred in ident.credentials:
                if ident.provider != "toy" or cred.kind != "api-key" or cred.status != "active":
                    continue
                limit = params.older_than_days
                if limit is not None and cred.created and (ctx.now - cred.created).days < limit:
                    continue
                drafts.append(
                    Draft(
                        target=cred.id,
                        target_label=f"API key {cred.id} of {ident.name}",
                        identity=ident.id,
                        current={"status": "enabled"},
                        predicted={"status": "disabled"},
                        operation={"agent": ident.name, "key": cred.id},
                    )
                )
        return drafts

    async def read(self, adapter: ToyProvider, step: PlannedStep) -> dict[str, Any]:
        """The key's status, or ``absent``."""
        try:
            keys = await adapter.keys(step.operation["agent"])
        except ObjectMissing:
            return {"status": "absent"}
        found = next((k for k in keys if k["id"] == step.operation["key"]), None)
        return {"status": found["status"] if found else "absent"}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Disabled (or gone) is done."""
        return state.get("status") in ("disabled", "absent")

    async def apply(
        self, adapter: ToyProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``PATCH … {"status": "disabled"}``."""
        await adapter.set_key(step.operation["agent"], step.operation["key"], "disabled")

    async def restore(
        self, adapter: ToyProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Set the key's status back."""
        status = snapshot.get("status")
        if status not in ("enabled", "disabled"):
            return [f"key {step.operation['key']} was {status} before; nothing to put back"]
        await adapter.set_key(step.operation["agent"], step.operation["key"], str(status))
        return []


ACTIONS: dict[str, type[ProviderAction[Any]]] = {DisableApiKeys.action: DisableApiKeys}
"""The toy provider's action implementations, by catalog name."""
