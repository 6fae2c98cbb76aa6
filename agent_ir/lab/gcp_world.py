"""The Google Cloud section of a world file.

::

    gcp:
      propagation_s: 2             # policy changes are enforced this long after a write
      quota: {reads_per_minute: 6000, writes_per_minute: 600}   # optional; off when absent
      projects:
        - id: corp-prod
          number: "482913570126"   # quote it: a project number is text
          bindings:                # the project's allow policy
            - role: roles/editor
              members: ["serviceAccount:invoice-agent@corp-prod.iam.gserviceaccount.com"]
              condition: {title: until-2030, expression: 'request.time < timestamp("2030-01-01T00:00:00Z")'}
          service_accounts:
            - email: invoice-agent@corp-prod.iam.gserviceaccount.com
              display_name: Invoice agent
              description: "agent-ir:agent=invoice-agent agent-ir:owner=alice@corp.test"
              disabled: false
              keys:                # user-managed keys; ages count back from the lab's start
                - {age_days: 400, last_used_days_ago: 1}
                - {age_days: 3, valid_days: 90, disabled: true}
              bindings:            # the policy ON this account: who may act as it
                - role: roles/iam.serviceAccountTokenCreator
                  members: ["user:alice@corp.test"]
          workload_identity_pools:
            - id: aws-corp
              providers:
                - {id: aws-111111111111, aws: {account_id: "111111111111"}}

A key with ``type: SYSTEM_MANAGED`` stands for a Google-managed key (it cannot be disabled
and never yields a key file). ``last_used_days_ago`` feeds the emulated key-activity API.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent_ir.errors import Problem
from agent_ir.lab.section import WorldSection
from agent_ir.yamlsrc import Located, PathKey

RESPONDER_ACCOUNT = "agent-ir-responder"
"""The account id of the console's own service account, made in the first project."""

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_POOL_ID = re.compile(r"^[a-z0-9-]{4,32}$")
_ROLE = re.compile(
    r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$"
)
_MEMBER_PREFIXES = (
    "user:",
    "serviceAccount:",
    "group:",
    "domain:",
    "deleted:",
    "principal://",
    "principalSet://",
)
_PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
_POOL_MEMBER = re.compile(
    r"^principal(Set)?://iam\.googleapis\.com/projects/(\d+)/locations/global/workloadIdentityPools/([^/]+)/"
)


class _Spec(BaseModel):
    """Nested parts of the section: typed, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GcpKeySpec(_Spec):
    """One key of a service account."""

    age_days: float = Field(0, ge=0, le=20_000)
    valid_days: float | None = Field(None, gt=0, le=20_000, description="null: never expires")
    disabled: bool = False
    last_used_days_ago: float | None = Field(None, ge=0, le=20_000, description="null: never")
    type: Literal["USER_MANAGED", "SYSTEM_MANAGED"] = "USER_MANAGED"


class ConditionSpec(_Spec):
    """An IAM condition (kept and returned verbatim; the lab does not evaluate CEL)."""

    title: str = Field(min_length=1, max_length=100)
    expression: str = Field(min_length=1)
    description: str = ""


class BindingSpec(_Spec):
    """One role binding of an allow policy."""

    role: str
    members: list[str] = Field(min_length=1)
    condition: ConditionSpec | None = None

    @field_validator("role")
    @classmethod
    def _valid_role(cls, role: str) -> str:
        if not _ROLE.match(role):
            raise ValueError(f"{role!r} is not a role name (roles/… or projects/P/roles/…)")
        return role

    @field_validator("members")
    @classmethod
    def _valid_members(cls, members: list[str]) -> list[str]:
        for member in members:
            if member not in _PUBLIC_MEMBERS and not member.startswith(_MEMBER_PREFIXES):
                raise ValueError(
                    f"{member!r} is not a member (user:, serviceAccount:, group:, domain:, "
                    "principal://, principalSet://, allUsers, allAuthenticatedUsers)"
                )
        if len(set(members)) != len(members):
            raise ValueError("a member is listed twice")
        return members


class ServiceAccountSpec(_Spec):
    """A service account, its keys and the policy on it."""

    email: str
    display_name: str = Field("", max_length=100)
    description: str = Field("", max_length=256)
    disabled: bool = False
    keys: list[GcpKeySpec] = Field(default_factory=list)
    bindings: list[BindingSpec] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, email: str) -> str:
        account, at, domain = email.partition("@")
        if not at or not _ACCOUNT_ID.match(account) or not domain.endswith(".gserviceaccount.com"):
            raise ValueError(
                f"{email!r} is not a service account email (ACCOUNT@PROJECT.iam.gserviceaccount.com, "
                "ACCOUNT 6-30 lowercase letters, digits and dashes)"
            )
        return email

    @model_validator(mode="after")
    def _key_limit(self) -> ServiceAccountSpec:
        if sum(1 for k in self.keys if k.type == "USER_MANAGED") > 10:
            raise ValueError("a service account holds at most 10 user-managed keys")
        return self

    @property
    def account_id(self) -> str:
        """The part of the email before ``@``."""
        return self.email.partition("@")[0]


class AwsProviderSpec(_Spec):
    """An AWS workload identity provider."""

    account_id: str

    @field_validator("account_id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError("an AWS account id is twelve digits (quote it in YAML)")
        return value


class OidcProviderSpec(_Spec):
    """An OIDC workload identity provider (an Entra tenant, GitHub, a Kubernetes cluster…)."""

    issuer_uri: str = Field(pattern=r"^https://")
    allowed_audiences: list[str] = Field(default_factory=list)


class WifProviderSpec(_Spec):
    """One provider of a workload identity pool: exactly one of ``aws`` or ``oidc``."""

    id: str
    display_name: str = ""
    disabled: bool = False
    aws: AwsProviderSpec | None = None
    oidc: OidcProviderSpec | None = None
    attribute_mapping: dict[str, str] = Field(default_factory=dict)
    attribute_condition: str | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _POOL_ID.match(value):
            raise ValueError(f"{value!r}: 4-32 lowercase letters, digits and dashes")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WifProviderSpec:
        if (self.aws is None) == (self.oidc is None):
            raise ValueError("a provider has exactly one of 'aws' or 'oidc'")
        return self


class WifPoolSpec(_Spec):
    """A workload identity pool and its providers."""

    id: str
    display_name: str = ""
    description: str = ""
    disabled: bool = False
    providers: list[WifProviderSpec] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _POOL_ID.match(value) or value.startswith("gcp-"):
            raise ValueError(f"{value!r}: 4-32 lowercase letters, digits and dashes, not gcp-…")
        return value


class ProjectSpec(_Spec):
    """One project: its policy, service accounts and workload identity pools."""

    id: str
    number: str
    bindings: list[BindingSpec] = Field(default_factory=list)
    service_accounts: list[ServiceAccountSpec] = Field(default_factory=list)
    workload_identity_pools: list[WifPoolSpec] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _PROJECT_ID.match(value):
            raise ValueError(
                f"{value!r} is not a project id (6-30 lowercase letters, digits, dashes)"
            )
        return value

    @field_validator("number")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9]\d{5,18}", value):
            raise ValueError("a project number is 6-19 digits (quote it in YAML)")
        return value


class QuotaSpec(_Spec):
    """Per-minute request quotas of the caller's project (none when absent)."""

    reads_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    writes_per_minute: int | None = Field(None, ge=1, le=1_000_000)


class GcpWorld(WorldSection):
    """What the Google Cloud emulator is seeded with; see the module docstring."""

    projects: list[ProjectSpec] = Field(default_factory=list)
    propagation_s: float = Field(
        2.0, ge=0, le=600, description="how long after a write a policy change is enforced"
    )
    quota: QuotaSpec | None = None

    def is_empty(self) -> bool:
        """True when the world has no project (the emulator is then not started)."""
        return not self.projects

    def identity_ids(self) -> set[str]:
        """Every service account email (the GCP adapter's identity ids)."""
        return {sa.email for p in self.projects for sa in p.service_accounts}

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Duplicates, emails outside their project, dangling members and pools."""
        problems: list[Problem] = []
        ids: set[str] = set()
        numbers: set[str] = set()
        emails: set[str] = set()
        for p_index, project in enumerate(self.projects):
            here = (*prefix, "projects", p_index)
            if project.id in ids:
                problems.append(doc.problem((*here, "id"), f"project {project.id} appears twice"))
            if project.number in numbers:
                problems.append(
                    doc.problem((*here, "number"), f"project number {project.number} appears twice")
                )
            ids.add(project.id)
            numbers.add(project.number)
            for s_index, sa in enumerate(project.service_accounts):
                where = (*here, "service_accounts", s_index, "email")
                domain = sa.email.partition("@")[2]
                if domain.endswith(".iam.gserviceaccount.com") and domain != _iam_domain(
                    project.id
                ):
                    problems.append(
                        doc.problem(where, f"{sa.email} does not belong to project {project.id}")
                    )
                if sa.email in emails:
                    problems.append(doc.problem(where, f"{sa.email} appears twice"))
                emails.add(sa.email)
                if p_index == 0 and sa.account_id == RESPONDER_ACCOUNT:
                    problems.append(
                        doc.problem(
                            where, f"{RESPONDER_ACCOUNT!r} is reserved for the lab's responder"
                        )
                    )
            pool_ids = [pool.id for pool in project.workload_identity_pools]
            for w_index, pool in enumerate(project.workload_identity_pools):
                if pool_ids.count(pool.id) > 1:
                    problems.append(
                        doc.problem(
                            (*here, "workload_identity_pools", w_index, "id"),
                            f"pool {pool.id} appears twice",
                        )
                    )
        problems.extend(self._member_problems(doc, prefix, emails))
        return problems

    def _member_problems(self, doc: Located, prefix: PathKey, emails: set[str]) -> list[Problem]:
        problems: list[Problem] = []
        projects = {p.id for p in self.projects}
        pools = {(p.number, pool.id) for p in self.projects for pool in p.workload_identity_pools}
        for p_index, project in enumerate(self.projects):
            here: PathKey = (*prefix, "projects", p_index)
            places: list[tuple[PathKey, list[BindingSpec]]] = [
                ((*here, "bindings"), project.bindings)
            ]
            places += [
                ((*here, "service_accounts", s_index, "bindings"), sa.bindings)
                for s_index, sa in enumerate(project.service_accounts)
            ]
            for where, bindings in places:
                for b_index, binding in enumerate(bindings):
                    for m_index, member in enumerate(binding.members):
                        at = (*where, b_index, "members", m_index)
                        message = _dangling(member, emails, projects, pools)
                        if message:
                            problems.append(doc.problem(at, message))
        return problems


def _iam_domain(project_id: str) -> str:
    return f"{project_id}.iam.gserviceaccount.com"


def _dangling(
    member: str, emails: set[str], projects: set[str], pools: set[tuple[str, str]]
) -> str | None:
    """Why a member names something this world should hold but does not, else None."""
    if member.startswith("serviceAccount:"):
        email = member.partition(":")[2]
        domain = email.partition("@")[2]
        owner = domain.removesuffix(".iam.gserviceaccount.com")
        if owner in projects and email not in emails:
            return f"no service account {email} in project {owner}"
        return None
    match = _POOL_MEMBER.match(member)
    if match and (match.group(2), match.group(3)) not in pools:
        return f"no workload identity pool {match.group(3)} in project number {match.group(2)}"
    return None
