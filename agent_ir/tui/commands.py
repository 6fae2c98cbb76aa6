"""The command palette's actions: every key binding of the screen it was opened on (so
nothing is reachable only by key), plus opening any agent by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.binding import ActiveBinding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from agent_ir.tui.messages import OpenAgent
from agent_ir.tui.session import ConsoleSession

_AGENT_HITS = 50


class ConsoleCommands(Provider):
    """Bindings as commands, and ``open agent NAME`` for every agent."""

    def _actions(self) -> list[tuple[str, str, Callable[[], Awaitable[None]]]]:
        """(description, key help, runner) for each enabled, described binding."""
        seen: set[str] = set()
        found: list[tuple[str, str, Callable[[], Awaitable[None]]]] = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            found.append((binding.description, f"key {key}", partial(self._run, active)))
        return found

    async def _run(self, active: ActiveBinding) -> None:
        await self.app.run_action(active.binding.action, active.node)

    def _session(self) -> ConsoleSession | None:
        session = getattr(self.app, "session", None)
        return session if isinstance(session, ConsoleSession) else None

    async def discover(self) -> Hits:
        """Every action of the current screen."""
        for description, help_text, run in self._actions():
            yield DiscoveryHit(description, run, help=help_text)

    async def search(self, query: str) -> Hits:
        """Actions and agents matching ``query``."""
        matcher = self.matcher(query)
        for description, help_text, run in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description), run, help=help_text)
        session = self._session()
        if session is None or session.inventory is None or len(query) < 2:
            return
        needle = query.lower().removeprefix("open").strip().removeprefix("agent").strip()
        shown = 0
        for agent in session.inventory.agents:
            if needle and needle not in agent.name.lower():
                continue
            text = f"open agent {agent.name}"
            yield Hit(
                max(matcher.match(text), 0.5),
                matcher.highlight(text),
                partial(self.app.post_message, OpenAgent(agent.name)),
                help=f"owner {agent.owner or '(no owner)'}",
            )
            shown += 1
            if shown >= _AGENT_HITS:
                return
