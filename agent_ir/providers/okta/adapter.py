"""The Okta adapter: the okta SDK (imported lazily, on first use), with its known defects
wrapped at :mod:`~agent_ir.providers.okta.boundary`.

What it finds (conventions, see :mod:`~agent_ir.providers.okta.translate`):

* **service apps**: OAuth apps that can get tokens as themselves (``client_credentials``),
  with their client secrets or JWKS keys, Okta API scope grants and admin roles. The app
  ``profile`` attributes ``agent_ir_agent`` and ``agent_ir_owner`` (names configurable)
  tie an app to its agent and owner, like the ``agent-ir:agent`` tag on AWS. An app
  with no such attribute that the System Log shows was created through an API token
  (``application.lifecycle.create`` with ``transaction.detail.requestApiTokenId``, kept
  90 days) belongs to the agent named as that token: a shadow agent running on someone's
  API token cannot hide the service apps it makes for itself.
* **API tokens**, each with the human who created it: the token acts with all of that
  person's admin roles (a shadow agent is often someone's API token), so the token
  carries those roles as grants and the creator is linked to it.
* **AI agents** (Okta for AI Agents), with their owners and keys.
* **service users**: users whose profile has ``agent_ir_agent``.
* edges: ``human:<email>`` → app for every user holding grants or refresh tokens for it
  (consent), owners → identity, creator → API token.

Signing in: OAuth private-key JWT (preferred, DPoP optional) or an API token from the
environment; see :mod:`~agent_ir.providers.okta.config`. Rate limits are respected by
waiting for ``X-Rate-Limit-Reset`` (:mod:`~agent_ir.providers.okta.ratelimit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.model import Identity, ProviderName
from agent_ir.providers.base import (
    Ability,
    CheckReport,
    Discovery,
    PermissionCheck,
    ProviderContext,
)
from agent_ir.providers.okta.client import OktaClient
from agent_ir.providers.okta.config import READ_SCOPES, OktaSettings
from agent_ir.providers.okta.discovery import Discoverer, Facts

if TYPE_CHECKING:
    pass


class OktaProvider:
    """Reads an Okta org's non-human identities, and contains and restores them."""

    name: ClassVar[ProviderName] = "okta"
    read_permissions: ClassVar[tuple[str, ...]] = READ_SCOPES
    abilities: ClassVar[Ability] = (
        Ability.DISCOVER
        | Ability.CHECK_PERMISSIONS
        | Ability.READ_PERMISSIONS
        | Ability.CONTAIN
        | Ability.RESTORE
        | Ability.READ_ACTIVITY
    )

    def __init__(self, settings: OktaSettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self.client = OktaClient(settings)
        self.facts = Facts()
        self.responder_ids: set[str] = set()
        if settings.api_token_id:
            self.responder_ids.add(settings.api_token_id)
        if settings.client_id:
            self.responder_ids.add(settings.client_id)
        self.sessions_cleared: dict[str, str] = {}
        """User id → the cut-off of the session clearing this process did (Okta has no
        API listing a user's sessions, so the 204 of the call is the evidence)."""

    @property
    def opens_slowly(self) -> bool:
        """Until its client is open: the SDK's import takes about half a second of the
        interpreter (measured with py-spy on a revoke), in whatever thread it runs."""
        return not self.client.opened

    @classmethod
    def from_settings(cls, section: OktaSettings, context: ProviderContext) -> OktaProvider:
        """Build the adapter; nothing is imported from the SDK and no call is made yet."""
        return cls(section, context)

    @property
    def endpoint(self) -> str:
        """The org URL."""
        return self.settings.org_url

    async def discover(self) -> Discovery:
        """Service apps, API tokens, AI agents and service users, their grants and edges."""
        discoverer = Discoverer(self.client, self.settings, self.context)
        result = await discoverer.run()
        self.facts = discoverer.facts
        self.responder_ids |= result.responder_ids
        result.responder_ids = set(self.responder_ids)
        return result

    async def own_identities(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The apps, AI agents and service users named ``agent`` and the principals whose
        id is in ``ids``, each read in full as discovery reads one, without listing the
        org (:meth:`Discoverer.own`); on the adapter's client, so the SDK is imported once.
        What actions need about them joins the planning facts at once: the steps cutting
        their credentials can be planned before the agent-scoped read ends."""
        everything = ProviderContext(clock=self.context.clock, containment=lambda: True)
        discoverer = Discoverer(self.client, self.settings, everything)
        result = await discoverer.own(agent, ids)
        found = discoverer.facts
        self.facts.apps.update(found.apps)
        self.facts.users_by_email.update(found.users_by_email)
        self.facts.token_creators.update(found.token_creators)
        self.responder_ids |= result.responder_ids
        result.responder_ids = set(self.responder_ids)
        return result

    async def check(self, permissions: list[str]) -> CheckReport:
        """Who the console is in Okta, and which scopes it holds."""
        org, _ = await self.client.call("reading the org", "get_org_settings")
        account = str(org.get("subdomain") or self.settings.org_url)
        wanted = permissions or list(READ_SCOPES)
        if self.settings.uses_private_key:
            return await self._check_app(account, wanted)
        report = CheckReport(
            provider="okta",
            caller=f"API token {self.settings.api_token_id or '(id not configured)'}",
            account=account,
            endpoint=self.endpoint,
        )
        report.notes.append("an API token acts with all of its creator's admin roles")
        report.permissions = [
            PermissionCheck(p, None, "decided by the creator's admin roles") for p in wanted
        ]
        return report

    async def _check_app(self, account: str, wanted: list[str]) -> CheckReport:
        from agent_ir.providers.okta import operations as ops

        client_id = str(self.settings.client_id)
        apps = await self.client.pages(
            "finding the console's app",
            "list_applications",
            filter=f'id eq "{client_id}"',
            limit=20,
        )
        label = str(apps[0].get("label")) if apps else client_id
        granted = await ops.scope_grants(self.client, apps[0]["id"]) if apps else {}
        roles = await ops.roles(self.client, "client", client_id)
        report = CheckReport(
            provider="okta",
            caller=f"service app {label} ({client_id})",
            account=account,
            endpoint=self.endpoint,
        )
        report.notes.append(
            "signed in with a private-key JWT" + (" and DPoP" if self.settings.dpop else "")
        )
        report.notes.append("admin roles: " + (", ".join(sorted(roles)) or "none"))
        for scope in wanted:
            requested = scope in self.settings.scopes
            allowed = scope in granted and requested
            note = "granted" if scope in granted else "not granted to the app"
            if scope in granted and not requested:
                note = "granted, but not in the configured scopes"
            report.permissions.append(PermissionCheck(scope, allowed, note))
        return report

    async def read_activity(
        self, identities: Sequence[Identity], window: ActivityWindow
    ) -> ActivityPage:
        """System Log events of ``identities`` (:mod:`.activity`)."""
        from agent_ir.providers.okta.activity import OktaActivityReader

        return await OktaActivityReader(self.client).read(identities, window)

    def plan_facts(self) -> Facts:
        """The facts of the last discovery, with the console's own ids."""
        return replace(self.facts, responder_ids=set(self.responder_ids))

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self.client.aclose()
