"""One okta SDK client per adapter, opened inside the running event loop.

* TLS: the SDK's aiohttp session is replaced through its request executor with one whose
  connector trusts ``ca_bundle`` (the SDK cannot take an ``SSLContext`` in its config).
* Every HTTP request, the token request included, goes through the SDK's documented
  extension point, a custom ``HTTPClient``: it waits at the :class:`RateGate`, holds one of
  ``max_concurrency`` slots, counts the request and learns from the rate-limit headers.
* Typed SDK methods where its models fit; raw requests through the same request executor
  (same auth, retries and session) for what the SDK 3.4 lacks or models badly: AI agents,
  client roles and JWKS lists.
* Reads are retried a few times when the connection fails; writes are not (the engine
  reads the state again before retrying them).
* Identical reads in flight at once are sent once and their answer shared (a mass run's
  steps on one app each read the app's secrets or grants; Okta counts every request
  against the app family's per-minute limit). A read only joins one sent after the last
  write this client finished, so a read-back never gets an answer from before its write.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from agent_ir import boundedjson, errors
from agent_ir.providers.okta.boundary import (
    map_error,
    note_network_error,
    plain,
    sdk_errors,
    transport_error,
)
from agent_ir.providers.okta.config import OktaSettings, read_key_file
from agent_ir.providers.okta.ratelimit import RateGate

T = TypeVar("T")

_READ_ATTEMPTS = 3
_READ_BACKOFF_S = 0.3


class OktaClient:
    """The adapter's door to Okta (see the module docstring)."""

    def __init__(self, settings: OktaSettings) -> None:
        self.settings = settings
        self.gate = RateGate()
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._sdk: Any = None
        self._session: Any = None
        self._retired: list[Any] = []
        self._opening = asyncio.Lock()
        self._writes = 0
        """Writes finished so far: the generation a read may be shared within."""
        self._reads: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (token requests and retries included)."""
        return self.gate.requests

    @property
    def opened(self) -> bool:
        """Whether opening costs nothing more: the client exists, or the SDK's API
        classes are imported already (a second client in one process)."""
        return self._sdk is not None or _APIS[-1][0] in sys.modules

    async def sdk(self) -> Any:
        """The SDK client, created on first use inside the running loop."""
        async with self._opening:
            if self._sdk is None:
                self._sdk = await self._open()
        return self._sdk

    async def _open(self) -> Any:
        aiohttp, client_class = await asyncio.to_thread(_import_sdk)
        settings = self.settings
        config: dict[str, Any] = {
            "orgUrl": settings.org_url,
            "rateLimit": {"maxRetries": settings.max_retries},
            # The SDK sends its own per-request timeout, which replaces the session's: a 0
            # here would mean no deadline at all on any SDK call.
            "requestTimeout": settings.timeout_s,
            "httpClient": _gated_http_client(self.gate, self._slots),
            "userAgent": "agent-ir",
        }
        if settings.uses_private_key:
            config.update(
                authorizationMode="PrivateKey",
                clientId=settings.client_id,
                scopes=list(settings.scopes),
                privateKey=_read_key(settings),
                dpopEnabled=settings.dpop,
            )
            if settings.key_id:
                config["kid"] = settings.key_id
        else:
            config.update(authorizationMode="SSWS", token=_api_token(settings))
        try:
            client: Any = client_class(config)
        except ValueError as exc:
            first = str(exc).strip().splitlines()[:3]
            raise errors.AuthenticationError(
                "okta", "the okta SDK refused the configuration: " + " ".join(first)
            ) from None
        context = _tls_context(settings)
        connector = aiohttp.TCPConnector(ssl=context, limit=settings.max_concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=settings.timeout_s)
        )
        client.get_request_executor().set_session(self._session)
        return client

    async def _shared(self, key: tuple[Any, ...], read: Callable[[], Awaitable[T]]) -> T:
        """``read()``, or the answer of the identical read already in flight since the last
        finished write (see the module docstring)."""
        full = (self._writes, *key)
        task = self._reads.get(full)
        if task is None:
            task = asyncio.ensure_future(read())
            self._reads[full] = task

            def forget(done: asyncio.Future[Any]) -> None:
                self._reads.pop(full, None)
                if not done.cancelled():
                    done.exception()  # retrieved here: every joiner may have gone

            task.add_done_callback(forget)
        result: T = await asyncio.shield(task)
        return result

    async def _written(self, send: Callable[[], Awaitable[T]]) -> T:
        """A write: later reads no longer join reads sent before it finished."""
        try:
            return await send()
        finally:
            self._writes += 1

    async def call(self, what: str, method: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """One typed SDK call (``method`` by name): its data as plain JSON, and the answer's
        headers. Reads (``list_*``/``get_*``) are retried when the connection fails, and
        shared while identical ones are in flight."""
        if method.startswith(("list_", "get_")):
            key = ("call", method, repr(args), repr(sorted(kwargs.items())))
            return await self._shared(key, lambda: self._call(what, method, *args, **kwargs))
        return await self._written(lambda: self._call(what, method, *args, **kwargs))

    async def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        attempts = _READ_ATTEMPTS if method.startswith(("list_", "get_")) else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._signed_in(self._call_once, what, method, *args, **kwargs)
            except errors.ProviderUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(_READ_BACKOFF_S * attempt)
        raise errors.ProviderUnavailable("okta", f"no answer while {what}")

    async def _signed_in(self, once: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run one call; when Okta no longer accepts the cached access token (revoked, or
        the org was reset), sign in again once and repeat it."""
        client = await self.sdk()
        try:
            return await once(client, *args, **kwargs)
        except errors.AuthenticationError as exc:
            if not self.settings.uses_private_key or exc.detail != "E0000011":
                raise
        return await once(await self._renew(client), *args, **kwargs)

    async def _renew(self, stale: Any) -> Any:
        """A new SDK client (and token) in place of ``stale``; its session closes later,
        since other calls may still be using it."""
        async with self._opening:
            if self._sdk is stale:
                if self._session is not None:
                    self._retired.append(self._session)
                self._sdk = await self._open()
            return self._sdk

    async def _call_once(
        self, client: Any, what: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[Any, Any]:
        with sdk_errors(what):
            result = await getattr(client, method)(*args, **kwargs)
            if len(result) == 2:
                data, response, err = None, None, result[1]
            else:
                data, response, err = result
            if err is not None:
                raise map_error(err, what)
            return plain(data), getattr(response, "headers", None) or {}

    async def pages(self, what: str, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Every item of a paged typed list, following the ``after`` cursor."""
        await self.sdk()  # the SDK is imported in a worker thread, never here on the loop
        from okta.pagination import PaginationHelper

        items: list[Any] = []
        after: str | None = None
        while True:
            page, headers = await self.call(what, method, *args, after=after, **kwargs)
            items.extend(page or [])
            after = PaginationHelper.extract_next_cursor(headers)
            if not after:
                return items

    async def raw(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, Any, Any]:
        """One raw request through the SDK's executor: ``(status, JSON, response)``; GETs
        are shared while identical ones are in flight."""
        if method == "GET":
            key = ("raw", path, repr(sorted((params or {}).items())))
            return await self._shared(key, lambda: self._raw(what, method, path, params, body))
        return await self._written(lambda: self._raw(what, method, path, params, body))

    async def _raw(
        self,
        what: str,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: dict[str, Any] | None,
    ) -> tuple[int, Any, Any]:
        attempts = _READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._signed_in(
                    self._raw_once, what, method, path, params=params, body=body
                )
            except errors.ProviderUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(_READ_BACKOFF_S * attempt)
        raise errors.ProviderUnavailable("okta", f"no answer while {what}")

    async def _raw_once(
        self,
        client: Any,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        body: dict[str, Any] | None,
    ) -> tuple[int, Any, Any]:
        executor = client.get_request_executor()
        url = self.settings.org_url + path + (f"?{urlencode(params)}" if params else "")
        with sdk_errors(what):
            request, err = await executor.create_request(method, url, body, {})
            if err is not None:
                raise map_error(err, what)
            response, text, err = await executor.execute(request)
        if response is None:
            raise (
                transport_error(err, what)
                if err is not None
                else errors.ProviderUnavailable("okta", f"no answer while {what}")
            )
        if err is not None:
            raise map_error(err, what)
        try:
            data = boundedjson.loads(text) if text else None
        except ValueError:
            raise errors.BadResponse("okta", f"{what}: the answer is not JSON") from None
        return int(response.status), data, response

    async def raw_pages(self, what: str, path: str, params: Mapping[str, str]) -> list[Any]:
        """Every item of a paged raw list, following ``Link: <…>; rel="next"``."""
        items: list[Any] = []
        query: Mapping[str, str] | None = params
        url_path = path
        while True:
            _, data, response = await self.raw(what, "GET", url_path, params=query)
            if not isinstance(data, list):
                raise errors.BadResponse("okta", f"{what}: expected a list")
            items.extend(data)
            following = response.links.get("next")
            if not following:
                return items
            target = following["url"]
            url_path, query = target.path, dict(target.query)

    async def aclose(self) -> None:
        """Close the HTTP sessions."""
        sessions, self._retired = [*self._retired, self._session], []
        self._session, self._sdk = None, None
        for session in sessions:
            if session is not None:
                await session.close()


_APIS = (
    ("okta.api.api_token_api", "ApiTokenApi"),
    ("okta.api.application_api", "ApplicationApi"),
    ("okta.api.application_grants_api", "ApplicationGrantsApi"),
    ("okta.api.application_groups_api", "ApplicationGroupsApi"),
    ("okta.api.application_sso_public_keys_api", "ApplicationSSOPublicKeysApi"),
    ("okta.api.application_tokens_api", "ApplicationTokensApi"),
    ("okta.api.org_setting_general_api", "OrgSettingGeneralApi"),
    ("okta.api.role_assignment_a_user_api", "RoleAssignmentAUserApi"),
    ("okta.api.system_log_api", "SystemLogApi"),
    ("okta.api.user_api", "UserApi"),
    ("okta.api.user_grant_api", "UserGrantApi"),
    ("okta.api.user_lifecycle_api", "UserLifecycleApi"),
    ("okta.api.user_sessions_api", "UserSessionsApi"),
)
"""The SDK's API classes whose methods the adapter calls (a test checks every method the
adapter names is on the client built from them)."""


def _import_sdk() -> tuple[Any, Any]:
    """Import the parts of the okta SDK the adapter uses; returns (aiohttp, client class).

    ``okta.client.Client`` mixes in every one of the SDK's hundred-odd API classes and
    takes three or more seconds to import, holding the interpreter lock while other
    providers' requests and the console's paint wait. The client built here mixes in only
    the API classes in :data:`_APIS` and is set up as ``Client.__init__`` does (its
    configuration, validation, request executor and logging), so calls, authentication
    (SSWS, private key JWT, DPoP), retries and paging are the SDK's own. Run in a worker
    thread all the same.
    """
    import importlib

    import aiohttp

    for module in ("okta.http_client", "okta.pagination", "okta.models"):
        importlib.import_module(module)
    bases = tuple(getattr(importlib.import_module(m), name) for m, name in _APIS)
    return aiohttp, _client_class(bases)


def _client_class(bases: tuple[type[Any], ...]) -> type[Any]:
    """The SDK client over ``bases`` only: ``okta.client.Client``'s set-up, step by step."""
    import logging

    from okta.cache.no_op_cache import NoOpCache
    from okta.cache.okta_cache import OktaCache
    from okta.config.config_setter import ConfigSetter
    from okta.config.config_validator import ConfigValidator
    from okta.logger import setup_logging
    from okta.request_executor import RequestExecutor

    def __init__(self: Any, user_config: dict[str, Any]) -> None:
        setter = ConfigSetter()  # type: ignore[no-untyped-call]
        setter._apply_config({"client": user_config})
        config = setter._prune_config(setter.get_config())  # type: ignore[no-untyped-call]
        ConfigValidator(config)  # type: ignore[no-untyped-call]
        bases[0].__init__(self, configuration=config)
        self._config = config
        client = config["client"]
        self._authorization_mode = client["authorizationMode"]
        self._base_url = client["orgUrl"]
        self._api_token = client.get("token")
        self._client_id = self._scopes = self._private_key = None
        self._oauth_token_renewal_offset = None
        cache: Any = NoOpCache()  # type: ignore[no-untyped-call]
        if client["cache"]["enabled"] is True:
            cache = user_config.get("cacheManager") or OktaCache(  # type: ignore[no-untyped-call]
                client["cache"]["defaultTtl"], client["cache"]["defaultTti"]
            )
        executor = user_config.get("requestExecutor", RequestExecutor)
        self._request_executor = executor(config, cache, user_config.get("httpClient"))
        if self._authorization_mode == "PrivateKey":
            self._client_id = client["clientId"]
            self._scopes = client["scopes"]
            self._private_key = client["privateKey"]
            self._oauth_token_renewal_offset = client["oauthTokenRenewalOffset"]
        setup_logging(log_level=client["logging"]["logLevel"])  # type: ignore[no-untyped-call]
        if client["logging"]["enabled"] is True:
            logging.getLogger("okta-sdk-python").disabled = False

    def get_request_executor(self: Any) -> Any:
        return self._request_executor

    def get_config(self: Any) -> Any:
        return self._config

    return type(
        "OktaApiClient",
        bases,
        {
            "__init__": __init__,
            "get_request_executor": get_request_executor,
            "get_config": get_config,
        },
    )


def _gated_http_client(gate: RateGate, slots: asyncio.Semaphore) -> type[Any]:
    """The SDK's HTTPClient, with the rate gate, the concurrency slots and counting."""
    from okta.http_client import HTTPClient

    class GatedHTTPClient(HTTPClient):
        """Waits for the rate gate, holds a slot per request, learns from every answer."""

        async def send_request(self, request: dict[str, Any]) -> Any:
            url = str(request["url"])
            while True:
                await gate.wait(url)
                async with slots:
                    if not gate.reserve(url):
                        continue
                    try:
                        result: Any = await super().send_request(request)  # type: ignore[no-untyped-call]
                    except BaseException:
                        gate.observe(url, None, {})
                        raise
                    break
            response, error = result[1], result[3]
            if response is None:
                note_network_error(error)
                gate.observe(url, None, {})
            else:
                gate.observe(url, int(response.status), response.headers)
            return result

    return GatedHTTPClient


def _tls_context(settings: OktaSettings) -> ssl.SSLContext:
    try:
        if settings.ca_bundle is not None:
            return ssl.create_default_context(cafile=str(settings.ca_bundle))
        return ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise errors.ProviderUnavailable(
            "okta", f"cannot load the CA bundle {settings.ca_bundle}: {exc}"
        ) from None


def _read_key(settings: OktaSettings) -> str:
    """The private key file's text, checked as :func:`read_key_file` does."""
    if settings.private_key_file is None:
        return ""
    try:
        return read_key_file(settings.private_key_file)
    except OSError as exc:
        raise errors.AuthenticationError(
            "okta", f"cannot read the private key file {settings.private_key_file}: {exc.strerror}"
        ) from None


def _api_token(settings: OktaSettings) -> str:
    name = settings.api_token_env or ""
    value = os.environ.get(name, "").strip()
    if not value:
        raise errors.AuthenticationError(
            "okta", f"the environment variable {name} holding the API token is not set"
        )
    return value
