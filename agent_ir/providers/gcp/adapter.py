"""The Google Cloud adapter: IAM v1, Resource Manager v3 and Policy Analyzer over async httpx,
authenticated by google-auth (see :mod:`~agent_ir.providers.gcp.auth`).

Discovery per project (projects concurrently): the project's number and allow policy, its
service accounts (paged), its workload identity pools and providers, and the last use of
its keys (Policy Analyzer). Then, concurrently and bounded, the policy on every service
account (who may act as it) and the keys of the accounts the engine wants in detail; an
agent-scoped read asks Cloud Asset which policies name the agent's accounts and reads only
those (:mod:`~agent_ir.providers.gcp.asset`).
Translation into identities, grants and edges is in :mod:`~agent_ir.providers.gcp.translate`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.errors import ObjectMissing, PermissionDenied
from agent_ir.model import Credential, Identity, ProviderName
from agent_ir.providers.base import (
    Ability,
    CheckReport,
    Discovery,
    PermissionCheck,
    ProviderContext,
)
from agent_ir.providers.gcp import policies, translate
from agent_ir.providers.gcp.auth import TokenSource, caller_email, load_credentials
from agent_ir.providers.gcp.client import GcpClient
from agent_ir.providers.gcp.config import GcpSettings

if TYPE_CHECKING:
    pass

READ_PERMISSIONS = (
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
    "iam.serviceAccounts.list",
    "iam.serviceAccounts.get",
    "iam.serviceAccounts.getIamPolicy",
    "iam.serviceAccountKeys.list",
    "iam.workloadIdentityPools.list",
    "iam.workloadIdentityPoolProviders.list",
    "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query",
    "cloudasset.assets.searchAllIamPolicies",
)
ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""What IAM accepts as a service account id (the part of its email before ``@``)."""
SA_DOMAIN = ".iam.gserviceaccount.com"
KEY_ACTIVITY = "locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query"


@dataclass(slots=True)
class GcpFacts:
    """What GCP discovery learnt that the actions plan from: the IAM policies it read, by
    resource (``projects/P``, ``serviceAccounts/EMAIL``)."""

    policies: dict[str, dict[str, Any]] = field(default_factory=dict)


class GcpProvider:
    """Reads service accounts, keys, policies and federation across projects; acts on them."""

    name: ClassVar[ProviderName] = "gcp"
    read_permissions: ClassVar[tuple[str, ...]] = READ_PERMISSIONS
    abilities: ClassVar[Ability] = (
        Ability.DISCOVER
        | Ability.CHECK_PERMISSIONS
        | Ability.READ_PERMISSIONS
        | Ability.CONTAIN
        | Ability.RESTORE
        | Ability.READ_ACTIVITY
    )

    def __init__(self, settings: GcpSettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self._client: GcpClient | None = None
        self._open_lock = asyncio.Lock()
        self.via = ""
        self.caller: str | None = None
        self.conflicts = 0
        """Etag conflicts met (and retried) by policy edits."""
        self.policy_edits = policies.PolicyEdits()
        """Concurrent edits of one policy, merged into one read-modify-write."""
        self.policies: dict[str, dict[str, Any]] = {}
        """Policies read by the last discovery, by resource (``projects/P``,
        ``serviceAccounts/EMAIL``)."""
        self.accounts: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, section: GcpSettings, context: ProviderContext) -> GcpProvider:
        """Build the adapter; credentials are loaded and no call made until it is used."""
        return cls(section, context)

    @property
    def endpoint(self) -> str:
        """The IAM endpoint in use."""
        return self.settings.iam_url

    # -- plumbing ---------------------------------------------------------------------

    async def client(self) -> GcpClient:
        """The HTTP client, made (with the credentials) on first use."""
        async with self._open_lock:
            if self._client is None:
                creds, self.via = load_credentials(self.settings)
                self.caller = caller_email(creds)
                timeout = self.settings.timeout_s
                self._client = GcpClient(
                    self.settings, lambda http: TokenSource(creds, http, timeout)
                )
            return self._client

    async def read_activity(
        self, identities: Sequence[Identity], window: ActivityWindow
    ) -> ActivityPage:
        """Cloud Audit Log entries of ``identities`` (:mod:`.activity`)."""
        from agent_ir.providers.gcp.activity import GcpActivityReader

        return await GcpActivityReader(await self.client(), self.settings).read(identities, window)

    @property
    def requests(self) -> int:
        """API calls made so far (retries included)."""
        return self._client.requests if self._client is not None else 0

    def _iam(self, path: str) -> str:
        return f"{self.settings.iam_url.rstrip('/')}/v1/{path}"

    def _crm(self, path: str) -> str:
        return f"{self.settings.resource_manager_url.rstrip('/')}/v3/{path}"

    @staticmethod
    def account_path(email: str) -> str:
        """``projects/-/serviceAccounts/EMAIL`` (the email path-escaped)."""
        return f"projects/-/serviceAccounts/{quote(email, safe='@')}"

    async def _call(self, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        return await (await self.client()).call(method, url, what, **kwargs)

    # -- reads and writes used by actions ------------------------------------------------

    async def get_account(self, email: str) -> dict[str, Any] | None:
        """A service account, or None when it does not exist."""
        try:
            return await self._call("GET", self._iam(self.account_path(email)), f"reading {email}")
        except ObjectMissing:
            return None

    async def set_account_disabled(self, email: str, disabled: bool) -> None:
        """``:disable`` or ``:enable`` a service account."""
        verb = "disable" if disabled else "enable"
        url = self._iam(f"{self.account_path(email)}:{verb}")
        await self._call("POST", url, f"{verb} {email}", body={}, write=True)

    async def get_key(self, email: str, key_id: str) -> dict[str, Any] | None:
        """One key of an account, or None when it is gone."""
        url = self._iam(f"{self.account_path(email)}/keys/{key_id}")
        try:
            return await self._call("GET", url, f"reading key {key_id} of {email}")
        except ObjectMissing:
            return None

    async def set_key_disabled(self, email: str, key_id: str, disabled: bool) -> None:
        """``:disable`` or ``:enable`` one key."""
        verb = "disable" if disabled else "enable"
        url = self._iam(f"{self.account_path(email)}/keys/{key_id}:{verb}")
        await self._call("POST", url, f"{verb} key {key_id} of {email}", body={}, write=True)

    async def get_policy(self, resource: str) -> dict[str, Any]:
        """The allow policy of ``projects/P`` or ``serviceAccounts/EMAIL`` (version 3)."""
        if resource.startswith("projects/"):
            return await self._call(
                "POST",
                self._crm(f"{resource}:getIamPolicy"),
                f"reading the policy of {resource}",
                body={"options": {"requestedPolicyVersion": 3}},
            )
        email = resource.partition("/")[2]
        return await self._call(
            "POST",
            self._iam(f"{self.account_path(email)}:getIamPolicy"),
            f"reading the policy on {email}",
            params={"options.requestedPolicyVersion": 3},
        )

    async def set_policy(self, resource: str, policy: dict[str, Any]) -> dict[str, Any]:
        """Write a policy (with its etag) to ``projects/P`` or ``serviceAccounts/EMAIL``."""
        body = {"policy": policy, "updateMask": "bindings,etag"}
        if resource.startswith("projects/"):
            url = self._crm(f"{resource}:setIamPolicy")
        else:
            url = self._iam(f"{self.account_path(resource.partition('/')[2])}:setIamPolicy")
        return await self._call(
            "POST", url, f"writing the policy of {resource}", body=body, write=True
        )

    # -- own lookup (what a kill switch cuts first) ---------------------------------------

    async def own_identities(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The service accounts whose id (the identity's name: the email before ``@``) is
        ``agent`` in each configured project, and those whose email is in ``ids``, fetched
        by email (no listing, no asset search) and read in full as the scoped read reads
        them: keys, the description's agent tag, their own policy and their project's
        grants. An account that does not exist, or lies outside the configured projects
        (the scoped read would not list it), is left out.

        Rounds: sign-in; the accounts by email; their keys and policies, side by side.
        Edges are those among the accounts found; the rest of the closure (asset search,
        pools) is the scoped read's."""
        await self.client()
        wanted = own_emails(agent, ids, self.settings.projects)
        fetched = await asyncio.gather(*(self._own_account(e, p) for e, p in wanted))
        found = {str(a["email"]): a for a in fetched if a is not None}
        projects = sorted({str(a.get("projectId", "")) for a in found.values()})
        idents = [translate.identity(a) for a in found.values()]
        keys, own, project_policies = await asyncio.gather(
            self._keys(idents, {}),
            asyncio.gather(*(self._account_policy(e) for e in found)),
            asyncio.gather(*(self.get_policy(f"projects/{p}") for p in projects)),
        )
        policies = dict(zip(found, own, strict=True))
        by_project = dict(zip(projects, project_policies, strict=True))
        self.accounts.update(found)
        self.policies.update((f"serviceAccounts/{e}", p) for e, p in policies.items())
        self.policies.update((f"projects/{p}", pol) for p, pol in by_project.items())
        emails = set(found)
        result = Discovery(
            provider="gcp",
            identities=[translate.identity(a, keys.get(e, ())) for e, a in found.items()],
        )
        for project, policy in by_project.items():
            result.grants += translate.project_grants(project, policy, emails)
        result.grants += translate.account_grants(policies, emails)
        edges = translate.all_edges(
            list(by_project.items()), found, policies, translate.PoolIndex()
        )
        result.edges = [e for e in edges if e.source in emails]
        result.requests = self.requests
        if self.caller:
            result.responder_ids.add(self.caller)
        return result

    async def _own_account(self, email: str, project: str) -> dict[str, Any] | None:
        """One account by email, in its project when the email names a configured one
        (there 404 means absent and 403 is a refusal); else through ``projects/-``, where
        IAM answers 403 "(or it may not exist)" for an account it cannot place. None when
        absent or outside the configured projects."""
        path = f"projects/{project}/serviceAccounts/{quote(email, safe='@')}"
        try:
            account = await self._call("GET", self._iam(path), f"reading {email}")
        except ObjectMissing:
            return None
        except PermissionDenied:
            if project != "-":
                raise
            return None
        if str(account.get("projectId", "")) not in self.settings.projects:
            return None
        return account

    async def _account_policy(self, email: str) -> dict[str, Any]:
        """A service account's own allow policy (empty when the account is gone)."""
        try:
            return await self.get_policy(f"serviceAccounts/{email}")
        except ObjectMissing:
            return {}

    # -- discovery ----------------------------------------------------------------------

    async def discover(self) -> Discovery:
        """Service accounts with keys, their grants, and who can act as whom."""
        await self.client()
        projects = await asyncio.gather(*(self._project(p) for p in self.settings.projects))
        pools = translate.PoolIndex()
        activity: dict[str, datetime] = {}
        accounts: list[dict[str, Any]] = []
        for data in projects:
            pools.providers.update(data["pools"])
            pools.disabled.update(data["disabled_pools"])
            activity.update(data["activity"])
            accounts.extend(data["accounts"])
            self.policies[f"projects/{data['id']}"] = data["policy"]
        self.accounts = {str(a["email"]): a for a in accounts}
        identities = [translate.identity(a) for a in accounts]
        wanted = [i for i in identities if self.context.wanted(i)]
        projects_read = {str(d["id"]): d["policy"] for d in projects}
        (policies, notes), keys = await asyncio.gather(
            self._policies_in_scope(accounts, identities, projects_read),
            self._keys(wanted, activity),
        )
        identities = [
            translate.identity(self.accounts[i.id], keys.get(i.id, ())) for i in identities
        ]
        result = Discovery(provider="gcp", identities=identities, notes=notes)
        emails = set(self.accounts)
        for data in projects:
            result.grants += translate.project_grants(data["id"], data["policy"], emails)
        result.grants += translate.account_grants(policies, emails)
        result.edges = translate.all_edges(
            [(data["id"], data["policy"]) for data in projects], self.accounts, policies, pools
        )
        result.requests = self.requests
        if self.caller:
            result.responder_ids.add(self.caller)
        return result

    async def _project(self, project: str) -> dict[str, Any]:
        self.context.report(f"gcp {project}: service accounts", 0, None)
        info, accounts, policy, pools, activity = await asyncio.gather(
            self._call("GET", self._crm(f"projects/{project}"), f"reading project {project}"),
            (await self.client()).pages(
                self._iam(f"projects/{project}/serviceAccounts"),
                "accounts",
                f"listing service accounts of {project}",
                {"pageSize": self.settings.page_size},
            ),
            self.get_policy(f"projects/{project}"),
            self._pools(project),
            self._activity(project),
        )
        number = str(info.get("name", "")).rpartition("/")[2]
        return {
            "id": project,
            "number": number,
            "accounts": accounts,
            "policy": policy,
            "pools": {(number, k): v for k, (v, _) in pools.items()},
            "disabled_pools": {(number, k) for k, (_, off) in pools.items() if off},
            "activity": activity,
        }

    async def _pools(self, project: str) -> dict[str, tuple[list[dict[str, Any]], bool]]:
        client = await self.client()
        base = f"projects/{project}/locations/global/workloadIdentityPools"
        pools = await client.pages(
            self._iam(base), "workloadIdentityPools", f"listing pools of {project}"
        )

        async def providers(pool: dict[str, Any]) -> tuple[str, list[dict[str, Any]], bool]:
            pool_id = str(pool["name"]).rsplit("/", 1)[-1]
            found = await client.pages(
                self._iam(f"{base}/{pool_id}/providers"),
                "workloadIdentityPoolProviders",
                f"listing providers of pool {pool_id}",
            )
            return pool_id, found, bool(pool.get("disabled"))

        listed = await asyncio.gather(*(providers(p) for p in pools))
        return {pool_id: (found, off) for pool_id, found, off in listed}

    async def _activity(self, project: str) -> dict[str, datetime]:
        """When each key last authenticated; not for a containment, since it pages every
        key of the project before the first cut and no step needs it."""
        if not self.settings.key_activity or self.context.for_containment():
            return {}
        client = await self.client()
        base = self.settings.policy_analyzer_url.rstrip("/")
        try:
            found = await client.pages(
                f"{base}/v1/projects/{project}/{KEY_ACTIVITY}",
                "activities",
                f"reading key activity of {project}",
            )
        except PermissionDenied as exc:
            raise PermissionDenied(
                "gcp",
                f"{exc.message} (grant roles/policyanalyzer.activityAnalysisViewer, "
                "or set key_activity: false)",
                detail=exc.detail,
            ) from None
        out: dict[str, datetime] = {}
        for item in found:
            moment = translate.parse_time((item.get("activity") or {}).get("lastAuthenticatedTime"))
            if moment is not None:
                out[str(item.get("fullResourceName", "")).rsplit("/", 1)[-1]] = moment
        return out

    async def _policies_in_scope(
        self,
        accounts: list[dict[str, Any]],
        identities: list[Identity],
        projects: dict[str, dict[str, Any]],
    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The service-account policies edges are drawn from: for an agent-scoped read,
        those Cloud Asset finds naming the agent's accounts (:mod:`.asset`), else (or when
        Cloud Asset refuses) every account's; and how they were found."""
        if not self.context.scoped():
            return await self._account_policies(accounts), []
        from agent_ir.providers.gcp.asset import AssetRefused, AssetSearch

        focused = [i.id for i in identities if self.context.in_focus(i)]
        search = AssetSearch(await self.client(), self.settings, self.accounts, projects)
        try:
            found = await search.run(focused, self.get_policy)
        except AssetRefused as exc:
            note = (
                f"gcp: Cloud Asset searchAllIamPolicies refused ({exc}); the policy of every "
                f"service account was read instead ({len(accounts)} accounts)"
            )
            return await self._account_policies(accounts), [note]
        for email, policy in {**found.federated, **found.live}.items():
            self.policies[f"serviceAccounts/{email}"] = policy
        return {**found.federated, **found.live}, [found.note()]

    async def _account_policies(self, accounts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        done = 0

        async def one(email: str) -> tuple[str, dict[str, Any]]:
            nonlocal done
            policy = await self._account_policy(email)
            done += 1
            if done % 100 == 0 or done == len(accounts):
                self.context.report("gcp: service account policies", done, len(accounts))
            return email, policy

        found = dict(await asyncio.gather(*(one(str(a["email"])) for a in accounts)))
        for email, policy in found.items():
            self.policies[f"serviceAccounts/{email}"] = policy
        return found

    async def _keys(
        self, wanted: list[Identity], activity: dict[str, datetime]
    ) -> dict[str, tuple[Credential, ...]]:
        now = self.context.clock()

        async def one(ident: Identity) -> tuple[str, tuple[Credential, ...]]:
            try:
                reply = await self._call(
                    "GET",
                    self._iam(f"{self.account_path(ident.id)}/keys"),
                    f"listing keys of {ident.id}",
                )
            except ObjectMissing:
                return ident.id, ()
            creds = tuple(
                translate.credential(k, now, activity.get(str(k["name"]).rsplit("/", 1)[-1]))
                for k in reply.get("keys", [])
            )
            return ident.id, creds

        return dict(await asyncio.gather(*(one(i) for i in wanted)))

    # -- doctor -------------------------------------------------------------------------

    async def check(self, permissions: list[str]) -> CheckReport:
        """Who the responder is and which permissions it holds on every project."""
        from agent_ir.providers.registry import plugin

        wanted = permissions or sorted(
            set(READ_PERMISSIONS).union(
                *(
                    set(a.permissions) | set(a.restore_permissions)
                    for a in plugin("gcp").actions().values()
                )
            )
        )
        await self.client()
        held: dict[str, set[str]] = {}
        for project in self.settings.projects:
            reply = await self._call(
                "POST",
                self._crm(f"projects/{project}:testIamPermissions"),
                f"testing permissions on {project}",
                body={"permissions": wanted},
            )
            held[project] = set(reply.get("permissions", []))
        report = CheckReport(
            provider="gcp",
            caller=self.caller or self.via,
            account=self.settings.projects[0],
            endpoint=self.endpoint,
        )
        report.notes.append(f"credentials: {self.via}")
        report.notes.append("projects: " + ", ".join(self.settings.projects))
        for permission in wanted:
            missing = [p for p in self.settings.projects if permission not in held[p]]
            note = "on every project" if not missing else "missing on " + ", ".join(missing)
            report.permissions.append(PermissionCheck(permission, not missing, note))
        return report

    def plan_facts(self) -> GcpFacts:
        """The policies of the last discovery."""
        return GcpFacts(dict(self.policies))

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def own_emails(agent: str, ids: frozenset[str], projects: Sequence[str]) -> list[tuple[str, str]]:
    """(email, project to ask it in) of the accounts an own lookup fetches: the account
    with id ``agent`` (IAM ids are lower case, names match case-insensitively) in each
    project, when ``agent`` can be an account id at all, and every service-account email
    in ``ids`` (ids of other providers are not emails of ``gserviceaccount.com``)."""
    out: dict[str, str] = {}
    account_id = agent.lower()
    if ACCOUNT_ID.match(account_id):
        for project in projects:
            out[f"{account_id}@{project}{SA_DOMAIN}"] = project
    for ref in sorted(ids):
        local, at, domain = ref.lower().partition("@")
        if not (at and local and domain.endswith("gserviceaccount.com")):
            continue
        project = domain.removesuffix(SA_DOMAIN) if domain.endswith(SA_DOMAIN) else ""
        out.setdefault(f"{local}@{domain}", project if project in projects else "-")
    return list(out.items())
