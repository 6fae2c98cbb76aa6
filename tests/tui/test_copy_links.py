"""``y`` copies what is highlighted (an agent's name, a credential's full id, an incident
id) with a toast saying what; ``o`` lists the agent's identities with their provider
console pages, as text, openable and copyable, with no secret in any of them."""

from __future__ import annotations

from textual.widgets import OptionList

from agent_ir.model import Identity
from agent_ir.tui.links import console_url
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.links import LinksScreen
from agent_ir.tui.widgets.credentials_table import CredentialsTable
from agent_ir.tui.widgets.incident_table import IncidentTable
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_agent, revoke, settle

AGENT = "invoice-agent"


def _toasts(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_y_copies_the_agent_the_credential_and_the_incident(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
        first = app.clipboard
        assert first and any(t == f"copied agent name: {first}" for t in _toasts(app))
        await open_agent(pilot, AGENT)
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one(CredentialsTable)
        entry = table.current
        assert entry is not None
        await pilot.press("y")
        await pilot.pause()
        # the full id, not the cut one a narrow column shows
        assert app.clipboard == entry[1].id and len(entry[1].id) > 10
        assert f"copied {entry[0].provider} {entry[1].kind} id: {entry[1].id}" in _toasts(app)
        await revoke(pilot, AGENT, "copy test")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        incident = app.screen.query_one(IncidentTable).current
        assert incident is not None
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == incident
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        app.copy_to_clipboard("")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == incident


async def test_o_lists_console_pages_and_opens_them(console: AppFactory) -> None:
    app = console()
    opened: list[str] = []
    app.open_url = lambda url, *, new_tab=True: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("3")
        await pilot.pause()
        ident = app.screen.query_one(CredentialsTable).current
        assert ident is not None
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LinksScreen)
        options = screen.query_one(OptionList)
        # the highlighted credential's identity is the one offered first
        assert options.highlighted is not None
        assert screen.identities[options.highlighted].id == ident[0].id
        text = "\n".join(
            str(options.get_option_at_index(n).prompt) for n in range(options.option_count)
        )
        providers = {i.provider for i in screen.identities}
        assert "aws" in providers and "console.aws.amazon.com/iam/home#/" in text
        await pilot.press("enter")
        await pilot.pause()
        assert opened and opened[0] == console_url(screen.identities[options.highlighted])
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == screen.identities[options.highlighted].id
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == opened[0]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LinksScreen)


def _ident(provider: str, kind: str, id: str, account: str, **extra: object) -> Identity:
    return Identity(provider, kind, id, id.rsplit("/", 1)[-1], account, **extra)  # type: ignore[arg-type]


def test_each_provider_links_to_its_own_console() -> None:
    aws = _ident("aws", "iam-role", "arn:aws:iam::111111111111:role/path/invoice", "111111111111")
    assert console_url(aws) == "https://console.aws.amazon.com/iam/home#/roles/details/invoice"
    gcp = _ident(
        "gcp", "service-account", "a@p.iam.gserviceaccount.com", "p", aliases=("12345", "x")
    )
    assert console_url(gcp) == (
        "https://console.cloud.google.com/iam-admin/serviceaccounts/details/12345?project=p"
    )
    entra = _ident("entra", "agent-identity", "2e93-object", "tenant-1")
    url = console_url(entra)
    assert url is not None and url.startswith("https://entra.microsoft.com/tenant-1/#view/")
    assert url.endswith("/objectId/2e93-object")
    okta = _ident("okta", "service-app", "0oa1", "corp")
    assert console_url(okta) == "https://corp-admin.okta.com/admin/app/oidc_client/instance/0oa1"
    # a kind with no page of its own gets none, rather than a guess
    assert console_url(_ident("okta", "ai-agent", "wlp1", "corp")) is None
    # ids are quoted: nothing in an id can add a path, a query or a control character
    odd = console_url(_ident("okta", "service-user", "a/../b?\x1b[2J", "corp"))
    assert odd is not None and "\x1b" not in odd and "?" not in odd and "/../" not in odd

