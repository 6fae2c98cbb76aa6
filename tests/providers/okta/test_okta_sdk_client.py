"""The adapter's okta client mixes in only the SDK API classes it calls: every SDK method
the adapter names must be on it, and it must be set up exactly as ``okta.client.Client``
is, so that an SDK upgrade that changes either is caught here rather than in a revoke."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from agent_ir.providers.okta import client as okta_client

ADAPTER = Path(okta_client.__file__).parent


def _named_sdk_methods(full: type[Any]) -> set[str]:
    """String literals in the adapter's modules that name a method of one of the SDK's API
    classes (the adapter calls them by name through ``OktaClient.call``)."""
    api_methods = {
        name
        for base in full.__mro__[1:]
        if base.__module__.startswith("okta.api.")
        for name, value in vars(base).items()
        if callable(value) and not name.startswith("_")
    }
    named: set[str] = set()
    for path in ADAPTER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named.add(node.value)
    return named & api_methods


def _config() -> dict[str, Any]:
    return {
        "orgUrl": "https://example.okta.com",
        "authorizationMode": "SSWS",
        "token": "00not-a-real-token",
        "rateLimit": {"maxRetries": 1},
        "requestTimeout": 5,
        "userAgent": "agent-ir",
    }


def test_every_sdk_method_the_adapter_names_is_on_its_client() -> None:
    from okta.client import Client

    _, light = okta_client._import_sdk()
    named = _named_sdk_methods(Client)
    assert {"list_users", "revoke_api_token", "revoke_user_sessions"} <= named
    missing = sorted(m for m in named if not callable(getattr(light, m, None)))
    assert missing == []


def test_it_is_set_up_as_the_sdk_client_is() -> None:
    from okta.client import Client

    _, light = okta_client._import_sdk()
    ours, theirs = light(_config()), Client(_config())
    assert set(vars(ours)) == set(vars(theirs))
    assert ours.get_config() == theirs.get_config()
    executor, reference = ours.get_request_executor(), theirs.get_request_executor()
    assert type(executor) is type(reference)
    assert vars(executor).keys() == vars(reference).keys()
    assert executor._base_url == reference._base_url
    assert executor._default_headers == reference._default_headers
