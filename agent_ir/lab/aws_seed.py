"""Seeding a world into moto's IAM backends, plus the responder identity the console uses.

Done in-process rather than through the API because only in-process can access keys be
dated (``age_days``) and marked as used (``last_used_days_ago``), counted back from ``now``.

The responder: user ``agent-ir-responder`` with an allow-everything inline policy and one
access key in the first account; in every other account a role ``AgentIRResponder``
(allow everything) whose trust policy names that user's exact ARN, since moto matches
trust principals literally.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_ir.errors import Problem, WorldError
from agent_ir.lab.world import AccessKeySpec, AccountSpec, AwsWorld, RoleSpec, UserSpec

RESPONDER_USER = "agent-ir-responder"
RESPONDER_ROLE = "AgentIRResponder"
RESPONDER_POLICY = "AgentIRResponderAdmin"
REGION = "us-east-1"

_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_KEY_ID_SEED = "agent-ir-lab-20250101"
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_ACCOUNT_OFFSET = 549_755_813_888  # how AWS (and moto) place an account id in a key id
_LAB_TAG = {"agent-ir:lab": "responder"}

_ManagedPolicyRow = tuple[str, str | None, str | None, str, datetime, datetime]


@dataclass(frozen=True, slots=True)
class ResponderCredentials:
    """The console's own identity in the lab: an IAM user's access key in the first account."""

    account_id: str
    user_arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


def responder_role_arn(account_id: str) -> str:
    """The ARN of the responder's role in a further account."""
    return f"arn:aws:iam::{account_id}:role/{RESPONDER_ROLE}"


def seed_world(
    world: AwsWorld, now: datetime, responder: ResponderCredentials | None = None
) -> ResponderCredentials:
    """Write ``world`` into moto's (empty) IAM backends, then the responder.

    Pass the ``responder`` of an earlier seeding to keep its key id and secret, so clients
    holding them keep working; otherwise a fresh secret is drawn. Raises
    :class:`~agent_ir.errors.WorldError` when moto refuses an object of the world.
    """
    _refuse_reserved_names(world)
    for index, account in enumerate(world.accounts):
        _Account(account, now, f"aws.accounts[{index}]").seed()
    return _seed_responder(world, responder)


def _backend(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["global"]


class _Account:
    """Seeds one account of the world."""

    def __init__(self, spec: AccountSpec, now: datetime, where: str) -> None:
        self.spec = spec
        self.now = now
        self.where = where
        self.backend = _backend(spec.id)

    def seed(self) -> None:
        _load_aws_managed_policies(self.backend)
        if self.spec.alias:
            self.backend.create_account_alias(self.spec.alias)
        for index, policy in enumerate(self.spec.managed_policies):
            with _located(f"{self.where}.managed_policies[{index}]"):
                self.backend.create_policy(
                    description=policy.description,
                    path="/",
                    policy_document=json.dumps(policy.document),
                    policy_name=policy.name,
                    tags=[],
                )
        for index, user in enumerate(self.spec.users):
            with _located(f"{self.where}.users[{index}]"):
                self._user(user)
        for index, role in enumerate(self.spec.roles):
            with _located(f"{self.where}.roles[{index}]"):
                self._role(role)

    def _policy_arn(self, ref: str) -> str:
        return ref if ref.startswith("arn:") else f"arn:aws:iam::{self.spec.id}:policy/{ref}"

    def _user(self, spec: UserSpec) -> None:
        user = self.backend.create_user(
            region_name=REGION, user_name=spec.name, path=spec.path, tags=_tags(spec.tags)
        )
        oldest = max((key.age_days for key in spec.access_keys), default=0.0)
        user.create_date = self.now - timedelta(days=oldest)
        for policy in spec.inline_policies:
            self.backend.put_user_policy(spec.name, policy.name, json.dumps(policy.document))
        for ref in spec.managed_policies:
            self.backend.attach_user_policy(self._policy_arn(ref), spec.name)
        if spec.permissions_boundary:
            # moto has no user boundaries; its serializer reads this attribute for GetUser
            # and GetAccountAuthorizationDetails.
            user.permissions_boundary = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": self._policy_arn(spec.permissions_boundary),
            }
        for key in spec.access_keys:
            self._access_key(spec.name, key)

    def _access_key(self, user_name: str, spec: AccessKeySpec) -> None:
        from moto.iam.models import AccessKeyLastUsed

        key = self.backend.create_access_key(user_name, status=spec.status)
        ordinal = sum(1 for k in self.backend.access_keys.values() if k.user_name == user_name)
        _refile(self.backend, key, lab_access_key_id(self.spec.id, user_name, ordinal))
        key.create_date = self.now - timedelta(days=spec.age_days)
        if spec.last_used_days_ago is not None:
            key.last_used = AccessKeyLastUsed(
                timestamp=self.now - timedelta(days=spec.last_used_days_ago),
                service=spec.last_used_service,
                region=REGION,
            )

    def _role(self, spec: RoleSpec) -> None:
        boundary = spec.permissions_boundary
        role = self.backend.create_role(
            role_name=spec.name,
            assume_role_policy_document=json.dumps(spec.trust_policy),
            path=spec.path,
            permissions_boundary=self._policy_arn(boundary) if boundary else None,
            description="",
            tags=_tags(spec.tags),
            max_session_duration=str(spec.max_session_hours * 3600),
        )
        if spec.last_used_days_ago is not None:
            role.last_used = self.now - timedelta(days=spec.last_used_days_ago)
            role.last_used_region = REGION
        for policy in spec.inline_policies:
            self.backend.put_role_policy(spec.name, policy.name, json.dumps(policy.document))
        for ref in spec.managed_policies:
            self.backend.attach_role_policy(self._policy_arn(ref), spec.name)


def _seed_responder(world: AwsWorld, previous: ResponderCredentials | None) -> ResponderCredentials:
    home = world.accounts[0].id
    backend = _backend(home)
    user = backend.create_user(
        region_name=REGION, user_name=RESPONDER_USER, path="/", tags=_tags(_LAB_TAG)
    )
    backend.put_user_policy(RESPONDER_USER, RESPONDER_POLICY, json.dumps(_ALLOW_ALL))
    key = backend.create_access_key(RESPONDER_USER)
    if previous is None:
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        key_id = lab_access_key_id(home, RESPONDER_USER, 1)
        credentials = ResponderCredentials(home, user.arn, key_id, secret)
    else:
        credentials = previous
    _refile(backend, key, credentials.access_key_id)
    key.secret_access_key = credentials.secret_access_key
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}
        ],
    }
    for account in world.accounts[1:]:
        other = _backend(account.id)
        other.create_role(
            role_name=RESPONDER_ROLE,
            assume_role_policy_document=json.dumps(trust),
            path="/",
            permissions_boundary=None,
            description="agent-ir lab responder",
            tags=_tags(_LAB_TAG),
            max_session_duration="3600",
        )
        other.put_role_policy(RESPONDER_ROLE, RESPONDER_POLICY, json.dumps(_ALLOW_ALL))
    return credentials


def lab_access_key_id(account_id: str, user_name: str, ordinal: int) -> str:
    """The id of a user's ``ordinal``-th seeded access key (from 1).

    moto draws key ids from one process-wide random stream, which every request handled
    since the last seeding also draws from, so its ids depend on what else ran and when.
    These depend only on where the key sits in the world: ``AKIA``, the account encoded as
    AWS encodes it (so the account can be read back from the id), then a hash.
    """
    number = int(account_id)
    account_part = base64.b32encode((number // 2 + _ACCOUNT_OFFSET).to_bytes(5, "big"))
    digest = hashlib.sha256(f"{_KEY_ID_SEED}/{account_id}/{user_name}/{ordinal}".encode())
    half = _KEY_ID_ALPHABET[16:] if number % 2 else _KEY_ID_ALPHABET[:16]
    middle = half[digest.digest()[0] % 16]
    rest = "".join(_KEY_ID_ALPHABET[b % 32] for b in digest.digest()[1:8])
    return f"AKIA{account_part.decode()}{middle}{rest}"


def _refile(backend: Any, key: Any, key_id: str) -> None:
    """Give a key moto created another id; moto indexes keys by id, so file it again."""
    del backend.access_keys[key.access_key_id]
    key.access_key_id = key_id
    backend.access_keys[key_id] = key


def _load_aws_managed_policies(backend: Any) -> None:
    # moto loads AWS managed policies only when configured to, and then into every backend
    # it creates (each partition of each account, ~0.1 s apiece); building them from one
    # parsed copy into the seeded accounts alone costs a few milliseconds.
    from moto.iam.models import AWSManagedPolicy

    if backend.aws_managed_policies:
        return
    policies = [
        AWSManagedPolicy(  # type: ignore[abstract]  # abstract only in moto's annotations
            name,
            account_id=backend.account_id,
            region=backend.region_name,
            default_version_id=version,
            path=path,
            document=document,
            create_date=created,
            update_date=updated,
        )
        for name, version, path, document, created, updated in _aws_managed_policy_rows()
    ]
    backend.aws_managed_policies = policies
    backend.managed_policies.update({policy.arn: policy for policy in policies})


@functools.cache
def _aws_managed_policy_rows() -> tuple[_ManagedPolicyRow, ...]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed = json.loads(aws_managed_policies_data)
    return tuple(
        (
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in parsed.items()
    )


def _refuse_reserved_names(world: AwsWorld) -> None:
    problems = [
        Problem(
            "<world>",
            None,
            f"aws.accounts[{a_index}].{kind}[{p_index}].name",
            f"{name!r} is reserved for the lab's responder",
        )
        for a_index, account in enumerate(world.accounts)
        for kind, principals, name in (
            ("users", account.users, RESPONDER_USER),
            ("roles", account.roles, RESPONDER_ROLE),
        )
        for p_index, principal in enumerate(principals)
        if principal.name == name
    ]
    if problems:
        raise WorldError(problems)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Turn moto's refusal of a world object into a WorldError naming the object."""
    from moto.core.exceptions import ServiceException

    try:
        yield
    except ServiceException as exc:
        raise WorldError(
            [Problem(file="<world>", line=None, where=where, message=f"{exc.code}: {exc.message}")]
        ) from exc
