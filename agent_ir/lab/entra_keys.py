"""Key material the Entra emulator makes up: client secrets, certificates and signing keys.

It is generated once per emulator and kept across resets, so a reset lab answers to the
same secrets and certificates as before (tests may hold on to them).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"


@dataclass(frozen=True, slots=True)
class LabCertificate:
    """A self-signed certificate and its private key (PEM), as a key credential holds it."""

    private_key_pem: str
    certificate_pem: str
    certificate_der: bytes

    @property
    def thumbprint(self) -> bytes:
        """The SHA-1 thumbprint (what Entra keeps as the key's custom identifier)."""
        return hashlib.sha1(self.certificate_der).digest()

    @property
    def thumbprint_hex(self) -> str:
        """The thumbprint as upper-case hex (what MSAL wants)."""
        return self.thumbprint.hex().upper()

    @property
    def key_b64(self) -> str:
        """The certificate as Graph's ``key`` property carries it (base64 DER)."""
        return base64.b64encode(self.certificate_der).decode()


def rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 PEM of a private key (unencrypted)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def self_signed(common_name: str, key: rsa.RSAPrivateKey | None = None) -> LabCertificate:
    """A self-signed certificate for ``common_name`` valid for ten years."""
    key = key or rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return LabCertificate(
        private_key_pem=private_pem(key),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
    )


def new_secret() -> str:
    """A client secret shaped like Entra's (40 characters, ``~`` after a 3-character hint)."""
    body = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(37))
    return body[:3] + "8Q~" + body[3:34]


@dataclass
class Material:
    """Secrets and certificates by key id, made on first use and then kept."""

    secrets: dict[str, str] = field(default_factory=dict)
    certificates: dict[str, LabCertificate] = field(default_factory=dict)
    _shared_key: rsa.RSAPrivateKey | None = None

    def secret(self, key_id: str) -> str:
        """The secret text of password credential ``key_id``."""
        if key_id not in self.secrets:
            self.secrets[key_id] = new_secret()
        return self.secrets[key_id]

    def certificate(self, key_id: str, common_name: str) -> LabCertificate:
        """The certificate of key credential ``key_id``.

        Certificates share one RSA key per emulator: generating a key costs tens of
        milliseconds, and large generated worlds hold thousands of certificates.
        """
        if key_id not in self.certificates:
            if self._shared_key is None:
                self._shared_key = rsa_key()
            self.certificates[key_id] = self_signed(common_name, self._shared_key)
        return self.certificates[key_id]
