"""The Entra part of the probe: client-credentials token requests (MSAL, as any outside tool
would make them) along every path the agent's credentials open.

* **Client secrets** of the agent's applications and blueprints → a Graph token as the app.
* **Agent identities**: a blueprint's client secret → an exchange token for the agent
  identity (``fmi_path``) → a Graph token as the agent identity, with the exchange token
  as its client assertion.
* **Federated credentials** of the agent's applications: when a path in a provider checked
  earlier made the attacker the credential's trusted subject (an AWS role ARN, say), a
  token from that issuer is presented as the client assertion. The lab stands in for
  every outside issuer (:meth:`EntraEmulator.outside_token`), so the outside token comes
  from the lab; the token endpoint decides by the federated credential it holds.
* **Granted roles**: for an application permission granted during the exercise, each path
  that makes the attacker that identity is tried again for a token whose ``roles`` claim
  carries the permission (removing the grant closes it, even while the secret works).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import jwt
import msal  # type: ignore[import-untyped]
import requests

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.model import EdgeKind
from agent_ir.providers.entra.translate import federation_source
from agent_ir.tabletop.probe import PathResult

EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default"


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """A client secret the attacker holds."""

    app: str
    secret_name: str
    client_id: str
    value: str  # the attacker's copy; never printed


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """An agent identity the attacker can obtain tokens for through its blueprint."""

    name: str
    object_id: str
    app_id: str
    blueprint: str


@dataclass(frozen=True, slots=True)
class Federated:
    """A federated identity credential of one of the agent's applications."""

    app: str
    client_id: str
    name: str
    issuer: str
    subject: str
    audience: str


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """One token request's outcome: the token and its roles when one was issued;
    ``unreachable`` when the token endpoint did not answer at all."""

    token: str | None
    detail: str
    roles: tuple[str, ...] = ()
    unreachable: bool = False


def request_token(
    authority: str,
    ca: str,
    client_id: str,
    credential: Any,
    scope: str,
    fmi_path: str | None = None,
) -> TokenAnswer:
    """A client-credentials token request through MSAL, as any outside tool makes it
    (``credential``: a secret, or ``{"client_assertion": …}``; ``fmi_path``: the agent
    identity an exchange token is for)."""
    http = requests.Session()
    http.trust_env = False
    http.verify = ca
    extra = {"fmi_path": fmi_path} if fmi_path else {}
    try:
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=credential,
            authority=authority,
            instance_discovery=False,
            http_client=http,
        )
        answer: dict[str, Any] = app.acquire_token_for_client([scope], **extra) or {}
    except (ValueError, requests.RequestException) as exc:
        return TokenAnswer(None, f"refused: {exc}", unreachable=True)
    finally:
        http.close()
    token = answer.get("access_token")
    if isinstance(token, str):
        return TokenAnswer(token, "token endpoint issued a token", _roles(token))
    code = answer.get("error", "?")
    description = str(answer.get("error_description", "")).split(":", 1)[0]
    return TokenAnswer(None, f"refused: {code} {description}")


def blueprint_of(inventory: Inventory, identity_id: str) -> str | None:
    """The name of the blueprint that obtains tokens as an agent identity (from the
    inventory's token-exchange edges)."""
    for edge in inventory.graph.incoming(identity_id):
        if edge.kind is EdgeKind.TOKEN_EXCHANGE and edge.source in inventory.identities:
            return inventory.identities[edge.source].name
    return None


class EntraProbe:
    """Client secrets, agent identity exchanges and federated credentials of one agent."""

    def __init__(self, lab: Lab) -> None:
        settings = lab.settings.providers.entra
        if settings is None:
            raise LabError("the lab has no Entra tenant")
        self.emulator = cast(Any, lab.emulators["entra"])
        self.authority = str(settings.authority)
        self.scope = f"{settings.graph_url}/.default"
        self.ca = str(settings.ca_bundle)
        self.agent = ""
        self.secrets: list[ClientSecret] = []
        self.agents: list[AgentIdentity] = []
        self.federated: list[Federated] = []
        self.roles: dict[str, list[str]] = {}

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Take every live client secret of the agent's applications, note its agent
        identities and its applications' federated credentials (lab-only helpers)."""
        self.agent = agent
        known: dict[str, dict[str, Any]] = self.emulator.lab_secrets()
        for identity in inventory.agent(agent).identities:
            if identity.provider != "entra":
                continue
            if identity.kind == "agent-identity":
                blueprint = blueprint_of(inventory, identity.id)
                if blueprint is not None and identity.aliases:
                    self.add_agent(
                        AgentIdentity(identity.name, identity.id, identity.aliases[0], blueprint)
                    )
            if identity.name not in known:
                continue
            entry = known[identity.name]
            for name, value in entry["secrets"].items():
                self.add_secret(ClientSecret(identity.name, name, entry["client_id"], value))
            for fic in self.emulator.federated_credentials(identity.name):
                audiences = fic.get("audiences") or [EXCHANGE_SCOPE.removesuffix("/.default")]
                self.federated.append(
                    Federated(
                        identity.name,
                        entry["client_id"],
                        str(fic["name"]),
                        str(fic["issuer"]),
                        str(fic["subject"]),
                        str(audiences[0]),
                    )
                )

    def add_secret(self, secret: ClientSecret) -> None:
        """Hold one more client secret."""
        if secret not in self.secrets:
            self.secrets.append(secret)

    def add_agent(self, agent: AgentIdentity) -> None:
        """Hold one more agent identity path (one an inject spawned, say)."""
        if all(a.object_id != agent.object_id for a in self.agents):
            self.agents.append(agent)

    def want_role(self, name: str, role: str) -> None:
        """From now on, also ask whether the tokens as ``name`` carry ``role``."""
        wanted = self.roles.setdefault(name, [])
        if role not in wanted:
            wanted.append(role)

    def holds(self, name: str) -> bool:
        """Whether some path the probe tries makes the attacker ``name``."""
        return any(s.app == name for s in self.secrets) or any(
            a.name == name and self._blueprint_secrets(a) for a in self.agents
        )

    def check(self, reached: set[str]) -> list[PathResult]:
        """Every secret, agent identity exchange and federated credential, now."""
        out: list[PathResult] = []
        for secret in self.secrets:
            path = f"client secret {secret.secret_name} of {secret.app} → Graph token"
            token = self._request(secret.client_id, secret.value, self.scope)
            out += self._results(path, secret.app, secret.client_id, token)
        for agent in self.agents:
            for secret in self._blueprint_secrets(agent):
                path = (
                    f"blueprint {agent.blueprint} (secret {secret.secret_name}) → exchange "
                    f"token → Graph token as agent identity {agent.name}"
                )
                token = self._exchange(agent, secret)
                out += self._results(path, agent.name, agent.object_id, token)
        for fic in self.federated:
            path = (
                f"federated credential {fic.name} of {fic.app} (trusts {fic.subject}) → "
                f"Graph token as {fic.app}"
            )
            out += self._results(path, fic.app, fic.client_id, self._federated(fic, reached))
        return out

    def _blueprint_secrets(self, agent: AgentIdentity) -> list[ClientSecret]:
        return [s for s in self.secrets if s.app == agent.blueprint]

    def _results(
        self, path: str, name: str, principal: str, token: TokenAnswer
    ) -> list[PathResult]:
        works = token.token is not None
        out = [
            PathResult("entra", path, works, "behaviour", token.detail, principal if works else "")
        ]
        for role in self.roles.get(name, []):
            held = works and role in token.roles
            if held:
                detail = f"the token's roles claim carries {role}"
            elif works:
                detail = f"refused: the token's roles claim lacks {role}"
            else:
                detail = token.detail
            out.append(
                PathResult(
                    "entra",
                    f"{path} with role {role}",
                    held,
                    "behaviour",
                    detail,
                    principal if held else "",
                )
            )
        return out

    def _exchange(self, agent: AgentIdentity, secret: ClientSecret) -> TokenAnswer:
        first = self._request(secret.client_id, secret.value, EXCHANGE_SCOPE, agent.app_id)
        if first.token is None:
            return TokenAnswer(None, f"{first.detail} (at the exchange)")
        assertion = first.token
        return self._request(agent.app_id, {"client_assertion": lambda: assertion}, self.scope)

    def _federated(self, fic: Federated, reached: set[str]) -> TokenAnswer:
        source = federation_source(fic.issuer, fic.subject)
        if fic.subject not in reached and source not in reached:
            return TokenAnswer(None, f"no working path to the trusted principal {fic.subject}")
        outside = self.emulator.outside_token(fic.issuer, fic.subject, fic.audience)
        token = self._request(fic.client_id, {"client_assertion": lambda: outside}, self.scope)
        stand_in = f"the outside token comes from the lab's stand-in for {fic.issuer}"
        return TokenAnswer(token.token, f"{token.detail} ({stand_in})", token.roles)

    def _request(
        self, client_id: str, credential: Any, scope: str, fmi_path: str | None = None
    ) -> TokenAnswer:
        return request_token(self.authority, self.ca, client_id, credential, scope, fmi_path)


def _roles(token: str) -> tuple[str, ...]:
    """The ``roles`` claim of an access token (the attacker reads its own token)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ()
    roles = claims.get("roles") or []
    return tuple(str(r) for r in roles) if isinstance(roles, list) else ()
