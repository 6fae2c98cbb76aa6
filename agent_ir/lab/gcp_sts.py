"""The Security Token Service's token exchange (``POST sts.googleapis.com/v1/token``) for
workload identity pools with AWS providers, as google-auth's ``google.auth.aws.Credentials``
calls it.

The form carries ``grant_type`` ``urn:ietf:params:oauth:grant-type:token-exchange``,
``audience`` ``//iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/
POOL/providers/PROVIDER``, ``subject_token_type`` ``urn:ietf:params:aws:token-type:
aws4_request`` and ``subject_token``: the URL-encoded JSON of a signed ``GetCallerIdentity``
request. The exchange:

1. finds the pool and provider (missing or disabled: ``invalid_target``, as Google says);
2. has the lab's AWS name the signer (:mod:`agent_ir.lab.gcp_aws_verify`); a lab without
   an AWS endpoint refuses with ``invalid_grant``;
3. checks the caller's AWS account is the provider's, maps attributes as the provider's
   ``attributeMapping`` says (Google's AWS default when it has none) and evaluates its
   ``attributeCondition`` (:mod:`agent_ir.lab.gcp_cel`; a form the lab does not evaluate is
   refused with ``invalid_request`` saying so, never guessed);
4. issues a federated access token whose principal is
   ``principal://iam.googleapis.com/POOL_NAME/subject/SUBJECT``, member of each
   ``principalSet://iam.googleapis.com/POOL_NAME/attribute.NAME/VALUE``.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from agent_ir.lab.gcp_aws_verify import (
    Rejected,
    SignedRequest,
    caller_arn,
    check_shape,
)
from agent_ir.lab.gcp_cel import AWS_ROLE_MAPPING, Unsupported, condition_holds, map_attribute
from agent_ir.lab.gcp_records import FederatedToken
from agent_ir.lab.gcp_world import WifProviderSpec
from agent_ir.lab.server import LabRequest, LabResponse

if TYPE_CHECKING:
    from agent_ir.lab.gcp_api import GcpApi

STS_PATH = "/v1/token"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
AWS_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
FEDERATED_LIFETIME_S = 3599
DEFAULT_AWS_MAPPING = {"google.subject": "assertion.arn", "attribute.aws_role": AWS_ROLE_MAPPING}
_AUDIENCE = re.compile(
    r"^(?:https:)?//iam\.googleapis\.com/(projects/(\d+)/locations/global/"
    r"workloadIdentityPools/([^/]+))/providers/([^/]+)$"
)
_ARN = re.compile(r"^arn:aws:(?:sts|iam)::(\d{12}):")
_INVALID_TARGET = (
    'The target service indicated by the "audience" parameters is invalid. This might either '
    "be because the pool or provider is disabled or deleted or because it doesn't exist."
)


def _error(status: int, error: str, description: str) -> LabResponse:
    return LabResponse.from_json(status, {"error": error, "error_description": description})


def token_exchange(api: GcpApi, request: LabRequest) -> LabResponse:
    """``POST /v1/token``: trade a signed AWS request for a federated access token."""
    if request.method != "POST":
        return _error(405, "invalid_request", "the token endpoint takes POST")
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)

    def field(name: str) -> str:
        return (form.get(name) or [""])[0]

    if field("grant_type") != EXCHANGE_GRANT:
        return _error(400, "unsupported_grant_type", f"Invalid grant_type: {field('grant_type')}")
    token_type = field("subject_token_type")
    if token_type != AWS_TOKEN_TYPE:
        return _error(
            400,
            "invalid_request",
            f"Invalid subject_token_type: {token_type} (the lab exchanges AWS requests only)",
        )
    audience = field("audience")
    match = _AUDIENCE.match(audience)
    if match is None:
        return _error(400, "invalid_request", f"Invalid audience: {audience}")
    pool_name, number, pool_id, provider_id = match.groups()
    with api.lock:
        provider = _provider(api, number, pool_id, provider_id)
    if provider is None:
        return _error(400, "invalid_target", _INVALID_TARGET)
    if provider.aws is None:
        return _error(400, "invalid_request", "The provider is not an AWS provider.")
    try:
        signed = SignedRequest.parse(json.loads(unquote(field("subject_token"))))
        check_shape(signed, audience)
        link = api.aws
        if link is None:
            return _error(
                400,
                "invalid_grant",
                "The lab has no AWS endpoint to verify the AWS signature with (the world has "
                "no aws section).",
            )
        arn = caller_arn(signed, link, datetime.now(UTC))
    except ValueError:
        return _error(400, "invalid_grant", "The subject token is not a serialized AWS request.")
    except Rejected as exc:
        return _error(400, "invalid_grant", f"Unable to verify the AWS credential: {exc}")
    return _admit(api, provider, pool_name, arn)


def _provider(api: GcpApi, number: str, pool_id: str, provider_id: str) -> WifProviderSpec | None:
    """The enabled provider of an enabled pool the audience names, else None."""
    project = api.state.project(number)
    if project is None or project.number != number:
        return None
    pool = next((p for p in project.pools if p.id == pool_id), None)
    if pool is None or pool.disabled:
        return None
    found = next((p for p in pool.providers if p.id == provider_id), None)
    return found if found is not None and not found.disabled else None


def _admit(api: GcpApi, provider: WifProviderSpec, pool_name: str, arn: str) -> LabResponse:
    account = _ARN.match(arn)
    expected = provider.aws.account_id if provider.aws is not None else ""
    if account is None or account.group(1) != expected:
        return _error(
            400, "invalid_grant", f"The AWS account of {arn} is not the provider's ({expected})."
        )
    assertion = {"arn": arn, "account": account.group(1)}
    mapping = provider.attribute_mapping or DEFAULT_AWS_MAPPING
    try:
        mapped = {name: map_attribute(expr, assertion) for name, expr in mapping.items()}
        values = {**mapped, **{f"assertion.{k}": v for k, v in assertion.items()}}
        if provider.attribute_condition and not condition_holds(
            provider.attribute_condition, values
        ):
            return _error(
                400,
                "unauthorized_client",
                "The given credential is rejected by the attribute condition.",
            )
    except Unsupported as exc:
        return _error(400, "invalid_request", f"{exc}; it refuses to decide")
    subject = mapped.get("google.subject", "")
    if not subject:
        return _error(400, "invalid_grant", "The mapped google.subject is empty.")
    attributes = {k: v for k, v in mapped.items() if k.startswith("attribute.")}
    found = FederatedToken(pool_name, subject, attributes, time.time() + FEDERATED_LIFETIME_S)
    with api.lock:
        token = api.state.mint_federated(found)
    return LabResponse.from_json(
        200,
        {
            "access_token": token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": FEDERATED_LIFETIME_S,
        },
    )
