"""The AWS part of the probe: signed STS calls with the agent's access keys, role assumption
along its chain, and the sessions an attacker would hold on to.

Access key secrets come from moto's in-process backend (the lab's own state). A held
session is judged by behaviour, as on AWS: the lab evaluates ``aws:TokenIssueTime``, so
after ``AWSRevokeOlderSessions`` it still authenticates (``GetCallerIdentity`` is never
denied) but everything it tries is refused. What it tries: the next hops of its chain
(``AssumeRole``) and S3 (``ListBuckets``; the lab authorises S3 without storing data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.model import EdgeKind
from agent_ir.tabletop.probe import PathResult

REVOKE_POLICY = "AWSRevokeOlderSessions"
_MAX_HOPS = 4
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5)


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key the attacker holds."""

    user_arn: str
    key_id: str
    secret: str  # the attacker's copy; never printed

    @property
    def label(self) -> str:
        """How the key appears in a path (its id shortened, with its user's name)."""
        return (
            f"access key {self.key_id[:4]}…{self.key_id[-4:]} of {self.user_arn.rsplit('/', 1)[-1]}"
        )


@dataclass(frozen=True, slots=True)
class Session:
    """Temporary credentials from AssumeRole, held since ``issued``."""

    path: str
    role_arn: str
    key_id: str
    secret: str
    token: str
    issued: datetime


def secret_of(account: str, key_id: str) -> str | None:
    """The secret of an access key, from moto's in-process state (lab only)."""
    from moto.iam.models import iam_backends

    key = iam_backends[account]["global"].access_keys.get(key_id)
    return None if key is None else str(key.secret_access_key)


class AwsProbe:
    """Access keys, assume-role chains and held sessions of one agent."""

    def __init__(self, lab: Lab) -> None:
        settings = lab.settings.providers.aws
        if settings is None or settings.endpoint_url is None:
            raise LabError("the lab has no AWS endpoint")
        self.endpoint = settings.endpoint_url
        self.ca = str(settings.ca_bundle) if settings.ca_bundle else None
        self.keys: list[AccessKey] = []
        self.chains: dict[str, list[str]] = {}
        self.sessions: dict[str, Session] = {}
        self._s3_clients: dict[str, Any] = {}

    def session_for(self, role_arn: str) -> Session | None:
        """A session held for ``role_arn`` (the first one obtained), if any; read-only."""
        return next((s for s in self.sessions.values() if s.role_arn == role_arn), None)

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Take every access key of the agent's IAM users; note the roles each can reach."""
        for identity in inventory.agent(agent).identities:
            if identity.provider != "aws" or identity.kind != "iam-user":
                continue
            for cred in identity.credentials:
                if cred.kind == "access-key":
                    secret = secret_of(identity.account or "", cred.id)
                    if secret is not None:
                        self.add_key(AccessKey(identity.id, cred.id, secret))
            self._chain(inventory, identity.id)

    def add_key(self, key: AccessKey) -> None:
        """Hold one more key (one an inject created, say)."""
        if all(k.key_id != key.key_id for k in self.keys):
            self.keys.append(key)

    def learn_chains(self, inventory: Inventory, user_arn: str) -> None:
        """Note the roles ``user_arn`` can reach (for keys added after arming)."""
        self._chain(inventory, user_arn)

    def _chain(self, inventory: Inventory, start: str) -> None:
        frontier, seen = [start], {start}
        while frontier:
            node = frontier.pop()
            for edge in inventory.graph.outgoing(node):
                if edge.kind is not EdgeKind.ASSUME_ROLE or edge.target in seen:
                    continue
                seen.add(edge.target)
                hops = self.chains.setdefault(node, [])
                if edge.target not in hops:
                    hops.append(edge.target)
                frontier.append(edge.target)

    def check(self, reached: set[str]) -> list[PathResult]:
        """Each key, each hop it opens, then every session held from earlier checks
        (``reached`` is unused: AWS is checked first)."""
        out: list[PathResult] = []
        held = dict(self.sessions)
        for key in self.keys:
            client = self._sts(key.key_id, key.secret)
            works, detail = _caller(client)
            out.append(PathResult("aws", key.label, works, "behaviour", detail, key.user_arn))
            if works:
                out.extend(self._assume(client, key.user_arn, key.label, 0))
        for path, session in held.items():
            out.append(self._held(path, session))
        return out

    def _assume(self, client: Any, source: str, path: str, depth: int) -> list[PathResult]:
        out: list[PathResult] = []
        if depth >= _MAX_HOPS:
            return out
        for role in self.chains.get(source, []):
            hop = f"{path} → assume {role.rsplit('/', 1)[-1]}"
            try:
                creds = client.assume_role(RoleArn=role, RoleSessionName="probe")["Credentials"]
            except (ClientError, BotoCoreError) as exc:
                out.append(PathResult("aws", hop, False, "behaviour", _reason(exc)))
                continue
            out.append(
                PathResult("aws", hop, True, "behaviour", "AssumeRole returned a session", role)
            )
            session = Session(
                hop,
                role,
                creds["AccessKeyId"],
                creds["SecretAccessKey"],
                creds["SessionToken"],
                datetime.now(UTC),
            )
            self.sessions.setdefault(hop, session)
            nested = self._sts(session.key_id, session.secret, session.token)
            out.extend(self._assume(nested, role, hop, depth + 1))
        return out

    def _held(self, path: str, session: Session) -> PathResult:
        label = f"held session ({path})"
        sts = self._sts(session.key_id, session.secret, session.token)
        works, detail = _caller(sts)
        if not works:
            return PathResult("aws", label, False, "behaviour", detail)
        refusals: list[str] = []
        for attempt, call in self._uses(sts, session):
            try:
                call()
            except (ClientError, BotoCoreError) as exc:
                refusals.append(f"{attempt} {_reason(exc)}")
                continue
            return PathResult("aws", label, True, "behaviour", f"{attempt} works", session.role_arn)
        return PathResult(
            "aws", label, False, "behaviour", "authenticates, but " + "; ".join(refusals)
        )

    def _uses(self, sts: Any, session: Session) -> list[tuple[str, Any]]:
        """What an attacker does with a session: hop on along its chain, read data."""
        uses: list[tuple[str, Any]] = [
            (
                f"AssumeRole {role.rsplit('/', 1)[-1]}",
                lambda role=role: sts.assume_role(RoleArn=role, RoleSessionName="probe"),
            )
            for role in self.chains.get(session.role_arn, [])
        ]
        uses.append(("S3 ListBuckets", lambda: self._s3(session).list_buckets()))
        return uses

    def _s3(self, session: Session) -> Any:
        """One S3 client per held session (clients are slow to build; probes repeat)."""
        client = self._s3_clients.get(session.key_id)
        if client is None:
            client = self._s3_clients[session.key_id] = boto3.client(
                "s3",
                region_name="us-east-1",
                endpoint_url=self.endpoint,
                verify=self.ca,
                aws_access_key_id=session.key_id,
                aws_secret_access_key=session.secret,
                aws_session_token=session.token,
                config=_CONFIG.merge(Config(s3={"addressing_style": "path"})),
            )
        return client

    def _sts(self, key_id: str, secret: str, token: str | None = None) -> Any:
        return boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=self.endpoint,
            verify=self.ca,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=_CONFIG,
        )


def _caller(client: Any) -> tuple[bool, str]:
    try:
        arn = client.get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError) as exc:
        return False, _reason(exc)
    return True, f"GetCallerIdentity: {arn}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"refused: {error.get('Code', '?')}"
    return f"refused: {type(exc).__name__}"


def revoked_before(role_arn: str) -> datetime | None:
    """The cut-off of the role's ``AWSRevokeOlderSessions`` policy in the lab's state (for
    reports; the probe itself judges sessions by behaviour)."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    backend = iam_backends[account]["global"]
    role = next((r for r in backend.roles.values() if r.arn == role_arn), None)
    if role is None or REVOKE_POLICY not in role.policies:
        return None
    document = json.loads(role.policies[REVOKE_POLICY])
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        when = statement.get("Condition", {}).get("DateLessThan", {})
        value = when.get("aws:TokenIssueTime")
        if statement.get("Effect") == "Deny" and isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None
