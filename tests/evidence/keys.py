"""Ed25519 key files and a journal forger, for the anchoring tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)


def write_keys(directory: Path, name: str = "signing") -> tuple[Path, Path]:
    """A fresh Ed25519 key pair as PEM files: (private, public)."""
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _canonical(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def forge(journal: Path, edit: dict[str, Any]) -> None:
    """Rewrite the first record's payload with ``edit`` and re-hash the whole chain and
    the head file, as someone with write access to the disk could."""
    out, prev = [], ""
    for number, line in enumerate(journal.read_text().splitlines()):
        obj = json.loads(line)
        obj.pop("hash")
        if number == 0:
            obj.update(edit)
        obj["prev"] = prev
        obj["hash"] = prev = hashlib.sha256(_canonical(obj).encode("ascii")).hexdigest()
        out.append(_canonical(obj))
    journal.write_text("\n".join(out) + "\n")
    last = json.loads(out[-1])
    journal.with_suffix(".head").write_text(
        _canonical({"seq": last["seq"], "hash": last["hash"]}) + "\n"
    )
