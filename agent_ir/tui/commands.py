"""The command palette's actions, each naming what it acts on: every key binding of the
screen it was opened on (so nothing is reachable only by key), worded by the screen
("Revoke invoice-agent…" rather than "Revoke"); and, as the responder types, opening,
revoking or running a playbook on any agent by name, and opening or restoring any
incident of the journal by id."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from functools import partial

from textual.binding import ActiveBinding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message

from agent_ir.engine import journal as jr
from agent_ir.errors import AgentIRError
from agent_ir.tui.messages import OpenAgent, OpenIncident, PickPlaybook, Restore, Revoke
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.session import ConsoleSession

_AGENT_HITS = 50
_INCIDENT_HITS = 20


class ConsoleCommands(Provider):
    """Bindings as commands, and agents and incidents by name."""

    def _actions(self) -> list[tuple[str, str, Callable[[], Awaitable[None]]]]:
        """(text naming the target, key help, runner) for each enabled, described binding."""
        screen = self.screen
        seen: set[str] = set()
        found: list[tuple[str, str, Callable[[], Awaitable[None]]]] = []
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            text = binding.description
            if isinstance(screen, ConsoleScreen):
                text = screen.command_text(binding.action, text)
            found.append((text, f"key {key}", partial(self._run, active)))
        return found

    async def _run(self, active: ActiveBinding) -> None:
        await self.app.run_action(active.binding.action, active.node)

    def _session(self) -> ConsoleSession | None:
        session = getattr(self.app, "current_session", None)
        return session if isinstance(session, ConsoleSession) else None

    async def discover(self) -> Hits:
        """Every action of the current screen."""
        for description, help_text, run in self._actions():
            yield DiscoveryHit(description, run, help=help_text)

    async def search(self, query: str) -> Hits:
        """Actions, agents and incidents matching ``query``."""
        matcher = self.matcher(query)
        for description, help_text, run in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description), run, help=help_text)
        session = self._session()
        if session is None or len(query) < 2:
            return
        for text, message, help_text in self._agent_commands(session, query):
            yield Hit(
                max(matcher.match(text), 0.5),
                matcher.highlight(text),
                partial(self.app.post_message, message),
                help=help_text,
            )
        for text, message, help_text in await self._incident_commands(session, query):
            yield Hit(
                max(matcher.match(text), 0.5),
                matcher.highlight(text),
                partial(self.app.post_message, message),
                help=help_text,
            )

    def _agent_commands(
        self, session: ConsoleSession, query: str
    ) -> Iterator[tuple[str, Message, str]]:
        """Open, revoke and run a playbook on each agent whose name the query holds."""
        if session.inventory is None:
            return
        words = query.lower().split()
        verbs = {"open", "agent", "revoke", "run", "playbook", "on", "a"}
        needle = " ".join(w for w in words if w not in verbs)
        shown = 0
        for agent in session.inventory.agents:
            if needle and needle not in agent.name.lower():
                continue
            owner = f"owner {agent.owner or '(no owner)'}"
            yield f"Open agent {agent.name}", OpenAgent(agent.name), owner
            yield f"Revoke {agent.name}…", Revoke(agent.name), "plan contain-agent, then confirm"
            yield f"Run a playbook on {agent.name}…", PickPlaybook(agent.name), owner
            shown += 1
            if shown >= _AGENT_HITS:
                return

    async def _incident_commands(
        self, session: ConsoleSession, query: str
    ) -> list[tuple[str, Message, str]]:
        """Open and restore each journal incident whose id or agent the query holds."""
        words = query.lower().split()
        if not any(w.startswith(("inc", "ir-", "rest")) for w in words):
            return []
        try:
            found = await asyncio.to_thread(session.incidents)
        except AgentIRError:
            return []
        verbs = {"open", "incident", "restore"}
        needle = " ".join(w for w in words if w not in verbs)
        commands: list[tuple[str, Message, str]] = []
        for item in found[:_INCIDENT_HITS * 5]:
            if needle and needle not in f"{item.id} {item.agent or ''}".lower():
                continue
            commands += _incident_pair(item)
            if len(commands) >= 2 * _INCIDENT_HITS:
                break
        return commands


def _incident_pair(item: jr.IncidentSummary) -> list[tuple[str, Message, str]]:
    agent = item.agent or ""
    about = f"{item.playbook or 'playbook?'} on {agent or '?'} · {item.status}"
    return [
        (f"Open incident {item.id}", OpenIncident(item.id, agent), about),
        (f"Restore incident {item.id}…", Restore(item.id, agent), about),
    ]
