"""The GCP part of the probe.

* **Keys.** A signed-JWT token request (google-auth) with every usable key file the world
  gave the agent's service accounts, and every key file an inject hands over.
* **Impersonation.** From every account whose key still yields a token, IAM Credentials'
  ``generateAccessToken`` on each account it may mint tokens for, and on from there, up to
  four hops. Who may impersonate whom comes from the inventory's graph (``impersonate``
  edges resting on token creator, workload identity user or owner) and from the bindings
  injects add. Each account is tried once, along its shortest chain from a held key, so a
  path's text stays the same from one check to the next.
* **Workload identity federation from AWS.** An AWS role that an earlier provider's path
  reached becomes a service account through a workload identity pool, tried by behaviour
  with google-auth's AWS credentials and the session the AWS probe holds
  (:mod:`agent_ir.tabletop.probe_gcp_wif`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import google.auth.exceptions
import requests
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.files import write_private
from agent_ir.lab.gcp_auth import key_file_text
from agent_ir.lab.runner import Lab
from agent_ir.model import EdgeKind
from agent_ir.providers.gcp.translate import KIND, MINTING_ROLES, edge_role
from agent_ir.tabletop.probe import PathResult
from agent_ir.tabletop.probe_gcp_wif import WifProbe

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
MAX_HOPS = 4
"""How many impersonation hops the probe follows from a held key."""


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A service account key file the attacker holds."""

    email: str
    key_id: str
    path: Path


class GcpProbe:
    """Key files of the agent's service accounts and the chains they open."""

    def __init__(self, lab: Lab, workdir: Path) -> None:
        settings = lab.settings.providers.gcp
        if settings is None:
            raise LabError("the lab has no GCP project")
        self.emulator = cast(Any, lab.emulators["gcp"])
        self.ca = str(settings.ca_bundle)
        self.credentials_url = settings.credentials_url.rstrip("/")
        self.workdir = workdir
        self.agent = ""
        self.keys: list[KeyFile] = []
        self.inventory: Inventory | None = None
        self.extra: dict[str, list[str]] = {}
        """Impersonation targets injects opened, by the account that may mint."""
        self.wif = WifProbe(self.emulator, self.ca, self.credentials_url)

    def attach(self, parts: Mapping[str, object]) -> None:
        """See the other providers' probes: federation replays the AWS probe's sessions."""
        self.wif.aws_part = parts.get("aws")

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Write a key file for each usable user-managed key of the agent's accounts and
        note the graph that says whom they can impersonate."""
        self.agent = agent
        self.inventory = inventory
        for identity in inventory.agent(agent).identities:
            if identity.provider == "gcp" and identity.kind == KIND:
                self.keys.extend(self._key_files(identity.id))

    def _key_files(self, email: str) -> list[KeyFile]:
        emulator = self.emulator
        out: list[KeyFile] = []
        with emulator.api.lock:
            state = emulator.api.state
            account = state.account(email)
            if account is None:
                return out
            for key in account.keys.values():
                if key.type != "USER_MANAGED" or not key.usable(emulator.now):
                    continue
                data = emulator.vault.key_file(state, key, emulator.token_uri)
                path = self.key_path(email, key.id)
                write_private(path, key_file_text(data))
                out.append(KeyFile(email, key.id, path))
        return out

    def key_path(self, email: str, key_id: str) -> Path:
        """Where the probe keeps the key file of one key."""
        return self.workdir / f"gcp-{email.partition('@')[0]}-{key_id[:8]}.json"

    def add_key(self, key: KeyFile) -> None:
        """Hold one more key file (one an inject created)."""
        if all(k.key_id != key.key_id for k in self.keys):
            self.keys.append(key)

    def add_target(self, source: str, target: str) -> None:
        """``source`` may mint tokens for ``target`` from now on (a binding an inject made)."""
        found = self.extra.setdefault(source, [])
        if target not in found:
            found.append(target)

    def holds(self, email: str) -> bool:
        """Whether the probe holds a key of ``email`` or can reach it by impersonation."""
        return email in {k.email for k in self.keys} or email in self._chains()

    # -- checking ---------------------------------------------------------------------

    def check(self, reached: set[str]) -> list[PathResult]:
        """Every key, every impersonation chain from the keys that work, and every AWS
        role in ``reached`` that a workload identity pool admits."""
        http = requests.Session()
        http.trust_env = False
        http.verify = self.ca
        try:
            tokens: dict[str, tuple[str, str]] = {}
            out: list[PathResult] = []
            for key in self.keys:
                result, token = self._try(key, http)
                out.append(result)
                if token and key.email not in tokens:
                    tokens[key.email] = (token, f"key {key.key_id[:8]}…")
            out.extend(self._impersonate(tokens, http))
        finally:
            http.close()
        out.extend(self.wif.check(reached))
        return out

    def _try(self, key: KeyFile, http: requests.Session) -> tuple[PathResult, str]:
        path = f"key {key.key_id[:8]}… of service account {_short(key.email)} → access token"
        try:
            creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(key.path), scopes=[SCOPE]
            )
            creds.refresh(Request(http))
        except google.auth.exceptions.GoogleAuthError as exc:
            return PathResult("gcp", path, False, "behaviour", f"refused: {_first(exc)}"), ""
        detail = "token endpoint issued a token"
        return PathResult("gcp", path, True, "behaviour", detail, key.email), str(creds.token)

    def _targets(self, source: str) -> list[str]:
        """Whom ``source`` may mint tokens for: by the graph, then by injects."""
        found: list[str] = []
        inventory = self.inventory
        if inventory is not None:
            for edge in inventory.graph.outgoing(source):
                target = inventory.identities.get(edge.target)
                if (
                    edge.kind is EdgeKind.IMPERSONATE
                    and edge_role(edge) in MINTING_ROLES
                    and target is not None
                    and target.provider == "gcp"
                    and target.kind == KIND
                    and target.id not in found
                ):
                    found.append(target.id)
        found += [t for t in self.extra.get(source, []) if t not in found]
        return found

    def _chains(self) -> dict[str, list[str]]:
        """Each account reachable from a held key by impersonation, with its shortest
        chain of accounts (the held account first), breadth first."""
        starts = list(dict.fromkeys(k.email for k in self.keys))
        chains: dict[str, list[str]] = {}
        seen = set(starts)
        queue = deque([s] for s in starts)
        while queue:
            chain = queue.popleft()
            if len(chain) > MAX_HOPS:
                continue
            for target in self._targets(chain[-1]):
                if target in seen:
                    continue
                seen.add(target)
                chains[target] = [*chain, target]
                queue.append(chains[target])
        return chains

    def _impersonate(
        self, tokens: dict[str, tuple[str, str]], http: requests.Session
    ) -> list[PathResult]:
        out: list[PathResult] = []
        for target, chain in self._chains().items():
            path = " → ".join(
                [f"service account {_short(chain[0])}"]
                + [f"impersonate {_short(e)}" for e in chain[1:]]
            )
            source = chain[-2]
            held = tokens.get(source)
            if held is None:
                why = f"no working token of {_short(source)} to call generateAccessToken with"
                out.append(PathResult("gcp", path, False, "behaviour", why))
                continue
            token, via = held
            works, detail, minted = self._generate(http, token, target)
            origin = f" (the chain starts with {via} of {_short(chain[0])})"
            out.append(
                PathResult(
                    "gcp", path, works, "behaviour", detail + origin, target if works else ""
                )
            )
            if works and target not in tokens:
                tokens[target] = (minted, via)
        return out

    def _generate(self, http: requests.Session, token: str, target: str) -> tuple[bool, str, str]:
        url = f"{self.credentials_url}/v1/projects/-/serviceAccounts/{target}:generateAccessToken"
        try:
            reply = http.post(
                url,
                json={"scope": [SCOPE], "lifetime": "3600s"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        except requests.RequestException as exc:
            return False, f"refused: {type(exc).__name__}", ""
        if reply.status_code != 200:
            return False, f"refused: {reply.status_code} {_error_message(reply)}", ""
        minted = str(reply.json().get("accessToken", ""))
        return bool(minted), "generateAccessToken issued a token", minted


def _short(email: str) -> str:
    return email.partition("@")[0]


def _error_message(reply: requests.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        return reply.reason or ""
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or reply.reason or "")[:160]


def _first(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.split(":", 1)[0][:120]
