"""How risky an Entra grant is: ``admin``, ``wildcard`` or None.

* **admin**: Graph permissions with which the holder can take over the tenant or give
  itself more (``Directory.ReadWrite.All``, ``RoleManagement.ReadWrite.Directory``,
  ``AppRoleAssignment.ReadWrite.All``, ``Application.ReadWrite.All``,
  ``DelegatedPermissionGrant.ReadWrite.All``…; delegated, also
  ``Directory.AccessAsUser.All``), and directory roles that can escalate (Global,
  Privileged Role, Privileged Authentication, Application, Cloud Application, Security,
  User, Authentication, Helpdesk, Exchange, SharePoint, Intune, Conditional Access and
  Hybrid Identity administrators).
* **wildcard**: ``*.ReadWrite.All`` / ``*.FullControl.All``, delegated or not; any other
  application permission that writes or sends; application reads of tenant-wide content
  (``Files.Read.All``, ``Mail.Read``: every mailbox, every file); on other APIs, ``*`` in the
  value or ``*.ReadWrite.All``.
* None: everything else, such as delegated ``Mail.Read`` (one user's mailbox) or
  ``User.Read.All``.
"""

from __future__ import annotations

ADMIN_PERMISSIONS = {
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Domain.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "PrivilegedAccess.ReadWrite.AzureAD",
    "RoleAssignmentSchedule.ReadWrite.Directory",
    "RoleManagement.ReadWrite.Directory",
    "UserAuthenticationMethod.ReadWrite.All",
}
ADMIN_DELEGATED = ADMIN_PERMISSIONS | {"Directory.AccessAsUser.All"}
TENANT_WIDE_READS = {
    "Calendars.Read",
    "Chat.Read.All",
    "Files.Read.All",
    "Mail.Read",
    "Mail.ReadBasic.All",
    "Sites.Read.All",
}
ADMIN_ROLES = {
    "Global Administrator",
    "Privileged Role Administrator",
    "Privileged Authentication Administrator",
    "Application Administrator",
    "Cloud Application Administrator",
    "Security Administrator",
    "User Administrator",
    "Authentication Administrator",
    "Helpdesk Administrator",
    "Exchange Administrator",
    "SharePoint Administrator",
    "Intune Administrator",
    "Conditional Access Administrator",
    "Hybrid Identity Administrator",
}


def graph_permission_risk(value: str, *, delegated: bool) -> str | None:
    """The risk of one Microsoft Graph permission (see the module docstring)."""
    if value in (ADMIN_DELEGATED if delegated else ADMIN_PERMISSIONS):
        return "admin"
    if value.endswith((".ReadWrite.All", ".FullControl.All")):
        return "wildcard"
    if delegated:
        return None
    if value in TENANT_WIDE_READS or any(w in value for w in ("ReadWrite", "Send", "FullControl")):
        return "wildcard"
    return None


def api_permission_risk(value: str) -> str | None:
    """The risk of a permission on an API other than Graph."""
    if "*" in value or value.lower().endswith(("readwrite.all", "fullcontrol.all")):
        return "wildcard"
    return None


def role_risk(name: str) -> str | None:
    """The risk of a directory role."""
    return "admin" if name in ADMIN_ROLES else None
