"""The console shows hostile provider strings as text: controls visible, markup inert."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text

from agent_ir.factory import make_app
from agent_ir.settings import Settings
from agent_ir.tui.safe import clean, shown
from tests.tui.helpers import open_agent, settle

_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
OKTA_AGENT = "okta-esc\x1b]0;pwned\x07\x1b[2J[reverse]"


def test_clean_keeps_styles_and_makes_controls_visible() -> None:
    text = Text("name ")
    text.append("evil\x1b[2J", style="bold")
    text.append("\nnext")
    safe = clean(text)
    assert safe.plain == "name evil\\x1b[2J\nnext"
    assert any(
        span.style == "bold" and safe.plain[span.start : span.end] == "evil\\x1b[2J"
        for span in safe.spans
    )
    assert shown("[bold]x[/]").plain == "[bold]x[/]"  # markup never parsed
    assert shown("a\x07").plain == "a\\x07"


def _screen_text(app: object) -> str:
    svg = app.export_screenshot()  # type: ignore[attr-defined]
    found = _RAW.search(svg)
    assert found is None, svg[max(0, found.start() - 300) : found.end() + 100]
    return str(svg)


async def test_agent_list_and_detail_show_escapes_as_text(
    lab_settings: Settings, tmp_path: Path
) -> None:
    settings = lab_settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(settings, playbook_dirs=(tmp_path / "playbooks",))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        listed = _screen_text(app)
        assert "okta-esc\\x1b]0;pwned" in listed
        assert "[reverse]" in listed  # markup shown as the characters it is
        await open_agent(pilot, "okta-esc")
        detail = _screen_text(app)
        assert "okta-esc\\x1b]0;pwned" in detail
        await pilot.press("r")
        await settle(pilot)
        _screen_text(app)
