"""Where the Okta adapter's credentials come from (never their values)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class OktaSettings(BaseModel):
    """The ``providers.okta`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_url: str
    client_id: str | None = Field(None, description="service app for private-key JWT (preferred)")
    private_key_file: Path | None = None
    key_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    api_token_env: str | None = Field(None, description="environment variable holding an API token")
    ca_bundle: Path | None = None
    max_concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10, gt=0, le=300)
