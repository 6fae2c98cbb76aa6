"""Provider console pages for an identity, so a responder can check a finding in the
provider's own console.

A link is built from the identity's public ids only (ARN, object id, service-account
e-mail or unique id, Okta id and org subdomain); no credential value ever goes into one.
An identity kind with no page of its own gets no link, rather than a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from agent_ir.model import Identity

_AWS_IAM = "https://console.aws.amazon.com/iam/home#/"
_ENTRA = "https://entra.microsoft.com/"
_GCP = "https://console.cloud.google.com/iam-admin/serviceaccounts/details/"


def _q(value: str) -> str:
    return quote(value, safe="")


def _aws(ident: Identity) -> str | None:
    section = {"iam-user": "users", "iam-role": "roles"}.get(ident.kind)
    if section is None:
        return None
    name = ident.id.rsplit("/", 1)[-1] if ident.id.startswith("arn:") else ident.name
    return f"{_AWS_IAM}{section}/details/{_q(name)}"


def _entra(ident: Identity) -> str | None:
    # agent identities, blueprints and service principals are all enterprise applications
    tenant = f"{_q(ident.account)}/" if ident.account else ""
    return (
        f"{_ENTRA}{tenant}#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview"
        f"/objectId/{_q(ident.id)}"
    )


def _gcp(ident: Identity) -> str | None:
    if ident.kind != "service-account":
        return None
    unique = next((a for a in ident.aliases if a.isdigit()), ident.id)
    return f"{_GCP}{_q(unique)}?project={_q(ident.account)}"


def _okta(ident: Identity) -> str | None:
    if not ident.account:
        return None
    admin = f"https://{_q(ident.account)}-admin.okta.com/admin/"
    pages = {
        "service-app": f"app/oidc_client/instance/{_q(ident.id)}",
        "service-user": f"user/profile/view/{_q(ident.id)}",
        "api-token": "access/api/tokens",
    }
    page = pages.get(ident.kind)
    return admin + page if page else None


_BUILDERS: dict[str, Callable[[Identity], str | None]] = {
    "aws": _aws,
    "entra": _entra,
    "gcp": _gcp,
    "okta": _okta,
}


def console_url(ident: Identity) -> str | None:
    """The provider console page of ``ident``, or None when it has none."""
    build = _BUILDERS.get(ident.provider)
    return build(ident) if build else None
