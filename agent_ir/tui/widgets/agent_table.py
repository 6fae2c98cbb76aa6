"""AgentTable: the agent list, drawn line by line so ten thousand agents stay fast.

Only the visible lines are rendered. Each column's order is sorted once per set of rows
and kept (the reverse order is the same list read backwards), so a filter keystroke never
sorts: it scans a prepared lower-case haystack per row in the kept order (only the rows
still shown when the filter grows), and clearing the filter shows the kept order as it
is. A keystroke costs at most one pass over the rows and one screenful of drawing. Risk is written as a word ("CRITICAL") and also coloured;
the sorted column carries a ▲/▼ marker in its header.

Bindings: up/down/page up/page down/home/end move the cursor; enter opens the agent
(posts :class:`AgentTable.Selected`); ``s`` cycles the sort column; ``o`` reverses the
order. Clicking a header sorts by it; clicking a row moves the cursor, clicking it
again opens it.

Reactive state: ``cursor``, ``sort_column``, ``sort_reverse``, ``filter_text``,
``empty_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import methodcaller

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agent_ir.textsafe import visible
from agent_ir.tui.format import AgentRow, compact_status


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its row attribute, header, least width and share of spare width."""

    key: str
    title: str
    width: int
    flex: int = 0


COLUMNS = (
    Column("name", "AGENT", 13, 2),
    Column("owner", "OWNER", 10, 2),
    Column("providers", "PROVIDERS", 10, 1),
    Column("risk", "RISK", 8),
    Column("credentials", "CREDS", 6),
    Column("oldest", "OLDEST", 7),
    Column("status", "STATUS", 18, 1),
)
"""At 80 columns the least widths fill the line: the containment state comes before the
owner (an owner cut short is still found by the filter), so every state fits whole,
in its compact form where the full one does not (see :func:`compact_status`)."""
SORTABLE = tuple(c.key for c in COLUMNS)
_RISK_CLASS = {
    "CRITICAL": "agent-table--critical",
    "HIGH": "agent-table--high",
    "MEDIUM": "agent-table--medium",
}


class AgentTable(ScrollView, can_focus=True):
    """Every agent, one line each: filterable, sortable, virtual."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up_rows", "Page up", show=False),
        Binding("pagedown", "page_down_rows", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("o", "reverse_sort", "Order"),
    ]

    COMPONENT_CLASSES = {
        "agent-table--header",
        "agent-table--cursor",
        "agent-table--critical",
        "agent-table--high",
        "agent-table--medium",
        "agent-table--empty",
    }

    DEFAULT_CSS = """
    AgentTable { height: 1fr; }
    AgentTable > .agent-table--header { text-style: bold; background: $boost; }
    AgentTable > .agent-table--cursor { background: $accent 30%; }
    AgentTable:focus > .agent-table--cursor { background: $accent; color: $text; }
    AgentTable > .agent-table--critical { color: $error; text-style: bold; }
    AgentTable > .agent-table--high { color: $warning; text-style: bold; }
    AgentTable > .agent-table--medium { color: $warning; }
    AgentTable > .agent-table--empty { color: $text-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0)
    sort_column: reactive[str] = reactive("risk")
    sort_reverse: reactive[bool] = reactive(True)
    filter_text: reactive[str] = reactive("")
    empty_text: reactive[str] = reactive("loading…")

    class Selected(Message):
        """The responder opened an agent."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[AgentRow] = []
        self._visible: list[AgentRow] = []
        self._orders: dict[tuple[str, bool], list[AgentRow]] = {}
        """Every row in each (column, reverse) order asked for so far, for these rows."""
        self._shown_for: tuple[str, str, bool] | None = None
        """The needle, column and direction ``_visible`` was made for."""
        self._widths = [c.width for c in COLUMNS]

    # --- data ------------------------------------------------------------------------

    def set_rows(self, rows: list[AgentRow]) -> None:
        """Replace every row, keeping the cursor on the same agent when it is still there."""
        keep = self.current
        self._rows = rows
        self._orders = {}
        self._shown_for = None
        self._refilter(keep)

    @property
    def current(self) -> str | None:
        """The agent under the cursor."""
        if 0 <= self.cursor < len(self._visible):
            return self._visible[self.cursor].name
        return None

    @property
    def visible_names(self) -> list[str]:
        """The agents shown, in order."""
        return [row.name for row in self._visible]

    @property
    def shown(self) -> int:
        """How many agents the filter lets through."""
        return len(self._visible)

    @property
    def total(self) -> int:
        """How many agents there are, filtered or not."""
        return len(self._rows)

    def _order(self, column: str, reverse: bool) -> list[AgentRow]:
        """Every row sorted by ``column``, sorted once and kept: names are unique, so the
        descending order is the ascending one read backwards."""
        found = self._orders.get((column, reverse))
        if found is None:
            ascending = self._orders.get((column, False))
            if ascending is None:
                ascending = sorted(self._rows, key=methodcaller("sort_key", column))
                self._orders[(column, False)] = ascending
            found = ascending[::-1] if reverse else ascending
            self._orders[(column, reverse)] = found
        return found

    def _refilter(self, keep: str | None = None) -> None:
        needle = self.filter_text.strip().lower()
        column, reverse = self.sort_column, self.sort_reverse
        ordered = self._order(column, reverse)
        before = self._shown_for
        if not needle:
            rows = ordered
        elif before is not None and before[1:] == (column, reverse) and before[0] in needle:
            # the filter grew: only the rows shown now can still match
            rows = [r for r in self._visible if needle in r.haystack]
        else:
            rows = [r for r in ordered if needle in r.haystack]
        self._visible = rows
        self._shown_for = (needle, column, reverse)
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        target = next((n for n, r in enumerate(rows) if r.name == keep), 0) if keep else 0
        self.cursor = min(target, max(len(rows) - 1, 0))
        self._scroll_to_cursor()
        self.refresh()

    def watch_filter_text(self) -> None:
        """Filter again."""
        self._refilter(self.current)

    def watch_sort_column(self) -> None:
        """Sort again."""
        self._refilter(self.current)

    def watch_sort_reverse(self) -> None:
        """Sort again."""
        self._refilter(self.current)

    def watch_cursor(self) -> None:
        """Redraw the cursor line."""
        self.refresh()

    def watch_empty_text(self) -> None:
        """Redraw the empty-state line."""
        self.refresh()

    # --- actions ---------------------------------------------------------------------

    def _move(self, delta: int) -> None:
        if self._visible:
            self.cursor = max(0, min(len(self._visible) - 1, self.cursor + delta))
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        rows_shown = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows_shown:
            self.scroll_to(y=self.cursor - rows_shown + 1, animate=False)

    def action_cursor_up(self) -> None:
        """Move up one agent."""
        self._move(-1)

    def action_cursor_down(self) -> None:
        """Move down one agent."""
        self._move(1)

    def action_page_up_rows(self) -> None:
        """Move up a screenful."""
        self._move(-max(self.size.height - 2, 1))

    def action_page_down_rows(self) -> None:
        """Move down a screenful."""
        self._move(max(self.size.height - 2, 1))

    def action_first(self) -> None:
        """Go to the first agent."""
        self._move(-len(self._visible))

    def action_last(self) -> None:
        """Go to the last agent."""
        self._move(len(self._visible))

    def action_select(self) -> None:
        """Open the agent under the cursor."""
        if self.current is not None:
            self.post_message(self.Selected(self.current))

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        index = SORTABLE.index(self.sort_column)
        self.sort_column = SORTABLE[(index + 1) % len(SORTABLE)]

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse

    def on_click(self, event: events.Click) -> None:
        """Sort by a clicked header; move to (or open) a clicked row."""
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                if column == self.sort_column:
                    self.sort_reverse = not self.sort_reverse
                else:
                    self.sort_column = column
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._visible):
            if index == self.cursor:
                self.action_select()
            self.cursor = index

    def _column_at(self, x: int) -> str | None:
        left = 1
        for column, width in zip(COLUMNS, self._widths, strict=True):
            if left <= x < left + width + 1:
                return column.key
            left += width + 1
        return None

    # --- drawing ---------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        """Share spare width among the flexible columns."""
        usable = event.size.width - 2 - (len(COLUMNS) - 1)
        spare = max(usable - sum(c.width for c in COLUMNS), 0)
        flex = sum(c.flex for c in COLUMNS)
        widths = [c.width + (spare * c.flex) // flex for c in COLUMNS]
        widths[0] += max(usable - sum(widths), 0)
        self._widths = widths
        self.virtual_size = Size(event.size.width, len(self._visible) + 1)
        self._scroll_to_cursor()

    def render_line(self, y: int) -> Strip:
        """One line: the header, an agent, or the empty-state text."""
        width = self.size.width
        base = self.rich_style
        if y == 0:
            return self._line(self._header_cells(), width, base, header=True)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._visible):
            if index == 0:
                text = self.empty_text
                if self._rows and self.filter_text:
                    text = f"no agent matches {self.filter_text!r}"
                style = base + self.get_component_rich_style("agent-table--empty")
                return Strip([Segment(" " + text, style)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        row = self._visible[index]
        return self._line([visible(row.cell(c.key)) for c in COLUMNS], width, base, row=row, index=index)

    def _header_cells(self) -> list[str]:
        marker = "▼" if self.sort_reverse else "▲"
        return [c.title + (marker if c.key == self.sort_column else "") for c in COLUMNS]

    def _line(
        self,
        cells: list[str],
        width: int,
        base: Style,
        *,
        header: bool = False,
        row: AgentRow | None = None,
        index: int = -1,
    ) -> Strip:
        if header:
            line_style = base + self.get_component_rich_style("agent-table--header")
        elif index == self.cursor:
            line_style = base + self.get_component_rich_style("agent-table--cursor")
        else:
            line_style = base
        segments = [Segment(" ", line_style)]
        for position, (column, cell, cell_width) in enumerate(
            zip(COLUMNS, cells, self._widths, strict=True)
        ):
            style = line_style
            if row is not None and column.key == "risk" and row.risk in _RISK_CLASS:
                style = line_style + self.get_component_rich_style(_RISK_CLASS[row.risk])
            if column.key == "status" and len(cell) > cell_width:
                cell = compact_status(cell)
            text = cell if len(cell) <= cell_width else cell[: cell_width - 1] + "…"
            segments.append(Segment(set_cell_size(text, cell_width), style))
            if position < len(COLUMNS) - 1:
                segments.append(Segment(" ", line_style))
        return Strip(segments).adjust_cell_length(width, line_style)
