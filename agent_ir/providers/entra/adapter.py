"""The Microsoft Entra ID adapter: MSAL for tokens, Microsoft Graph over httpx.

Discovery reads, concurrently (each collection paged through ``@odata.nextLink``, which
Graph serves one page after another):

* ``/servicePrincipals`` (with owners), ``/beta/servicePrincipals/microsoft.graph.agentIdentity``
  (blueprint of each agent identity), ``/applications`` (secrets, certificates, owners),
  ``/beta/applications/microsoft.graph.agentIdentityBlueprint``;
* ``/oauth2PermissionGrants``, ``/roleManagement/directory/roleAssignments`` and
  ``roleDefinitions``, ``/beta/reports/appCredentialSignInActivities`` (when allowed);
* then ``…/appRoleAssignedTo`` of every service principal that offers app roles, and, for
  the identities the engine wants in detail, their application's federated identity
  credentials and an agent identity's sponsors; users named by consents are resolved with
  ``/directoryObjects/getByIds``.

An agent-scoped read lists none of these whole: it asks by ``$filter`` for what one
agent's closure needs (:meth:`EntraProvider._scoped_lists`).

The tag convention (``agent-ir:agent=<name>``, ``agent-ir:owner=<upn>`` as service
principal tags), the credential kinds, the risk table and the edges are documented in
:mod:`agent_ir.providers.entra.translate`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.errors import PermissionDenied, ProviderError
from agent_ir.model import Edge, Identity, ProviderName
from agent_ir.providers.base import (
    Ability,
    CheckReport,
    Discovery,
    PermissionCheck,
    ProviderContext,
)
from agent_ir.providers.entra import translate
from agent_ir.providers.entra.auth import TokenSource
from agent_ir.providers.entra.config import EntraSettings
from agent_ir.providers.entra.graph_client import GraphClient
from agent_ir.providers.entra.snapshot import GRAPH_APP_ID, Snapshot, parse_time

if TYPE_CHECKING:
    pass

T = TypeVar("T")
log = logging.getLogger(__name__)

READ_PERMISSIONS = (
    "Application.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
    "RoleManagement.Read.Directory",
)
IMPLIED = {
    "Application.ReadWrite.All": {"Application.Read.All"},
    "Directory.ReadWrite.All": {"Directory.Read.All"},
    "RoleManagement.ReadWrite.Directory": {"RoleManagement.Read.Directory"},
    "User.ReadWrite.All": {"User.Read.All", "User.RevokeSessions.All"},
}
"""Graph application permissions that include others."""

SP_FIELDS = (
    "id,appId,displayName,servicePrincipalType,accountEnabled,tags,appRoles,"
    "appOwnerOrganizationId,passwordCredentials,keyCredentials"
)
AGENT_FIELDS = "id,appId,agentIdentityBlueprintId,accountEnabled"
APP_FIELDS = "id,appId,displayName,passwordCredentials,keyCredentials"
SP_PARAMS = {"$select": SP_FIELDS, "$expand": "owners"}
APP_PARAMS = {"$select": APP_FIELDS, "$expand": "owners"}
AGENTS = "servicePrincipals/microsoft.graph.agentIdentity"
BLUEPRINTS = "applications/microsoft.graph.agentIdentityBlueprint"
PAGE = 999
FIC_TERMS = 15
"""Subject comparisons per advanced query (Graph refuses long ``or`` chains)."""


class EntraProvider:
    """Reads one Entra tenant through Graph; contains and restores through its actions."""

    name: ClassVar[ProviderName] = "entra"
    read_permissions: ClassVar[tuple[str, ...]] = READ_PERMISSIONS
    abilities: ClassVar[Ability] = (
        Ability.DISCOVER
        | Ability.CHECK_PERMISSIONS
        | Ability.READ_PERMISSIONS
        | Ability.CONTAIN
        | Ability.RESTORE
        | Ability.READ_ACTIVITY
    )

    def __init__(self, settings: EntraSettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self.tokens = TokenSource(settings)
        self.graph = GraphClient(settings, self.tokens)
        self.snapshot = Snapshot(settings.tenant_id, "")
        self.responder_id: str | None = None
        self._foreign: dict[str, list[dict[str, Any]]] = {}
        """Federated credentials found by :meth:`federated_into`, by application object id,
        kept for the later rounds of the same agent-scoped read."""
        self._foreign_for: str | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: Discovery | None = None
        """The last agent-scoped discovery: principals :meth:`federated_into` finds that it
        did not list are added to it, so that the engine reaches them."""

    @classmethod
    def from_settings(cls, section: EntraSettings, context: ProviderContext) -> EntraProvider:
        """Build the adapter; no call is made until it is used."""
        return cls(section, context)

    @property
    def endpoint(self) -> str:
        """The Graph root in use."""
        return self.settings.graph_base

    def lock(self, key: str) -> asyncio.Lock:
        """A lock for read-modify-write sequences on one Graph object."""
        return self._locks.setdefault(key, asyncio.Lock())

    # -- discovery -----------------------------------------------------------------------

    async def discover(self) -> Discovery:
        """Identities with credentials, grants and delegation edges of the tenant."""
        now = self.context.clock()
        snap = Snapshot(self.settings.tenant_id, "")
        self.context.report("entra: directory", 0, None)
        lists, sign_ins, org = await asyncio.gather(
            self._scoped_lists() if self.context.scoped() else self._tenant_lists(),
            self._sign_ins(),
            self.graph.get("organization", "reading the tenant"),
        )
        sps, agents, apps, blueprints, consents, roles, definitions = lists
        snap.domain = _default_domain(org) or self.settings.tenant_id
        snap.service_principals = {s["id"]: s for s in sps}
        snap.agents = {a["id"]: a for a in agents}
        snap.applications = {a["appId"]: a for a in apps}
        snap.blueprint_app_ids = {b["appId"] for b in blueprints}
        snap.grants = {g["id"]: g for g in consents}
        snap.role_assignments = {r["id"]: r for r in roles}
        snap.role_names = {d["id"]: d.get("displayName", d["id"]) for d in definitions}
        snap.sign_ins = sign_ins
        responder = snap.sp_by_app_id(self.settings.client_id)
        self.responder_id = str(responder["id"]) if responder else None
        candidates = [s for s in sps if not snap.is_first_party(s)]
        bare = {
            str(s["id"]): translate.identity(snap, s, now, with_credentials=False)
            for s in candidates
        }
        wanted = [s for s in candidates if self.context.wanted(bare[str(s["id"])])]
        federated = self._fic_owners(snap, candidates, bare)
        self.context.report("entra: grants and credentials", 0, len(wanted))
        assigned, fics, sponsors, _ = await asyncio.gather(
            self._assignments(sps, candidates, bare),
            _gather([self._fics(snap, s) for s in federated]),
            _gather([self._sponsors(s["id"]) for s in wanted if s["id"] in snap.agents]),
            self._users(snap, consents),
        )
        snap.assignments = {a["id"]: a for batch in assigned for a in batch}
        if self.context.scoped():
            await self._resources(snap, snap.assignments.values())
        snap.fics = {app_id: items for app_id, items in fics if app_id}
        snap.sponsors = dict(sponsors)
        self.snapshot = snap
        detailed = {s["id"] for s in wanted}
        identities = [
            translate.identity(snap, s, now, with_credentials=s["id"] in detailed)
            for s in candidates
        ]
        ids = {i.id for i in identities}
        result = Discovery(provider="entra", identities=identities)
        self._last = result if self.context.scoped() else None
        result.grants = translate.grants(snap, ids)
        result.edges = translate.edges(snap, ids)
        result.requests = self.graph.requests + self.tokens.requests
        if self.responder_id:
            result.responder_ids = {self.responder_id}
        self.context.report("entra: grants and credentials", len(wanted), len(wanted))
        return result

    async def _tenant_lists(self) -> list[list[dict[str, Any]]]:
        """The estate read: every principal, application, consent and role of the tenant."""
        return await _gather(
            [
                self._all("servicePrincipals", {"$select": SP_FIELDS, "$expand": "owners"}),
                self._all(
                    "servicePrincipals/microsoft.graph.agentIdentity",
                    {"$select": AGENT_FIELDS},
                    "beta",
                    top=100,
                ),
                self._all("applications", {"$select": APP_FIELDS, "$expand": "owners"}),
                self._all(
                    "applications/microsoft.graph.agentIdentityBlueprint",
                    {"$select": "id,appId"},
                    "beta",
                ),
                self._all("oauth2PermissionGrants", {}),
                self._all("roleManagement/directory/roleAssignments", {}),
                self._all(
                    "roleManagement/directory/roleDefinitions", {"$select": "id,displayName"}
                ),
            ]
        )

    async def _scoped_lists(self) -> list[list[dict[str, Any]]]:
        """The same seven lists for one agent, by filters instead of whole listings (the
        agent-identity listing alone is served 100 a page, a hundred pages at 10,000
        agents): the principals named like the agent (``startswith(displayName,…)``),
        tagged with it (``tags/any``), the ids the focus holds and the responder's own;
        then, for each principal found, its agent-identity record, application, blueprint
        status, consents (``clientId eq``) and directory roles (``principalId eq``); the
        agent identities of every blueprint found (``agentIdentityBlueprintId eq``: whether
        a blueprint serves only this agent decides how it is cut) with the principals of
        those the first round's blueprints made (they inherit their agent tag), the
        blueprint principals of agent identities found, what each principal found owns
        (``…/ownedObjects``: it can add credentials to those, so the agent reaches them),
        and the principals the consents are on (for their names and scopes)."""
        name = self.context.focus_agent() or ""
        tag = f"{translate.AGENT_TAG}={name}"
        definitions = asyncio.ensure_future(
            self._all("roleManagement/directory/roleDefinitions", {"$select": "id,displayName"})
        )
        seeds = await _gather(
            [
                self._sps({"$filter": f"startswith(displayName,{_literal(name)})"}),
                self._sps({"$filter": f"tags/any(t:t eq {_literal(tag)})"}),
                self._any_of("servicePrincipals", "id", self.context.focus_id_set(), SP_PARAMS),
                self._any_of("servicePrincipals", "appId", [self.settings.client_id], SP_PARAMS),
            ]
        )
        found = _Found()
        frontier = found.add_sps(s for batch in seeds for s in batch)
        children_of = True
        while frontier:
            frontier = await self._expand(found, frontier, children=children_of)
            children_of = False
        missing = {str(c["resourceId"]) for c in found.consents.values() if c.get("resourceId")}
        found.add_sps(
            await self._any_of("servicePrincipals", "id", missing - set(found.sps), SP_PARAMS)
        )
        return [
            list(found.sps.values()),
            list(found.agents.values()),
            list(found.apps.values()),
            list(found.blueprints.values()),
            list(found.consents.values()),
            list(found.roles.values()),
            await definitions,
        ]

    async def _principal_lists(
        self, ids: Iterable[str], app_ids: Iterable[str], *, apps_of: Iterable[str] | None = None
    ) -> list[list[dict[str, Any]]]:
        """By filter, for the principals ``ids`` (applications ``app_ids``): their
        agent-identity records, applications (of ``apps_of`` when given: those not yet in
        hand), blueprint records, consents and directory roles, in that order."""
        ids, app_ids = list(ids), list(app_ids)
        return await _gather(
            [
                self._any_of(AGENTS, "id", ids, {"$select": AGENT_FIELDS}, "beta", 100),
                self._any_of(
                    "applications", "appId", app_ids if apps_of is None else apps_of, APP_PARAMS
                ),
                self._any_of(BLUEPRINTS, "appId", app_ids, {"$select": "id,appId"}, "beta"),
                self._any_of("oauth2PermissionGrants", "clientId", ids, {}),
                self._any_of("roleManagement/directory/roleAssignments", "principalId", ids, {}),
            ]
        )

    async def _expand(
        self, found: _Found, frontier: list[dict[str, Any]], *, children: bool
    ) -> list[dict[str, Any]]:
        """Read what the snapshot needs about ``frontier`` (see :meth:`_scoped_lists`);
        the principals it leads to that were not read yet, to read next."""
        ids = [str(s["id"]) for s in frontier]
        app_ids = [str(s["appId"]) for s in frontier if s.get("appId")]
        owned, (agents, apps, blueprints, consents, roles) = await asyncio.gather(
            self._owned(ids), self._principal_lists(ids, app_ids)
        )
        found.agents.update({str(a["id"]): a for a in agents})
        found.apps.update({str(a["appId"]): a for a in apps})
        found.blueprints.update({str(b["appId"]): b for b in blueprints})
        found.consents.update({str(c["id"]): c for c in consents})
        found.roles.update({str(r["id"]): r for r in roles})
        known = {str(s.get("appId")) for s in found.sps.values()}
        parents = {str(a.get("agentIdentityBlueprintId")) for a in agents} - known - {"None"}
        # What a principal owns it can add credentials to (an IMPERSONATE edge, recorded
        # as the owned object's owner): those principals are reached through it.
        parents |= {str(o.get("appId")) for o in owned if _is(o, "application")} - known
        owned_sps = {str(o["id"]) for o in owned if _is(o, "servicePrincipal")}
        made = [str(b["appId"]) for b in blueprints]
        spawned, bps = await _gather(
            [
                self._agents_of_blueprints(made),
                self._any_of("servicePrincipals", "appId", parents, SP_PARAMS),
            ]
        )
        found.agents.update({str(a["id"]): a for a in spawned})
        # Every agent identity of a blueprint counts (whether it serves one agent decides
        # how it is cut); the principals only of those a blueprint of this agent made.
        unseen = {str(a["id"]) for a in spawned} if children else set()
        unseen = (unseen | owned_sps) - set(found.sps)
        more = await self._any_of("servicePrincipals", "id", unseen, SP_PARAMS)
        return found.add_sps([*bps, *more])

    async def _agents_of_blueprints(self, app_ids: list[str]) -> list[dict[str, Any]]:
        """The agent identities the blueprints ``app_ids`` made, by
        ``agentIdentityBlueprintId eq``. Graph's support for that filter is not documented
        for every tenant: when it refuses the query (a 4xx that is not about the token,
        permission, throttling or a missing object), every agent identity is listed and
        the blueprints' own are kept, as the estate read does, and the log says so."""
        params = {"$select": AGENT_FIELDS}
        try:
            return await self._any_of(
                AGENTS, "agentIdentityBlueprintId", app_ids, params, "beta", 100
            )
        except ProviderError as exc:
            if type(exc) is not ProviderError:
                raise
            log.info("entra: agent identities by blueprint refused (%s); listing them all", exc)
        wanted = set(app_ids)
        everyone = await self._all(AGENTS, params, "beta", top=100)
        return [a for a in everyone if str(a.get("agentIdentityBlueprintId")) in wanted]

    async def _owned(self, ids: list[str]) -> list[dict[str, Any]]:
        """The applications and principals ``ids`` own (``…/ownedObjects``)."""
        found = await _gather(
            [
                self.graph.collect(
                    f"servicePrincipals/{sp_id}/ownedObjects", "listing what a principal owns"
                )
                for sp_id in ids
            ]
        )
        return [item for batch in found for item in batch]

    async def _sps(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Service principals matching a filter, with the fields and owners discovery reads."""
        return await self._all("servicePrincipals", {**SP_PARAMS, **params})

    async def _any_of(
        self,
        path: str,
        field: str,
        values: Iterable[str],
        params: dict[str, str],
        version: str = "v1.0",
        top: int = PAGE,
    ) -> list[dict[str, Any]]:
        """The objects of a collection whose ``field`` equals one of ``values``: one
        ``field eq … or …`` filter per :data:`FIC_TERMS` values, all at once."""
        wanted = sorted({v for v in values if v})
        batches = [wanted[i : i + FIC_TERMS] for i in range(0, len(wanted), FIC_TERMS)]
        found = await _gather(
            [
                self._all(
                    path,
                    {**params, "$filter": " or ".join(f"{field} eq {_literal(v)}" for v in b)},
                    version,
                    top,
                )
                for b in batches
            ]
        )
        return [item for batch in found for item in batch]

    async def _resources(self, snap: Snapshot, assignments: Iterable[dict[str, Any]]) -> None:
        """The principals app roles are held on, when a scoped read has not read them yet
        (their app roles name the grants)."""
        missing = {str(a["resourceId"]) for a in assignments if a.get("resourceId")}
        missing -= set(snap.service_principals)
        for sp in await self._any_of("servicePrincipals", "id", missing, SP_PARAMS):
            snap.service_principals[str(sp["id"])] = sp

    async def _all(
        self, path: str, params: dict[str, str], version: str = "v1.0", top: int = PAGE
    ) -> list[dict[str, Any]]:
        """Every page of a collection, asking for at most the configured page size."""
        size = str(min(top, self.settings.page_size))
        return await self.graph.collect(
            path, f"listing {path}", version=version, params={**params, "$top": size}
        )

    async def _assigned_to(self, sp_id: str) -> list[dict[str, Any]]:
        return await self._all(f"servicePrincipals/{sp_id}/appRoleAssignedTo", {})

    async def _assignments(
        self,
        sps: list[dict[str, Any]],
        candidates: list[dict[str, Any]],
        bare: dict[str, Identity],
    ) -> list[list[dict[str, Any]]]:
        """App-role assignments: for the estate, from every principal offering app roles;
        for one agent, only those its principals hold and those made on them, so that no
        other principal is read."""
        if not self.context.scoped():
            return await _gather([self._assigned_to(s["id"]) for s in sps if s.get("appRoles")])
        mine = [s for s in candidates if self.context.in_focus(bare[str(s["id"])])]
        held = [self._all(f"servicePrincipals/{s['id']}/appRoleAssignments", {}) for s in mine]
        made = [self._assigned_to(s["id"]) for s in mine if s.get("appRoles")]
        return await _gather([*held, *made])

    def _fic_owners(
        self, snap: Snapshot, candidates: list[dict[str, Any]], bare: dict[str, Identity]
    ) -> list[dict[str, Any]]:
        """Whose federated credentials to list one application at a time: for the estate,
        every agent-like principal's; for one agent, only those in its focus, since who
        else trusts the agent's outside identities is asked of Graph by a filter
        (:meth:`federated_into`), whose answers earlier in this read are reused here."""
        if not self.context.scoped():
            return [s for s in candidates if self.context.wanted_edges(bare[str(s["id"])])]
        if self._foreign_for == self.context.focus_agent():
            snap.fics.update(self._foreign)
        else:
            self._foreign, self._foreign_for = {}, None
        mine = [s for s in candidates if self.context.in_focus(bare[str(s["id"])])]
        return [s for s in mine if self.context.wanted(bare[str(s["id"])])]

    async def federated_into(self, identities: Sequence[Identity]) -> list[Edge]:
        """Edges from ``identities`` (outside workloads: AWS roles, Google service accounts,
        Entra principals) into the applications whose federated credentials admit them,
        found with Graph's advanced query
        ``$filter=federatedIdentityCredentials/any(f:f/subject eq '…' or …)`` instead of
        listing every application's credentials; at most :data:`FIC_TERMS` comparisons a
        request. Only the applications an estate read would list credentials of count, so
        that an agent-scoped read finds what the estate read finds."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for ident in identities:
            subjects, starts = translate.federation_subjects(ident)
            exact.update(subjects)
            prefixes.update(starts)
        clauses = [f"f/subject eq {_literal(s)}" for s in sorted(exact)]
        clauses += [f"startswith(f/subject,{_literal(p)})" for p in sorted(prefixes)]
        if not clauses:
            return []
        batches = [clauses[i : i + FIC_TERMS] for i in range(0, len(clauses), FIC_TERMS)]
        found = await _gather([self._apps_trusting(batch) for batch in batches])
        snap = self.snapshot
        now = self.context.clock()
        if self._foreign_for != self.context.focus_agent():
            self._foreign, self._foreign_for = {}, self.context.focus_agent()
        apps = list({str(a["id"]): a for batch in found for a in batch}.values())
        await self._principals_of(snap, apps)
        edges: list[Edge] = []
        for app in apps:
            sp = snap.sp_by_app_id(str(app.get("appId")))
            if sp is None or snap.is_first_party(sp) or str(app["id"]) in snap.fics:
                continue
            if not self.context.wanted_edges(
                translate.identity(snap, sp, now, with_credentials=False)
            ):
                continue
            fics = list(app.get("federatedIdentityCredentials") or [])
            snap.fics[str(app["id"])] = fics
            self._foreign[str(app["id"])] = fics
            edges.extend(translate.federation_edges(snap, sp))
            if self._last is not None and all(i.id != sp["id"] for i in self._last.identities):
                # an agent-scoped read had not listed it: the engine reaches it from here
                self._last.identities.append(
                    translate.identity(snap, sp, now, with_credentials=False)
                )
        return edges

    async def _principals_of(self, snap: Snapshot, apps: list[dict[str, Any]]) -> None:
        """Read the principals of ``apps`` that the last (agent-scoped) read did not list,
        with the applications' ids, so that their federation edges can be drawn."""
        missing = {str(a.get("appId")) for a in apps if not snap.sp_by_app_id(str(a.get("appId")))}
        for sp in await self._any_of("servicePrincipals", "appId", missing, SP_PARAMS):
            snap.service_principals[str(sp["id"])] = sp
        for app in apps:
            if str(app.get("appId")) not in snap.applications:
                snap.applications[str(app.get("appId"))] = {
                    k: app.get(k) for k in ("id", "appId", "displayName")
                }

    async def _apps_trusting(self, clauses: list[str]) -> list[dict[str, Any]]:
        """One advanced query: the applications with a federated credential matching any
        of ``clauses``, with their credentials."""
        return await self.graph.collect(
            "applications",
            "finding applications that trust the agent's outside identities",
            params={
                "$filter": f"federatedIdentityCredentials/any(f:{' or '.join(clauses)})",
                "$select": "id,appId,displayName",
                "$expand": "federatedIdentityCredentials",
                "$count": "true",
                "$top": str(min(PAGE, self.settings.page_size)),
            },
            headers={"ConsistencyLevel": "eventual"},
        )

    async def _fics(self, snap: Snapshot, sp: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        app = snap.applications.get(str(sp.get("appId")))
        if app is None:
            return "", []
        items = await self.graph.collect(
            f"applications/{app['id']}/federatedIdentityCredentials",
            f"listing federated credentials of {sp.get('displayName')}",
        )
        return str(app["id"]), items

    async def _sponsors(self, sp_id: str) -> tuple[str, list[dict[str, Any]]]:
        items = await self.graph.collect(
            f"servicePrincipals/{sp_id}/microsoft.graph.agentIdentity/sponsors",
            "listing sponsors of an agent identity",
            version="beta",
        )
        return sp_id, items

    async def _users(self, snap: Snapshot, consents: list[dict[str, Any]]) -> None:
        ids = sorted({str(c["principalId"]) for c in consents if c.get("principalId")})
        for start in range(0, len(ids), 1000):
            reply = await self.graph.call(
                "POST",
                "directoryObjects/getByIds",
                "resolving consenting users",
                body={"ids": ids[start : start + 1000], "types": ["user"]},
                idempotent=True,
            )
            for user in reply.get("value", []):
                snap.users[str(user["id"])] = user

    async def _sign_ins(self) -> dict[str, datetime]:
        """When each credential last signed in; not for a containment, since the report
        pages every credential of the tenant before the first cut and no step needs it."""
        if self.context.for_containment():
            return {}
        try:
            rows = await self._all("reports/appCredentialSignInActivities", {}, "beta")
        except PermissionDenied as exc:
            log.warning("entra: credential last-use is unknown: %s", exc.message)
            return {}
        out: dict[str, datetime] = {}
        for row in rows:
            when = parse_time((row.get("signInActivity") or {}).get("lastSignInDateTime"))
            if when is not None and row.get("keyId"):
                out[str(row["keyId"])] = when
        return out

    # -- own lookup (the kill switch's first cut) -----------------------------------------

    async def own_identities(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The principals named ``agent`` (exactly, ignoring case) and those whose object
        id is in ``ids``, each read as the agent-scoped read reads a principal of its
        focus, with nothing listed whole (see :class:`~agent_ir.providers.base.OwnLookup`).

        Three rounds after sign-in, each all at once: the lookups (``displayName eq`` on
        principals and applications, ``id eq`` for ``ids``); the reads of each principal
        found (agent-identity record, application, blueprint status, consents, directory
        roles, app roles held, federated credentials of the applications already in
        hand, an agent identity's sponsors); then what those name (an agent identity's
        blueprint principal, whose tag it inherits; the principals grants are held on;
        consenting users; federated credentials of applications found by ``appId``)."""
        now = self.context.clock()
        named = {"$filter": f"displayName eq {_literal(agent)}"}
        by_name, by_id, apps, definitions, org = await asyncio.gather(
            self._sps(named),
            self._any_of("servicePrincipals", "id", filter(_is_object_id, ids), SP_PARAMS),
            self._all("applications", {**APP_PARAMS, **named}),
            self._all("roleManagement/directory/roleDefinitions", {"$select": "id,displayName"}),
            self.graph.get("organization", "reading the tenant"),
        )
        snap = Snapshot(self.settings.tenant_id, _default_domain(org) or self.settings.tenant_id)
        snap.role_names = {d["id"]: d.get("displayName", d["id"]) for d in definitions}
        mine = [s for s in by_name if str(s.get("displayName", "")).lower() == agent.lower()]
        sps = {str(s["id"]): s for s in [*mine, *by_id] if not snap.is_first_party(s)}
        snap.service_principals.update(sps)
        app_ids = {str(s["appId"]) for s in sps.values() if s.get("appId")}
        snap.applications = {str(a["appId"]): a for a in apps if str(a["appId"]) in app_ids}
        await self._own_details(snap, sorted(sps), sorted(app_ids))
        await self._own_references(snap, list(sps.values()), set(app_ids))
        self._remember(snap)
        identities = [translate.identity(snap, s, now, with_credentials=True) for s in sps.values()]
        result = Discovery(provider="entra", identities=identities)
        result.grants = translate.grants(snap, set(sps))
        result.edges = translate.edges(snap, set(sps))
        result.requests = self.graph.requests + self.tokens.requests
        result.responder_ids = {
            i for i, s in sps.items() if s.get("appId") == self.settings.client_id
        }
        return result

    async def _own_details(self, snap: Snapshot, ids: list[str], app_ids: list[str]) -> None:
        """The second round of :meth:`own_identities`: what each principal found holds."""
        in_hand = [
            s for s in snap.service_principals.values() if s.get("appId") in snap.applications
        ]
        agent_like = [
            i
            for i in ids
            if snap.service_principals[i].get("servicePrincipalType") == "ServiceIdentity"
        ]
        missing = set(app_ids) - set(snap.applications)
        lists, held, fics, sponsors = await asyncio.gather(
            self._principal_lists(ids, app_ids, apps_of=missing),
            _gather([self._all(f"servicePrincipals/{i}/appRoleAssignments", {}) for i in ids]),
            _gather([self._fics(snap, s) for s in in_hand]),
            _gather([self._sponsors(i) for i in agent_like]),
        )
        agents, apps, blueprints, consents, roles = lists
        snap.agents = {str(a["id"]): a for a in agents}
        snap.applications.update({str(a["appId"]): a for a in apps})
        snap.blueprint_app_ids = {str(b["appId"]) for b in blueprints}
        snap.grants = {str(c["id"]): c for c in consents}
        snap.role_assignments = {str(r["id"]): r for r in roles}
        snap.assignments = {str(a["id"]): a for batch in held for a in batch}
        snap.fics = {app_id: items for app_id, items in fics if app_id}
        # the scoped read asks the agent identities it knows for their sponsors
        snap.sponsors = {i: items for i, items in sponsors if i in snap.agents}

    async def _own_references(
        self, snap: Snapshot, sps: list[dict[str, Any]], app_ids: set[str]
    ) -> None:
        """The third round of :meth:`own_identities`: the objects the second named."""
        parents = {str(a.get("agentIdentityBlueprintId")) for a in snap.agents.values()}
        parents -= app_ids | {"None"}
        held_on = [*snap.assignments.values(), *snap.grants.values()]
        resources = {str(a["resourceId"]) for a in held_on if a.get("resourceId")}
        resources -= set(snap.service_principals)
        late = [
            s
            for s in sps
            if str((snap.applications.get(str(s.get("appId"))) or {}).get("id")) not in snap.fics
        ]
        blueprints, held, _, fics = await asyncio.gather(
            self._any_of("servicePrincipals", "appId", parents, SP_PARAMS),
            self._any_of("servicePrincipals", "id", resources, SP_PARAMS),
            self._users(snap, list(snap.grants.values())),
            _gather([self._fics(snap, s) for s in late]),
        )
        snap.service_principals.update({str(s["id"]): s for s in [*blueprints, *held]})
        snap.fics.update({app_id: items for app_id, items in fics if app_id})

    def _remember(self, found: Snapshot) -> None:
        """Add what :meth:`own_identities` read to the planning snapshot, so that the steps
        cutting those principals' credentials can be planned before the scoped read ends
        (whose snapshot, replacing this one, holds the same objects)."""
        snap = self.snapshot
        snap.domain = snap.domain or found.domain
        for name in (
            "service_principals",
            "agents",
            "applications",
            "fics",
            "sponsors",
            "grants",
            "assignments",
            "role_assignments",
            "role_names",
            "users",
        ):
            getattr(snap, name).update(getattr(found, name))
        snap.blueprint_app_ids |= found.blueprint_app_ids

    # -- activity ------------------------------------------------------------------------

    async def read_activity(
        self, identities: Sequence[Identity], window: ActivityWindow
    ) -> ActivityPage:
        """Sign-ins and directory audits of ``identities`` (:mod:`.activity`)."""
        from agent_ir.providers.entra.activity import EntraActivityReader

        return await EntraActivityReader(self.graph).read(identities, window)

    # -- doctor --------------------------------------------------------------------------

    async def check(self, permissions: list[str]) -> CheckReport:
        """The responder app, and which Graph application permissions it holds."""
        me = await self.graph.get(
            f"servicePrincipals(appId='{self.settings.client_id}')",
            "reading the responder's service principal",
            params={"$select": "id,appId,displayName"},
        )
        graph_sp = await self.graph.get(
            f"servicePrincipals(appId='{GRAPH_APP_ID}')",
            "reading Microsoft Graph's app roles",
            params={"$select": "id,appRoles"},
        )
        held = await self.graph.collect(
            f"servicePrincipals/{me['id']}/appRoleAssignments",
            "reading the responder's permissions",
        )
        names = {r["id"]: r["value"] for r in graph_sp.get("appRoles", [])}
        roles = {
            names[a["appRoleId"]]
            for a in held
            if a.get("resourceId") == graph_sp.get("id") and a.get("appRoleId") in names
        }
        expanded = set(roles)
        for role in roles:
            expanded |= IMPLIED.get(role, set())
        report = CheckReport(
            provider="entra",
            caller=f"{me.get('displayName')} (app {me.get('appId')}, service principal {me['id']})",
            account=self.settings.tenant_id,
            endpoint=self.endpoint,
        )
        report.notes.append(f"authority {self.settings.authority_url}")
        report.notes.append(
            f"Graph application permissions held: {', '.join(sorted(roles)) or 'none'}"
        )
        for permission in permissions or _needed():
            allowed = permission in expanded
            via = next((r for r in sorted(roles) if permission in IMPLIED.get(r, set())), None)
            note = (
                "granted" if permission in roles else (f"through {via}" if via else "not granted")
            )
            report.permissions.append(PermissionCheck(permission, allowed, note))
        return report

    def plan_facts(self) -> Snapshot:
        """The snapshot of the last discovery."""
        return self.snapshot

    async def aclose(self) -> None:
        """Close the Graph connection pool and MSAL's session."""
        await self.graph.aclose()
        self.tokens.close()


def _needed() -> list[str]:
    """What discovery and every action (applying and restoring) need, read first."""
    from agent_ir.providers.registry import plugin

    write = {
        p
        for a in plugin("entra").actions().values()
        for p in (*a.permissions, *a.restore_permissions)
    }
    return [*READ_PERMISSIONS, *sorted(write - set(READ_PERMISSIONS))]


@dataclass(slots=True)
class _Found:
    """What an agent-scoped read has found so far, by id (by appId for applications)."""

    sps: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    blueprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    consents: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_sps(self, sps: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep ``sps``; those not seen before."""
        fresh = [s for s in sps if str(s["id"]) not in self.sps]
        self.sps.update({str(s["id"]): s for s in fresh})
        return list({str(s["id"]): s for s in fresh}.values())


async def _gather(calls: list[Awaitable[T]]) -> list[T]:
    """Run calls together (the Graph client bounds how many are in flight)."""
    return list(await asyncio.gather(*calls))


def _is(obj: dict[str, Any], kind: str) -> bool:
    """Whether a directory object reference is of ``kind`` (by its ``@odata.type``)."""
    return str(obj.get("@odata.type", "")) == f"#microsoft.graph.{kind}"


def _is_object_id(value: str) -> bool:
    """Whether ``value`` can be a Graph object id (a GUID): the explicit inventory lists the
    ids of every provider, and Graph refuses an ``id eq`` comparison with anything else."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _literal(value: str) -> str:
    """An OData string literal (a quote doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _default_domain(org: dict[str, Any]) -> str | None:
    for entry in org.get("value", []):
        for domain in entry.get("verifiedDomains", []):
            if domain.get("isDefault"):
                return str(domain.get("name"))
    return None
