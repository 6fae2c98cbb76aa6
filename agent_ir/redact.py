"""Secret redaction for everything agent-ir writes: journal, JSON output, logs, reports.

The product never needs a secret's value after using it, so anything that looks like one
is replaced with ``[redacted]`` before it is written anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"secret|passw(or)?d|passphrase|privatekey|token|apikey|accesskey|sessionkey|signingkey"
    r"|credential|authorization|cookie|connectionstring"
)
# A secret-looking key whose last word is one of these points at or describes a secret.
_SAFE_WORD = re.compile(
    r"ids?|names?|hint|type|kind|status|arn|env|file|path|var|uri|url|count|created|expires"
    r"|expiry|used|date|time"
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)", re.S)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"\b(bearer|ssws)\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-looking value replaced by ``[redacted]``.

    Strings under secret-named keys are redacted, unless the key names an id, name or hint
    (``AccessKeyId``, ``keyId``, ``token_id``); containers under them are searched the same
    way. Private keys, JWTs, bearer/SSWS tokens and AWS secret keys next to a key id are
    redacted wherever they appear.
    """
    return _redact(value, secret=False)


def _redact(value: Any, *, secret: bool) -> Any:
    if isinstance(value, Mapping):
        beside_key_id = any(isinstance(v, str) and _AWS_KEY_ID.search(v) for v in value.values())
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"key {key!r} is not a string")
            if beside_key_id and isinstance(item, str) and _AWS_SECRET.fullmatch(item):
                out[key] = REDACTED
            else:
                out[key] = _redact(item, secret=_secret_key(key))
        return out
    if isinstance(value, list | tuple):
        return [_redact(item, secret=secret) for item in value]
    if isinstance(value, str):
        return REDACTED if secret and value else _redact_text(value)
    return value


def _secret_key(key: str) -> bool:
    words = [word.lower() for word in _WORD.findall(key)]
    secret = bool(_SECRET_KEY.search("".join(words)))
    return secret and not _SAFE_WORD.fullmatch(words[-1])


def _redact_text(text: str) -> str:
    text = _JWT.sub(REDACTED, _PEM.sub(REDACTED, text))
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _AWS_SECRET.sub(REDACTED, text) if _AWS_KEY_ID.search(text) else text
