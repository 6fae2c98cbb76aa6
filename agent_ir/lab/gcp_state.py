"""The Google Cloud emulator's state: projects, service accounts, keys, policies, tokens.

Built from the world's ``gcp`` section (ages counted back from the lab's start). Ids are
derived from the world deterministically, so a reset hands out the same key ids and
unique ids and key files written earlier keep working. Every method runs under the
emulator's lock (the caller holds it). The records it holds are in
:mod:`agent_ir.lab.gcp_records`.
"""

from __future__ import annotations

import bisect
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_ir.lab.gcp_records import (
    NEVER,
    FederatedToken,
    Key,
    Policy,
    Project,
    ServiceAccount,
    Token,
    stable_digits,
    stable_hex,
)
from agent_ir.lab.gcp_roles import role_allows
from agent_ir.lab.gcp_world import RESPONDER_ACCOUNT, GcpWorld, ProjectSpec, ServiceAccountSpec

RESPONDER_ROLES = (
    "roles/logging.privateLogViewer",
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/policyanalyzer.activityAnalysisViewer",
    "roles/cloudasset.viewer",
)
"""What the lab's responder holds on every project: read everything, change policies,
disable and enable accounts and keys, read the audit logs, search policies (Cloud Asset). Never an owner or editor."""


class GcpState:
    """Everything the emulator holds; rebuilt from the world on reset."""

    def __init__(self, world: GcpWorld, now: datetime) -> None:
        self.world = world
        self.now = now
        self.propagation_s = world.propagation_s
        self.projects: dict[str, Project] = {}
        self.accounts: dict[str, ServiceAccount] = {}
        self.by_unique_id: dict[str, str] = {}
        self.emails_by_project: dict[str, list[str]] = {}
        """Each project's service-account emails, in order (for paged listings)."""
        self.used_keys: dict[str, list[str]] = {}
        """Each project's keys that were ever used, by resource name in order."""
        self.used_key: dict[str, tuple[str, str]] = {}
        """A used key's resource name → (its account's email, its id)."""
        self.tokens: dict[str, Token] = {}
        self.audit_log: list[dict[str, Any]] = []
        """Cloud Audit Log entries (:mod:`agent_ir.lab.gcp_logging`), in arrival order."""
        self.federated: dict[str, FederatedToken] = {}
        self.federated_members: dict[str, set[str]] = {}
        """The members each federated principal stands for, as its last token said."""
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
            if key.last_used is not None:
                self.key_used(key)
        self._add(account)

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
        self._add(account)
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
            project.policy.settle()

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
        self._add(account)
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

    # -- indexes (kept on every write, so that no request walks every account) -------------

    def _add(self, account: ServiceAccount) -> None:
        self.accounts[account.email] = account
        self.by_unique_id[account.unique_id] = account.email
        emails = self.emails_by_project.setdefault(account.project, [])
        if not _holds(emails, account.email):
            bisect.insort(emails, account.email)

    def key_used(self, key: Key) -> None:
        """Index ``key`` as used (its project's key-activity listing reads the index)."""
        names = self.used_keys.setdefault(key.project, [])
        name = key.name()
        if not _holds(names, name):
            bisect.insort(names, name)
            self.used_key[name] = (key.email, key.id)

    def key_deleted(self, key: Key) -> None:
        """Forget a deleted key in the index of used keys."""
        name = key.name()
        names = self.used_keys.get(key.project, [])
        if _holds(names, name):
            del names[bisect.bisect_left(names, name)]
        self.used_key.pop(name, None)

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

    def members_of(self, caller: str) -> set[str]:
        """The allow-policy members that stand for ``caller`` (a service account's email or
        a federated ``principal://`` identifier)."""
        if caller.startswith("principal://"):
            return self.federated_members.get(caller, set())
        return {f"serviceAccount:{caller}"}

    def allowed(self, caller: str, permission: str, project: str, account: str | None) -> bool:
        """Whether ``caller`` holds ``permission`` on the project, or on the service account
        (whose policy adds to the project's), by the policies in force now."""
        members = self.members_of(caller)
        policies = [self.projects[project].policy]
        if account is not None and account in self.accounts:
            policies.append(self.accounts[account].policy)
        return any(
            role_allows(role, permission)
            for policy in policies
            for role in policy.roles_of(members)
        )

    def mint(
        self,
        email: str,
        scopes: tuple[str, ...],
        lifetime_s: int,
        delegation: tuple[str, ...] = (),
    ) -> tuple[str, float]:
        """Issue an access token for ``email`` (minted through ``delegation``, if any);
        returns it and its expiry (epoch seconds)."""
        token = "ya29.lab." + secrets.token_urlsafe(32)
        expires = time.time() + lifetime_s
        self.tokens[token] = Token(email, expires, scopes, delegation)
        if len(self.tokens) > 50_000:
            now = time.time()
            self.tokens = {t: v for t, v in self.tokens.items() if v.expires > now}
        return token, expires

    def mint_federated(self, found: FederatedToken) -> str:
        """Issue a federated access token (the Security Token Service's answer)."""
        token = "ya29.d.lab." + secrets.token_urlsafe(32)
        self.federated[token] = found
        self.federated_members[found.principal()] = found.members()
        return token

    def delegation_of(self, authorization: str) -> tuple[str, ...]:
        """The impersonation chain behind a request's bearer token (empty when none)."""
        found = self.tokens.get(authorization.partition(" ")[2].strip())
        return found.delegation if found is not None else ()

    def token_owner(self, token: str) -> tuple[str | None, str]:
        """The live account (or federated principal) a bearer token stands for, or None
        with why not.

        Checked at every use: a token of a disabled account is refused while it stays
        disabled and accepted again once it is re-enabled, if it has not expired.
        """
        federated = self.federated.get(token)
        if federated is not None:
            if federated.expires <= time.time():
                return None, "expired token"
            return federated.principal(), ""
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


def _holds(ordered: list[str], value: str) -> bool:
    """Whether the sorted list ``ordered`` holds ``value`` (by bisection)."""
    at = bisect.bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value
