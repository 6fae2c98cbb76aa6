"""Where the GCP adapter's credentials come from (never their values), and where its APIs are.

Credentials, first that applies:

* ``key_file``: a service account JSON key file (google-auth's
  ``service_account.Credentials``); its token requests go to ``token_uri`` when set;
* ``external_account_file``: a workload identity federation configuration
  (``type: external_account``, made by ``gcloud iam workload-identity-pools
  create-cred-config``), so the console can run keyless from AWS, Azure or Kubernetes;
* otherwise Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's
  user credentials, or the metadata server).

Endpoints default to Google's. A lab (``agent-ir lab serve``) serves every API on one HTTPS
port, so its configuration sets ``iam_url``, ``resource_manager_url``, ``credentials_url``
``policy_analyzer_url``, ``logging_url`` and ``asset_url`` to that one base URL, ``token_uri`` to ``<base>/token`` and
``ca_bundle`` to the lab CA::

    providers:
      gcp:
        projects: [corp-prod, corp-data]
        key_file: gcp-responder.json
        iam_url: https://127.0.0.1:40123
        resource_manager_url: https://127.0.0.1:40123
        credentials_url: https://127.0.0.1:40123
        policy_analyzer_url: https://127.0.0.1:40123
        logging_url: https://127.0.0.1:40123
        asset_url: https://127.0.0.1:40123
        token_uri: https://127.0.0.1:40123/token
        ca_bundle: ca.pem
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class GcpSettings(BaseModel):
    """The ``providers.gcp`` section of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    projects: list[str] = Field(min_length=1, description="project ids to read and act in")
    key_file: Path | None = Field(None, description="service account key file; else ADC")
    external_account_file: Path | None = Field(
        None, description="workload identity federation credential configuration"
    )
    scopes: list[str] = Field(default_factory=lambda: [CLOUD_PLATFORM])
    iam_url: str = "https://iam.googleapis.com"
    resource_manager_url: str = "https://cloudresourcemanager.googleapis.com"
    credentials_url: str = "https://iamcredentials.googleapis.com"
    policy_analyzer_url: str = "https://policyanalyzer.googleapis.com"
    logging_url: str = "https://logging.googleapis.com"
    asset_url: str = "https://cloudasset.googleapis.com"
    asset_scope: str | None = Field(
        None,
        pattern=r"^(organizations|folders|projects)/[^/]+$",
        description="where an agent-scoped read searches policies (Cloud Asset "
        "searchAllIamPolicies), e.g. organizations/123; else each project",
    )
    token_uri: str | None = Field(None, description="OAuth token endpoint for key files")
    ca_bundle: Path | None = None
    key_activity: bool = Field(
        True, description="read keys' last use from Policy Analyzer (needs its viewer role)"
    )
    page_size: int = Field(100, ge=1, le=100, description="service accounts per list page")
    max_concurrency: int = Field(8, ge=1, le=64)
    reads_per_minute: int = Field(
        6000, ge=1, le=1_000_000, description="client-side cap (IAM v1: 6,000 per project)"
    )
    writes_per_minute: int = Field(600, ge=1, le=1_000_000, description="IAM v1: 600")
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(5, ge=1, le=20)
