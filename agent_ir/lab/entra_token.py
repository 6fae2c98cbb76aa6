"""The Entra token endpoint of the emulator, and Graph's check of the tokens it issued.

Served paths (``{tenant}`` is the tenant id or its domain)::

    GET  /{tenant}/v2.0/.well-known/openid-configuration
    GET  /{tenant}/discovery/v2.0/keys
    POST /{tenant}/oauth2/v2.0/token     client credentials: client_secret, a certificate's
                                         client_assertion, a federated (outside) assertion,
                                         or an agent identity's blueprint-issued assertion

Refusals use Entra's OAuth error bodies (``error``, ``error_description`` starting with
the AADSTS code, ``error_codes``): a wrong or removed secret is 401 ``invalid_client``
AADSTS7000215, an expired one AADSTS7000222, a disabled service principal 400
``unauthorized_client`` AADSTS7000112, no matching federated credential AADSTS70021.

A blueprint asks for ``api://AzureADTokenExchange/.default`` with ``fmi_path`` = an agent
identity's app id and gets an exchange token; the agent identity then presents it as its
``client_assertion``. The lab stands in for every outside OIDC issuer with one signing key
(:meth:`TokenService.outside_token`); assertions from other issuers are checked against
the application's federated identity credentials (issuer, subject, audience).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import jwt

from agent_ir.lab.entra_audit import client_ip, record_sign_in, sign_in
from agent_ir.lab.entra_catalog import EXCHANGE_AUDIENCE, GRAPH_APP_ID
from agent_ir.lab.entra_credentials import (
    Signer,
    TokenRefused,
    assertion_refused,
    check_certificate,
    check_exchange,
    check_federated,
    check_secret,
)
from agent_ir.lab.entra_objects import iso, sign_in_record
from agent_ir.lab.entra_odata import ODataError
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.server import LabRequest, LabResponse

GRAPH_AUDIENCE = "https://graph.microsoft.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OUTSIDE_KID = "lab-outside-issuer"
_KID = "lab-entra-1"


class TokenService:
    """Issues tokens for one tenant's directory and checks the ones Graph receives."""

    def __init__(self, lifetime_s: int) -> None:
        self.signer = Signer.new(_KID)
        self.outside = Signer.new(OUTSIDE_KID)
        self.lifetime_s = lifetime_s
        self._verified: dict[str, dict[str, Any]] = {}

    # -- discovery ----------------------------------------------------------------------

    def openid_configuration(self, base: str, d: Directory) -> LabResponse:
        """The v2.0 OpenID configuration MSAL reads first."""
        root = f"{base}/{d.tenant_id}"
        return LabResponse.from_json(
            200,
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "NA",
            },
        )

    def keys(self) -> LabResponse:
        """The JWKS with the key that signs the lab's tokens."""
        return LabResponse.from_json(200, {"keys": [self.signer.jwk()]})

    # -- the token endpoint ----------------------------------------------------------------

    def token(self, request: LabRequest, base: str, d: Directory) -> LabResponse:
        """Answer a client-credentials token request; anyone's but the responder's is
        logged as a service principal sign-in (refusals with their AADSTS code)."""
        try:
            issued = self._issue(request, base, d)
        except TokenRefused as refused:
            self._log_sign_in(request, d, refused)
            return refused.response()
        self._log_sign_in(request, d, None)
        return LabResponse.from_json(200, issued)

    def _log_sign_in(self, request: LabRequest, d: Directory, refused: TokenRefused | None) -> None:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id = form.get("client_id", "").lower()
        sp = d.sp_by_app_id(client_id) if client_id else None
        if not client_id or (sp is not None and sp.get("_kind") == "responder"):
            return
        scope = form.get("scope", "").split()
        resource = scope[0].removesuffix("/.default") if scope else ""
        named = (
            ("AzureADTokenExchange", EXCHANGE_AUDIENCE)
            if resource == EXCHANGE_AUDIENCE
            else ("Microsoft Graph", GRAPH_APP_ID)
        )
        credential = (
            "clientSecret"
            if "client_secret" in form
            else "federatedIdentityCredential"
            if sp is not None and sp.get("_kind") == "agent"
            else "clientAssertion"
        )
        record = sign_in(
            sp,
            client_id,
            datetime.now(UTC),
            error_code=refused.code if refused else 0,
            failure=refused.text if refused else "",
            credential=credential,
            resource=named,
            ip=client_ip(request),
            user_agent=request.header("User-Agent") or "",
            agent_parent=(sp or {}).get("agentIdentityBlueprintId")
            if (sp or {}).get("_kind") == "agent"
            else None,
        )
        record_sign_in(d, record)

    def _issue(self, request: LabRequest, base: str, d: Directory) -> dict[str, Any]:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            raise TokenRefused(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        client_id = form.get("client_id", "").lower()
        if not client_id:
            raise TokenRefused(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        sp = d.sp_by_app_id(client_id)
        if sp is None or sp.get("_kind") in ("managed", "graph"):
            raise TokenRefused(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{d.domain}'.",
            )
        endpoint = f"{base}/{request.path.split('/')[1]}/oauth2/v2.0/token"
        used = self._authenticate(form, sp, d, endpoint)
        if not sp.get("accountEnabled", True):
            raise TokenRefused(
                400,
                "unauthorized_client",
                7000112,
                f"Application '{client_id}'({sp['displayName']}) is disabled.",
            )
        claims = self._claims(form, sp, d, base)
        if used is not None:
            self._record_sign_in(d, sp, *used)
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime_s,
            "ext_expires_in": self.lifetime_s,
            "access_token": self.signer.sign(claims),
        }

    def _authenticate(
        self, form: dict[str, str], sp: Obj, d: Directory, endpoint: str
    ) -> tuple[str, str] | None:
        """Check the client's credential; returns (key id, key type) of what was used."""
        app = d.app_of_sp(sp)
        client_id = str(sp["appId"])
        if "client_secret" in form:
            return check_secret(form["client_secret"], app, client_id)
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != JWT_BEARER or not assertion:
            raise TokenRefused(
                400,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise assertion_refused("The client assertion is not a valid JWT.") from None
        if "x5t" in header or "x5t#S256" in header:
            return check_certificate(assertion, header, app, client_id, endpoint)
        if claims.get("iss") == self.exchange_issuer(d) and header.get("kid") == self.signer.kid:
            check_exchange(assertion, sp, self.signer.key.public_key())
            return None
        return check_federated(assertion, claims, app, d, self.outside.key.public_key())

    def _claims(self, form: dict[str, str], sp: Obj, d: Directory, base: str) -> dict[str, Any]:
        scope = form.get("scope", "").split()
        resource = scope[0].removesuffix("/.default") if len(scope) == 1 else ""
        if not scope or not scope[0].endswith("/.default") or len(scope) != 1:
            raise TokenRefused(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope', '')} is not valid. Client "
                "credential flows must have a scope value with /.default suffixed to the "
                "resource identifier (application ID URI).",
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_s,
            "tid": d.tenant_id,
            "uti": uuid.uuid4().hex[:22],
        }
        if resource == EXCHANGE_AUDIENCE:
            return {**claims, **self._exchange_claims(form, sp, d)}
        if resource.rstrip("/") in (GRAPH_AUDIENCE, GRAPH_APP_ID, base.rstrip("/")):
            target = d.sp_by_app_id(GRAPH_APP_ID)
            audience = GRAPH_AUDIENCE
        else:
            client = resource.removeprefix("api://").lower()
            target = d.sp_by_app_id(client)
            audience = client
        if target is None:
            raise TokenRefused(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{d.name}.",
            )
        roles = sorted(
            {
                role["value"]
                for a in d.assignments.where("principalId", sp["id"])
                if a["resourceId"] == target["id"]
                for role in target.get("appRoles", [])
                if role["id"] == a["appRoleId"]
            }
        )
        claims.update(
            {
                "aud": audience,
                "iss": f"https://sts.windows.net/{d.tenant_id}/",
                "appid": sp["appId"],
                "azp": sp["appId"],
                "idtyp": "app",
                "oid": sp["id"],
                "sub": sp["id"],
                "roles": roles,
                "ver": "1.0",
            }
        )
        if sp.get("_kind") == "agent":
            claims["xms_par_app_azp"] = sp.get("agentIdentityBlueprintId")
        return claims

    def _exchange_claims(self, form: dict[str, str], sp: Obj, d: Directory) -> dict[str, Any]:
        target = form.get("fmi_path", "").lower()
        agent = d.sp_by_app_id(target) if target else None
        if agent is None or agent.get("_kind") != "agent":
            raise TokenRefused(
                400, "invalid_request", 700016, f"No agent identity with app id '{target}'."
            )
        if agent.get("agentIdentityBlueprintId") != sp["appId"]:
            raise TokenRefused(
                400,
                "unauthorized_client",
                700016,
                f"Agent identity '{target}' was not created from blueprint '{sp['appId']}'.",
            )
        if not agent.get("accountEnabled", True):
            raise TokenRefused(
                400,
                "unauthorized_client",
                7000112,
                f"Application '{target}'({agent['displayName']}) is disabled.",
            )
        return {
            "aud": EXCHANGE_AUDIENCE,
            "iss": self.exchange_issuer(d),
            "sub": target,
            "azp": sp["appId"],
            "idtyp": "app",
        }

    def exchange_issuer(self, d: Directory) -> str:
        """The issuer of the exchange tokens blueprints receive for their agents."""
        return f"https://login.microsoftonline.com/{d.tenant_id}/v2.0"

    def _record_sign_in(self, d: Directory, sp: Obj, key_id: str, key_type: str) -> None:
        app = d.app_of_sp(sp)
        if app is None:
            return
        record = sign_in_record(app, key_id, key_type, iso(datetime.now(UTC)), sp["id"])
        d.sign_ins.put(key_id, record)

    # -- lab-only helpers --------------------------------------------------------------------

    def outside_token(
        self, issuer: str, subject: str, audience: str = EXCHANGE_AUDIENCE, lifetime_s: int = 600
    ) -> str:
        """A token from an outside OIDC issuer (AWS, GCP, GitHub…), as the lab stands in
        for all of them; present it as a federated client assertion."""
        now = int(time.time())
        claims = {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now}
        claims["exp"] = now + lifetime_s
        return self.outside.sign(claims)

    def graph_token(self, claims: dict[str, Any]) -> str:
        """Sign arbitrary claims with the lab key (tests build expired tokens this way)."""
        return self.signer.sign(claims)

    # -- Graph's side --------------------------------------------------------------------

    def verify(self, authorization: str | None, base: str) -> dict[str, Any]:
        """The claims of a Graph request's bearer token; raises a 401 ODataError otherwise."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ODataError(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = authorization[7:].strip()
        cached = self._verified.get(token)
        if cached is not None and cached["exp"] > time.time():
            return cached
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.signer.key.public_key(),
                algorithms=["RS256"],
                audience=[GRAPH_AUDIENCE, GRAPH_APP_ID, base],
                options={"require": ["exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ODataError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ) from None
        except jwt.InvalidAudienceError:
            raise ODataError(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ) from None
        except jwt.PyJWTError:
            raise ODataError(
                401, "InvalidAuthenticationToken", "Access token validation failure."
            ) from None
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = claims
        return claims
