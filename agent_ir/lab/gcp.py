"""The Google Cloud emulator: IAM v1, Resource Manager v3, IAM Credentials, the OAuth token
endpoint, the Security Token Service's token exchange for AWS workload identity
federation (:mod:`agent_ir.lab.gcp_sts`; it needs the lab's AWS endpoint, which the lab
hands over through :meth:`GcpEmulator.link`), Policy Analyzer's key activity and Cloud
Asset's policy search (:mod:`agent_ir.lab.gcp_asset`), on one
HTTPS port (see :mod:`agent_ir.lab.gcp_api`
for the paths).

Seeded from the world's ``gcp`` section (:mod:`agent_ir.lab.gcp_world`). The console's
responder is the service account ``agent-ir-responder`` of the first project, with one
user-managed key and, on every project, ``roles/iam.securityAdmin``,
``roles/iam.serviceAccountAdmin``, ``roles/iam.serviceAccountKeyAdmin``,
``roles/policyanalyzer.activityAnalysisViewer`` and ``roles/cloudasset.viewer``; :meth:`GcpEmulator.provider_settings`
writes its key file (mode 0600) into the lab directory and points every endpoint of the
``providers.gcp`` settings at this server.

Faithful where incident response needs it: ``nextPageToken`` paging, Google's error bodies,
429 ``RESOURCE_EXHAUSTED`` and 503 ``UNAVAILABLE`` faults, optional per-minute quotas, 409
``ABORTED`` on a stale etag, a propagation delay before policy writes are enforced, and
the hazard that re-enabling a service account revives its unexpired tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_ir.errors import LabError
from agent_ir.lab.activity_world import ActivitySpec
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.files import write_private
from agent_ir.lab.gcp_api import GcpApi, fault_error, fault_throttle
from agent_ir.lab.gcp_auth import KeyVault, key_file_text
from agent_ir.lab.gcp_aws_verify import AwsLink
from agent_ir.lab.gcp_logging import seed_history
from agent_ir.lab.gcp_state import GcpState
from agent_ir.lab.gcp_sts import STS_PATH
from agent_ir.lab.gcp_world import GcpWorld
from agent_ir.lab.server import EmulatorServer, FaultShapes
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.world import World

RESPONDER_KEY_FILE = "gcp-responder.json"
GCP_SHAPES = FaultShapes(error=fault_error, throttle=fault_throttle)
"""How Google APIs answer injected faults."""


class GcpEmulator:
    """The Google Cloud APIs for one world, served over the lab's TLS."""

    provider = "gcp"

    def __init__(
        self,
        world: GcpWorld,
        tls: LabTLS,
        *,
        now: datetime,
        faults: FaultSpec | None = None,
        activity: Sequence[tuple[int, ActivitySpec]] = (),
        world_name: str = "",
    ) -> None:
        if not world.projects:
            raise LabError("the GCP emulator needs at least one project in the world")
        self.world = world
        self.now = now
        self._tls = tls
        self._initial_faults = faults or FaultSpec()
        self._activity = list(activity)
        self._world_name = world_name
        self.vault = KeyVault()
        self.api = GcpApi(self._seeded(), self.vault, world.quota)
        self.server = EmulatorServer(
            "gcp",
            self.api,
            tls,
            shapes=GCP_SHAPES,
            faults=self._initial_faults,
            on_reset=self.reset,
        )

    @property
    def state(self) -> GcpState:
        """The live state (hold :attr:`api`'s lock to change it)."""
        return self.api.state

    @property
    def token_uri(self) -> str:
        """The OAuth token endpoint key files name."""
        return self.server.base_url + "/token"

    def start(self) -> None:
        """Start serving (the state was seeded on construction)."""
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def reset(self) -> None:
        """Back to the world as seeded (same ids and key material), faults included."""
        with self.api.lock:
            self.api.state = self._seeded()
            self.api.on_set_iam_policy = None
            self.api.calls.clear()
        self.server.faults.update(self._initial_faults)

    def _seeded(self) -> GcpState:
        """A fresh state from the world, with its seeded audit-log history."""
        state = GcpState(self.world, self.now)
        seed_history(state, self._activity, self.now, self._world_name)
        return state

    def export_state(self) -> object:
        """The projects, accounts and keys, and the private keys behind them."""
        return {"state": self.api.state, "vault": self.vault}

    def import_state(self, state: Any) -> None:
        """Serve the state of :meth:`export_state` instead of the seeded world."""
        with self.api.lock:
            self.vault.adopt(state["vault"])
            self.api.state = state["state"]

    def link(self, endpoints: dict[str, str], ca_path: Path) -> None:
        """Called by the lab once every emulator runs: note the AWS endpoint, where the
        Security Token Service checks the signed requests it is given to exchange."""
        aws = endpoints.get("aws")
        self.api.aws = AwsLink(aws, ca_path) if aws else None

    @property
    def propagation_s(self) -> float:
        """How long a policy write takes to be enforced (the world's ``propagation_s``)."""
        with self.api.lock:
            return float(self.api.state.propagation_s)

    @property
    def sts_url(self) -> str:
        """The Security Token Service's token exchange endpoint."""
        return self.server.base_url + STS_PATH

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the responder's key file and return the ``providers.gcp`` settings."""
        with self.api.lock:
            state = self.api.state
            data = self.vault.key_file(state, state.responder_key, self.token_uri)
        write_private(directory / RESPONDER_KEY_FILE, key_file_text(data))
        base = self.server.base_url
        return {
            "projects": [p.id for p in self.world.projects],
            "key_file": RESPONDER_KEY_FILE,
            "iam_url": base,
            "resource_manager_url": base,
            "credentials_url": base,
            "policy_analyzer_url": base,
            "logging_url": base,
            "asset_url": base,
            "token_uri": self.token_uri,
            "ca_bundle": self._tls.ca_path.name,
        }

    def key_file(self, email: str, directory: Path) -> Path:
        """Lab only: write a key file for one of ``email``'s usable user-managed keys, as
        its owner would hold it, so a test can sign in as that account."""
        with self.api.lock:
            state = self.api.state
            account = state.account(email)
            if account is None:
                raise LabError(f"no service account {email} in the GCP lab")
            key = next(
                (
                    k
                    for k in account.keys.values()
                    if k.type == "USER_MANAGED" and k.usable(self.now)
                ),
                None,
            )
            if key is None:
                raise LabError(f"{email} has no usable user-managed key in the GCP lab")
            data = self.vault.key_file(state, key, self.token_uri)
        path = directory / f"gcp-key-{account.email.partition('@')[0]}-{key.id[:8]}.json"
        write_private(path, key_file_text(data))
        return path


def create(world: World, tls: LabTLS, now: datetime) -> GcpEmulator | None:
    """The runner's factory: an emulator for the world's ``gcp`` section, if it has one."""
    if world.gcp.is_empty():
        return None
    return GcpEmulator(
        world.gcp,
        tls,
        now=now,
        faults=world.faults.gcp,
        activity=[(i, a) for i, a in enumerate(world.activity) if a.provider == "gcp"],
        world_name=world.name,
    )
