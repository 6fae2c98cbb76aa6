"""Every library exception a provider client can raise on a bad answer is mapped at that
provider's boundary: a ProviderError (exit 5), one short line, never exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import aiohttp
import httpx
import pytest
import requests
from botocore import exceptions as bx
from botocore.parsers import ResponseParserError
from google.auth import exceptions as gx
from msal.exceptions import MsalError, MsalServiceError

from agent_ir import errors
from agent_ir.exit_codes import ExitCode, for_error
from agent_ir.providers.aws.boundary import boto_errors
from agent_ir.providers.entra.boundary import http_errors, msal_errors
from agent_ir.providers.gcp.boundary import gcp_errors
from agent_ir.providers.okta.boundary import sdk_errors

XML = "<Response>" + "<member>" * 60 + "\x1b]0;pwned\x07"
BIG = "x" * 5000


def _json_error() -> json.JSONDecodeError:
    try:
        json.loads("{" * 3 + "<html>")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


def _recursion() -> RecursionError:
    return RecursionError("maximum recursion depth exceeded while decoding a JSON array")


Boundary = Callable[[str], AbstractContextManager[None]]
CASES: list[tuple[str, Boundary, BaseException]] = [
    ("aws-parser", boto_errors, ResponseParserError(f"Unable to parse response ({XML * 10})")),
    ("aws-parser-empty", boto_errors, ResponseParserError("")),
    ("aws-recursion", boto_errors, _recursion()),
    ("aws-json", boto_errors, _json_error()),
    ("aws-connect", boto_errors, bx.EndpointConnectionError(endpoint_url="https://x")),
    ("aws-closed", boto_errors, bx.ConnectionClosedError(endpoint_url="https://x")),
    ("aws-read-timeout", boto_errors, bx.ReadTimeoutError(endpoint_url="https://x")),
    ("aws-connect-timeout", boto_errors, bx.ConnectTimeoutError(endpoint_url="https://x")),
    ("aws-ssl", boto_errors, bx.SSLError(endpoint_url="https://x", error="bad cert")),
    ("aws-no-credentials", boto_errors, bx.NoCredentialsError()),
    (
        "aws-client-500",
        boto_errors,
        bx.ClientError(
            {
                "Error": {"Code": "InternalFailure", "Message": BIG},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            },
            "GetUser",
        ),
    ),
    ("aws-client-weird", boto_errors, bx.ClientError({"Error": {}}, "GetUser")),
    ("aws-key-error", boto_errors, KeyError("UserName")),
    ("entra-http-decode", http_errors, httpx.DecodingError("bad gzip")),
    ("entra-http-remote", http_errors, httpx.RemoteProtocolError("peer closed")),
    ("entra-http-read-timeout", http_errors, httpx.ReadTimeout("slow")),
    ("entra-http-too-many-redirects", http_errors, httpx.TooManyRedirects("loop")),
    ("entra-http-json", http_errors, _json_error()),
    ("entra-http-recursion", http_errors, _recursion()),
    ("entra-http-type", http_errors, TypeError("'NoneType' object is not subscriptable")),
    (
        "entra-msal-service",
        msal_errors,
        MsalServiceError(error="server_error", error_description=BIG),
    ),
    ("entra-msal-base", msal_errors, MsalError("instance discovery failed")),
    ("entra-msal-json", msal_errors, _json_error()),
    ("entra-msal-recursion", msal_errors, _recursion()),
    ("entra-msal-timeout", msal_errors, requests.exceptions.ReadTimeout("slow")),
    ("entra-msal-connection", msal_errors, requests.exceptions.ConnectionError("refused")),
    ("entra-msal-chunked", msal_errors, requests.exceptions.ChunkedEncodingError("cut")),
    ("entra-msal-content", msal_errors, requests.exceptions.ContentDecodingError("gzip")),
    ("gcp-refresh", gcp_errors, gx.RefreshError("invalid_grant", {"error": "invalid_grant"})),
    ("gcp-transport", gcp_errors, gx.TransportError("connection reset")),
    ("gcp-malformed", gcp_errors, gx.MalformedError("bad token response")),
    ("gcp-default", gcp_errors, gx.DefaultCredentialsError("no ADC")),
    ("gcp-http-timeout", gcp_errors, httpx.ReadTimeout("slow")),
    ("gcp-http-remote", gcp_errors, httpx.RemoteProtocolError("cut")),
    ("gcp-json", gcp_errors, _json_error()),
    ("gcp-recursion", gcp_errors, _recursion()),
    ("gcp-value", gcp_errors, ValueError(BIG)),
    ("okta-attribute", sdk_errors, AttributeError("'NoneType' object has no attribute 'status'")),
    ("okta-timeout", sdk_errors, TimeoutError()),
    (
        "okta-content-type",
        sdk_errors,
        aiohttp.ContentTypeError(
            request_info=None, history=(), message="Attempt to decode JSON with text/html"
        ),
    ),  # type: ignore[arg-type]
    ("okta-disconnected", sdk_errors, aiohttp.ServerDisconnectedError()),
    ("okta-payload", sdk_errors, aiohttp.ClientPayloadError("truncated body")),
    ("okta-client-os", sdk_errors, aiohttp.ClientOSError(104, "reset by peer")),
    ("okta-json", sdk_errors, _json_error()),
    ("okta-recursion", sdk_errors, _recursion()),
    ("okta-key", sdk_errors, KeyError("id")),
]


@pytest.mark.parametrize(("case_id", "boundary", "raised"), CASES, ids=[c[0] for c in CASES])
def test_library_error_becomes_a_short_provider_error(
    case_id: str, boundary: Boundary, raised: BaseException
) -> None:
    with pytest.raises(errors.ProviderError) as caught, boundary("reading the estate"):
        raise raised
    error = caught.value
    assert for_error(error) is ExitCode.PROVIDER
    assert error.provider == case_id.split("-")[0]
    assert "\n" not in error.message
    assert len(error.message) < 400, error.message


def test_msal_service_error_with_a_5xx_is_an_outage() -> None:
    exc = MsalServiceError(error="temporarily_unavailable", error_description="503")
    exc.status_code = 503
    with pytest.raises(errors.ProviderUnavailable), msal_errors("getting a token"):
        raise exc
