"""The lab's own certificate authority: one CA per lab, one server certificate for loopback.

Clients trust the lab through ``ca.pem`` only, never through the system bundle, so a lab
certificate can never be mistaken for a real one and variables such as ``SSL_CERT_FILE``
cannot silently replace it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from agent_ir.errors import LabError

CA_FILE = "ca.pem"
SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class LabTLS:
    """The lab CA (written to ``ca_path``) and a server context presenting its loopback cert."""

    ca_path: Path
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        """A TLS client context that trusts the lab CA and nothing else."""
        return client_context(self.ca_path)


def create_lab_tls(directory: Path) -> LabTLS:
    """Make a fresh CA, write it to ``directory/ca.pem`` and issue the loopback certificate."""
    try:
        import trustme
    except ImportError as exc:
        raise LabError("the lab needs the 'lab' extra: pip install 'agent-ir[lab]'") from exc
    authority = trustme.CA(organization_name="agent-ir lab")
    leaf = authority.issue_cert(*SERVER_NAMES, common_name="agent-ir lab server")
    ca_path = directory / CA_FILE
    try:
        authority.cert_pem.write_to_path(str(ca_path))
    except OSError as exc:
        raise LabError(f"cannot write the lab CA to {ca_path}: {exc}") from exc
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    leaf.configure_cert(context)
    return LabTLS(ca_path=ca_path, server_context=context)


def client_context(ca_path: Path) -> ssl.SSLContext:
    """A TLS client context trusting only the CA in ``ca_path`` (a lab's ``ca.pem``)."""
    try:
        return ssl.create_default_context(cafile=str(ca_path))
    except (OSError, ssl.SSLError) as exc:
        raise LabError(f"cannot load the lab CA from {ca_path}: {exc}") from exc
