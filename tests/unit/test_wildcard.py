"""Wildcard matching: IAM semantics, and no backtracking blow-up on hostile patterns."""

from __future__ import annotations

import fnmatch
import itertools
import re

import pytest

from agent_ir.providers.aws import policy
from agent_ir.wildcard import glob_match
from tests.hangguard import bounded


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything/at:all", True),
        ("", "", True),
        ("", "a", False),
        ("a", "", False),
        ("?", "", False),
        ("?", "x", True),
        ("??", "x", False),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("iam:?etUser", "iam:GetUser", True),
        ("S3:GET*", "s3:getobject", True),
        ("arn:aws:iam::1:role/*", "arn:aws:iam::1:role/a/b/c", True),
        ("arn:aws:iam::1:role/*", "arn:aws:iam::1:user/a", False),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbYcZ", False),
        ("a*b*c", "abcbc", True),
        ("*a", "bbbba", True),
        ("*a", "bbbb", False),
        ("a**b", "ab", True),
        ("*?*", "", False),
        ("*?*", "q", True),
        ("[ab]", "a", False),  # brackets are literal in IAM, unlike fnmatch
        ("[ab]", "[ab]", True),
        (".*", "xyz", False),  # regex metacharacters are literal
        (".*", ".xyz", True),
        ("a\\*", "a\\anything", True),
    ],
)
def test_iam_semantics(pattern: str, value: str, expected: bool) -> None:
    assert glob_match(pattern, value) is expected
    assert policy.matches(pattern, value) is expected


def test_case_sensitive_when_asked() -> None:
    assert not glob_match("Role/*", "role/x", ignore_case=False)
    assert glob_match("role/*", "role/x", ignore_case=False)


def _reference(pattern: str, value: str) -> bool:
    # A regex is a fine oracle on short inputs, where backtracking cannot hurt.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(body, value, re.DOTALL) is not None


def test_agrees_with_a_regex_oracle_on_every_short_case() -> None:
    alphabet = "ab*?"
    patterns = ["".join(p) for n in range(5) for p in itertools.product(alphabet, repeat=n)]
    values = ["".join(v) for n in range(5) for v in itertools.product("ab", repeat=n)]
    for pattern in patterns:
        for value in values:
            assert glob_match(pattern, value) == _reference(pattern, value), (pattern, value)
    assert fnmatch.fnmatchcase("ab", "a*")  # the oracle's cousin agrees on a plain case


def test_pathological_pattern_returns() -> None:
    """``role/*e*e*e*e*e*e*z`` against 200 ``e`` is exponential for a backtracking regex;
    the hang guard fails this test instead of hanging the suite."""
    bounded(_pathological)


def _pathological() -> None:
    pattern = "arn:aws:iam::111111111111:role/" + "*e" * 12 + "*z"
    value = "arn:aws:iam::111111111111:role/" + "e" * 2000
    assert not glob_match(pattern, value)
    assert not policy.matches(pattern, value)
    doc = {"Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": pattern}]}
    assert policy.allowing(doc, "sts:AssumeRole", value) is None
