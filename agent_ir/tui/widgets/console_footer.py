"""ConsoleFooter: the key line, kept whole at 80 columns.

Below 120 columns it drops the padding around each key (Textual's compact form) and,
below 100, the palette's own entry (``:`` and ctrl+p are in the ``?`` help). When the
keys still do not fit in one line (an exercise adds Inject, Residual and End to a full
list screen) it takes a second line, so the app-wide keys that come last (Keys, Quit,
the exercise's keys) are never cut off.

No bindings of its own. Reactive state: Footer's ``compact`` and ``show_command_palette``,
set from the width.
"""

from __future__ import annotations

from math import ceil

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer

COMPACT_BELOW = 120
PALETTE_FROM = 100


class ConsoleFooter(Footer):
    """Textual's footer: compact on narrow terminals, two lines when one is too short."""

    def compose(self) -> ComposeResult:
        """Textual's keys, laid out in two rows when one row would be cut."""
        keys = list(super().compose())
        width = self.app.size.width
        needed = sum(_width(key) + 1 for key in keys)
        rows = 2 if needed > width and len(keys) > 1 else 1
        # inline styles: they win over Footer's own rules
        styles = self.styles
        styles.layout = "grid" if rows == 2 else "horizontal"
        styles.height = rows
        if rows == 2:
            styles.grid_size_columns = ceil(len(keys) / 2)
            styles.grid_columns = "auto"
            styles.grid_rows = "1"
            for key in keys:
                # padding, not margin: an auto column counts it, so no key is cut
                key.styles.margin = (0, 0, 0, 0)
                key.styles.padding = (0, 1, 0, 0)
        yield from keys

    def on_resize(self, event: events.Resize) -> None:
        """Fit the keys to the new width."""
        width = self.app.size.width
        compact, palette = width < COMPACT_BELOW, width >= PALETTE_FROM
        if (compact, palette) != (self.compact, self.show_command_palette):
            self.compact = compact
            self.show_command_palette = palette
            self.refresh(recompose=True)


def _width(widget: object) -> int:
    """The cells one compact footer key takes: its key, a space, its description."""
    key = str(getattr(widget, "key_display", "") or "")
    description = str(getattr(widget, "description", "") or "")
    return len(key) + 1 + len(description)
