"""A lab's state in a file, so the next process can go on where the last one stopped.

Each emulator hands over the objects its state lives in (moto's IAM and STS backends, the
Entra directory, the GCP and Okta state) with the key material they refer to, and takes
them back in a new process. They are plain Python object graphs, some of them moto's, so
they are kept with :mod:`pickle`: anything else would mean a second model of each
provider's state to drift from the first. Locks are written as fresh locks and private
keys as PEM, the two kinds of object in those graphs pickle refuses.

The file is the user's own (mode 0600, in their state directory), as trusted as the
installed code; it is never read from anywhere else. It records what it was made from
(the world, agent-ir's and moto's versions): a file from anything else is set aside and
the world seeded afresh rather than half-loaded.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_ir import __version__
from agent_ir.errors import LabError
from agent_ir.lab.world import World

log = logging.getLogger(__name__)

_FORMAT = 3
"""Raised whenever an emulator's stored shape changes (2: the stores keep indexes; 3: Entra
indexes display names), so a state saved by an older build is set aside instead of loaded
without them."""
_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())
_UNREADABLE = (
    pickle.UnpicklingError,
    AttributeError,
    EOFError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
)


@dataclass(frozen=True)
class SavedLab:
    """What a state file holds: the instant the world was seeded, and each emulator's state."""

    fingerprint: str
    seeded_at: datetime
    emulators: dict[str, Any]


def fingerprint(world: World) -> str:
    """What a saved state must have been made from to be loaded into a lab on ``world``."""
    versions = f"{_FORMAT}/{__version__}/{_version('moto')}/{_version('cryptography')}"
    digest = hashlib.sha256(world.model_dump_json().encode())
    digest.update(versions.encode())
    return digest.hexdigest()


def save(path: Path, saved: SavedLab) -> None:
    """Write ``saved`` to ``path`` atomically (a reader sees the old file or the new one)."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(saved)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise LabError(f"cannot save the lab state: {exc}") from exc
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(buffer.getvalue())
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise LabError(f"cannot write the lab state {path}: {exc}") from exc


def load(path: Path, world: World) -> SavedLab | None:
    """The state saved in ``path`` for ``world``; None when there is none or it cannot be
    used (then it is moved aside to ``path.unusable`` and the lab starts as seeded)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LabError(f"cannot read the lab state {path}: {exc}") from exc
    try:
        saved = pickle.loads(data)  # the user's own file; see the module docstring
    except _UNREADABLE as exc:
        why = f"it cannot be read ({type(exc).__name__}: {exc})"
    else:
        if not isinstance(saved, SavedLab):
            why = "it is not a lab state"
        elif saved.fingerprint != fingerprint(world):
            why = "it was saved from another world or another version"
        else:
            return saved
    _set_aside(path, why)
    return None


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(path.name + ".unusable")
    log.warning("the lab state %s is not used: %s; it is kept as %s", path, why, aside.name)
    try:
        os.replace(path, aside)
    except OSError as exc:
        raise LabError(f"cannot set the unusable lab state {path} aside: {exc}") from exc


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "-"


def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


def _private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


class _Pickler(pickle.Pickler):
    """A pickler for what the emulators' state holds besides plain objects."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK):
            return _new_lock, ()
        if isinstance(obj, _RLOCK):
            return _new_rlock, ()
        if isinstance(obj, rsa.RSAPrivateKey):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _private_key, (pem,)
        return NotImplemented
