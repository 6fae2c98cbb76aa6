"""The AWS side of the Security Token Service's token exchange: who signed a serialized
``GetCallerIdentity`` request.

google-auth's ``google.auth.aws.Credentials`` sends, as the subject token, a SigV4-signed
``POST https://sts.REGION.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15`` with
an empty body and the ``x-goog-cloud-target-resource`` header among the signed ones. Google
forwards that request to AWS, which checks the signature and answers with the caller's ARN.

The lab does the same against its own AWS endpoint (moto behind the lab server), in two
steps, because moto cannot check this request as it was signed (it recomputes the payload
of a query-string POST from the parameters, so every such signature looks wrong to it):

1. the signature is checked here as AWS checks it (SigV4 over the request as serialized,
   the key's secret and session token as the lab's AWS holds them, a request date within
   15 minutes);
2. ``GetCallerIdentity`` is then called on the lab's AWS endpoint over its socket with the
   same credentials, so the lab's AWS decides whether they still work (an unknown or
   inactive key, a wrong session token are refused there) and names the caller.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

STS_HOST = re.compile(r"^sts(?:-fips)?(?:\.([a-z0-9-]+))?\.amazonaws\.com$")
"""The AWS STS hosts Google accepts in a subject token."""
_CREDENTIAL = re.compile(
    r"Credential=([A-Za-z0-9]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request"
)
_SIGNED = re.compile(r"SignedHeaders=([a-z0-9;-]+)")
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})")
MAX_SKEW = timedelta(minutes=15)
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5)


class Rejected(Exception):
    """The subject token does not prove an AWS identity (the text says why)."""


@dataclass(frozen=True, slots=True)
class AwsLink:
    """Where the lab's AWS endpoint is and the CA its certificate chains to."""

    endpoint: str
    ca_path: Path


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A serialized signed request, as the subject token carries it."""

    url: str
    method: str
    headers: dict[str, str]
    body: str

    @classmethod
    def parse(cls, data: Any) -> SignedRequest:
        """Read the token's JSON (``url``, ``method``, ``headers`` as ``[{key, value}]``,
        optional ``body``); raise :class:`Rejected` on any other shape."""
        if not isinstance(data, dict):
            raise Rejected("the subject token is not a serialized AWS request")
        headers: dict[str, str] = {}
        raw = data.get("headers")
        if not isinstance(raw, list):
            raise Rejected("the subject token has no header list")
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise Rejected("a header of the subject token has no key")
            headers[item["key"].lower()] = str(item.get("value", ""))
        url, method = data.get("url"), data.get("method")
        if not isinstance(url, str) or not isinstance(method, str):
            raise Rejected("the subject token names no url or method")
        return cls(url, method.upper(), headers, str(data.get("body") or ""))


def check_shape(signed: SignedRequest, audience: str) -> None:
    """What Google checks before it forwards the request: an AWS STS ``GetCallerIdentity``
    POST with ``host`` among its signed headers and an ``x-goog-cloud-target-resource``
    header naming the provider the exchange is for (google-auth adds it after signing, so
    it is checked but need not be signed)."""
    parts = urlsplit(signed.url)
    if parts.scheme != "https" or not STS_HOST.match(parts.hostname or ""):
        raise Rejected(f"the subject token's URL is not an AWS STS endpoint: {parts.hostname}")
    if signed.method != "POST" or "Action=GetCallerIdentity" not in parts.query:
        raise Rejected("the subject token is not a GetCallerIdentity POST")
    authorization = signed.headers.get("authorization", "")
    signed_names = _SIGNED.search(authorization)
    names = set(signed_names.group(1).split(";")) if signed_names else set()
    if "host" not in names:
        raise Rejected("host must be a signed header")
    target = signed.headers.get("x-goog-cloud-target-resource", "")
    if not target or target.removeprefix("https:") != audience.removeprefix("https:"):
        raise Rejected("x-goog-cloud-target-resource does not name the audience's provider")


def caller_arn(signed: SignedRequest, link: AwsLink, now: datetime) -> str:
    """The ARN AWS names as the request's signer; :class:`Rejected` when it names none."""
    authorization = signed.headers.get("authorization", "")
    credential = _CREDENTIAL.search(authorization)
    signature = _SIGNATURE.search(authorization)
    if credential is None or signature is None or not authorization.startswith("AWS4-HMAC-SHA256"):
        raise Rejected("the subject token is not signed with AWS Signature Version 4")
    key_id, day, region, service = credential.groups()
    if service != "sts":
        raise Rejected(f"the request is signed for {service}, not sts")
    stamp = signed.headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Rejected("the signed request has no valid x-amz-date") from None
    if not stamp.startswith(day) or abs(now - signed_at) > MAX_SKEW:
        raise Rejected("Signature expired: the request was signed more than 15 minutes away")
    token = signed.headers.get("x-amz-security-token")
    secret = _secret(key_id, token)
    expected = _signature(signed, Credentials(key_id, secret, token), region, stamp)
    if not hmac.compare_digest(expected, signature.group(1)):
        raise Rejected("AWS: SignatureDoesNotMatch")
    return _get_caller_identity(link, key_id, secret, token, region)


def _signature(signed: SignedRequest, creds: Credentials, region: str, stamp: str) -> str:
    names = _SIGNED.search(signed.headers["authorization"])
    signed_names = names.group(1).split(";") if names else []
    headers = {name: signed.headers.get(name, "") for name in signed_names}
    request = AWSRequest(
        method=signed.method, url=signed.url, data=signed.body.encode(), headers=headers
    )
    request.context["timestamp"] = stamp
    auth = SigV4Auth(creds, "sts", region)
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


def _secret(key_id: str, token: str | None) -> str:
    """The secret the lab's AWS holds for ``key_id`` (a session's, when a token is given)."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account in list(sts_backends):
        for role in sts_backends[account]["aws"].assumed_roles:
            if role.access_key_id == key_id:
                if token != role.session_token:
                    raise Rejected("AWS: InvalidClientTokenId (the session token is wrong)")
                return str(role.secret_access_key)
    for account in list(iam_backends):
        key = iam_backends[account]["global"].access_keys.get(key_id)
        if key is not None:
            return str(key.secret_access_key)
    raise Rejected("AWS: InvalidClientTokenId (the access key is unknown)")


def _get_caller_identity(
    link: AwsLink, key_id: str, secret: str, token: str | None, region: str
) -> str:
    client = boto3.client(
        "sts",
        region_name=region,
        endpoint_url=link.endpoint,
        verify=str(link.ca_path),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=_CONFIG,
    )
    try:
        return str(client.get_caller_identity()["Arn"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise Rejected(f"AWS: {code}") from None
    except BotoCoreError as exc:
        raise Rejected(f"the lab's AWS endpoint did not answer: {type(exc).__name__}") from None
