"""Which permissions the lab's predefined roles carry (the subset the emulated APIs check).

The lab only needs the IAM, Resource Manager, IAM Credentials and Policy Analyzer
permissions its endpoints enforce; other services' roles (``roles/storage.admin``…) carry
their own service's permissions by prefix and never unlock an emulated endpoint.
Custom roles (``projects/P/roles/R``) grant nothing in the lab.
"""

from __future__ import annotations

from collections.abc import Callable

_MINT = {
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.getOpenIdToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
}
_READ_SUFFIXES = (".get", ".list", ".getIamPolicy", ".query")


def _reader(permission: str) -> bool:
    return permission.endswith(_READ_SUFFIXES)


def _editor(permission: str) -> bool:
    return permission not in _MINT and not permission.endswith(".setIamPolicy")


def _security_admin(permission: str) -> bool:
    return _reader(permission) or permission.endswith(".setIamPolicy")


def _sa_admin(permission: str) -> bool:
    return permission.startswith("iam.serviceAccounts.") and permission not in _MINT


def _key_admin(permission: str) -> bool:
    return permission.startswith("iam.serviceAccountKeys.") or permission in (
        "iam.serviceAccounts.get",
        "iam.serviceAccounts.list",
    )


def _one_of(*names: str) -> Callable[[str], bool]:
    allowed = frozenset(names)
    return lambda permission: permission in allowed


_ROLES: dict[str, Callable[[str], bool]] = {
    "roles/owner": lambda _: True,
    "roles/editor": _editor,
    "roles/viewer": _reader,
    "roles/iam.securityAdmin": _security_admin,
    "roles/iam.securityReviewer": _reader,
    "roles/iam.serviceAccountAdmin": _sa_admin,
    "roles/iam.serviceAccountKeyAdmin": _key_admin,
    "roles/iam.serviceAccountTokenCreator": _one_of(
        *_MINT, "iam.serviceAccounts.get", "iam.serviceAccounts.list"
    ),
    "roles/iam.serviceAccountUser": _one_of(
        "iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list"
    ),
    "roles/iam.workloadIdentityUser": _one_of(
        "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken"
    ),
    "roles/iam.workloadIdentityPoolViewer": _one_of(
        "iam.workloadIdentityPools.get",
        "iam.workloadIdentityPools.list",
        "iam.workloadIdentityPoolProviders.get",
        "iam.workloadIdentityPoolProviders.list",
    ),
    "roles/resourcemanager.projectIamAdmin": _one_of(
        "resourcemanager.projects.get",
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
    ),
    "roles/cloudasset.viewer": _one_of(
        "cloudasset.assets.searchAllIamPolicies", "cloudasset.assets.searchAllResources"
    ),
    "roles/policyanalyzer.activityAnalysisViewer": _one_of(
        "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query",
    ),
}


def role_allows(role: str, permission: str) -> bool:
    """Whether ``role`` carries ``permission`` in the lab."""
    check = _ROLES.get(role)
    if check is not None:
        return check(permission)
    if role.startswith("roles/"):
        service, _, kind = role[len("roles/") :].partition(".")
        if permission.startswith(service + "."):
            return kind == "admin" or (kind.endswith(("viewer", "Viewer")) and _reader(permission))
    return False
