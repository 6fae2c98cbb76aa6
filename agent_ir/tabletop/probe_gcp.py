"""The GCP part of the probe: the signed-JWT token request (google-auth) with every usable
key file the world gave the agent's service accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import google.auth.exceptions
import requests
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.gcp_auth import key_file_text
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.probe import PathResult

SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A service account key file the attacker holds."""

    email: str
    key_id: str
    path: Path


class GcpProbe:
    """Key files of the agent's service accounts."""

    def __init__(self, lab: Lab, workdir: Path) -> None:
        settings = lab.settings.providers.gcp
        if settings is None:
            raise LabError("the lab has no GCP project")
        self.emulator = cast(Any, lab.emulators["gcp"])
        self.ca = str(settings.ca_bundle)
        self.workdir = workdir
        self.keys: list[KeyFile] = []

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Write a key file for each usable user-managed key of the agent's accounts."""
        for identity in inventory.agent(agent).identities:
            if identity.provider == "gcp" and identity.kind == "service-account":
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
                path = self.workdir / f"gcp-{email.partition('@')[0]}-{key.id[:8]}.json"
                path.touch(mode=0o600)
                path.write_text(key_file_text(data), encoding="utf-8")
                out.append(KeyFile(email, key.id, path))
        return out

    def check(self, reached: set[str]) -> list[PathResult]:
        """A signed-JWT token request with each key file."""
        return [self._try(key) for key in self.keys]

    def _try(self, key: KeyFile) -> PathResult:
        name = key.email.partition("@")[0]
        path = f"key {key.key_id[:8]}… of service account {name} → access token"
        http = requests.Session()
        http.trust_env = False
        http.verify = self.ca
        try:
            creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(key.path), scopes=[SCOPE]
            )
            creds.refresh(Request(http))
        except google.auth.exceptions.GoogleAuthError as exc:
            return PathResult("gcp", path, False, "behaviour", f"refused: {_first(exc)}")
        finally:
            http.close()
        return PathResult("gcp", path, True, "behaviour", "token endpoint issued a token")


def _first(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.split(":", 1)[0][:120]
