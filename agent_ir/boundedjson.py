"""JSON from files an attacker may have written, parsed within bounds.

Python's parser recurses once per nesting level, so a journal line of 200,000 ``[`` ends
in ``RecursionError`` instead of a verdict on that file. The depth is measured first by
one linear pass (brackets outside strings), and the size is capped, so a hostile document
is refused as damaged and never stops the work on the others.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100
MAX_BYTES = 16 * 1024 * 1024


class TooLarge(ValueError):
    """The document exceeds the size or nesting bound."""


def nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def loads(raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises ``TooLarge`` (a ``ValueError``) past either bound."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise TooLarge(f"{len(data)} bytes; the limit is {max_bytes}")
    depth = nesting_depth(data)
    if depth > max_depth:
        raise TooLarge(f"nested {depth} deep; the limit is {max_depth}")
    return json.loads(data)
