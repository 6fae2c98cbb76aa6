"""Google Cloud changes an attacker makes during an exercise, through the real REST APIs
(google-auth's ``AuthorizedSession``) as the lab's responder:

* ``new-binding``: ``member`` gets ``role`` on ``resource``, a service account's email (its
  own allow policy, IAM v1) or ``project`` (the first configured project; ``projects/P``
  names another), by a read-modify-write guarded by the etag. A role that lets a held
  service account mint tokens for another (token creator, owner) is handed to the probe
  as a new impersonation target.
* ``spawn-sub-agent``: the service account ``name`` in the project of the agent's first
  service account (else the first configured project), and a user-managed key for it;
  the probe holds the key file IAM returns.

Attribution: a service account carries no record of who created it, so discovery ties a
spawned account to the agent by name only. Name it ``<agent>-…`` (``invoice-agent-worker``)
and it is linked to the agent as *inferred*, which contain-agent acts on; under any other
name it belongs to no agent and the timeline line says so.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.files import write_private
from agent_ir.lab.gcp_roles import role_allows
from agent_ir.lab.runner import Lab
from agent_ir.providers.gcp.config import CLOUD_PLATFORM, GcpSettings
from agent_ir.providers.gcp.translate import KIND
from agent_ir.tabletop.model import Change, NewBinding, SpawnSubAgent
from agent_ir.tabletop.probe_gcp import GcpProbe, KeyFile

_ATTEMPTS = 5
"""Read-modify-write attempts when the etag goes stale under us."""
_MAX_WAIT_S = 10.0
"""The longest the change waits for the lab to enforce a new binding."""


def apply(lab: Lab, inventory: Inventory, part: GcpProbe, change: Change) -> str:
    """Make one GCP change; the probe learns what it opens."""
    settings = lab.settings.providers.gcp
    if settings is None:
        raise LabError("the lab runs no GCP emulator")
    if isinstance(change, NewBinding):
        line = _bind(settings, part, change)
        time.sleep(min(lab.world.gcp.propagation_s, _MAX_WAIT_S))
        return line
    if isinstance(change, SpawnSubAgent):
        return _spawn(settings, inventory, part, change)
    raise LabError(f"the change {change.change} cannot be made in Google Cloud")


class _Api:
    """The responder's authorised session on the lab's endpoints."""

    def __init__(self, settings: GcpSettings) -> None:
        if settings.key_file is None:
            raise LabError("the GCP settings name no responder key file")
        http = requests.Session()
        http.trust_env = False
        http.verify = str(settings.ca_bundle) if settings.ca_bundle else True
        try:
            creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(settings.key_file), scopes=[CLOUD_PLATFORM]
            )
        except (OSError, ValueError) as exc:
            raise LabError(f"cannot read the responder's key file: {type(exc).__name__}") from None
        if settings.token_uri:
            creds = creds.with_token_uri(settings.token_uri)
        self.session = AuthorizedSession(creds, auth_request=Request(http))  # type: ignore[no-untyped-call]
        self.session.trust_env = False
        self.session.verify = http.verify
        self.settings = settings

    def call(self, what: str, url: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        """POST ``body`` (or GET when None); the JSON reply, or LabError saying why not."""
        try:
            if body is None:
                reply = self.session.get(url, params=params, timeout=15)
            else:
                reply = self.session.post(url, json=body, params=params, timeout=15)
        except (requests.RequestException, google.auth.exceptions.GoogleAuthError) as exc:
            raise LabError(f"cannot {what}: {type(exc).__name__}") from None
        if reply.status_code == 409:
            raise _Stale(what)
        if not reply.ok:
            raise LabError(f"cannot {what}: {reply.status_code} {_message(reply)}")
        return reply.json() if reply.content else {}

    def close(self) -> None:
        """Close the session."""
        self.session.close()  # type: ignore[no-untyped-call]


class _Stale(LabError):
    """The etag went stale (409); the read-modify-write starts again."""


def _message(reply: requests.Response) -> str:
    try:
        error = reply.json().get("error")
    except (ValueError, AttributeError):
        return reply.reason or ""
    return str(error.get("message") if isinstance(error, dict) else error)[:200]


# -- new binding --------------------------------------------------------------------------


def _bind(settings: GcpSettings, part: GcpProbe, change: NewBinding) -> str:
    api = _Api(settings)
    try:
        where, added = _add_member(api, change.resource, change.member, change.role)
    finally:
        api.close()
    text = change.text or f"the attacker grants {change.role} on {where} to {change.member}"
    note = "" if added else "; it already held it"
    source = change.member.partition(":")[2] if change.member.startswith("serviceAccount:") else ""
    target = change.resource if "@" in change.resource else ""
    if source and target and role_allows(change.role, "iam.serviceAccounts.getAccessToken"):
        part.add_target(source, target)
        if part.holds(source):
            note += f"; the probe now tries {source} → impersonate {target}"
    return f"{text} (binding {change.role} → {change.member} on {where}{note})"


def _add_member(api: _Api, resource: str, member: str, role: str) -> tuple[str, bool]:
    """Add ``member`` to ``role``'s unconditional binding; where, and whether it was new."""
    settings = api.settings
    if "@" in resource:
        base = f"{settings.iam_url.rstrip('/')}/v1/projects/-/serviceAccounts/{resource}"
        where = f"service account {resource}"
    else:
        project = settings.projects[0] if resource == "project" else resource
        project = project.removeprefix("projects/")
        base = f"{settings.resource_manager_url.rstrip('/')}/v3/projects/{project}"
        where = f"project {project}"
    for _ in range(_ATTEMPTS):
        if "@" in resource:
            policy = api.call(
                f"read the policy on {resource}",
                f"{base}:getIamPolicy",
                {},
                **{"options.requestedPolicyVersion": 3},
            )
        else:
            policy = api.call(
                f"read the policy of {where}",
                f"{base}:getIamPolicy",
                {"options": {"requestedPolicyVersion": 3}},
            )
        bindings = list(policy.get("bindings", []))
        binding = next((b for b in bindings if b["role"] == role and "condition" not in b), None)
        if binding is not None and member in binding.get("members", []):
            return where, False
        if binding is None:
            bindings.append({"role": role, "members": [member]})
        else:
            binding["members"] = [*binding.get("members", []), member]
        new = {"bindings": bindings, "etag": policy.get("etag"), "version": 3}
        try:
            api.call(
                f"write the policy of {where}",
                f"{base}:setIamPolicy",
                {"policy": new, "updateMask": "bindings,etag"},
            )
        except _Stale:
            continue
        return where, True
    raise LabError(f"cannot write the policy of {where}: the etag kept changing")


# -- spawned sub-agent --------------------------------------------------------------------


def _spawn(
    settings: GcpSettings, inventory: Inventory, part: GcpProbe, change: SpawnSubAgent
) -> str:
    project = _home_project(settings, inventory, part)
    api = _Api(settings)
    iam = f"{settings.iam_url.rstrip('/')}/v1/projects"
    try:
        account = api.call(
            f"create the service account {change.name}",
            f"{iam}/{project}/serviceAccounts",
            {"accountId": change.name, "serviceAccount": {"displayName": change.name}},
        )
        email = str(account["email"])
        made = api.call(
            f"create a key for {email}",
            f"{iam}/-/serviceAccounts/{email}/keys",
            {"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE"},
        )
    finally:
        api.close()
    key_id = str(made["name"]).rsplit("/", 1)[-1]
    try:
        text = base64.b64decode(str(made["privateKeyData"]), validate=True)
    except (KeyError, binascii.Error) as exc:
        raise LabError(f"the new key of {email} came without a key file") from exc
    path = part.key_path(email, key_id)
    write_private(path, text)
    part.add_key(KeyFile(email, key_id, path))
    line = change.text or f"the attacker creates the service account {change.name} for itself"
    agent = part.agent
    linked = agent and (change.name == agent or change.name.startswith(agent + "-"))
    note = "" if linked or not agent else f"; its name does not tie it to {agent}"
    return f"{line} ({email}, key {key_id[:8]}…{note})"


def _home_project(settings: GcpSettings, inventory: Inventory, part: GcpProbe) -> str:
    """The project of the agent's first service account, else the first configured one."""
    if part.agent:
        for identity in inventory.agent(part.agent).identities:
            if identity.provider == "gcp" and identity.kind == KIND and identity.account:
                return identity.account
    return settings.projects[0]
