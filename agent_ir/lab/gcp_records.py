"""Records of the Google Cloud emulator's state: allow policies (what is written and what is
enforced), keys, service accounts, projects and issued tokens, with the helpers that make
their ids, etags and timestamps.

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
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent_ir.lab.gcp_world import BindingSpec, WifPoolSpec
from agent_ir.lab.work import touch

NEVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
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
    roles_by_member: dict[int, tuple[list[dict[str, Any]], dict[str, list[str]]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """For each version in ``enforced`` (by identity; versions are replaced, never
    mutated): the version and its roles by member, built when it is written."""

    @classmethod
    def seeded(cls, specs: list[BindingSpec]) -> Policy:
        """A policy as the world describes it, enforced from the start."""
        bindings = [_binding_from_spec(spec) for spec in specs]
        policy = cls(bindings, new_etag(), [(0.0, copy.deepcopy(bindings))])
        policy.index_enforced()
        return policy

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
        self.index_enforced()

    def settle(self) -> None:
        """Enforce the last write now, as if its propagation delay had passed."""
        self.enforced = [(0.0, copy.deepcopy(self.bindings))]
        self.index_enforced()

    def index_enforced(self) -> None:
        """Index every version in ``enforced`` by member (the new one costs its size; the
        ones already indexed are kept, those no longer enforced dropped)."""
        kept = {}
        for _, bindings in self.enforced:
            found = self.roles_by_member.get(id(bindings))
            kept[id(bindings)] = (
                found if found is not None and found[0] is bindings else _by_member(bindings)
            )
        self.roles_by_member = kept

    def roles_of(self, members: set[str]) -> list[str]:
        """The roles the bindings in force now grant any of ``members``: from an index of
        the bindings by member, built once per enforced version (never mutated, only
        replaced), so an authorisation does not walk every member of every binding."""
        bindings = self.enforced_bindings()
        cached = self.roles_by_member.get(id(bindings))
        if cached is None or cached[0] is not bindings:
            self.index_enforced()  # ``enforced`` was set without indexing it
            cached = self.roles_by_member.get(id(bindings)) or _by_member(bindings)
        roles = [role for member in members for role in cached[1].get(member, ())]
        touch(len(members) + len(roles))
        return roles

    def enforced_bindings(self) -> list[dict[str, Any]]:
        """The bindings in force now (the latest write whose delay has passed)."""
        now = time.monotonic()
        live = [bindings for at, bindings in self.enforced if at <= now]
        return live[-1] if live else []


def _by_member(
    bindings: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """``bindings`` and the roles they grant each member, in binding order."""
    index: dict[str, list[str]] = {}
    for binding in bindings:
        touch(len(binding["members"]))
        for member in binding["members"]:
            index.setdefault(member, []).append(binding["role"])
    return bindings, index


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
    delegation: tuple[str, ...] = ()
    """Who minted it through ``generateAccessToken``, first caller first (audit logs'
    ``serviceAccountDelegationInfo``)."""


IAM_HOST = "iam.googleapis.com"


@dataclass(slots=True)
class FederatedToken:
    """A federated access token the Security Token Service issued to an outside principal
    of a workload identity pool (``pool`` is ``projects/N/locations/global/workloadIdentityPools/P``)."""

    pool: str
    subject: str
    attributes: dict[str, str]
    expires: float

    def principal(self) -> str:
        """The caller's principal identifier (what ``principal://`` members name)."""
        return f"principal://{IAM_HOST}/{self.pool}/subject/{self.subject}"

    def members(self) -> set[str]:
        """Every allow-policy member that stands for this caller: its subject, each
        ``attribute.NAME/VALUE`` principal set and the whole pool."""
        base = f"principalSet://{IAM_HOST}/{self.pool}"
        out = {self.principal(), base + "/*"}
        out.update(
            f"{base}/attribute.{name.removeprefix('attribute.')}/{value}"
            for name, value in self.attributes.items()
        )
        return out
