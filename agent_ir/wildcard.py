"""Wildcard matching for provider patterns (IAM ``*`` and ``?``), without backtracking.

Patterns come from provider data anyone with write access to one policy can shape, so a
translated regex (whose backtracking is exponential on ``*e*e*e*…z``) would let them stall
the kill switch. This matcher keeps only the last ``*`` it passed: every input character is
compared at most once per pattern position, so the cost is bounded by
``len(pattern) * len(value)`` whatever the two hold.
"""

from __future__ import annotations


def glob_match(pattern: str, value: str, *, ignore_case: bool = True) -> bool:
    """Whether ``value`` matches ``pattern`` in full; ``*`` is any run (also empty), ``?`` one
    character, everything else literal. Case-insensitive unless told otherwise, as IAM
    compares action names."""
    if ignore_case:
        pattern, value = pattern.casefold(), value.casefold()
    p = v = 0
    star = -1
    resume = 0
    while v < len(value):
        if p < len(pattern) and pattern[p] in ("?", value[v]):
            p += 1
            v += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, v
            p += 1
        elif star >= 0:
            # Let the last star swallow one more character and retry from just after it;
            # earlier stars never need to move (any longer match for them is covered).
            resume += 1
            p, v = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
