"""The toy identity store's lab side: its world section, an emulator over the lab's HTTPS
server, and the tabletop probe that tries the agents' API keys.

The emulator's API (JSON; ``Authorization: Bearer <key>``)::

    GET   /v1/whoami                       any enabled key: who it is
    GET   /v1/agents?page_token=N          admin: one page of agents (next_page_token)
    GET   /v1/agents/{name}/keys           admin: the agent's keys (id, status, created)
    PATCH /v1/agents/{name}/keys/{key}     admin: {"status": "enabled" | "disabled"}

A missing or unknown key is a 401, an agent's key on an admin route a 403, an unknown
agent or key a 404. Faults (errors, 429 with Retry-After, resets) come from the lab server.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import Problem
from agent_ir.lab.files import write_private
from agent_ir.lab.plugin import LabPlugin
from agent_ir.lab.runner import Emulator, Lab
from agent_ir.lab.section import WorldSection
from agent_ir.lab.server import EmulatorServer, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import World
from agent_ir.tabletop.probe import PathResult, ProviderProbe
from agent_ir.yamlsrc import Located, PathKey

KEY_FILE = "toy-responder.key"


def identity_id(tenant: str, name: str) -> str:
    """The id the adapter reports for one toy agent."""
    return f"toy:{tenant}/{name}"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToyKeySpec(_Spec):
    """One API key of a toy agent."""

    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    status: Literal["enabled", "disabled"] = "enabled"
    age_days: float = Field(0, ge=0, le=20_000)


class ToyAgentSpec(_Spec):
    """One agent of the toy store."""

    name: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    owner: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    keys: list[ToyKeySpec] = Field(default_factory=list)


class ToyWorld(WorldSection):
    """The toy part of a world: a tenant, its page size and its agents."""

    tenant: str = "toy-tenant"
    page_size: int = Field(2, ge=1, le=100)
    agents: list[ToyAgentSpec] = Field(default_factory=list)

    def is_empty(self) -> bool:
        """No agents, no emulator."""
        return not self.agents

    def identity_ids(self) -> set[str]:
        """Every agent's id."""
        return {identity_id(self.tenant, a.name) for a in self.agents}

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Agents named twice, key ids used twice."""
        problems: list[Problem] = []
        names: set[str] = set()
        keys: set[str] = set()
        for index, agent in enumerate(self.agents):
            if agent.name in names:
                problems.append(doc.problem((*prefix, "agents", index, "name"), "agent twice"))
            names.add(agent.name)
            for k_index, key in enumerate(agent.keys):
                if key.id in keys:
                    where = (*prefix, "agents", index, "keys", k_index, "id")
                    problems.append(doc.problem(where, f"key {key.id!r} twice"))
                keys.add(key.id)
        return problems


@dataclass(slots=True)
class _Key:
    id: str
    status: str
    created: datetime


@dataclass(slots=True)
class _Agent:
    name: str
    owner: str | None
    tags: dict[str, str]
    keys: dict[str, _Key]


@dataclass(slots=True)
class ToyState:
    """The live store (hold ``lock`` while reading it)."""

    agents: dict[str, _Agent]
    lock: threading.Lock = field(default_factory=threading.Lock)


class ToyEmulator:
    """The toy store of one world, served over the lab's TLS."""

    provider = "toy"

    def __init__(self, world: ToyWorld, tls: LabTLS, now: datetime, faults: Any) -> None:
        self.world = world
        self.now = now
        self._faults = faults
        self.admin_key = secrets.token_urlsafe(24)
        self.secrets = {k.id: secrets.token_urlsafe(24) for a in world.agents for k in a.keys}
        """Each agent key's value, fixed for the emulator's life (reset keeps them)."""
        self.state = self._seed()
        self.server = EmulatorServer("toy", self.handle, tls, faults=faults, on_reset=self.reset)

    def _seed(self) -> ToyState:
        agents = {
            a.name: _Agent(
                a.name,
                a.owner,
                dict(a.tags),
                {k.id: _Key(k.id, k.status, self.now - timedelta(days=k.age_days)) for k in a.keys},
            )
            for a in self.world.agents
        }
        return ToyState(agents)

    def start(self) -> None:
        """Serve the seeded store."""
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def reset(self) -> None:
        """The store as seeded, the world's faults again."""
        fresh = self._seed()
        with self.state.lock:
            self.state.agents = fresh.agents
        self.server.faults.update(self._faults)

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's admin key (0600) and name it."""
        write_private(directory / KEY_FILE, self.admin_key)
        return {
            "base_url": self.server.base_url,
            "ca_bundle": "ca.pem",
            "api_key_file": KEY_FILE,
            "tenant": self.world.tenant,
        }

    def export_state(self) -> object:
        """The store and the key values it refers to."""
        return {"agents": self.state.agents, "secrets": self.secrets, "admin": self.admin_key}

    def import_state(self, state: Any) -> None:
        """Serve a store exported by another process."""
        self.secrets = state["secrets"]
        self.admin_key = state["admin"]
        with self.state.lock:
            self.state.agents = state["agents"]

    def handle(self, request: LabRequest) -> LabResponse:
        """Authenticate, then route."""
        who = self._caller(request)
        if who is None:
            return _error(401, "invalid or disabled API key")
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        with self.state.lock:
            if parts == ["v1", "whoami"] and request.method == "GET":
                return LabResponse.from_json(200, {"id": who})
            if who != "admin":
                return _error(403, "this key may only call /v1/whoami")
            return self._admin(request, parts)

    def _caller(self, request: LabRequest) -> str | None:
        """``admin``, an agent's identity id, or None for no usable key."""
        header = request.header("Authorization") or ""
        token = header.removeprefix("Bearer ").strip()
        if not token:
            return None
        if secrets.compare_digest(token, self.admin_key):
            return "admin"
        with self.state.lock:
            for agent in self.state.agents.values():
                for key in agent.keys.values():
                    value = self.secrets.get(key.id, "")
                    if secrets.compare_digest(token, value) and key.status == "enabled":
                        return identity_id(self.world.tenant, agent.name)
        return None

    def _admin(self, request: LabRequest, parts: list[str]) -> LabResponse:
        if parts == ["v1", "agents"] and request.method == "GET":
            return self._page(request)
        if len(parts) == 4 and parts[:2] == ["v1", "agents"] and parts[3] == "keys":
            agent = self.state.agents.get(parts[2])
            if agent is None:
                return _error(404, f"no agent {parts[2]}")
            return LabResponse.from_json(200, {"keys": [_key_json(k) for k in agent.keys.values()]})
        if len(parts) == 5 and parts[:2] == ["v1", "agents"] and request.method == "PATCH":
            return self._patch_key(request, parts[2], parts[4])
        return _error(404, f"no route {request.method} {request.path}")

    def _page(self, request: LabRequest) -> LabResponse:
        token = request.query_params.get("page_token", ["0"])[0]
        start = int(token) if token.isdigit() else 0
        names = sorted(self.state.agents)
        chunk = names[start : start + self.world.page_size]
        body: dict[str, Any] = {
            "agents": [
                {
                    "name": n,
                    "owner": self.state.agents[n].owner,
                    "tags": self.state.agents[n].tags,
                }
                for n in chunk
            ]
        }
        if start + self.world.page_size < len(names):
            body["next_page_token"] = str(start + self.world.page_size)
        return LabResponse.from_json(200, body)

    def _patch_key(self, request: LabRequest, name: str, key_id: str) -> LabResponse:
        agent = self.state.agents.get(name)
        key = agent.keys.get(key_id) if agent is not None else None
        if key is None:
            return _error(404, f"no key {key_id} of {name}")
        try:
            status = json.loads(request.body or b"{}").get("status")
        except (ValueError, AttributeError):
            status = None
        if status not in ("enabled", "disabled"):
            return _error(400, "status must be enabled or disabled")
        key.status = status
        return LabResponse.from_json(200, _key_json(key))


def _key_json(key: _Key) -> dict[str, Any]:
    return {"id": key.id, "status": key.status, "created": key.created.isoformat()}


def _error(status: int, message: str) -> LabResponse:
    return LabResponse.from_json(status, {"error": message})


class ToyProbe:
    """The API keys the world gave the agent's toy identities, tried on ``/v1/whoami``."""

    def __init__(self, lab: Lab) -> None:
        emulator = lab.emulators["toy"]
        assert isinstance(emulator, ToyEmulator)
        self.emulator = emulator
        self.ca = ssl.create_default_context(cafile=str(lab.ca_path))
        self.keys: list[tuple[str, str]] = []

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Take the value of every key of the agent's toy identities."""
        tenant = self.emulator.world.tenant
        for spec in self.emulator.world.agents:
            ident = identity_id(tenant, spec.name)
            if any(i.id == ident for i in inventory.agent(agent).identities):
                self.keys.extend((k.id, self.emulator.secrets[k.id]) for k in spec.keys)

    def check(self, reached: set[str]) -> list[PathResult]:
        """Does each key still authenticate?"""
        results = []
        with httpx.Client(base_url=self.emulator.server.base_url, verify=self.ca) as http:
            for key_id, value in self.keys:
                reply = http.get("/v1/whoami", headers={"Authorization": f"Bearer {value}"})
                works = reply.status_code == 200
                detail = "authenticates" if works else f"refused ({reply.status_code})"
                results.append(PathResult("toy", f"API key {key_id}", works, "behaviour", detail))
        return results


def _emulator(world: World, tls: LabTLS, now: datetime) -> Emulator | None:
    section = world.section("toy")
    assert isinstance(section, ToyWorld)
    return ToyEmulator(section, tls, now, world.faults.of("toy"))


def _probe(lab: Lab, workdir: Path) -> ProviderProbe:
    return ToyProbe(lab)


LAB = LabPlugin("toy", ToyWorld, _emulator, probe=_probe)
"""The toy provider's lab plugin (entry point ``agent_ir.lab: toy``)."""
