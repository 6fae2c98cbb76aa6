"""The read side of the engine: discover every configured provider, correlate, assess.

One provider failing never hides the others: its error is kept beside the results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agent_ir.engine import correlate as corr
from agent_ir.engine import scope
from agent_ir.engine.findings import assess
from agent_ir.engine.graph import TRAVERSABLE, Graph, TreeNode
from agent_ir.errors import (
    AgentIRError,
    ConfigError,
    NotFoundError,
    ProviderError,
    ProviderUnavailable,
    unexpected,
)
from agent_ir.model import Agent, Edge, EdgeKind, Grant, Identity, LinkSource, ProviderName
from agent_ir.providers import registry
from agent_ir.providers.base import (
    CheckReport,
    Discovery,
    FederationLookup,
    OwnLookup,
    ProgressFn,
    Provider,
    ProviderContext,
    opens_slowly,
    utcnow,
)
from agent_ir.settings import Settings

DISCOVERY_DEADLINE_S = 120.0
"""How long one provider's discovery may take before it counts as not answering."""
FIRST_CUT_CAP_S = 3.0
"""How long a provider's own lookup may take to count towards the first cut (beyond it,
that provider's credentials are cut with the whole plan)."""


@dataclass(slots=True)
class Inventory:
    """Everything one discovery pass found, correlated."""

    agents: list[Agent]
    graph: Graph
    grants: dict[str, list[Grant]]
    identities: dict[str, Identity]
    discoveries: dict[ProviderName, Discovery]
    errors: dict[ProviderName, ProviderError] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    scope: str | None = None
    """How an agent-scoped inventory found its agent (None: the whole estate was read)."""

    def agent(self, name: str) -> Agent:
        """One agent by name (case-insensitive); unknown names suggest close ones."""
        for agent in self.agents:
            if agent.name.lower() == name.lower():
                return agent
        close = [a.name for a in self.agents if name.lower() in a.name.lower()][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        failed = f" ({', '.join(sorted(self.errors))} did not answer)" if self.errors else ""
        if self.errors and not self.discoveries:
            # Nothing answered: "unknown agent" would be a guess, not a finding.
            raise ProviderUnavailable(
                ", ".join(sorted(self.errors)),
                f"no provider answered, so agent {name!r} cannot be looked up",
            )
        raise NotFoundError(f"no agent named {name!r}{hint}{failed}")


@dataclass(slots=True)
class AgentView:
    """One agent with everything ``show`` prints."""

    agent: Agent
    grants: list[tuple[Grant, bool]]
    edges: list[Edge]
    tree: list[TreeNode]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of ``show``."""
        data = self.agent.to_json()
        data["grants"] = [
            {**g.to_json(), "reachable": reachable, "detail": g.detail}
            for g, reachable in self.grants
        ]
        data["edges"] = [e.to_json() for e in self.edges]
        return data


class Engine:
    """The headless engine: what the CLI and the console both call."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        progress: ProgressFn | None = None,
        discovery_deadline_s: float = DISCOVERY_DEADLINE_S,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.progress = progress
        self.discovery_deadline_s = discovery_deadline_s
        self._providers: dict[ProviderName, Provider] | None = None
        self._inventory_ids = corr.wants_detail(settings.inventory)
        self._focus: Callable[[Identity], bool] | None = None
        self._focus_name: str | None = None
        self._focus_of: scope.Focus | None = None
        self._containment = False
        self._background: list[asyncio.Future[Any]] = []

    def configured(self) -> list[ProviderName]:
        """The providers the configuration names, in canonical order."""
        return self.settings.providers.configured()

    def providers(self) -> dict[ProviderName, Provider]:
        """Build (once) an adapter for every configured provider."""
        if self._providers is None:
            names = self.configured()
            if not names:
                where = self.settings.source or "the configuration"
                raise ConfigError(f"{where}: no provider is configured under 'providers'")
            context = ProviderContext(
                clock=self.clock,
                progress=self.progress,
                wants=self._wants,
                wants_edges=self._detail_worthy,
                focus=lambda: self._focus,
                focus_name=lambda: self._focus_name,
                focus_ids=self._focus_ids,
                containment=lambda: self._containment,
            )
            self._providers = {
                name: registry.load(name).from_settings(
                    self.settings.providers.section(name), context
                )
                for name in names
            }
        return self._providers

    def _focus_ids(self) -> frozenset[str]:
        """The ids the focus in progress names (listed, or reached so far)."""
        own = self._focus_of
        return frozenset() if own is None else own.listed | frozenset(own.extra)

    def _detail_worthy(self, identity: Identity) -> bool:
        """Whether a whole-estate inventory reads ``identity`` in full: agents (tagged,
        listed or agent-like by name), not every workload principal."""
        return (
            bool(identity.agent)
            or identity.id in self._inventory_ids
            or corr.looks_like_agent(identity.name)
        )

    def _wants(self, identity: Identity) -> bool:
        """Full detail: what the estate inventory reads, narrowed to the focus if any."""
        if not self._detail_worthy(identity):
            return False
        return self._focus is None or self._focus(identity)

    async def discover_each(
        self, only: Iterable[ProviderName] | None = None
    ) -> AsyncIterator[tuple[ProviderName, Discovery | ProviderError]]:
        """Each provider's discovery (or its error) as soon as it finishes, so a face can
        show progress per provider and keep what answered when one fails."""
        providers = self.providers()
        if only is not None:
            chosen = set(only)
            providers = {n: p for n, p in providers.items() if n in chosen}

        tasks = [asyncio.ensure_future(self._discover(n, p)) for n, p in providers.items()]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def _discover(
        self, name: ProviderName, provider: Provider
    ) -> tuple[ProviderName, Discovery | ProviderError]:
        """One provider's discovery within the deadline, or the error it ended with."""
        try:
            async with asyncio.timeout(self.discovery_deadline_s):
                return name, await provider.discover()
        except ProviderError as exc:
            return name, exc
        except AgentIRError as exc:
            return name, ProviderError(name, exc.message)
        except TimeoutError:
            return name, ProviderUnavailable(
                name, f"did not answer discovery within {self.discovery_deadline_s:g}s"
            )
        except Exception as exc:  # noqa: BLE001 - a defect must not hide the others
            return name, unexpected(name, exc)

    async def discover_all(
        self, only: Iterable[ProviderName] | None = None
    ) -> tuple[dict[ProviderName, Discovery], dict[ProviderName, ProviderError]]:
        """Every provider's discovery concurrently: what answered, and what failed."""
        discoveries: dict[ProviderName, Discovery] = {}
        errors: dict[ProviderName, ProviderError] = {}
        async for name, result in self.discover_each(only):
            if isinstance(result, ProviderError):
                errors[name] = result
            else:
                discoveries[name] = result
        return discoveries, errors

    async def inventory(self) -> Inventory:
        """Discover every provider concurrently, then correlate and assess."""
        return self.assemble(*await self.discover_all())

    def assemble(
        self, discoveries: dict[ProviderName, Discovery], errors: dict[ProviderName, ProviderError]
    ) -> Inventory:
        """Correlate and assess what discovery returned (in canonical provider order)."""
        order = self.configured()
        ordered = {n: discoveries[n] for n in order if n in discoveries}
        return build_inventory(ordered, errors, self.settings, self.clock())

    async def show(self, name: str) -> AgentView:
        """One agent, its grants (own and reachable) and its delegation chain."""
        inv = await self.agent_inventory(name)
        return view(inv, inv.agent(name))

    async def agent_inventory(self, name: str, *, containment: bool = False) -> Inventory:
        """What one agent's containment needs, without reading the estate in full.

        The providers list their principals (the cheap part: pages of identities with
        their tags), and read in full only those that may be the agent's own (inventory,
        tag, or name); then whatever the agent can become is read in full too, breadth
        first, until nothing new is reached. Reads that name *other* principals (who may
        federate into an Entra app, who may impersonate a GCP account) stay estate-wide,
        since an edge out of the agent may be recorded there. For this agent the result
        equals :meth:`inventory`'s; other agents are listed but not assessed.

        With ``containment`` (a plan or a revoke), reads no step needs are skipped:
        credential last-use (so findings about unused credentials are not made there).
        """
        own = scope.Focus.of(name, self.settings.inventory)
        self._focus = own.holds
        self._focus_name = name
        self._focus_of = own
        self._containment = containment
        try:
            inv = await self._widening(name, own)
        finally:
            self._focus = None
            self._focus_name = None
            self._focus_of = None
            self._containment = False
        notes = [n for d in inv.discoveries.values() for n in d.notes]
        inv.scope = "; ".join([own.describe(inv.agent(name)), *notes])
        return inv

    async def own_lookups(
        self,
        name: str,
        *,
        later: asyncio.Event | None = None,
        cap_s: float = FIRST_CUT_CAP_S,
    ) -> AsyncIterator[tuple[ProviderName, Discovery]]:
        """Each provider's certain own principals of the agent as soon as that provider
        has looked them up (by name and by the explicit inventory's ids, without listing:
        :class:`OwnLookup`): what a kill switch cuts first, provider by provider.

        A provider that :func:`opens_slowly` starts its lookup only once ``later`` is set
        (the others' first cut has landed) or every other lookup has ended, so its opening
        cost is not on their critical path. A provider that cannot look up, fails, or
        takes longer than ``cap_s`` from its start is left out (the whole read that
        follows finds its principals and reports its errors); a lookup still running then
        goes on in the background and ends with the engine."""
        listed = scope.Focus.of(name, self.settings.inventory).listed
        loop = asyncio.get_running_loop()
        lookups = {p: a for p, a in self.providers().items() if isinstance(a, OwnLookup)}
        deferred = {p for p, a in lookups.items() if opens_slowly(a) and later is not None}
        tasks: dict[asyncio.Future[Discovery], tuple[ProviderName, float]] = {}

        def start(provider: ProviderName) -> None:
            task = asyncio.ensure_future(lookups[provider].own_identities(name, listed))
            tasks[task] = (provider, loop.time() + cap_s)

        for provider in lookups:
            if provider not in deferred:
                start(provider)
        signal = asyncio.ensure_future(later.wait()) if deferred and later else None
        pending = set(tasks)
        try:
            while pending or deferred:
                if deferred and (not pending or (signal is not None and signal.done())):
                    for provider in sorted(deferred):
                        start(provider)
                    pending |= {t for t in tasks if tasks[t][0] in deferred}
                    deferred = set()
                ends = max(tasks[t][1] for t in pending)
                if loop.time() >= ends:
                    break
                waiting: set[asyncio.Future[Any]] = set(pending)
                if deferred and signal is not None:
                    waiting.add(signal)
                done, _ = await asyncio.wait(
                    waiting, timeout=ends - loop.time(), return_when=asyncio.FIRST_COMPLETED
                )
                for task in [t for t in pending if t in done]:
                    pending.discard(task)
                    if not task.cancelled() and task.exception() is None:
                        yield tasks[task][0], task.result()
        finally:
            if signal is not None:
                signal.cancel()
            self._background.extend(pending)

    def own_view(self, name: str, discoveries: dict[ProviderName, Discovery]) -> Inventory:
        """The inventory of what own lookups found so far (correlated, the agent assessed)."""
        return self._scoped(name, discoveries, {})

    async def _widening(self, name: str, own: scope.Focus) -> Inventory:
        """Discover every provider with ``own`` as the focus, widening it breadth first as
        the agent's closure grows, each provider on its own: when one answers, what it
        adds is looked at at once and only the providers holding newly reached identities
        are read again, without waiting for the slowest provider to finish its round
        (a containment's first cut waits on that slowest provider anyway; the others'
        later rounds now run beside it instead of after it)."""
        providers = self.providers()
        discoveries: dict[ProviderName, Discovery] = {}
        errors: dict[ProviderName, ProviderError] = {}
        federated: dict[ProviderName, list[Edge]] = {}
        asked: dict[ProviderName, set[str]] = {}
        runs: dict[ProviderName, int] = {}
        tasks: dict[ProviderName, asyncio.Task[tuple[ProviderName, Discovery | ProviderError]]]
        tasks = {}
        again: set[ProviderName] = set()

        def start(provider: ProviderName) -> None:
            runs[provider] = runs.get(provider, 0) + 1
            tasks[provider] = asyncio.ensure_future(self._discover(provider, providers[provider]))

        for provider in providers:
            start(provider)
        inv = self._scoped(name, discoveries, errors)
        try:
            while tasks:
                done, _ = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    provider, result = task.result()
                    del tasks[provider]
                    if isinstance(result, ProviderError):
                        errors[provider] = result
                    else:
                        # A provider read again keeps the federation edges asked of it.
                        result.edges.extend(federated.get(provider, []))
                        discoveries[provider] = result
                inv = self._scoped(name, discoveries, errors)
                try:
                    agent = inv.agent(name)
                except (NotFoundError, ProviderUnavailable):
                    continue  # the agent may be found when the others answer
                if await self._federations(inv, agent, asked, discoveries, federated):
                    inv = self._scoped(name, discoveries, errors)
                    agent = inv.agent(name)
                wider = scope.unread_reach(inv, agent, own, self._detail_worthy)
                own.extra.update(wider)
                again.update(inv.identities[i].provider for i in wider)
                for provider in sorted(again - set(tasks)):
                    again.discard(provider)
                    if runs[provider] <= scope.MAX_ROUNDS:
                        start(provider)
        finally:
            for task in tasks.values():
                task.cancel()
        return inv

    async def _federations(
        self,
        inv: Inventory,
        agent: Agent,
        asked: dict[ProviderName, set[str]],
        discoveries: dict[ProviderName, Discovery],
        federated: dict[ProviderName, list[Edge]],
    ) -> bool:
        """Ask the providers that can filter by federation subject which of their
        principals trust the identities of the agent's closure they were not asked about
        yet (all at once); add the edges found to their discovery and to ``federated``.
        Whether any edge was added."""
        closure = [link.identity for link in agent.links]
        for target, _ in inv.graph.reach(i.id for i in closure):
            if target in inv.identities:
                closure.append(inv.identities[target])

        async def ask(provider_name: ProviderName, discovery: Discovery) -> bool:
            provider = self.providers()[provider_name]
            done = asked.setdefault(provider_name, set())
            fresh = {i.id: i for i in closure if i.id not in done}
            if not isinstance(provider, FederationLookup) or not fresh:
                return False
            done.update(fresh)
            try:
                async with asyncio.timeout(self.discovery_deadline_s):
                    edges = await provider.federated_into(list(fresh.values()))
            except (AgentIRError, TimeoutError) as exc:
                message = exc.message if isinstance(exc, AgentIRError) else "timed out"
                discovery.notes.append(
                    f"{provider_name}: who federates into it could not be asked ({message})"
                )
                return False
            discovery.edges.extend(edges)
            federated.setdefault(provider_name, []).extend(edges)
            return bool(edges)

        added = await asyncio.gather(*(ask(n, d) for n, d in list(discoveries.items())))
        return any(added)

    def _scoped(
        self,
        name: str,
        discoveries: dict[ProviderName, Discovery],
        errors: dict[ProviderName, ProviderError],
    ) -> Inventory:
        order = self.configured()
        ordered = {n: discoveries[n] for n in order if n in discoveries}
        return build_inventory(ordered, errors, self.settings, self.clock(), assess_only=name)

    async def doctor(self) -> list[CheckReport | ProviderError]:
        """Each provider's check: who we are there, what we may do, or why it failed."""
        providers = self.providers()
        results = await asyncio.gather(
            *(p.check([]) for p in providers.values()), return_exceptions=True
        )
        out: list[CheckReport | ProviderError] = []
        for name, result in zip(providers, results, strict=True):
            if isinstance(result, ProviderError):
                out.append(result)
            elif isinstance(result, AgentIRError):
                out.append(ProviderError(name, result.message))
            elif isinstance(result, BaseException):
                raise result
            else:
                out.append(result)
        return out

    async def aclose(self) -> None:
        """Close every adapter (first ending any lookup still running in the background)."""
        for task in self._background:
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        self._background = []
        for provider in (self._providers or {}).values():
            await provider.aclose()


def build_inventory(
    discoveries: dict[ProviderName, Discovery],
    errors: dict[ProviderName, ProviderError],
    settings: Settings,
    now: datetime,
    *,
    assess_only: str | None = None,
) -> Inventory:
    """Correlate discoveries into agents, build the graph and assess every agent (or only
    the one named ``assess_only``: an agent-scoped read has the others' detail missing)."""
    identities = {i.id: i for d in discoveries.values() for i in d.identities}
    responders = set().union(*(d.responder_ids for d in discoveries.values()))
    candidates = [i for i in identities.values() if i.id not in responders]
    agents, warnings = corr.correlate(candidates, settings.inventory)
    grants: dict[str, list[Grant]] = {}
    for discovery in discoveries.values():
        for grant in discovery.grants:
            grants.setdefault(grant.identity, []).append(grant)
    labels = {i.id: f"{i.provider} {i.kind} {i.name} ({i.account})" for i in identities.values()}
    alias = {a: i.id for i in identities.values() for a in i.aliases}
    edges = [
        replace(e, source=alias.get(e.source, e.source), target=alias.get(e.target, e.target))
        for d in discoveries.values()
        for e in d.edges
    ]
    edges += corr.owner_edges(agents)
    edges += _member_edges(agents)
    for agent in agents:
        labels[f"agent:{agent.name}"] = f"agent {agent.name}"
    for edge in edges:
        for end in (edge.source, edge.target):
            if end.startswith(corr.HUMAN_PREFIX):
                labels.setdefault(end, f"human {end.removeprefix(corr.HUMAN_PREFIX)}")
    graph = Graph(edges, labels)
    for agent in agents:
        if assess_only is None or agent.name.lower() == assess_only.lower():
            agent.findings = assess(agent, grants, identities, graph, now)
    return Inventory(agents, graph, grants, identities, discoveries, errors, warnings)


def _member_edges(agents: list[Agent]) -> list[Edge]:
    reasons = {
        LinkSource.INVENTORY: "the inventory lists it",
        LinkSource.TAG: "tagged agent-ir:agent={name}",
        LinkSource.INFERRED: "inferred from its name (unconfirmed)",
    }
    return [
        Edge(
            f"agent:{agent.name}",
            link.identity.id,
            EdgeKind.MEMBER,
            f"{link.identity.name} is an identity of {agent.name}: "
            + reasons[link.source].format(name=agent.name),
            provider=link.identity.provider,
        )
        for agent in agents
        for link in agent.links
    ]


def view(inv: Inventory, agent: Agent) -> AgentView:
    """Assemble what ``show`` prints for one agent."""
    own = [i.id for i in agent.identities]
    reach = inv.graph.reach(own)
    grants = [(g, False) for ident in own for g in inv.grants.get(ident, [])]
    grants += [(g, True) for target, _ in reach for g in inv.grants.get(target, [])]
    node = f"agent:{agent.name}"
    edges: list[Edge] = []
    seen: set[tuple[str, str, EdgeKind, str]] = set()

    def add(edge: Edge) -> None:
        # two edges between the same pair (two bindings, say) each keep their own reason
        key = (edge.source, edge.target, edge.kind, edge.reason)
        if key not in seen:
            seen.add(key)
            edges.append(edge)

    for edge in [*inv.graph.incoming(node), *inv.graph.outgoing(node)]:
        add(edge)
    for ident in own:
        for edge in inv.graph.incoming(ident):
            if edge.kind is not EdgeKind.MEMBER:
                add(edge)
    # every edge among what the agent can become, not only the shortest paths
    for source in [*own, *(target for target, _ in reach)]:
        for edge in inv.graph.outgoing(source):
            if edge.kind in TRAVERSABLE:
                add(edge)
    return AgentView(agent, grants, edges, inv.graph.delegation_tree(agent))
