"""The agent table on its own: filtering, sorting and opening, on made-up rows."""

from __future__ import annotations

import dataclasses

import pytest
from textual.app import App, ComposeResult

from agent_ir.tui.format import AgentRow
from agent_ir.tui.widgets.agent_table import COLUMNS, AgentTable


def _row(name: str, risk: str, rank: int, creds: int, owner: str = "a@corp.test") -> AgentRow:
    return AgentRow(
        name=name,
        owner=owner,
        providers="aws",
        risk=risk,
        risk_rank=rank,
        credentials=creds,
        oldest_days=creds * 10 or None,
        status="active",
        haystack=f"{name} {owner} aws {risk} active".lower(),
    )


ROWS = [
    _row("billing-bot", "HIGH", 2, 1),
    _row("scraper", "CRITICAL", 3, 0, owner="(no owner)"),
    _row("helper", "none", -1, 3),
]


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield AgentTable()

    def on_mount(self) -> None:
        table = self.query_one(AgentTable)
        table.set_rows(ROWS)
        table.focus()

    def on_agent_table_selected(self, event: AgentTable.Selected) -> None:
        self.opened.append(event.name)


async def test_rows_sort_by_risk_first_then_cycle_and_reverse() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(AgentTable)
        assert table.visible_names == ["scraper", "billing-bot", "helper"]
        await pilot.press("s")  # risk → credentials
        assert table.sort_column == "credentials"
        assert table.visible_names == ["helper", "billing-bot", "scraper"]
        await pilot.press("o")
        assert table.visible_names == ["scraper", "billing-bot", "helper"]
        assert "CREDS▲" in table.render_line(0).text


async def test_filter_matches_owner_and_risk_words_and_keeps_the_cursor() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(AgentTable)
        await pilot.press("down")
        assert table.current == "billing-bot"
        table.filter_text = "no owner"
        assert table.visible_names == ["scraper"]
        table.filter_text = "high"
        assert table.visible_names == ["billing-bot"]
        table.filter_text = "zzz"
        assert table.visible_names == []
        assert "no agent matches 'zzz'" in table.render_line(1).text
        table.filter_text = ""
        assert table.current == "scraper"
        await pilot.press("end", "enter")
        assert app.opened == ["helper"]


async def test_risk_is_written_not_only_coloured() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)):
        line = app.query_one(AgentTable).render_line(1).text
        assert "scraper" in line and "CRITICAL" in line and "(no owner)" in line


class Many(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield AgentTable()

    def on_agent_table_selected(self, event: AgentTable.Selected) -> None:
        self.opened.append(event.name)

    def on_mount(self) -> None:
        table = self.query_one(AgentTable)
        table.set_rows([_row(f"agent-{n:03}", "none", -1, 1) for n in range(60)])
        table.focus()


async def test_the_highlighted_row_stays_visible_after_a_resize() -> None:
    app = Many()
    async with app.run_test(size=(80, 40)) as pilot:
        table = app.query_one(AgentTable)
        for _ in range(30):
            await pilot.press("down")
        chosen = table.current
        assert table.cursor == 30 and chosen is not None
        await pilot.resize_terminal(80, 10)
        await pilot.pause()
        top = int(table.scroll_offset.y)
        assert top <= table.cursor < top + table.size.height - 1
        await pilot.press("enter")
        assert app.opened == [chosen]


def _expected(rows: list[AgentRow], needle: str, column: str, reverse: bool) -> list[str]:
    """What the table must show, worked out the plain way: filter, then sort."""
    kept = [r for r in rows if needle in r.haystack]
    kept.sort(key=lambda r: r.sort_key(column), reverse=reverse)
    return [r.name for r in kept]


async def test_kept_orders_show_what_a_fresh_filter_and_sort_would() -> None:
    """The orders sorted once and the filter narrowed from what is shown give the same
    rows in the same order as filtering and sorting from scratch, however the filter
    grows, shrinks or is cleared and whatever the sort."""
    app = Many()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(AgentTable)
        rows = [
            _row(f"agent-{n:03}", ("none", "HIGH", "CRITICAL")[n % 3], n % 3, n % 5)
            for n in range(60)
        ]
        table.set_rows(rows)
        for needle in ("a", "agent-0", "agent-01", "agent-0", "", "high", "high agent", ""):
            table.filter_text = needle
            assert table.visible_names == _expected(rows, needle, table.sort_column, True)
        table.filter_text = "agent-0"
        for _ in range(len(COLUMNS) * 2):
            await pilot.press("s")
            if table.sort_column == "owner":
                await pilot.press("o")
            expected = _expected(rows, "agent-0", table.sort_column, table.sort_reverse)
            assert table.visible_names == expected
        table.filter_text = ""
        assert table.shown == len(rows) == table.total
        expected = _expected(rows, "", table.sort_column, table.sort_reverse)
        assert table.visible_names == expected


STATES = {
    "contained": "contained",
    "contained until 09:12Z": "cont. until 09:12Z",
    "OPEN (paths remain)": "OPEN: paths left",
    "partly (4/6 off)": "partly (4/6 off)",
    "partly (10/12 off)": "partly (10/12 off)",
    "partly (100/120 off)": "partly 100/120 off",
    "disabled": "disabled",
    "active": "active",
}


class States(App[None]):
    def compose(self) -> ComposeResult:
        yield AgentTable()

    def on_mount(self) -> None:
        rows = [
            dataclasses.replace(_row(f"agent-{n}", "HIGH", 2, 1), status=status)
            for n, status in enumerate(STATES)
        ]
        self.query_one(AgentTable).set_rows(rows)


@pytest.mark.parametrize(("width", "compact"), [(80, True), (200, False)])
async def test_every_containment_state_reads_whole(width: int, compact: bool) -> None:
    """At 80 columns every state fits its column, in fewer letters where it must; wide
    enough, in full."""
    app = States()
    async with app.run_test(size=(width, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(AgentTable)
        lines = {table.render_line(y).text.rstrip() for y in range(1, len(STATES) + 1)}
        for full, short in STATES.items():
            word = short if compact else full
            assert any(line.endswith(" " + word) for line in lines), (word, lines)
