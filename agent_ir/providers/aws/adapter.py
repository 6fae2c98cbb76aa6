"""The AWS adapter: IAM and STS through boto3, sync calls run on a bounded thread pool."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import boto3
import botocore.session
from botocore.config import Config

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.errors import ObjectMissing, ProviderError
from agent_ir.model import Credential, Edge, Identity, ProviderName
from agent_ir.providers.aws import scoped, translate
from agent_ir.providers.aws.boundary import boto_errors
from agent_ir.providers.aws.policy import PolicyDoc, parse_document
from agent_ir.providers.base import (
    Ability,
    CheckReport,
    Discovery,
    PermissionCheck,
    ProviderContext,
)
from agent_ir.settings import AwsSettings

if TYPE_CHECKING:
    pass

T = TypeVar("T")

READ_PERMISSIONS = [
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
]
AUTH_DETAIL_FILTER = ["User", "Role", "Group", "LocalManagedPolicy"]


@dataclass(slots=True)
class AwsFacts:
    """What AWS discovery learnt that the actions plan from: every principal read (its
    trust policy among them), by ARN."""

    principals: dict[str, translate.Principal] = field(default_factory=dict)


@dataclass(slots=True)
class _Account:
    id: str
    session: boto3.Session
    iam: Any
    via: str


class AwsProvider:
    """Reads IAM users, roles, keys and policies across one or more accounts."""

    name: ClassVar[ProviderName] = "aws"
    read_permissions: ClassVar[tuple[str, ...]] = tuple(READ_PERMISSIONS)
    abilities: ClassVar[Ability] = (
        Ability.DISCOVER
        | Ability.CHECK_PERMISSIONS
        | Ability.READ_PERMISSIONS
        | Ability.CONTAIN
        | Ability.RESTORE
        | Ability.READ_ACTIVITY
    )

    def __init__(self, settings: AwsSettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self._pool = ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="aws")
        self._config = Config(
            region_name=settings.region,
            connect_timeout=settings.timeout_s,
            read_timeout=settings.timeout_s,
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            max_pool_connections=settings.max_concurrency,
            user_agent_extra="agent-ir",
        )
        self._accounts: list[_Account] | None = None
        self.principals: dict[str, translate.Principal] = {}
        self._responder_ids: set[str] = {a.role_arn for a in settings.accounts}
        if settings.role_arn:
            self._responder_ids.add(settings.role_arn)
        self._lock = asyncio.Lock()
        self._requests = 0
        self._count_lock = threading.Lock()
        self._trails: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, section: AwsSettings, context: ProviderContext) -> AwsProvider:
        """Build the adapter; no call is made until it is used."""
        return cls(section, context)

    @property
    def endpoint(self) -> str:
        """The IAM/STS endpoint in use."""
        return self.settings.endpoint_url or "https://iam.amazonaws.com"

    # -- plumbing ---------------------------------------------------------------------

    async def _run(self, what: str, fn: Callable[[], T]) -> T:
        def call() -> T:
            with boto_errors(what):
                return fn()

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def _counted(self, n: int = 1) -> None:
        with self._count_lock:
            self._requests += n

    def _client(self, session: boto3.Session, service: str) -> Any:
        verify: str | bool | None = (
            str(self.settings.ca_bundle) if self.settings.ca_bundle else None
        )
        return session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.settings.endpoint_url,
            verify=verify,
            config=self._config,
        )

    def _base_session(self) -> boto3.Session:
        core = botocore.session.Session()
        if self.settings.shared_credentials_file:
            core.set_config_variable("credentials_file", str(self.settings.shared_credentials_file))
        if self.settings.config_file:
            core.set_config_variable("config_file", str(self.settings.config_file))
        if self.settings.profile:
            core.set_config_variable("profile", self.settings.profile)
        return boto3.Session(botocore_session=core, region_name=self.settings.region)

    def _assumed(self, session: boto3.Session, role_arn: str) -> boto3.Session:
        sts = self._client(session, "sts")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="agent-ir")["Credentials"]
        self._counted()
        # The new session shares the first one's data loader: botocore otherwise parses
        # its endpoint and service models again for every account (CPU that holds the
        # interpreter lock while the other providers wait to send their requests).
        core = botocore.session.Session()
        core.register_component("data_loader", session._session.get_component("data_loader"))
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.settings.region,
            botocore_session=core,
        )

    async def _sessions(self) -> list[_Account]:
        async with self._lock:
            if self._accounts is None:
                self._accounts = await self._open_sessions()
            return self._accounts

    async def _open_sessions(self) -> list[_Account]:
        def main() -> _Account:
            session = self._base_session()
            via = f"profile {self.settings.profile}" if self.settings.profile else "default chain"
            if self.settings.role_arn:
                session = self._assumed(session, self.settings.role_arn)
                via = f"role {self.settings.role_arn}"
            who = self._client(session, "sts").get_caller_identity()
            self._counted()
            self._responder_ids.add(_principal_arn(str(who["Arn"])))
            return _Account(who["Account"], session, self._client(session, "iam"), via)

        first = await self._run("signing in", main)

        def other(account_id: str, role_arn: str) -> _Account:
            session = self._assumed(first.session, role_arn)
            return _Account(account_id, session, self._client(session, "iam"), f"role {role_arn}")

        others = await asyncio.gather(
            *(
                self._run(f"assuming {a.role_arn}", functools.partial(other, a.id, a.role_arn))
                for a in self.settings.accounts
                if a.id != first.id
            )
        )
        return [first, *others]

    async def iam_call(self, account: str, what: str, method: str, **kwargs: Any) -> Any:
        """One IAM call in ``account``, on the pool, with errors mapped."""
        sessions = await self._sessions()
        iam = next((a.iam for a in sessions if a.id == account), None)
        if iam is None:
            raise ProviderError(
                "aws", f"account {account} is not configured (add it under accounts)"
            )
        self._counted()
        return await self._run(what, functools.partial(getattr(iam, method), **kwargs))

    async def cloudtrail_call(self, account: str, what: str, **kwargs: Any) -> Any:
        """One CloudTrail ``LookupEvents`` in ``account``, on the pool, with errors mapped."""
        sessions = await self._sessions()
        found = next((a for a in sessions if a.id == account), None)
        if found is None:
            raise ProviderError(
                "aws", f"account {account} is not configured (add it under accounts)"
            )
        client = self._trails.get(account)
        if client is None:
            client = self._trails[account] = self._client(found.session, "cloudtrail")
        self._counted()
        return await self._run(what, functools.partial(client.lookup_events, **kwargs))

    async def read_activity(
        self, identities: Sequence[Identity], window: ActivityWindow
    ) -> ActivityPage:
        """What ``identities`` did, from CloudTrail event history (see ``activity.py``)."""
        from agent_ir.providers.aws import activity

        return await activity.read_activity(
            activity.lookup_through(self.cloudtrail_call), identities, window
        )

    # -- own lookup (what a kill switch cuts first) ---------------------------------------

    async def own_identities(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The users and roles named ``agent`` in every account, and those whose ARN is in
        ``ids``, read by name (no listing) and in full as the scoped read reads them: their
        tags, policies and (users) access keys. Absent ones are left out.

        Rounds: sign-in; per principal its detail and its keys side by side; the managed
        policies they attach. Edges are those among the principals found (each as the
        scoped read draws it); the rest of the closure is the scoped read's to find."""
        accounts = await self._sessions()
        iam_of = {a.id: a.iam for a in accounts}
        entries = scoped.own_entries(agent, ids, iam_of)
        read = await asyncio.gather(*(self._own_read(e, iam_of[e.account]) for e in entries))
        found = [r for r in read if r is not None]
        docs: dict[str, PolicyDoc] = {}
        missing = set().union(*(translate.attached_policy_arns(d) for _, d, _ in found))
        docs.update(await self._managed_docs(sorted(missing), accounts))
        principals: list[translate.Principal] = []
        identities: list[Identity] = []
        for entry, details, keys in found:
            for p in translate.principals_from_details(entry.account, details, docs):
                if p.name.lower() != agent.lower() and p.arn not in ids:
                    continue  # asked by an inventory ARN the principal no longer has
                principals.append(p)
                ident = p.identity()
                identities.append(_replace_credentials(ident, keys) if keys else ident)
        self.principals.update((p.arn, p) for p in principals)
        arns = {p.arn for p in principals}
        edges = [
            e
            for e in translate.assume_role_edges(principals)
            if e.source in arns and e.target in arns
        ]
        return self._discovery(identities, principals, edges)

    async def _own_read(
        self, entry: scoped.Listed, iam: Any
    ) -> tuple[scoped.Listed, dict[str, list[dict[str, Any]]], tuple[Credential, ...]] | None:
        """One principal by name: its detail and (a user's) keys at once; None when IAM
        has no such principal (NoSuchEntity)."""

        def detail() -> dict[str, list[dict[str, Any]]]:
            self._counted()
            return scoped.detail(entry, iam)

        async def keys() -> tuple[Credential, ...]:
            if entry.kind != "iam-user":
                return ()
            return await self._run(
                f"listing keys of {entry.name}",
                functools.partial(self._keys, iam, entry.name, last_use=False),
            )

        details, creds = await asyncio.gather(
            self._run(f"reading {entry.name} in {entry.account}", detail),
            keys(),
            return_exceptions=True,
        )
        if isinstance(details, ObjectMissing) or isinstance(creds, ObjectMissing):
            return None
        if isinstance(details, BaseException):
            raise details
        if isinstance(creds, BaseException):
            raise creds
        return entry, details, creds

    # -- discovery ----------------------------------------------------------------------

    async def discover(self) -> Discovery:
        """Users, roles, their keys, policies and assume-role edges in every account (for
        an agent-scoped read, only the agent's principals and the roles they reach)."""
        if self.context.scoped():
            return await self._discover_scoped()
        accounts = await self._sessions()
        details = await asyncio.gather(*(self._details(a) for a in accounts))
        managed: dict[str, PolicyDoc] = {}
        for d in details:
            managed.update(translate.managed_policy_docs(d))
        missing = set().union(*(translate.attached_policy_arns(d) for d in details)) - set(managed)
        managed.update(await self._aws_managed(accounts[0], sorted(missing)))
        principals = [
            p
            for account, d in zip(accounts, details, strict=True)
            for p in translate.principals_from_details(account.id, d, managed)
        ]
        self.principals = {p.arn: p for p in principals}
        iam_by_account = {a.id: a.iam for a in accounts}
        identities = await self._with_credentials(principals, iam_by_account)
        return self._discovery(identities, principals, translate.assume_role_edges(principals))

    def _discovery(
        self,
        identities: list[Identity],
        principals: list[translate.Principal],
        edges: list[Edge],
    ) -> Discovery:
        """What a read found: the identities, the principals' grants, the edges, with the
        requests made so far and the responder's own identities."""
        result = Discovery(provider="aws", identities=identities, edges=edges)
        for principal in principals:
            result.grants.extend(principal.grants())
        result.requests = self._requests
        result.responder_ids = set(self._responder_ids)
        return result

    async def _discover_scoped(self) -> Discovery:
        accounts = await self._sessions()
        iam_of = {a.id: a.iam for a in accounts}

        async def fetch(account: str, what: str, fn: Callable[[Any], Any]) -> Any:
            self._counted()
            return await self._run(what, functools.partial(fn, iam_of[account]))

        self.context.report("aws: listing principals", 0, None)
        lists = await asyncio.gather(*(scoped.listing(a.id, fetch) for a in accounts))
        read = scoped.ScopedRead(listed={e.arn: e for entries in lists for e in entries})
        frontier = {
            arn for arn, e in read.listed.items() if self.context.in_focus(e.principal().identity())
        }
        frontier |= scoped.trusting(read.listed.values(), frontier)
        done: dict[str, translate.Principal] = {}
        docs: dict[str, PolicyDoc] = {}
        whole: set[str] = set()
        while frontier:
            found = await self._read_principals(sorted(frontier), read, docs, fetch, accounts)
            done.update((p.arn, p) for p in found)
            reached: set[str] = set()
            for principal in found:
                roles, wild = scoped.assume_targets(principal)
                reached |= {r for r in roles if r in read.listed}
                read.unbounded |= {a.id for a in accounts if {"*", a.id} & wild}
            reached |= scoped.trusting(read.listed.values(), {p.arn for p in found})
            reached |= await self._read_whole(read.unbounded, whole, done, docs, accounts)
            frontier = {r for r in reached if r in read.listed} - set(done)
        principals = list(done.values())
        self.principals = {p.arn: p for p in principals}
        identities = await self._with_credentials(principals, iam_of)
        identities += [
            e.principal().identity() for arn, e in read.listed.items() if arn not in done
        ]
        unread = set(read.listed) - set(done)
        edges = translate.assume_role_edges(principals, unread, set(iam_of))
        result = self._discovery(identities, principals, edges)
        if read.unbounded:
            result.notes.append(
                "aws: a policy of the agent allows sts:AssumeRole on a wildcard resource, so "
                f"account(s) {', '.join(sorted(read.unbounded))} were read whole"
            )
        return result

    async def _read_principals(
        self,
        arns: list[str],
        read: scoped.ScopedRead,
        docs: dict[str, PolicyDoc],
        fetch: scoped.Fetch,
        accounts: list[_Account],
    ) -> list[translate.Principal]:
        """Read principals in full by name, with the managed policies they attach."""
        entries = [read.listed[arn] for arn in arns]
        details = await asyncio.gather(
            *(
                fetch(e.account, f"reading {e.name}", functools.partial(scoped.detail, e))
                for e in entries
            )
        )
        missing = set().union(*(translate.attached_policy_arns(d) for d in details)) - set(docs)
        docs.update(await self._managed_docs(sorted(missing), accounts))
        return [
            p
            for e, d in zip(entries, details, strict=True)
            for p in translate.principals_from_details(e.account, d, docs)
        ]

    async def _managed_docs(
        self, arns: list[str], accounts: list[_Account]
    ) -> dict[str, PolicyDoc]:
        """Managed policy documents, each read in the account that owns it (AWS managed
        ones in the first)."""
        by_id = {a.id: a for a in accounts}
        out: dict[str, PolicyDoc] = {}
        groups: dict[str, list[str]] = {}
        for arn in arns:
            owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
            groups.setdefault(owner if owner in by_id else accounts[0].id, []).append(arn)
        found = await asyncio.gather(
            *(self._aws_managed(by_id[acct], names) for acct, names in groups.items())
        )
        for docs in found:
            out.update(docs)
        return out

    async def _read_whole(
        self,
        wanted: set[str],
        whole: set[str],
        done: dict[str, translate.Principal],
        docs: dict[str, PolicyDoc],
        accounts: list[_Account],
    ) -> set[str]:
        """Read whole (once each) the accounts a wildcard AssumeRole leaves unbounded;
        return the roles their principals reach."""
        todo = [a for a in accounts if a.id in wanted and a.id not in whole]
        if not todo:
            return set()
        whole.update(a.id for a in todo)
        details = await asyncio.gather(*(self._details(a) for a in todo))
        for d in details:
            docs.update(translate.managed_policy_docs(d))
        missing = set().union(*(translate.attached_policy_arns(d) for d in details)) - set(docs)
        docs.update(await self._managed_docs(sorted(missing), accounts))
        found = [
            p
            for a, d in zip(todo, details, strict=True)
            for p in translate.principals_from_details(a.id, d, docs)
        ]
        done.update((p.arn, p) for p in found)
        return set().union(*(scoped.assume_targets(p)[0] for p in found))

    async def _details(self, account: _Account) -> dict[str, list[dict[str, Any]]]:
        def fetch() -> dict[str, list[dict[str, Any]]]:
            merged: dict[str, list[dict[str, Any]]] = {}
            paginator = account.iam.get_paginator("get_account_authorization_details")
            for page in paginator.paginate(Filter=AUTH_DETAIL_FILTER):
                self._counted()
                for key in ("UserDetailList", "RoleDetailList", "GroupDetailList", "Policies"):
                    merged.setdefault(key, []).extend(page.get(key, []))
            return merged

        self.context.report(f"aws {account.id}: authorization details", 0, None)
        return await self._run(f"reading account {account.id}", fetch)

    async def _aws_managed(self, account: _Account, arns: list[str]) -> dict[str, PolicyDoc]:
        def fetch(arn: str) -> PolicyDoc:
            version = account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            doc = account.iam.get_policy_version(PolicyArn=arn, VersionId=version)
            self._counted(2)
            return parse_document(doc["PolicyVersion"]["Document"])

        docs = await asyncio.gather(
            *(self._run(f"reading policy {a}", functools.partial(fetch, a)) for a in arns)
        )
        return dict(zip(arns, docs, strict=True))

    async def _with_credentials(
        self, principals: list[translate.Principal], iam_by_account: dict[str, Any]
    ) -> list[Identity]:
        identities = [p.identity() for p in principals]
        wanted = [
            i
            for i, ident in enumerate(identities)
            if ident.kind == "iam-user" and self.context.wanted(ident)
        ]
        done = 0

        async def keys_of(index: int) -> None:
            nonlocal done
            ident = identities[index]
            iam = iam_by_account[ident.account]
            creds = await self._run(
                f"listing keys of {ident.name}", lambda: self._keys(iam, ident.name)
            )
            identities[index] = _replace_credentials(ident, creds)
            done += 1
            if done % 50 == 0 or done == len(wanted):
                self.context.report("aws: access keys", done, len(wanted))

        await asyncio.gather(*(keys_of(i) for i in wanted))
        return identities

    def _keys(self, iam: Any, user: str, *, last_use: bool | None = None) -> tuple[Credential, ...]:
        """A user's access keys; their last use too, unless the read is for a containment
        (one more call per key, in sequence, before the first cut). ``last_use`` decides
        instead when given (an own lookup only ever feeds a containment)."""
        out = []
        if last_use is None:
            last_use = not self.context.for_containment()
        for page in iam.get_paginator("list_access_keys").paginate(UserName=user):
            self._counted()
            for key in page.get("AccessKeyMetadata", []):
                last: datetime | None = None
                if last_use:
                    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
                    self._counted()
                    last = used.get("AccessKeyLastUsed", {}).get("LastUsedDate")
                out.append(
                    Credential(
                        id=key["AccessKeyId"],
                        kind="access-key",
                        status=str(key["Status"]).lower(),
                        created=key.get("CreateDate"),
                        last_used=last,
                        static=True,
                    )
                )
        return tuple(out)

    # -- doctor -------------------------------------------------------------------------

    async def check(self, permissions: list[str]) -> CheckReport:
        """Who the responder is, whether each account answers, and what it may do."""
        accounts = await self._sessions()
        first = accounts[0]

        def caller() -> tuple[str, translate.Principal | None]:
            arn = str(self._client(first.session, "sts").get_caller_identity()["Arn"])
            return arn, self._principal_of(first, arn)

        arn, me = await self._run("reading the responder's own policies", caller)
        report = CheckReport(provider="aws", caller=arn, account=first.id, endpoint=self.endpoint)
        report.notes.append(f"account {first.id} via {first.via}")
        report.notes.extend(f"account {a.id} via {a.via}" for a in accounts[1:])
        for perm in permissions or READ_PERMISSIONS:
            if me is None:
                report.permissions.append(PermissionCheck(perm, None, "cannot read own policies"))
                continue
            ref = me.allows(perm, "*")
            note = f"{ref.kind} '{ref.name}'" if ref else "no policy allows it"
            report.permissions.append(PermissionCheck(perm, ref is not None, note))
        return report

    def _principal_of(self, account: _Account, arn: str) -> translate.Principal | None:
        iam = account.iam
        kind, _, rest = arn.split(":", 5)[5].partition("/")
        if kind == "user":
            name = rest.rsplit("/", 1)[-1]
            inline = [
                {
                    "PolicyName": n,
                    "PolicyDocument": iam.get_user_policy(UserName=name, PolicyName=n)[
                        "PolicyDocument"
                    ],
                }
                for n in iam.list_user_policies(UserName=name)["PolicyNames"]
            ]
            attached = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            entry = {
                "UserName": name,
                "Arn": arn,
                "UserPolicyList": inline,
                "AttachedManagedPolicies": attached,
            }
            details = {"UserDetailList": [entry]}
        elif kind == "assumed-role":
            name = rest.split("/", 1)[0]
            inline = [
                {
                    "PolicyName": n,
                    "PolicyDocument": iam.get_role_policy(RoleName=name, PolicyName=n)[
                        "PolicyDocument"
                    ],
                }
                for n in iam.list_role_policies(RoleName=name)["PolicyNames"]
            ]
            attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            entry = {
                "RoleName": name,
                "Arn": arn,
                "RolePolicyList": inline,
                "AttachedManagedPolicies": attached,
            }
            details = {"RoleDetailList": [entry]}
        else:
            return None
        docs = {}
        for item in attached:
            version = iam.get_policy(PolicyArn=item["PolicyArn"])["Policy"]["DefaultVersionId"]
            doc = iam.get_policy_version(PolicyArn=item["PolicyArn"], VersionId=version)
            docs[item["PolicyArn"]] = parse_document(doc["PolicyVersion"]["Document"])
        principals = translate.principals_from_details(account.id, details, docs)
        return principals[0] if principals else None

    def plan_facts(self) -> AwsFacts:
        """The principals of the last discovery."""
        return AwsFacts(dict(self.principals))

    async def aclose(self) -> None:
        """Stop the thread pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _principal_arn(caller: str) -> str:
    """The IAM ARN behind an STS caller ARN (an assumed-role session → its role)."""
    prefix, _, rest = caller.partition(":assumed-role/")
    if not rest:
        return caller
    return prefix.replace(":sts:", ":iam:") + ":role/" + rest.split("/", 1)[0]


def _replace_credentials(identity: Identity, credentials: tuple[Credential, ...]) -> Identity:
    from dataclasses import replace

    return replace(identity, credentials=credentials)
