"""Where the configuration file is, found without reading it: the console decides from
this whether it starts a lab before it paints, so it must not cost the settings' import
(pydantic and every provider's configuration)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "AGENT_IR_CONFIG"


def default_path() -> Path:
    """The XDG location of the configuration file."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agent-ir" / "config.yaml"


def locate(explicit: Path | None) -> Path | None:
    """The configuration file to use, or None when there is none anywhere."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env)
    candidate = default_path()
    return candidate if candidate.exists() else None
