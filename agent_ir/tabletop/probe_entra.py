"""The Entra part of the probe: client-credentials token requests (MSAL, as any outside tool
would make them) with every client secret the world gave the agent's applications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import msal  # type: ignore[import-untyped]
import requests

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.probe import PathResult


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """A client secret the attacker holds."""

    app: str
    secret_name: str
    client_id: str
    value: str  # the attacker's copy; never printed


class EntraProbe:
    """Client secrets of the agent's Entra applications and blueprints."""

    def __init__(self, lab: Lab) -> None:
        settings = lab.settings.providers.entra
        if settings is None:
            raise LabError("the lab has no Entra tenant")
        self.emulator = cast(Any, lab.emulators["entra"])
        self.authority = str(settings.authority)
        self.scope = f"{settings.graph_url}/.default"
        self.ca = str(settings.ca_bundle)
        self.secrets: list[ClientSecret] = []

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Take every live client secret of the agent's applications (lab-only helper)."""
        known: dict[str, dict[str, Any]] = self.emulator.lab_secrets()
        for identity in inventory.agent(agent).identities:
            if identity.provider != "entra" or identity.name not in known:
                continue
            entry = known[identity.name]
            for name, value in entry["secrets"].items():
                self.secrets.append(ClientSecret(identity.name, name, entry["client_id"], value))

    def check(self, reached: set[str]) -> list[PathResult]:
        """A client-credentials token request for Graph with each secret."""
        return [self._try(secret) for secret in self.secrets]

    def _try(self, secret: ClientSecret) -> PathResult:
        path = f"client secret {secret.secret_name} of {secret.app} → Graph token"
        http = requests.Session()
        http.trust_env = False
        http.verify = self.ca
        try:
            app = msal.ConfidentialClientApplication(
                secret.client_id,
                client_credential=secret.value,
                authority=self.authority,
                instance_discovery=False,
                http_client=http,
            )
            answer: dict[str, Any] = app.acquire_token_for_client([self.scope]) or {}
        except (ValueError, requests.RequestException) as exc:
            return PathResult("entra", path, False, "behaviour", f"refused: {exc}")
        finally:
            http.close()
        if "access_token" in answer:
            return PathResult("entra", path, True, "behaviour", "token endpoint issued a token")
        code = answer.get("error", "?")
        description = str(answer.get("error_description", "")).split(":", 1)[0]
        return PathResult("entra", path, False, "behaviour", f"refused: {code} {description}")
