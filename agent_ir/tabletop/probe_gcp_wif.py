"""The GCP probe's workload identity federation from AWS.

An AWS role that an earlier provider's path reached (``reached``), or whose session the
AWS probe still holds, may become a service account when a pool's AWS provider trusts its account and the account (or its project)
grants a getAccessToken role to the pool's ``attribute.aws_role`` principal set for it (or
its ``subject``, or the whole pool). The lab's state names the candidates; each is then
tried by behaviour, as an attacker holding the role's session would: google-auth's
``google.auth.aws.Credentials``, fed the session the AWS probe holds, signs
``GetCallerIdentity``, exchanges it at the lab's Security Token Service and impersonates
the account through ``generateAccessToken``. The path works iff a token is issued. A
session revoked by ``AWSRevokeOlderSessions`` still signs ``GetCallerIdentity`` (no IAM
policy can deny it), so federation is tried with held sessions too: only removing the
binding (or the pool's trust) closes it.

Where the lab cannot replay the exchange (no AWS in the lab, no session held for the role,
or an attribute expression the lab does not evaluate), the verdict falls back to the lab's
state (``decided_by`` ``state``) and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import requests
from google.auth import aws
from google.auth.transport.requests import Request

from agent_ir.lab.gcp_roles import role_allows
from agent_ir.lab.gcp_sts import AWS_TOKEN_TYPE
from agent_ir.tabletop.probe import PathResult

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GET_TOKEN = "iam.serviceAccounts.getAccessToken"
REGION = "us-east-1"
_CANNOT_EVALUATE = "lab does not evaluate"


@dataclass(frozen=True, slots=True)
class Federation:
    """An AWS role that may become a service account through a workload identity pool."""

    role_arn: str
    project: str
    pool: str
    email: str

    @property
    def path(self) -> str:
        """The path's text."""
        role = self.role_arn.rsplit("/", 1)[-1]
        return (
            f"AWS role {role} → workload identity pool {self.pool} → "
            f"service account {_short(self.email)}"
        )


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What one exchange needs, read from the lab's state under its lock."""

    audience: str
    why_not: str
    condition: bool


class _Session(aws.AwsSecurityCredentialsSupplier):
    """Hands google-auth the AWS session the attacker holds."""

    def __init__(self, key_id: str, secret: str, token: str) -> None:
        self._creds = aws.AwsSecurityCredentials(key_id, secret, token)

    def get_aws_security_credentials(self, context: Any, request: Any) -> Any:
        """The held session's credentials."""
        return self._creds

    def get_aws_region(self, context: Any, request: Any) -> str:
        """The lab's AWS region."""
        return REGION


class WifProbe:
    """Federation paths from AWS roles into service accounts, for one GCP probe."""

    def __init__(self, emulator: Any, ca: str, credentials_url: str) -> None:
        self.emulator = emulator
        self.ca = ca
        self.credentials_url = credentials_url
        self.aws_part: Any = None
        """The AWS probe (set by :meth:`GcpProbe.attach`): it holds the roles' sessions."""
        self.roles: set[str] = set()
        """AWS role ARNs reached in any check so far."""
        self.federations: dict[str, Federation] = {}
        self.minted: dict[str, str] = {}
        """The last token each federation path issued (an attacker keeps what it gets)."""

    def check(self, reached: set[str]) -> list[PathResult]:
        """Every known federation path, tried now."""
        self.roles.update(r for r in reached if _aws_role(r) is not None)
        with self.emulator.api.lock:
            state = self.emulator.api.state
            for found in self._admitting(state):
                self.federations.setdefault(found.path, found)
            attempts = {p: _attempt(state, f) for p, f in self.federations.items()}
            can_replay = self.emulator.api.aws is not None
        return [
            self._judge(f, attempts[p], reached, can_replay) for p, f in self.federations.items()
        ]

    def _admitting(self, state: Any) -> list[Federation]:
        """Every (AWS role, pool, account) the lab's state would let through now."""
        out: list[Federation] = []
        for role_arn in sorted(self.roles):
            for project in state.projects.values():
                for pool in project.pools:
                    for account in sorted(state.accounts.values(), key=lambda a: a.email):
                        found = Federation(role_arn, project.id, pool.id, account.email)
                        if not _attempt(state, found).why_not:
                            out.append(found)
        return out

    def _judge(
        self, found: Federation, attempt: _Attempt, reached: set[str], can_replay: bool
    ) -> PathResult:
        session = self.aws_part.session_for(found.role_arn) if self.aws_part else None
        if found.role_arn not in reached and session is None:
            why = f"no working path reaches {found.role_arn} now, and no session of it is held"
            return PathResult("gcp", found.path, False, "state", why)
        if not can_replay:
            return _by_state(found, attempt, "the lab cannot replay the exchange (no AWS in it)")
        if session is None or not attempt.audience:
            why = "no session of the role is held" if session is None else "no AWS provider"
            return _by_state(found, attempt, f"the exchange was not tried ({why})")
        works, detail = self._exchange(found, attempt.audience, session)
        if found.role_arn not in reached:
            detail += (
                " (with a session of the role held from before: a revoked session can still "
                "sign GetCallerIdentity, which no IAM policy denies)"
            )
        if not works and _CANNOT_EVALUATE in detail:
            return _by_state(found, attempt, detail)
        return PathResult(
            "gcp", found.path, works, "behaviour", detail, found.email if works else ""
        )

    def _exchange(self, found: Federation, audience: str, session: Any) -> tuple[bool, str]:
        """google-auth's AWS credentials, refreshed against the lab: STS, then impersonation."""
        creds = aws.Credentials(  # type: ignore[no-untyped-call]
            audience=audience,
            subject_token_type=AWS_TOKEN_TYPE,
            token_url=self.emulator.sts_url,
            aws_security_credentials_supplier=_Session(
                session.key_id, session.secret, session.token
            ),
            service_account_impersonation_url=(
                f"{self.credentials_url}/v1/projects/-/serviceAccounts/"
                f"{found.email}:generateAccessToken"
            ),
            scopes=[SCOPE],
        )
        http = requests.Session()
        http.trust_env = False
        http.verify = self.ca
        try:
            creds.refresh(Request(http))  # type: ignore[no-untyped-call]
        except google.auth.exceptions.GoogleAuthError as exc:
            return False, f"refused: {_reason(exc)}"
        finally:
            http.close()
        if not creds.token:
            return False, "refused: no token issued"
        self.minted[found.path] = str(creds.token)
        return True, (
            "the Security Token Service exchanged the role's signed GetCallerIdentity and "
            f"generateAccessToken issued a token for {_short(found.email)}"
        )


def _by_state(found: Federation, attempt: _Attempt, why_not_tried: str) -> PathResult:
    if attempt.why_not:
        detail = f"{attempt.why_not} (by the lab's state; {why_not_tried})"
        return PathResult("gcp", found.path, False, "state", detail)
    detail = (
        f"by the lab's state: pool {found.pool}'s AWS provider trusts account "
        f"{found.role_arn.split(':')[4]} and {found.email} grants a getAccessToken role to "
        f"the role's principal; {why_not_tried}"
    )
    if attempt.condition:
        detail += " (the provider's attribute condition is not evaluated)"
    return PathResult("gcp", found.path, True, "state", detail, found.email)


def _attempt(state: Any, found: Federation) -> _Attempt:
    """The exchange's audience and why the pool would not make ``found.role_arn`` the
    account now ('' if it would), by the lab's state."""
    parts = _aws_role(found.role_arn)
    project = state.projects.get(found.project)
    pool = next((p for p in project.pools if p.id == found.pool), None) if project else None
    if parts is None or project is None or pool is None:
        return _Attempt("", "the pool is gone", False)
    account_id, role = parts
    providers = [p for p in pool.providers if p.aws is not None and p.aws.account_id == account_id]
    providers.sort(key=lambda p: p.disabled)
    audience = (
        f"//iam.googleapis.com/projects/{project.number}/locations/global/"
        f"workloadIdentityPools/{pool.id}/providers/{providers[0].id}"
        if providers
        else ""
    )
    condition = any(p.attribute_condition for p in providers)
    return _Attempt(audience, _why_not(state, found, pool, providers, account_id, role), condition)


def _why_not(
    state: Any, found: Federation, pool: Any, providers: list[Any], account_id: str, role: str
) -> str:
    if pool.disabled:
        return f"pool {pool.id} is disabled"
    if not any(not p.disabled for p in providers):
        return f"no enabled provider of pool {pool.id} trusts AWS account {account_id}"
    target = state.account(found.email)
    if target is None:
        return f"{found.email} is gone"
    project = state.projects[found.project]
    base = (
        f"principal{{}}://iam.googleapis.com/projects/{project.number}/locations/global/"
        f"workloadIdentityPools/{pool.id}/"
    )
    session = f"arn:aws:sts::{account_id}:assumed-role/{role}"
    admitted = {
        base.format("Set") + f"attribute.aws_role/{session}",
        base.format("Set") + "*",
    }
    subject = base.format("") + f"subject/{session}/"
    policies = [state.projects[target.project].policy, target.policy]
    granted = any(
        (member in admitted or member.startswith(subject))
        and role_allows(binding["role"], GET_TOKEN)
        for policy in policies
        for binding in policy.enforced_bindings()
        for member in binding["members"]
    )
    if not granted:
        return f"{found.email} grants no getAccessToken role to the role's pool principal"
    if target.disabled:
        return f"{found.email} is disabled"
    return ""


def _aws_role(arn: str) -> tuple[str, str] | None:
    """``(account id, role name)`` of an IAM role ARN, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def _short(email: str) -> str:
    return email.partition("@")[0]


def _reason(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text[:240]
