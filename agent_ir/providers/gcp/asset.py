"""Agent-scoped impersonation edges by Cloud Asset Inventory's ``searchAllIamPolicies``.

Who may act as a service account is written only in that account's own policy, so an
estate read asks every account for its policy. An agent-scoped read asks Cloud Asset
instead which service-account policies name the agent's accounts
(``policy:"serviceAccount:EMAIL"``, over ``asset_scope`` or each configured project), then
which name the accounts those can act as, breadth first; it reads only the matched
accounts' policies (and the agent's own) live, since the asset index trails writes.

Federated principals (an AWS role mapped through a workload identity pool) stand for
identities of other providers, which this adapter cannot tell apart from the agent's: one
``memberTypes:`` search finds every federated binding, from which the edges are drawn
(each result holds whole bindings, which is all a plan step on one member needs).

When Cloud Asset refuses (403: no ``cloudasset.assets.searchAllIamPolicies``, or the API
not enabled; 404), every account's policy is read as before, and the note says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from agent_ir.errors import ObjectMissing, PermissionDenied
from agent_ir.providers.gcp import translate
from agent_ir.providers.gcp.client import GcpClient
from agent_ir.providers.gcp.config import GcpSettings

ACCOUNT_TYPE = "iam.googleapis.com/ServiceAccount"
FEDERATED_QUERY = "memberTypes:(principalSet OR principal)"
MAX_HOPS = 8
"""Impersonation hops followed (a longer chain is cut here and named in the note)."""
MEMBERS_PER_QUERY = 20
PAGE_SIZE = 500

PolicyReader = Callable[[str], Awaitable[dict[str, Any]]]


class AssetRefused(Exception):
    """Cloud Asset would not answer; why, in the provider's words (for the note)."""


@dataclass(slots=True)
class ScopedPolicies:
    """What the asset search found for one agent-scoped read."""

    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Policies read live, by account email: those naming the agent's accounts (or the
    accounts they reach) and the focused accounts' own."""
    federated: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Federated bindings of the other accounts, as the asset index returned them."""
    searches: int = 0
    hops: int = 0
    scopes: tuple[str, ...] = ()

    def note(self) -> str:
        """How the scope of the policy reads was found, for the plan."""
        return (
            f"gcp: impersonation found by Cloud Asset searchAllIamPolicies over "
            f"{', '.join(self.scopes)} ({self.searches} searches, {self.hops} hops); "
            f"{len(self.live)} service-account policies read live, federated bindings of "
            f"{len(self.federated)} more from the asset index"
        )


class AssetSearch:
    """One agent-scoped search: see the module docstring."""

    def __init__(
        self,
        client: GcpClient,
        settings: GcpSettings,
        accounts: dict[str, dict[str, Any]],
        projects: dict[str, dict[str, Any]],
    ) -> None:
        self.client = client
        self.settings = settings
        self.accounts = accounts
        self.projects = projects
        self.by_unique_id = {str(a.get("uniqueId", "")): e for e, a in accounts.items()}
        self.scopes = (
            (settings.asset_scope,)
            if settings.asset_scope
            else tuple(f"projects/{p}" for p in settings.projects)
        )
        self.searches = 0

    async def run(self, focused: Iterable[str], read: PolicyReader) -> ScopedPolicies:
        """The policies naming ``focused`` accounts and what they reach, read live.

        Raises :class:`AssetRefused` when Cloud Asset refuses the first search."""
        own = sorted(set(focused))
        (matched, hops), federated = await asyncio.gather(
            self._closure(own), self._search(FEDERATED_QUERY)
        )
        wanted = sorted(set(matched) | set(own))
        found = await asyncio.gather(*(self._read(read, email) for email in wanted))
        live = dict(zip(wanted, found, strict=True))
        return ScopedPolicies(
            live=live,
            federated={e: p for e, p in federated.items() if e not in live},
            searches=self.searches,
            hops=hops,
            scopes=self.scopes,
        )

    async def _closure(self, own: list[str]) -> tuple[dict[str, dict[str, Any]], int]:
        """Policies naming the agent's accounts, then those naming what they can act as."""
        matched: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        frontier = set(own)
        hops = 0
        while frontier - seen and hops < MAX_HOPS:
            new = sorted(frontier - seen)
            seen.update(new)
            hops += 1
            members = [f"serviceAccount:{e}" for e in new]
            found = await self._members(members)
            matched.update(found)
            frontier = self._acting_targets(found, set(members))
        return matched, hops

    def _acting_targets(self, found: dict[str, dict[str, Any]], members: set[str]) -> set[str]:
        """Accounts the searched members can act as: by the matched accounts' own bindings
        and by acting roles they hold on a whole project (every account there)."""
        targets = {
            email
            for email, policy in found.items()
            if any(
                b.get("role") in translate.ACTING_ROLES and members & set(b.get("members", []))
                for b in policy.get("bindings", [])
            )
        }
        for project, policy in self.projects.items():
            if any(
                b.get("role") in translate.PROJECT_WIDE_ACTING
                and members & set(b.get("members", []))
                for b in policy.get("bindings", [])
            ):
                targets.update(e for e, a in self.accounts.items() if a.get("projectId") == project)
        return targets

    async def _members(self, members: list[str]) -> dict[str, dict[str, Any]]:
        chunks = [
            members[i : i + MEMBERS_PER_QUERY] for i in range(0, len(members), MEMBERS_PER_QUERY)
        ]
        queries = ["policy:(" + " OR ".join(f'"{m}"' for m in chunk) + ")" for chunk in chunks]
        out: dict[str, dict[str, Any]] = {}
        for found in await asyncio.gather(*(self._search(q) for q in queries)):
            out.update(found)
        return out

    async def _search(self, query: str) -> dict[str, dict[str, Any]]:
        """Service-account policies the query matches in every scope, by account email."""
        found = await asyncio.gather(*(self._search_one(s, query) for s in self.scopes))
        out: dict[str, dict[str, Any]] = {}
        for results in found:
            for result in results:
                email = self._email(str(result.get("resource", "")))
                policy = result.get("policy")
                if email is not None and isinstance(policy, dict):
                    out[email] = policy
        return out

    async def _search_one(self, scope: str, query: str) -> list[dict[str, Any]]:
        base = self.settings.asset_url.rstrip("/")
        self.searches += 1
        try:
            return await self.client.pages(
                f"{base}/v1/{scope}:searchAllIamPolicies",
                "results",
                f"searching policies in {scope}",
                {"query": query, "assetTypes": ACCOUNT_TYPE, "pageSize": PAGE_SIZE},
            )
        except (PermissionDenied, ObjectMissing) as exc:
            raise AssetRefused(exc.message) from exc

    def _email(self, resource: str) -> str | None:
        """The known account a result's resource names (by unique id or email)."""
        _, sep, ref = resource.rpartition("/serviceAccounts/")
        if not sep:
            return None
        email = ref if "@" in ref else self.by_unique_id.get(ref)
        return email if email in self.accounts else None

    @staticmethod
    async def _read(read: PolicyReader, email: str) -> dict[str, Any]:
        try:
            return await read(f"serviceAccounts/{email}")
        except ObjectMissing:
            return {}
