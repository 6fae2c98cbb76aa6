"""The Google Cloud emulator's state: projects, service accounts, keys, policies, tokens.

Built from the world's ``gcp`` section (ages counted back from the lab's start). Ids are
derived from the world deterministically, so a reset hands out the same key ids and
unique ids and key files written earlier keep working. Every method runs under the
emulator's lock (the caller holds it).

Allow policies keep two views: what ``getIamPolicy`` returns (the last write, at once) and
what is *enforced*, which follows each write after ``propagation_s``, as Google's
eventually consistent IAM does.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_ir.lab.gcp_roles import role_allows
from agent_ir.lab.gcp_world import (
    RESPONDER_ACCOUNT,
    BindingSpec,
    GcpWorld,
    ProjectSpec,
    ServiceAccountSpec,
    WifPoolSpec,
)

NEVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
RESPONDER_ROLES = (
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/policyanalyzer.activityAnalysisViewer",
)
"""What the lab's responder holds on every project: read everything, change policies,
disable and enable accounts and keys. Never an owner or editor."""

_etag_counter = itertools.count(1)


def stable_digits(text: str, length: int) -> str:
    """A decimal string derived from ``text`` (no leading zero)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    digits = str(number)[:length]
    return ("1" + digits[1:]) if digits.startswith("0") else digits


def stable_hex(text: str, length: int = 40) -> str:
    """A hex string derived from ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def new_etag() -> str:
    """A fresh opaque etag (base64, as Google's are)."""
    raw = next(_etag_counter).to_bytes(8, "big") + stable_hex(str(time.time_ns()), 8).encode()
    return base64.b64encode(raw).decode()


def rfc3339(moment: datetime) -> str:
    """Google's timestamp text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def binding_key(binding: dict[str, Any]) -> str:
    """What makes a binding distinct: its role and its condition."""
    return str(binding["role"]) + "|" + json.dumps(binding.get("condition"), sort_keys=True)


@dataclass(slots=True)
class Policy:
    """One allow policy (on a project or a service account)."""

    bindings: list[dict[str, Any]] = field(default_factory=list)
    etag: str = field(default_factory=new_etag)
    enforced: list[tuple[float, list[dict[str, Any]]]] = field(default_factory=list)

    @classmethod
    def seeded(cls, specs: list[BindingSpec]) -> Policy:
        """A policy as the world describes it, enforced from the start."""
        bindings = [_binding_from_spec(spec) for spec in specs]
        return cls(bindings, new_etag(), [(0.0, copy.deepcopy(bindings))])

    @property
    def version(self) -> int:
        """3 when any binding has a condition, else 1."""
        return 3 if any("condition" in b for b in self.bindings) else 1

    def to_json(self, requested_version: int) -> dict[str, Any]:
        """The wire form; conditional bindings need version 3 to be shown."""
        out: dict[str, Any] = {"version": self.version, "etag": self.etag}
        if self.bindings:
            if self.version == 3 and requested_version < 3:
                out["bindings"] = [_withheld(b) for b in self.bindings]
            else:
                out["bindings"] = copy.deepcopy(self.bindings)
        return out

    def replace(self, bindings: list[dict[str, Any]], propagation_s: float) -> None:
        """A write: readers see it now, enforcement after ``propagation_s``."""
        self.bindings = bindings
        self.etag = new_etag()
        now = time.monotonic()
        # keep the latest write in force and every one still propagating
        effective = [entry for entry in self.enforced if entry[0] <= now]
        pending = [entry for entry in self.enforced if entry[0] > now]
        self.enforced = [*effective[-1:], *pending, (now + propagation_s, copy.deepcopy(bindings))]

    def settle(self) -> None:
        """Enforce the last write now, as if its propagation delay had passed."""
        self.enforced = [(0.0, copy.deepcopy(self.bindings))]

    def enforced_bindings(self) -> list[dict[str, Any]]:
        """The bindings in force now (the latest write whose delay has passed)."""
        now = time.monotonic()
        live = [bindings for at, bindings in self.enforced if at <= now]
        return live[-1] if live else []


def _binding_from_spec(spec: BindingSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"role": spec.role, "members": list(spec.members)}
    if spec.condition is not None:
        out["condition"] = spec.condition.model_dump(exclude_defaults=True)
    return out


def _withheld(binding: dict[str, Any]) -> dict[str, Any]:
    if "condition" not in binding:
        return copy.deepcopy(binding)
    return {
        "role": binding["role"],
        "members": [m + "?condition=withheld" for m in binding["members"]],
    }


@dataclass(slots=True)
class Key:
    """One service account key."""

    id: str
    email: str
    project: str
    type: str
    valid_after: datetime
    valid_before: datetime
    disabled: bool = False
    last_used: datetime | None = None

    def name(self) -> str:
        """Its resource name."""
        return f"projects/{self.project}/serviceAccounts/{self.email}/keys/{self.id}"

    def to_json(self) -> dict[str, Any]:
        """The wire form (never any key material)."""
        out: dict[str, Any] = {
            "name": self.name(),
            "validAfterTime": rfc3339(self.valid_after),
            "validBeforeTime": rfc3339(self.valid_before),
            "keyAlgorithm": "KEY_ALG_RSA_2048",
            "keyOrigin": "GOOGLE_PROVIDED",
            "keyType": self.type,
        }
        if self.disabled:
            out["disabled"] = True
        return out

    def usable(self, now: datetime) -> bool:
        """Whether the key can sign in now."""
        return not self.disabled and self.valid_after <= now < self.valid_before


@dataclass(slots=True)
class ServiceAccount:
    """One service account, with its keys and the policy on it."""

    project: str
    number: str
    email: str
    unique_id: str
    display_name: str
    description: str
    disabled: bool
    policy: Policy
    keys: dict[str, Key] = field(default_factory=dict)
    etag: str = field(default_factory=new_etag)

    def name(self) -> str:
        """Its resource name."""
        return f"projects/{self.project}/serviceAccounts/{self.email}"

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        out: dict[str, Any] = {
            "name": self.name(),
            "projectId": self.project,
            "uniqueId": self.unique_id,
            "email": self.email,
            "oauth2ClientId": self.unique_id,
            "etag": self.etag,
        }
        if self.display_name:
            out["displayName"] = self.display_name
        if self.description:
            out["description"] = self.description
        if self.disabled:
            out["disabled"] = True
        return out


@dataclass(slots=True)
class Project:
    """One project: its number, policy and workload identity pools."""

    id: str
    number: str
    policy: Policy
    pools: list[WifPoolSpec]


@dataclass(slots=True)
class Token:
    """An access token the lab issued."""

    email: str
    expires: float
    scopes: tuple[str, ...]


class GcpState:
    """Everything the emulator holds; rebuilt from the world on reset."""

    def __init__(self, world: GcpWorld, now: datetime) -> None:
        self.world = world
        self.now = now
        self.propagation_s = world.propagation_s
        self.projects: dict[str, Project] = {}
        self.accounts: dict[str, ServiceAccount] = {}
        self.by_unique_id: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.responder_email = f"{RESPONDER_ACCOUNT}@{world.projects[0].id}.iam.gserviceaccount.com"
        for spec in world.projects:
            self._project(spec)
        self._responder()

    # -- seeding ----------------------------------------------------------------------

    def _project(self, spec: ProjectSpec) -> None:
        self.projects[spec.id] = Project(
            spec.id, spec.number, Policy.seeded(spec.bindings), list(spec.workload_identity_pools)
        )
        for sa in spec.service_accounts:
            self._account(spec, sa)

    def _account(self, project: ProjectSpec, spec: ServiceAccountSpec) -> None:
        account = ServiceAccount(
            project=project.id,
            number=project.number,
            email=spec.email,
            unique_id=stable_digits("sa:" + spec.email, 21),
            display_name=spec.display_name,
            description=spec.description,
            disabled=spec.disabled,
            policy=Policy.seeded(spec.bindings),
        )
        for index, key_spec in enumerate(spec.keys):
            valid_after = self.now - timedelta(days=key_spec.age_days)
            valid_before = (
                valid_after + timedelta(days=key_spec.valid_days) if key_spec.valid_days else NEVER
            )
            key = Key(
                id=stable_hex(f"key:{spec.email}:{index}"),
                email=spec.email,
                project=project.id,
                type=key_spec.type,
                valid_after=valid_after,
                valid_before=valid_before,
                disabled=key_spec.disabled,
                last_used=(
                    None
                    if key_spec.last_used_days_ago is None
                    else self.now - timedelta(days=key_spec.last_used_days_ago)
                ),
            )
            account.keys[key.id] = key
        self.accounts[account.email] = account
        self.by_unique_id[account.unique_id] = account.email

    def _responder(self) -> None:
        first = self.world.projects[0]
        email = self.responder_email
        account = ServiceAccount(
            project=first.id,
            number=first.number,
            email=email,
            unique_id=stable_digits("sa:" + email, 21),
            display_name="agent-ir responder (lab)",
            description="The incident-response console's own identity in the lab.",
            disabled=False,
            policy=Policy.seeded([]),
        )
        key = Key(
            id=stable_hex(f"key:{email}:responder"),
            email=email,
            project=first.id,
            type="USER_MANAGED",
            valid_after=self.now - timedelta(minutes=5),
            valid_before=NEVER,
        )
        account.keys[key.id] = key
        self.accounts[email] = account
        self.by_unique_id[account.unique_id] = email
        member = f"serviceAccount:{email}"
        for project in self.projects.values():
            bindings = project.policy.bindings
            for role in RESPONDER_ROLES:
                existing = next(
                    (b for b in bindings if b["role"] == role and "condition" not in b), None
                )
                if existing is None:
                    bindings.append({"role": role, "members": [member]})
                elif member not in existing["members"]:
                    existing["members"].append(member)
            project.policy.enforced = [(0.0, copy.deepcopy(bindings))]

    @property
    def responder_key(self) -> Key:
        """The responder's own key."""
        return next(iter(self.accounts[self.responder_email].keys.values()))

    def settle(self) -> None:
        """Lab only: let every pending policy change take effect now."""
        for project in self.projects.values():
            project.policy.settle()
        for account in self.accounts.values():
            account.policy.settle()

    def create_account(
        self, project: Project, account_id: str, display_name: str, description: str
    ) -> ServiceAccount:
        """A new, enabled service account with no key and an empty policy."""
        email = f"{account_id}@{project.id}.iam.gserviceaccount.com"
        account = ServiceAccount(
            project=project.id,
            number=project.number,
            email=email,
            unique_id=stable_digits("sa:" + email, 21),
            display_name=display_name,
            description=description,
            disabled=False,
            policy=Policy.seeded([]),
        )
        self.accounts[email] = account
        self.by_unique_id[account.unique_id] = email
        return account

    def create_key(self, account: ServiceAccount) -> Key:
        """A new user-managed key of ``account``, never expiring, valid from now (or from
        the lab's start instant, when that is earlier, so the lab's clock agrees)."""
        key = Key(
            id=secrets.token_hex(20),
            email=account.email,
            project=account.project,
            type="USER_MANAGED",
            valid_after=min(datetime.now(UTC), self.now).replace(microsecond=0),
            valid_before=NEVER,
        )
        account.keys[key.id] = key
        return key

    # -- lookups ------------------------------------------------------------------------

    def account(self, ref: str) -> ServiceAccount | None:
        """A service account by email or unique id."""
        email = self.by_unique_id.get(ref, ref)
        return self.accounts.get(email)

    def project(self, ref: str) -> Project | None:
        """A project by id or number."""
        found = self.projects.get(ref)
        if found is not None:
            return found
        return next((p for p in self.projects.values() if p.number == ref), None)

    # -- authorization -----------------------------------------------------------------

    def allowed(self, email: str, permission: str, project: str, account: str | None) -> bool:
        """Whether ``email`` holds ``permission`` on the project, or on the service account
        (whose policy adds to the project's), by the policies in force now."""
        member = f"serviceAccount:{email}"
        policies = [self.projects[project].policy]
        if account is not None and account in self.accounts:
            policies.append(self.accounts[account].policy)
        for policy in policies:
            for binding in policy.enforced_bindings():
                if member in binding["members"] and role_allows(binding["role"], permission):
                    return True
        return False

    def mint(self, email: str, scopes: tuple[str, ...], lifetime_s: int) -> tuple[str, float]:
        """Issue an access token for ``email``; returns it and its expiry (epoch seconds)."""
        token = "ya29.lab." + secrets.token_urlsafe(32)
        expires = time.time() + lifetime_s
        self.tokens[token] = Token(email, expires, scopes)
        if len(self.tokens) > 50_000:
            now = time.time()
            self.tokens = {t: v for t, v in self.tokens.items() if v.expires > now}
        return token, expires

    def token_owner(self, token: str) -> tuple[str | None, str]:
        """The live account a bearer token stands for, or None with why not.

        Checked at every use: a token of a disabled account is refused while it stays
        disabled and accepted again once it is re-enabled, if it has not expired.
        """
        found = self.tokens.get(token)
        if found is None:
            return None, "unknown token"
        if found.expires <= time.time():
            return None, "expired token"
        account = self.accounts.get(found.email)
        if account is None:
            return None, "the token's service account was deleted"
        if account.disabled:
            return None, "the token's service account is disabled"
        return found.email, ""
