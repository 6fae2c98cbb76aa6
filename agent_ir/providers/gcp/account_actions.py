"""Google Cloud implementations of the catalog actions on accounts and keys: disable a
service account (``disable-identity``) and disable its user-managed keys
(``disable-credentials``)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, ProviderAction, Reversibility
from agent_ir.actions.catalog import (
    DisableCredentialsParams,
)
from agent_ir.model import Identity, ProviderName
from agent_ir.providers.gcp import translate
from agent_ir.providers.gcp.adapter import GcpProvider


def accounts_of(targets: list[Identity]) -> list[Identity]:
    """The service accounts among a step's targets."""
    return [i for i in targets if i.provider == "gcp" and i.kind == translate.KIND]


class Gcp(ProviderAction[GcpProvider]):
    """Base of the GCP action implementations."""

    provider: ClassVar[ProviderName] = "gcp"


class DisableServiceAccount(Gcp):
    """Disable each of the agent's service accounts (``:disable``): its keys stop signing
    in and its live tokens are refused at once.

    ```yaml
    - id: disable
      action: disable-identity
      providers: [gcp]
    ```
    """

    action = "disable-identity"
    permissions = ("iam.serviceAccounts.get", "iam.serviceAccounts.disable")
    restore_permissions = ("iam.serviceAccounts.enable",)
    reversible = Reversibility.SIDE_EFFECTS
    hazards = (
        "workloads running as the account fail at once; re-enabling it makes its unexpired "
        "tokens valid again, an attacker's included",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per target service account."""
        return [
            Draft(
                target=ident.id,
                target_label=f"service account {ident.id}",
                identity=ident.id,
                current={"exists": True, "disabled": ident.status == "disabled"},
                predicted={"exists": True, "disabled": True},
                operation={"email": ident.id},
            )
            for ident in accounts_of(ctx.targets)
        ]

    async def read(self, adapter: GcpProvider, step: PlannedStep) -> dict[str, Any]:
        """Whether the account exists and is disabled."""
        account = await adapter.get_account(step.operation["email"])
        if account is None:
            return {"exists": False, "disabled": None}
        return {"exists": True, "disabled": bool(account.get("disabled"))}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Disabled (or gone) is done."""
        return state.get("disabled") is True or state.get("exists") is False

    async def apply(
        self, adapter: GcpProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``POST …/serviceAccounts/EMAIL:disable``."""
        await adapter.set_account_disabled(step.operation["email"], True)

    async def restore(
        self, adapter: GcpProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Re-enable it if it was enabled, and warn about the tokens that come back."""
        email = step.operation["email"]
        if not snapshot.get("exists") or snapshot.get("disabled"):
            return [f"{email} was not enabled before; left as it is"]
        await adapter.set_account_disabled(email, False)
        return [
            f"re-enabling {email} makes every unexpired access token issued to it before the "
            "disable valid again (an attacker's too, for up to an hour after issue)",
            f"if {email} or its keys may be compromised, rotate its keys: give its workloads "
            "a new key, then disable the old ones (disable-credentials, as in the "
            "rotate-credentials playbook)",
        ]


class DisableKeys(Gcp):
    """Disable the agent's active user-managed service account keys (``keys/K:disable``).

    ```yaml
    - id: cut-keys
      action: disable-credentials
      providers: [gcp]
      with: {older_than_days: 90}
    ```
    """

    action = "disable-credentials"
    permissions = ("iam.serviceAccountKeys.get", "iam.serviceAccountKeys.disable")
    restore_permissions = ("iam.serviceAccountKeys.enable",)
    reversible = Reversibility.YES
    hazards = (
        "access tokens already minted with the key stay valid until they expire (up to an "
        "hour); disable the identity too to refuse them",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per active user-managed key (older than the limit, if one is given)."""
        params = cast(DisableCredentialsParams, ctx.params)
        drafts = []
        for ident in accounts_of(ctx.targets):
            for cred in ident.credentials:
                if cred.kind != "user-managed-key" or cred.status != "active":
                    continue
                limit = params.older_than_days
                if limit is not None and cred.created and (ctx.now - cred.created).days < limit:
                    continue
                drafts.append(
                    Draft(
                        target=f"{ident.id}/keys/{cred.id}",
                        target_label=f"key {cred.id[:12]}… of {ident.id}",
                        identity=ident.id,
                        current={"exists": True, "disabled": False},
                        predicted={"exists": True, "disabled": True},
                        operation={"email": ident.id, "key": cred.id},
                    )
                )
        return drafts

    async def read(self, adapter: GcpProvider, step: PlannedStep) -> dict[str, Any]:
        """Whether the key exists and is disabled."""
        key = await adapter.get_key(step.operation["email"], step.operation["key"])
        if key is None:
            return {"exists": False, "disabled": None}
        return {"exists": True, "disabled": bool(key.get("disabled"))}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Disabled (or deleted) is done."""
        return state.get("disabled") is True or state.get("exists") is False

    async def apply(
        self, adapter: GcpProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``POST …/keys/K:disable``."""
        await adapter.set_key_disabled(step.operation["email"], step.operation["key"], True)

    async def restore(
        self, adapter: GcpProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Enable the key again if it was enabled."""
        op = step.operation
        if not snapshot.get("exists") or snapshot.get("disabled"):
            return [f"key {op['key']} was not enabled before; left as it is"]
        await adapter.set_key_disabled(op["email"], op["key"], False)
        return []
