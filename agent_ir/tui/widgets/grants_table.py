"""GrantsTable: what the agent may do, per provider, its own grants and those it reaches.

Risky grants carry a text marker (``[ADMIN]``, ``[WILDCARD]``) as well as a colour; a
grant held by an identity the agent can become says ``reachable`` and names that identity.

Bindings: DataTable's (arrows, page keys). Reactive state: ``risky`` (how many risky
grants are shown).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from agent_ir.engine.graph import Graph
from agent_ir.engine.inventory import AgentView
from agent_ir.tui.safe import SafeTable


class GrantsTable(SafeTable):
    """The Access tab."""

    risky: reactive[int] = reactive(0)

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("RISK", "PROVIDER", "GRANT", "HOLDER", "KIND")

    def show(self, view: AgentView, graph: Graph) -> None:
        """List the grants, grouped by provider (canonical order), risky first."""
        self.clear()
        grants = sorted(
            view.grants,
            key=lambda pair: (pair[0].provider, pair[0].risk is None, pair[1]),
        )
        risky = 0
        for grant, reachable in grants:
            if grant.risk:
                risky += 1
                mark = Text(f"[{grant.risk.upper()}]", style="bold red")
            else:
                mark = Text("-")
            holder = graph.label(grant.identity).split(" ", 2)[-1]
            if reachable:
                holder = f"reachable: {holder}"
            self.add_row(mark, grant.provider, grant.grant, holder, grant.kind)
        if not grants:
            self.add_row("-", "-", "no grants found", "", "")
        self.risky = risky
