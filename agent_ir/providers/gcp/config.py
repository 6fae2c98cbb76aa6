"""Where the GCP adapter's credentials come from (never their values)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class GcpSettings(BaseModel):
    """The ``providers.gcp`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    projects: list[str] = Field(min_length=1)
    key_file: Path | None = Field(None, description="service account key file; else ADC")
    iam_url: str = "https://iam.googleapis.com"
    resource_manager_url: str = "https://cloudresourcemanager.googleapis.com"
    credentials_url: str = "https://iamcredentials.googleapis.com"
    token_uri: str | None = None
    ca_bundle: Path | None = None
    max_concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(5, ge=1, le=20)
