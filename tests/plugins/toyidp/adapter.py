"""The toy provider's adapter: discovery of agents and their API keys over httpx."""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from typing import Any, ClassVar

import httpx

from agent_ir.errors import ConfigError, ProviderError, ProviderUnavailable, Throttled
from agent_ir.model import Credential, Identity
from agent_ir.providers.base import Ability, CheckReport, Discovery, ProviderContext
from tests.plugins.toyidp import boundary
from tests.plugins.toyidp.plugin import ToySettings


class ToyProvider:
    """Agents of one toy tenant, each with API keys that can be disabled."""

    name: ClassVar[str] = "toy"
    abilities: ClassVar[Ability] = Ability.DISCOVER | Ability.CONTAIN | Ability.RESTORE
    read_permissions: ClassVar[tuple[str, ...]] = ("toy:agents.read",)

    def __init__(self, settings: ToySettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self.requests = 0
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, section: Any, context: ProviderContext) -> ToyProvider:
        """Build the adapter (no traffic yet)."""
        return cls(ToySettings.model_validate(section.model_dump()), context)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            try:
                key = self.settings.api_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"toy: cannot read {self.settings.api_key_file}") from exc
            verify: Any = (
                ssl.create_default_context(cafile=str(self.settings.ca_bundle))
                if self.settings.ca_bundle
                else True
            )
            self._http = httpx.AsyncClient(
                base_url=self.settings.base_url,
                verify=verify,
                timeout=self.settings.timeout_s,
                headers={"Authorization": f"Bearer {key}"},
            )
        return self._http

    async def call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """One API call with retries: a 429 waits what it asked for (capped), a 5xx or a
        lost connection backs off briefly; the last error is raised, mapped."""
        last: ProviderError | None = None
        for attempt in range(self.settings.max_attempts):
            self.requests += 1
            try:
                reply = await self._client().request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                last = boundary.transport(exc, what)
            else:
                error = boundary.status(reply, what)
                if error is None:
                    return boundary.body(reply, what)
                if not isinstance(error, Throttled | ProviderUnavailable):
                    raise error
                last = error
            if attempt + 1 < self.settings.max_attempts:
                await asyncio.sleep(self._wait(last, attempt))
        assert last is not None
        raise last

    def _wait(self, error: ProviderError, attempt: int) -> float:
        """Retry-After when the provider said, else a short exponential backoff."""
        if error.retry_after is not None:
            return min(float(error.retry_after), self.settings.max_retry_wait_s)
        return min(0.05 * 2.0**attempt, self.settings.max_retry_wait_s)

    async def discover(self) -> Discovery:
        """Every page of agents, then the keys of the agents the engine wants."""
        found = Discovery(provider="toy")
        token: str | None = None
        pages = 0
        while True:
            params = {"page_token": token} if token else {}
            page = await self.call("GET", "/v1/agents", "listing agents", params=params)
            pages += 1
            self.context.report("agents", pages)
            for agent in page["agents"]:
                found.identities.append(await self._identity(agent))
            token = page.get("next_page_token")
            if not token:
                break
        found.requests = self.requests
        return found

    async def _identity(self, agent: dict[str, Any]) -> Identity:
        tags = tuple(sorted((agent.get("tags") or {}).items()))
        bare = Identity(
            provider="toy",
            kind="toy-agent",
            id=f"toy:{self.settings.tenant}/{agent['name']}",
            name=agent["name"],
            account=self.settings.tenant,
            tags=tags,
            owner=agent.get("owner"),
            agent=dict(tags).get("agent-ir:agent"),
        )
        if not self.context.wanted(bare):
            return bare
        keys = await self.keys(agent["name"])
        creds = tuple(
            Credential(
                id=k["id"],
                kind="api-key",
                status="active" if k["status"] == "enabled" else "disabled",
                created=datetime.fromisoformat(k["created"]),
            )
            for k in keys
        )
        return Identity(
            provider=bare.provider,
            kind=bare.kind,
            id=bare.id,
            name=bare.name,
            account=bare.account,
            credentials=creds,
            tags=bare.tags,
            owner=bare.owner,
            agent=bare.agent,
        )

    async def keys(self, agent: str) -> list[dict[str, Any]]:
        """One agent's keys as the store reports them."""
        reply = await self.call("GET", f"/v1/agents/{agent}/keys", f"reading keys of {agent}")
        keys: list[dict[str, Any]] = reply["keys"]
        return keys

    async def set_key(self, agent: str, key: str, status: str) -> None:
        """Enable or disable one key."""
        what = f"setting key {key} of {agent} {status}"
        await self.call("PATCH", f"/v1/agents/{agent}/keys/{key}", what, json={"status": status})

    async def check(self, permissions: list[str]) -> CheckReport:
        """Who the responder is (the toy store has no permission model to ask)."""
        me = await self.call("GET", "/v1/whoami", "asking who we are")
        return CheckReport("toy", str(me["id"]), self.settings.tenant, self.settings.base_url)

    def plan_facts(self) -> object:
        """The toy store's actions plan from the inventory alone."""
        return None

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
