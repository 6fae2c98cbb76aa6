"""Writing the lab's private files: credential files, key files."""

from __future__ import annotations

import os
from pathlib import Path

from agent_ir.errors import LabError


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (mode 0600, set before the
    first byte is written); a failure is a :class:`LabError` naming the file."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise LabError(f"cannot write {path}: {exc}") from exc
