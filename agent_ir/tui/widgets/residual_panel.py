"""ResidualPanel: which paths the attacker holds still work, as the probe last saw them.

One line per working path: provider, path and whether the verdict came from the lab's
behaviour or from the state it holds. Hidden until the facilitator shows it.

No bindings (the exercise screen's ``a`` shows and hides it). Reactive state: none.
"""

from __future__ import annotations

from textual.widgets import Static

from agent_ir.tabletop.probe import PathResult, residual
from agent_ir.tui.safe import plain


class ResidualPanel(Static):
    """Residual access: the working paths from the latest probe."""

    DEFAULT_CSS = """
    ResidualPanel {
        height: auto; max-height: 12; padding: 0 1; border: round $warning; overflow-y: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.working: list[PathResult] = []

    def probing(self) -> None:
        """Say a probe is running."""
        self.border_title = "Residual access"
        self.update("probing every path the attacker holds…")

    def show_results(self, results: list[PathResult]) -> None:
        """Show the paths that still work out of ``results``."""
        self.working = residual(results)
        self.border_title = f"Residual access: {len(self.working)} of {len(results)} paths work"
        if not self.working:
            self.update("None: no path the attacker holds still works.")
            return
        self.update(
            plain("\n".join(f"[{r.provider}] {r.path}  ({r.decided_by})" for r in self.working))
        )
