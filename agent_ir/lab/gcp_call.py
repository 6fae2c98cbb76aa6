"""One authenticated request as the GCP emulator's handlers see it, and the paging they
share; kept apart from the dispatcher (:mod:`agent_ir.lab.gcp_api`) so that handler modules
do not import it back."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_ir.lab.gcp_errors import ApiError, denied, not_found
from agent_ir.lab.gcp_records import ServiceAccount
from agent_ir.lab.gcp_state import GcpState
from agent_ir.lab.server import LabRequest
from agent_ir.lab.work import touch

if TYPE_CHECKING:
    from agent_ir.lab.gcp_api import GcpApi


@dataclass(slots=True)
class Call:
    """One authenticated request as a handler sees it."""

    request: LabRequest
    state: GcpState
    caller: str
    api: GcpApi
    segments: list[str]
    verb: str

    def body(self) -> dict[str, Any]:
        """The JSON body (an empty one is ``{}``)."""
        try:
            data = self.request.json() if self.request.body.strip() else {}
        except ValueError:
            raise ApiError(400, "Invalid JSON payload received.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid JSON payload received: expected an object.")
        return data

    def param(self, name: str, default: str = "") -> str:
        """One query parameter."""
        values = self.request.query_params.get(name)
        return values[0] if values else default

    def require(self, permission: str, project: str, account: ServiceAccount | None = None) -> None:
        """Refuse unless the caller holds ``permission`` on the project or account."""
        email = account.email if account is not None else None
        if not self.state.allowed(self.caller, permission, project, email):
            resource = account.name() if account is not None else f"projects/{project}"
            raise denied(permission, resource)

    def project_of(self, ref: str, permission: str) -> str:
        """The project id a path names (by id or number); 403 when unknown, like GCP."""
        project = self.state.project(ref)
        if project is None:
            raise denied(permission, f"projects/{ref}")
        return project.id

    def account_of(self, project_ref: str, ref: str, permission: str) -> ServiceAccount:
        """The service account a path names (``projects/-`` allowed), or 404/403."""
        account = self.state.account(ref)
        if account is None or (project_ref not in ("-", account.project, account.number)):
            project = self.state.project(project_ref)
            if project is not None and self.state.allowed(
                self.caller, permission, project.id, None
            ):
                raise not_found(f"Service account projects/{project_ref}/serviceAccounts/{ref}")
            raise denied(permission, f"projects/{project_ref}/serviceAccounts/{ref}")
        self.require(permission, account.project, account)
        return account


Handler = Callable[[Call], Any]


def page(items: list[Any], call: Call, default_size: int, max_size: int) -> tuple[list[Any], str]:
    """One page of ``items`` and the token of the next one ('' at the end)."""
    raw_size = call.param("pageSize", "0") or "0"
    try:
        size = int(raw_size)
    except ValueError:
        raise ApiError(400, f"Invalid value at 'page_size' ({raw_size})") from None
    if size < 0:
        raise ApiError(400, "page_size must not be negative")
    size = min(size or default_size, max_size)
    token = call.param("pageToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError(400, "The provided page token is invalid.") from None
        if start < 0 or start > len(items):
            raise ApiError(400, "The provided page token is invalid.")
    end = start + size
    next_token = (
        base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    )
    chunk = items[start:end]
    touch(len(chunk))
    return chunk, next_token
