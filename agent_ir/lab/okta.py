"""The Okta emulator: the management API and the org authorization server's token
endpoint for one world's ``okta`` section, over the lab's HTTPS server.

Official clients work against it unmodified: the okta SDK (private-key JWT, DPoP, SSWS),
plain HTTP. What it serves and how it behaves:

* users, apps, app credentials and client roles, user grants and tokens, API tokens,
  AI agents and the org: see :mod:`agent_ir.lab.okta_api_users`,
  :mod:`~agent_ir.lab.okta_api_apps`, :mod:`~agent_ir.lab.okta_api_create` (new OAuth
  apps), :mod:`~agent_ir.lab.okta_api_credentials`,
  :mod:`~agent_ir.lab.okta_api_org`;
* who may call, and ``POST /oauth2/v1/token``: :mod:`agent_ir.lab.okta_auth`;
* paging, error bodies, rate limits and fault shapes: :mod:`agent_ir.lab.okta_http`.

The console's responder is a service app (``agent-ir-responder``) that signs in with a
private-key JWT; :meth:`OktaEmulator.provider_settings` writes its key (mode 0600) into
the lab directory and names it in the ``providers.okta`` settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_ir.errors import LabError
from agent_ir.lab import (
    okta_api_apps,
    okta_api_create,
    okta_api_credentials,
    okta_api_org,
    okta_api_users,
)
from agent_ir.lab.activity_world import ActivitySpec
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.files import write_private
from agent_ir.lab.okta_auth import TokenEndpoint, authenticate
from agent_ir.lab.okta_http import RateLimiter, fault_shapes, too_many
from agent_ir.lab.okta_keys import KeyStore
from agent_ir.lab.okta_org import ApiToken, OrgState
from agent_ir.lab.okta_routes import Call, Route, dispatch
from agent_ir.lab.okta_seed import (
    RESPONDER_ID,
    RESPONDER_KEY,
    RESPONDER_SCOPES,
    key_name,
    responder_kid,
    seed,
)
from agent_ir.lab.okta_state import new_id
from agent_ir.lab.okta_syslog import management_call, seed_history
from agent_ir.lab.okta_world import OktaWorld
from agent_ir.lab.server import EmulatorServer, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import World

KEY_FILE = "okta-responder.pem"

ROUTES: list[Route] = [
    *okta_api_users.ROUTES,
    *okta_api_apps.ROUTES,
    *okta_api_create.ROUTES,
    *okta_api_credentials.ROUTES,
    *okta_api_org.ROUTES,
]


class OktaEmulator:
    """The Okta org of one world, served over the lab's TLS (see the module docstring)."""

    provider = "okta"

    def __init__(
        self,
        world: OktaWorld,
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
        self.keys = KeyStore()
        self.limiter = RateLimiter(world.rate_limit)
        self._initial_faults = faults or FaultSpec()
        self._tls = tls
        self._token = TokenEndpoint()
        self._state: OrgState | None = None
        self.server = EmulatorServer(
            "okta",
            self.handle,
            tls,
            shapes=fault_shapes(self.limiter),
            faults=self._initial_faults,
            on_reset=self.reset,
        )

    @property
    def state(self) -> OrgState:
        """The live org (hold ``state.lock`` while reading it from a test)."""
        if self._state is None:
            raise LabError("the Okta emulator is not running")
        return self._state

    def start(self) -> None:
        """Seed the org and start serving."""
        self._state = self._seeded()
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()
        self._state = None

    def reset(self) -> None:
        """Back to the world as seeded (same keys, secrets and token values), limits and
        faults included."""
        fresh = self._seeded()
        if self._state is not None:
            with self._state.lock:
                self._state = fresh
        else:
            self._state = fresh
        self.limiter.reset(self.world.rate_limit)
        self.server.faults.update(self._initial_faults)

    def _seeded(self) -> OrgState:
        """A fresh org from the world, with its seeded System Log history."""
        state = seed(self.world, self.now, self.keys)
        seed_history(state, self._activity, self.now, self._world_name)
        return state

    def export_state(self) -> object:
        """The org and the keys and secret values it refers to."""
        return {"org": self.state, "keys": self.keys}

    def import_state(self, state: Any) -> None:
        """Serve the state of :meth:`export_state` instead of the seeded world."""
        self.keys.adopt(state["keys"])
        with self.state.lock:
            self._state = state["org"]

    def handle(self, request: LabRequest) -> LabResponse:
        """The emulator app: rate limit, authenticate, route."""
        verdict = self.limiter.check(request)
        if verdict.throttled:
            return too_many(verdict.headers)
        response = self._answer(request)
        response.headers.extend(verdict.headers)
        return response

    def _answer(self, request: LabRequest) -> LabResponse:
        now = datetime.now(UTC)
        base = self.server.base_url
        state = self.state
        with state.lock:
            if request.path.rstrip("/") == "/oauth2/v1/token":
                return self._token(request, state, now, base)
            caller = authenticate(request, state, now, base + request.path)
            if isinstance(caller, LabResponse):
                return caller
            response = dispatch(ROUTES, Call(request, state, now, base, caller))
            management_call(state, request, now, caller, response.status, RESPONDER_ID)
            return response

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's private key (0600) and return ``providers.okta``."""
        write_private(directory / KEY_FILE, self.keys.private_pem(RESPONDER_KEY))
        return {
            "org_url": self.server.base_url,
            "client_id": RESPONDER_ID,
            "private_key_file": KEY_FILE,
            "key_id": responder_kid(),
            "scopes": list(RESPONDER_SCOPES),
            "ca_bundle": self._tls.ca_path.name,
        }

    # -- what tests and tabletop exercises need to act as the agents themselves ---------

    def private_key_pem(self, app_label: str, index: int = 0) -> str:
        """The private key of one of an app's JWKS keys (the agent's own credential)."""
        return self.keys.private_pem(key_name(f"app:{app_label}", index))

    def key_id(self, app_label: str, index: int = 0) -> str:
        """The ``kid`` of that key."""
        with self.state.lock:
            app = next(a for a in self.state.apps.values() if a.label == app_label)
            return app.jwks[index].kid

    def client_secret(self, app_label: str, index: int = 0) -> str:
        """The value of one of an app's seeded client secrets."""
        return self.keys.secret(f"secret/{app_label}/{index}")

    def api_token_value(self, name: str) -> str:
        """The value of a seeded API token (what its holder sends after ``SSWS``)."""
        return self.keys.secret(f"api-token/{name}", "00")

    def mint_api_token(self, login: str, name: str) -> tuple[str, str]:
        """Create an API token for a user, as an admin would in the Admin Console;
        returns ``(id, value)``."""
        with self.state.lock:
            user = self.state.user(login)
            if user is None:
                raise LabError(f"no Okta user {login!r}")
            now = datetime.now(UTC)
            token = ApiToken(
                id=new_id("00T"),
                name=name,
                user_id=user.id,
                value=self.keys.secret(f"minted/{name}/{now.timestamp()}", "00"),
                created=now,
                last_used=now,
                token_window=timedelta(days=30),
                window_text="P30D",
                network="ANYWHERE",
            )
            self.state.api_tokens[token.id] = token
            return token.id, token.value


def create(world: World, tls: LabTLS, now: datetime) -> OktaEmulator:
    """The runner's factory: an Okta emulator for the world's ``okta`` section."""
    return OktaEmulator(
        world.okta,
        tls,
        now=now,
        faults=world.faults.okta,
        activity=[(i, a) for i, a in enumerate(world.activity) if a.provider == "okta"],
        world_name=world.name,
    )
