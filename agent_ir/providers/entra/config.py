"""Where the Entra adapter's credentials come from (never their values)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class EntraSettings(BaseModel):
    """The ``providers.entra`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    client_id: str
    authority: str | None = Field(
        None, description="default https://login.microsoftonline.com/<tenant>"
    )
    graph_url: str = "https://graph.microsoft.com"
    client_secret_env: str | None = Field(
        None, description="environment variable holding the secret"
    )
    client_secret_file: Path | None = None
    certificate_file: Path | None = Field(
        None, description="PEM with the private key and certificate"
    )
    federated_token_file: Path | None = None
    ca_bundle: Path | None = None
    max_concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(5, ge=1, le=20)
