"""The world file: a YAML description of a tenant across all four providers.

Validated in layers (safe YAML with limits → typed model refusing unknown keys →
cross-reference checks), every problem reported with file:line. The format is documented
in ``agent_ir/data/playbooks/README.md``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from agent_ir.errors import Problem, WorldError
from agent_ir.inventory_spec import InventoryAgent
from agent_ir.lab.activity_world import ActivitySpec, activity_problems
from agent_ir.lab.entra_world import EntraWorld
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.gcp_world import GcpWorld
from agent_ir.lab.okta_world import OktaWorld
from agent_ir.lab.plugin import lab_plugins
from agent_ir.lab.section import WorldSection
from agent_ir.yamlsrc import Located, PathKey, load_file, load_text, parse_model

AGENT_TAG = "agent-ir:agent"
OWNER_TAG = "agent-ir:owner"
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_TAG = re.compile(r"^[\w .:/=+@-]{0,256}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessKeySpec(_Strict):
    """One access key of an IAM user; ages are counted back from when the lab starts."""

    age_days: float = Field(0, ge=0, le=20_000)
    last_used_days_ago: float | None = Field(None, ge=0, le=20_000, description="null: never")
    last_used_service: str = "iam"
    status: Literal["Active", "Inactive"] = "Active"


class PolicySpec(_Strict):
    """A named IAM policy document (inline on a principal, or customer managed)."""

    name: str
    document: dict[str, Any]
    description: str = ""

    @field_validator("document")
    @classmethod
    def _has_statements(cls, doc: dict[str, Any]) -> dict[str, Any]:
        if "Statement" not in doc:
            raise ValueError("a policy document needs a Statement")
        return doc


class _Principal(_Strict):
    name: str
    path: str = "/"
    tags: dict[str, str] = Field(default_factory=dict)
    inline_policies: list[PolicySpec] = Field(default_factory=list)
    managed_policies: list[str] = Field(
        default_factory=list, description="names of this account's managed policies, or ARNs"
    )
    permissions_boundary: str | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a valid IAM name")
        return name

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        # IAM refuses these characters in tags, and moto would otherwise serve them as
        # XML no client can parse (AWS allows letters, digits, spaces and _.:/=+-@ only).
        for key, value in tags.items():
            if not _TAG.match(key) or not _TAG.match(value) or not key or len(key) > 128:
                raise ValueError(
                    f"tag {key!r} holds characters IAM does not allow in tags (or is too long)"
                )
        return tags


class UserSpec(_Principal):
    """An IAM user and its access keys."""

    access_keys: list[AccessKeySpec] = Field(default_factory=list, max_length=2)


class RoleSpec(_Principal):
    """An IAM role; ``trust_policy`` is the full AssumeRolePolicyDocument."""

    trust_policy: dict[str, Any]
    max_session_hours: int = Field(1, ge=1, le=12)
    last_used_days_ago: float | None = Field(None, ge=0, le=20_000)


class AccountSpec(_Strict):
    """One AWS account of the world."""

    id: str
    alias: str | None = None
    managed_policies: list[PolicySpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if not _ACCOUNT.match(value):
            raise ValueError("an AWS account id is twelve digits (quote it in YAML)")
        return value


class AwsWorld(WorldSection):
    """The AWS side of a world: one or more accounts; the first is where the responder lives."""

    accounts: list[AccountSpec] = Field(default_factory=list)

    def identity_ids(self) -> set[str]:
        """Every IAM user and role ARN the section defines."""
        ids: set[str] = set()
        for account in self.accounts:
            ids.update(user_arn(account.id, u) for u in account.users)
            ids.update(role_arn(account.id, r) for r in account.roles)
        return ids

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Accounts named twice, principals named twice, policies that are not there."""
        problems: list[Problem] = []
        seen_accounts: set[str] = set()
        for a_index, account in enumerate(self.accounts):
            where: PathKey = (*prefix, "accounts", a_index)
            if account.id in seen_accounts:
                problems.append(doc.problem((*where, "id"), f"account {account.id} appears twice"))
            seen_accounts.add(account.id)
            problems.extend(_account_problems(account, doc, where))
        return problems


def _account_problems(account: AccountSpec, doc: Located, where: PathKey) -> list[Problem]:
    """Duplicate names and dangling policy references inside one account."""
    problems: list[Problem] = []
    policy_names = {p.name for p in account.managed_policies}
    if len(policy_names) != len(account.managed_policies):
        problems.append(doc.problem((*where, "managed_policies"), "duplicate policy name"))
    for kind, principals in (("users", account.users), ("roles", account.roles)):
        names: set[str] = set()
        for p_index, principal in enumerate(principals):
            here = (*where, kind, p_index)
            if principal.name in names:
                problems.append(doc.problem((*here, "name"), f"{principal.name!r} twice"))
            names.add(principal.name)
            for m_index, ref in enumerate(principal.managed_policies):
                if not ref.startswith("arn:") and ref not in policy_names:
                    problems.append(
                        doc.problem(
                            (*here, "managed_policies", m_index),
                            f"no managed policy named {ref!r} in account {account.id}",
                        )
                    )
            boundary = principal.permissions_boundary
            if boundary and not boundary.startswith("arn:") and boundary not in policy_names:
                problems.append(
                    doc.problem(
                        (*here, "permissions_boundary"),
                        f"no managed policy named {boundary!r} in account {account.id}",
                    )
                )
    return problems


class FaultsSection(_Strict):
    """Fault injection per provider (one key per installed lab plugin)."""

    aws: FaultSpec = Field(default_factory=FaultSpec)
    entra: FaultSpec = Field(default_factory=FaultSpec)
    gcp: FaultSpec = Field(default_factory=FaultSpec)
    okta: FaultSpec = Field(default_factory=FaultSpec)

    def of(self, provider: str) -> FaultSpec:
        """The fault settings of one provider."""
        spec: FaultSpec = getattr(self, provider)
        return spec


class World(_Strict):
    """A whole world file: one section per installed lab plugin.

    The four built-in sections are declared here for typed access by their emulators;
    any other installed lab plugin adds its own (see :func:`world_model`)."""

    version: Literal[1] = 1
    name: str
    description: str = ""
    inventory: list[InventoryAgent] = Field(default_factory=list)
    faults: FaultsSection = Field(default_factory=FaultsSection)
    aws: AwsWorld = Field(default_factory=AwsWorld)
    entra: EntraWorld = Field(default_factory=EntraWorld)
    gcp: GcpWorld = Field(default_factory=GcpWorld)
    okta: OktaWorld = Field(default_factory=OktaWorld)
    activity: list[ActivitySpec] = Field(default_factory=list)
    """Seeded audit-log history, every provider's (see ``lab/activity_world.py``)."""

    def section(self, provider: str) -> WorldSection:
        """One provider's part of the world."""
        section: WorldSection = getattr(self, provider)
        return section

    def has(self, provider: str) -> bool:
        """Whether the world describes anything for ``provider``."""
        return provider in type(self).model_fields and not self.section(provider).is_empty()

    def aws_identity_ids(self) -> set[str]:
        """Every IAM user and role ARN the world defines."""
        return self.aws.identity_ids()


def world_model() -> type[World]:
    """The world model with a section (and a faults key) for every installed lab plugin."""
    extra = tuple(
        (name, plugin.section)
        for name, plugin in lab_plugins().items()
        if name not in World.model_fields
    )
    return _extended(extra) if extra else World


@functools.cache
def _extended(sections: tuple[tuple[str, type[WorldSection]], ...]) -> type[World]:
    """A subclass of :class:`World` with the given extra sections (made once per set)."""
    fault_fields: dict[str, Any] = {
        name: (FaultSpec, Field(default_factory=FaultSpec)) for name, _ in sections
    }
    faults = create_model("FaultsSection", __base__=FaultsSection, **fault_fields)
    fields: dict[str, Any] = {
        name: (model, Field(default_factory=model)) for name, model in sections
    }
    return create_model(
        "World", __base__=World, faults=(faults, Field(default_factory=faults)), **fields
    )


def user_arn(account: str, user: UserSpec) -> str:
    """The ARN of a world user."""
    return f"arn:aws:iam::{account}:user{user.path}{user.name}"


def role_arn(account: str, role: RoleSpec) -> str:
    """The ARN of a world role."""
    return f"arn:aws:iam::{account}:role{role.path}{role.name}"


def load_world(path: Path) -> World:
    """Load and validate a world file; raise :class:`WorldError` listing every problem."""
    doc = load_file(path, error=WorldError, max_bytes=200_000_000, max_nodes=20_000_000)
    return _validate(doc)


def load_world_text(text: str, name: str = "<world>") -> World:
    """Load and validate a world from text (for generated worlds and tests)."""
    return _validate(load_text(text, name, error=WorldError, max_nodes=20_000_000))


def _validate(doc: Located) -> World:
    world = parse_model(doc, world_model(), WorldError)
    problems = _cross_check(world, doc)
    if problems:
        raise WorldError(problems)
    return world


def _cross_check(world: World, doc: Located) -> list[Problem]:
    problems: list[Problem] = []
    known: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    for name in type(world).model_fields:
        section = getattr(world, name)
        if isinstance(section, WorldSection):
            problems.extend(section.problems(doc, (name,)))
            known[name] = section.identity_ids()
            refs[name] = section.activity_refs()
    problems.extend(activity_problems(world.activity, refs, doc))
    agent_names: set[str] = set()
    for i_index, agent in enumerate(world.inventory):
        if agent.name in agent_names:
            problems.append(doc.problem(("inventory", i_index, "name"), "agent named twice"))
        agent_names.add(agent.name)
        for j, ident in enumerate(agent.identities):
            if ident.provider == "aws" and ident.id not in known["aws"]:
                problems.append(
                    doc.problem(
                        ("inventory", i_index, "identities", j, "id"),
                        f"no AWS user or role {ident.id!r} in this world",
                    )
                )
            elif ident.provider != "aws" and ident.id not in known.get(ident.provider, set()):
                problems.append(
                    doc.problem(
                        ("inventory", i_index, "identities", j, "id"),
                        f"no {ident.provider} identity {ident.id!r} in this world",
                    )
                )
    return problems
