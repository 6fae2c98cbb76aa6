"""The Microsoft Entra ID emulator: Microsoft Graph (``/v1.0``, ``/beta``) and the Entra
token endpoint for one tenant, over the lab's HTTPS, seeded from the world's ``entra``
section.

What it does like Entra (where a responder's tool would notice):

* MSAL works unmodified: OpenID discovery, client credentials (secret, certificate,
  federated assertion, agent identity exchange), AADSTS error bodies; Graph accepts only
  the tokens this emulator issued and refuses expired ones (401 ``InvalidAuthenticationToken``);
  permissions come from the token's ``roles`` (403 ``Authorization_RequestDenied``), so
  tokens outlive a deleted grant as on Entra.
* ``@odata.nextLink`` paging, ``$select``/``$filter``/``$top``, Graph error bodies,
  resource-unit budgets with 429 + ``Retry-After`` + ``x-ms-throttle-*`` headers
  (:mod:`agent_ir.lab.entra_throttle`), a replication delay after writes
  (:mod:`agent_ir.lab.entra_store`), and the hazards in :mod:`agent_ir.lab.entra_graph_writes`.
* Agent identities are created from a blueprint through ``/beta``
  (:mod:`agent_ir.lab.entra_graph_agents`).

The console's responder is an app registration with a client secret (written to a 0600
file); for tests and tabletops the agents' own secrets are available in-process
(:meth:`EntraEmulator.client_secret`) and in a 0600 ``entra-lab-secrets.yaml``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from agent_ir.errors import LabError
from agent_ir.lab.activity_world import ActivitySpec
from agent_ir.lab.entra_audit import seed_history
from agent_ir.lab.entra_catalog import RESPONDER_NAME, stable_id
from agent_ir.lab.entra_graph import GraphApi
from agent_ir.lab.entra_graph_agents import AGENT_ROUTES
from agent_ir.lab.entra_graph_audit import AUDIT_ROUTES
from agent_ir.lab.entra_graph_reads import READ_ROUTES
from agent_ir.lab.entra_graph_writes import write_routes
from agent_ir.lab.entra_keys import LabCertificate, Material
from agent_ir.lab.entra_odata import graph_error
from agent_ir.lab.entra_seed import (
    responder_app_id,
    responder_password_id,
    seed_directory,
)
from agent_ir.lab.entra_store import Directory
from agent_ir.lab.entra_throttle import ENTRA_SHAPES, Budgets, read_budget
from agent_ir.lab.entra_token import TokenService
from agent_ir.lab.entra_world import EntraWorld
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.files import write_private
from agent_ir.lab.server import EmulatorServer, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import World

SECRET_FILE = "entra-client-secret"
LAB_SECRETS_FILE = "entra-lab-secrets.yaml"
_TOKEN_PATHS = {
    "v2.0/.well-known/openid-configuration": "openid",
    "discovery/v2.0/keys": "keys",
    "oauth2/v2.0/token": "token",
}


def create(world: World, tls: LabTLS, now: datetime) -> EntraEmulator:
    """The runner's factory: an Entra emulator for ``world`` (not started yet)."""
    return EntraEmulator(
        world.entra,
        tls,
        now=now,
        faults=world.faults.entra,
        activity=[(i, a) for i, a in enumerate(world.activity) if a.provider == "entra"],
        world_name=world.name,
    )


class EntraEmulator:
    """Graph and the token endpoint for one tenant; see the module docstring."""

    provider = "entra"

    def __init__(
        self,
        world: EntraWorld,
        tls: LabTLS,
        *,
        now: datetime,
        faults: FaultSpec | None = None,
        activity: Sequence[tuple[int, ActivitySpec]] = (),
        world_name: str = "",
    ) -> None:
        self.world = world
        self.now = now
        self._activity = list(activity)
        self._world_name = world_name
        self._tls = tls
        self._initial_faults = faults or FaultSpec()
        self.material = Material()
        limits = world.limits
        self.tokens = TokenService(limits.token_lifetime_s)
        self.budgets = self._world_budgets()
        self.graph = GraphApi(
            self.tokens,
            self.budgets,
            [*READ_ROUTES, *write_routes(self.material), *AGENT_ROUTES, *AUDIT_ROUTES],
        )
        self.directory = self._seed()
        self.server = EmulatorServer(
            "entra",
            self.handle,
            tls,
            shapes=ENTRA_SHAPES,
            faults=self._initial_faults,
            on_reset=self.reset,
        )

    @property
    def tenant_id(self) -> str:
        """The tenant's id."""
        return self.world.tenant_spec.id

    @property
    def responder_client_id(self) -> str:
        """The application (client) id the console signs in with."""
        return responder_app_id(self.tenant_id)

    def start(self) -> None:
        """Start serving (the directory is seeded already)."""
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def reset(self) -> None:
        """Back to the world as seeded (same ids, secrets and certificates), faults too."""
        fresh = self._seed()
        with self.directory.lock:
            self.directory = fresh
        self.budgets = self._world_budgets()
        self.graph.budgets = self.budgets
        self.server.faults.update(self._initial_faults)

    def export_state(self) -> object:
        """The directory and the secrets and certificates it refers to."""
        return {"directory": self.directory, "material": self.material}

    def import_state(self, state: Any) -> None:
        """Serve the state of :meth:`export_state` instead of the seeded world."""
        # The write routes hold this emulator's Material: refill it rather than replace it.
        vars(self.material).update(vars(state["material"]))
        with self.directory.lock:
            self.directory = state["directory"]

    def set_limits(self, read_ru_per_10s: int | None = None, enabled: bool = True) -> None:
        """Change the throttling budget while running (a reset restores the world's)."""
        budget = read_ru_per_10s or self.budgets.read_per_10s
        self.budgets = Budgets(enabled, budget, self.budgets.writes_per_150s)
        self.graph.budgets = self.budgets

    def _world_budgets(self) -> Budgets:
        limits = self.world.limits
        budget = limits.read_ru_per_10s or read_budget(len(self.world.users))
        return Budgets(limits.throttling, budget, limits.writes_per_150s)

    def _seed(self) -> Directory:
        delay = self.world.limits.replication_delay_ms / 1000
        d = seed_directory(self.world, self.now, self.material, delay, time.monotonic)
        seed_history(d, self._activity, self.now, self._world_name)
        return d

    def handle(self, request: LabRequest) -> LabResponse:
        """The emulator app: token endpoint paths, then Graph."""
        path = unquote(request.path)
        head, _, rest = path.strip("/").partition("/")
        base = self.server.base_url
        d = self.directory
        if head in ("v1.0", "beta"):
            return self.graph.handle(request, head, rest, base, d)
        kind = _TOKEN_PATHS.get(rest)
        if kind is None:
            return graph_error(404, "UnknownError", f"No endpoint at {request.path}.")
        if head.lower() not in (d.tenant_id, d.domain.lower()):
            return LabResponse.from_json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{head}' not found. Check to make "
                    "sure you have the correct tenant ID and are signing into the correct cloud.",
                    "error_codes": [90002],
                },
            )
        if kind == "openid" and request.method == "GET":
            return self.tokens.openid_configuration(base, d)
        if kind == "keys" and request.method == "GET":
            return self.tokens.keys()
        if kind == "token" and request.method == "POST":
            with d.lock:
                return self.tokens.token(request, base, d)
        return LabResponse.from_json(405, {"error": "method not allowed"})

    # -- configuration for the console ------------------------------------------------------

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's secret (and the lab's agent secrets) into 0600 files; return
        the ``providers.entra`` settings, which only name those files."""
        secret = self.material.secret(responder_password_id(self.tenant_id))
        write_private(directory / SECRET_FILE, secret + "\n")
        write_private(
            directory / LAB_SECRETS_FILE,
            "# Lab only: client secrets of the world's applications, for tabletops and tests.\n"
            + yaml.safe_dump(self.lab_secrets(), sort_keys=True),
        )
        base = self.server.base_url
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.responder_client_id,
            "authority": f"{base}/{self.tenant_id}",
            "graph_url": base,
            "client_secret_file": SECRET_FILE,
            "ca_bundle": self._tls.ca_path.name,
        }

    # -- lab-only access to the world's own credentials ----------------------------------------

    def lab_secrets(self) -> dict[str, dict[str, Any]]:
        """Each application's client id and client secrets by secret name (as seeded)."""
        out: dict[str, dict[str, Any]] = {}
        for app in self.world.applications:
            app_id = self.world.app_client_id(app)
            obj = self.directory.applications.latest(self.world.app_object_id(app)) or {}
            secrets = obj.get("_secrets", {})
            names = {p["keyId"]: p.get("displayName") for p in obj.get("passwordCredentials", [])}
            out[app.name] = {
                "client_id": app_id,
                "secrets": {str(names.get(k) or k): v for k, v in secrets.items()},
            }
        return out

    def client_secret(self, app_name: str, secret_name: str | None = None) -> str:
        """A live client secret of a world application (the first one unless named)."""
        entry = self.lab_secrets().get(app_name)
        if entry is None or not entry["secrets"]:
            raise LabError(f"the Entra lab has no client secret for {app_name!r}")
        secrets: dict[str, str] = entry["secrets"]
        if secret_name is None:
            return next(iter(secrets.values()))
        if secret_name not in secrets:
            raise LabError(f"{app_name!r} has no live client secret named {secret_name!r}")
        return secrets[secret_name]

    def certificate(self, app_name: str, cert_name: str) -> LabCertificate:
        """A world application's certificate with its private key."""
        for app in self.world.applications:
            if app.name != app_name:
                continue
            for cert in app.certificates:
                if cert.name == cert_name:
                    key_id = cert.id or stable_id(
                        self.tenant_id, f"certificate:{app.name}", cert.name
                    )
                    return self.material.certificate(key_id, f"{app.name}-{cert.name}")
        raise LabError(f"the Entra lab has no certificate {cert_name!r} on {app_name!r}")

    def client_id(self, name: str) -> str:
        """The application (client) id of a world application or agent identity."""
        if name == RESPONDER_NAME:
            return self.responder_client_id
        for app in self.world.applications:
            if app.name == name:
                return self.world.app_client_id(app)
        for agent in self.world.agent_identities:
            if agent.name == name:
                return self.world.agent_app_id(agent)
        raise LabError(f"the Entra lab has no application or agent identity {name!r}")

    def responder_secret(self) -> str:
        """The client secret of the lab's responder (what its 0600 secret file holds)."""
        return self.material.secret(responder_password_id(self.tenant_id))

    def federated_credentials(self, app_name: str) -> list[dict[str, Any]]:
        """The federated identity credentials of a world application as the directory holds
        them now (name, issuer, subject, audiences)."""
        app_id = next(
            (self.world.app_object_id(a) for a in self.world.applications if a.name == app_name),
            None,
        )
        if app_id is None:
            return []
        with self.directory.lock:
            rows = self.directory.fics.latest_values()
        return [
            {k: fic[k] for k in ("name", "issuer", "subject", "audiences")}
            for fic in rows
            if fic["_app"] == app_id
        ]

    def outside_token(self, issuer: str, subject: str, audience: str | None = None) -> str:
        """A token from an outside issuer (AWS, GCP…) to present as a federated assertion."""
        if audience is None:
            return self.tokens.outside_token(issuer, subject)
        return self.tokens.outside_token(issuer, subject, audience)
