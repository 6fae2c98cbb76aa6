"""Where the Okta adapter's credentials come from (never their values).

Two ways to sign in, the first preferred:

* **OAuth private-key JWT**: a service app (``client_id``) with the private key in
  ``private_key_file`` (PEM or JWK JSON) whose public half is in the app's JWKS
  (``key_id`` is its ``kid``), asking for ``scopes``. ``dpop: true`` binds the access
  token to a proof-of-possession key (the app must require DPoP).
* **API token**: the environment variable named by ``api_token_env`` holds it; it acts
  with all of its creating admin's permissions. ``api_token_id`` names the token so
  discovery counts it as the console's own and no playbook ever revokes it.

Example::

    providers:
      okta:
        org_url: https://corp.okta.com
        client_id: 0oa1responder
        private_key_file: ~/.config/agent-ir/okta-responder.pem
        key_id: agent-ir-2026
        scopes: [okta.users.read, okta.apps.read, okta.apps.manage]
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_ir import boundedjson, errors
from agent_ir.yamlsrc import FileTooLarge, NotRegularFile, read_bounded

READ_SCOPES = (
    "okta.orgs.read",
    "okta.users.read",
    "okta.apps.read",
    "okta.appGrants.read",
    "okta.apiTokens.read",
    "okta.roles.read",
    "okta.aiAgents.read",
    "okta.logs.read",
)
"""The OAuth scopes discovery needs."""


class OktaSettings(BaseModel):
    """The ``providers.okta`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_url: str = Field(pattern=r"^https://[^/\s]+$", description="https://<org>.okta.com")
    client_id: str | None = Field(None, description="service app for private-key JWT (preferred)")
    private_key_file: Path | None = Field(None, description="its private key (PEM or JWK)")
    key_id: str | None = Field(None, description="the kid of that key in the app's JWKS")
    scopes: list[str] = Field(default_factory=lambda: list(READ_SCOPES))
    dpop: bool = Field(False, description="ask for DPoP-bound access tokens")
    api_token_env: str | None = Field(None, description="environment variable holding an API token")
    api_token_id: str | None = Field(None, description="id of that API token (the console's own)")
    ca_bundle: Path | None = Field(None, description="trust only this CA (the lab's)")
    max_concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10, gt=0, le=300)
    max_retries: int = Field(4, ge=0, le=10, description="SDK retries on 429/503/504")
    page_size: int = Field(200, ge=1, le=200)
    agent_attribute: str = Field("agent_ir_agent", description="profile attribute naming the agent")
    owner_attribute: str = Field("agent_ir_owner", description="profile attribute naming the owner")

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Self:
        jwt = self.client_id is not None or self.private_key_file is not None
        if jwt and (self.client_id is None or self.private_key_file is None):
            raise ValueError("private-key JWT needs both client_id and private_key_file")
        if not jwt and self.api_token_env is None:
            raise ValueError(
                "name a way to sign in: client_id + private_key_file, or api_token_env"
            )
        return self

    @property
    def uses_private_key(self) -> bool:
        """True when the adapter signs in with the service app's private key."""
        return self.client_id is not None and self.private_key_file is not None


_KEY_FILE_LIMIT = 64 * 1024


def read_key_file(path: Path) -> str:
    """A private key file's text, checked to be a PEM private key or an RSA/EC JWK, so a
    wrong file is a located configuration error (exit 3) instead of an SDK failure.
    ``OSError`` (missing, unreadable) is left to the caller."""
    try:
        raw = read_bounded(path, _KEY_FILE_LIMIT)
    except IsADirectoryError:
        raise _key_problem(path, None, "is a directory, not a key file") from None
    except NotRegularFile:
        raise _key_problem(path, None, "not a regular file") from None
    except FileTooLarge:
        raise _key_problem(path, None, f"over {_KEY_FILE_LIMIT} bytes: not a key file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _key_problem(path, line, "not text: expected a PEM private key or a JWK") from None
    _check_key_text(path, text)
    return text


def _check_key_text(path: Path, text: str) -> None:
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        if "PRIVATE KEY-----" not in stripped.splitlines()[0]:
            raise _key_problem(path, 1, "the PEM block is not a private key")
        return
    if not stripped.startswith("{"):
        raise _key_problem(path, 1, "neither a PEM private key nor a JWK (JSON)")
    try:
        jwk = boundedjson.loads(stripped, max_bytes=_KEY_FILE_LIMIT, max_depth=8)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise _key_problem(path, line, f"not valid JSON ({errors.brief(exc, 80)})") from None
    if not isinstance(jwk, dict):
        raise _key_problem(path, 1, "a JWK must be a JSON object")
    needed = {"RSA": ("n", "e", "d"), "EC": ("crv", "x", "y", "d")}.get(str(jwk.get("kty")))
    if needed is None:
        raise _key_problem(path, 1, "the JWK's kty must be RSA or EC")
    missing = [name for name in needed if not isinstance(jwk.get(name), str) or not jwk[name]]
    if missing:
        raise _key_problem(path, 1, f"the {jwk['kty']} JWK lacks {', '.join(missing)}")


def _key_problem(path: Path, line: int | None, message: str) -> errors.ConfigError:
    return errors.ConfigError([errors.Problem(str(path), line, "private_key_file", message)])
