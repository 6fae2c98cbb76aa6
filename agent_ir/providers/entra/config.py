"""Where the Entra adapter's credentials come from (never their values).

Exactly one way to sign in is named: a client secret (``client_secret_env`` or
``client_secret_file``), a certificate (``certificate_file``: PEM with the private key and
the certificate), or a federated token file (``federated_token_file``, re-read on every
token request, as workload identity federation rotates it)::

    providers:
      entra:
        tenant_id: 6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10
        client_id: 0a1b2c3d-...
        client_secret_env: AGENT_IR_ENTRA_SECRET
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EntraSettings(BaseModel):
    """The ``providers.entra`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    client_id: str
    authority: str | None = Field(
        None, description="default https://login.microsoftonline.com/<tenant_id>"
    )
    graph_url: str = "https://graph.microsoft.com"
    client_secret_env: str | None = Field(
        None, description="environment variable holding the secret"
    )
    client_secret_file: Path | None = None
    certificate_file: Path | None = Field(
        None, description="PEM with the private key and certificate"
    )
    certificate_password_env: str | None = Field(
        None, description="environment variable holding the certificate key's passphrase"
    )
    federated_token_file: Path | None = None
    ca_bundle: Path | None = None
    max_concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(5, ge=1, le=20)
    page_size: int = Field(999, ge=1, le=999, description="objects per list page ($top)")
    retry_backoff_s: float = Field(
        0.25, gt=0, le=30, description="first wait before retrying a failed call (doubles)"
    )
    max_retry_after_s: float = Field(
        60, gt=0, le=600, description="the longest wait a 429 may impose on one request"
    )

    @model_validator(mode="after")
    def _one_credential(self) -> EntraSettings:
        named = [
            name
            for name in (
                "client_secret_env",
                "client_secret_file",
                "certificate_file",
                "federated_token_file",
            )
            if getattr(self, name) is not None
        ]
        if len(named) != 1:
            raise ValueError(
                "name exactly one credential source: client_secret_env, client_secret_file, "
                f"certificate_file or federated_token_file (got {', '.join(named) or 'none'})"
            )
        return self

    @property
    def authority_url(self) -> str:
        """The authority MSAL talks to."""
        return (self.authority or f"https://login.microsoftonline.com/{self.tenant_id}").rstrip("/")

    @property
    def graph_base(self) -> str:
        """The Graph root without a trailing slash."""
        return self.graph_url.rstrip("/")
