"""Every adapter meets malformed answers (served by the lab's fault injection) as a provider
error: exit 5 or 6 with a short message naming the provider, never exit 1, no traceback.

Each case spoils every answer under one path prefix of one provider (its token endpoint or
its API) in one way: the real body truncated, an HTML page, bytes that are neither JSON nor
XML, 100,000 open brackets, 8 MB that never becomes valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.serve import set_faults
from agent_ir.settings import Settings
from tests.inproc import run

KINDS = ("truncated", "html", "garbage", "deep", "huge")
TENANT = "/6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10/"
SURFACES = {
    ("aws", "api"): "/",
    ("entra", "token"): TENANT,
    ("entra", "api"): "/v1.0/",
    ("gcp", "token"): "/token",
    ("gcp", "api"): "/v1/",
    ("okta", "token"): "/oauth2/",
    ("okta", "api"): "/api/v1/",
}
MAX_MESSAGE = 600


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("provider", "surface"), list(SURFACES))
def test_malformed_answer_is_a_provider_error(
    provider: str,
    surface: str,
    kind: str,
    lab_settings: Settings,
    hostile_lab: Path,
    state_dir: Path,
) -> None:
    spec = FaultSpec(malformed_rate=1, malformed=kind, path_prefix=SURFACES[provider, surface])
    set_faults(lab_settings, provider, spec)
    result = run(["--config", str(hostile_lab), "inventory"])
    assert result.code in (5, 6), result.err
    problem = next(line for line in result.err.splitlines() if provider in line)
    assert len(problem) < MAX_MESSAGE, problem
    assert "internal error" not in result.err


@pytest.mark.parametrize(("provider", "surface"), [k for k in SURFACES if k[1] == "token"])
def test_failing_token_endpoint_is_an_outage_not_a_defect(
    provider: str, surface: str, lab_settings: Settings, hostile_lab: Path, state_dir: Path
) -> None:
    """A token endpoint answering 5xx (MSAL raises MsalServiceError for it) is the
    provider being unavailable, exit 5 or 6."""
    set_faults(
        lab_settings, provider, FaultSpec(error_rate=1, path_prefix=SURFACES[provider, surface])
    )
    result = run(["--config", str(hostile_lab), "inventory"])
    assert result.code in (5, 6), result.err
    assert "internal error" not in result.err
