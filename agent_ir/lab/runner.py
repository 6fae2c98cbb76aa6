"""Run a whole lab: one CA, one emulator per provider the world describes, one config file.

::

    with Lab(load_world(path)) as lab:
        settings = load_settings(lab.config_path)   # what the console would use
        lab.faults["aws"].update(FaultSpec(throttle_rate=0.5))
        lab.reset()                                  # back to the world as seeded

The lab directory (a fresh temporary one unless given) receives ``ca.pem``, each
emulator's credential files (mode 0600) and ``config.yaml``, which names those files by
relative path and never holds a secret.

With a ``state_file``, the lab starts from the state saved there by an earlier process
(if any, and if saved from the same world) and :meth:`Lab.save_state` writes it back, so
changes made through the provider APIs outlive the process (see :mod:`agent_ir.lab.state`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from agent_ir.errors import LabError
from agent_ir.lab.faults import FaultState
from agent_ir.lab.plugin import lab_plugins
from agent_ir.lab.server import EmulatorServer
from agent_ir.lab.tls import CA_FILE, LabTLS, create_lab_tls
from agent_ir.lab.world import World
from agent_ir.settings import Settings, load_settings

if TYPE_CHECKING:
    from agent_ir.lab.state import SavedLab

CONFIG_FILE = "config.yaml"

log = logging.getLogger(__name__)


class Emulator(Protocol):
    """What the runner needs from one provider's emulator."""

    provider: str
    server: EmulatorServer

    def start(self) -> None:
        """Seed the provider's state and start serving."""

    def stop(self) -> None:
        """Stop serving and release whatever the emulator holds."""

    def reset(self) -> None:
        """Restore the seeded state and the world's fault settings."""

    def provider_settings(self, directory: Path) -> dict[str, Any]:
        """Write the emulator's credential files into ``directory``; return its settings."""

    def export_state(self) -> object:
        """The objects the emulator's state lives in, for :mod:`agent_ir.lab.state` to
        pickle; called once the lab's clients are done."""

    def import_state(self, state: Any) -> None:
        """Serve ``state`` (from :meth:`export_state`, in another process) from now on."""


LinkHook = Callable[[dict[str, str], Path], None]
"""Optional on an emulator, as ``link(endpoints, ca_path)``: called once every emulator of
the lab runs, with each provider's base URL and the lab CA, for an emulator that calls
another one (GCP's token exchange checks signed AWS requests at the AWS endpoint)."""


class Lab:
    """A running lab for one world; a context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        world: World,
        directory: Path | None = None,
        *,
        now: datetime | None = None,
        config_name: str = CONFIG_FILE,
        state_file: Path | None = None,
    ) -> None:
        self.world = world
        self.now = now or datetime.now(UTC)
        self.state_file = state_file
        self.resumed = False
        """Whether the running lab went on from a saved state rather than the seeded world."""
        self._given_directory = directory
        self._config_name = config_name
        self._directory: Path | None = None
        self._emulators: dict[str, Emulator] = {}
        self._settings: Settings | None = None
        self._tls: LabTLS | None = None
        self._extra: dict[str, object] = {}

    @property
    def directory(self) -> Path:
        """Where the lab's files are (only once started)."""
        if self._directory is None:
            raise LabError("the lab is not running")
        return self._directory

    @property
    def config_path(self) -> Path:
        """The configuration file pointing the console at this lab."""
        return self.directory / self._config_name

    @property
    def ca_path(self) -> Path:
        """The lab CA every client must trust."""
        return self.directory / CA_FILE

    @property
    def settings(self) -> Settings:
        """The written configuration, loaded and validated."""
        if self._settings is None:
            raise LabError("the lab is not running")
        return self._settings

    @property
    def emulators(self) -> dict[str, Emulator]:
        """The running emulators by provider name."""
        return dict(self._emulators)

    @property
    def endpoints(self) -> dict[str, str]:
        """Each running provider's base URL (``https://127.0.0.1:PORT``)."""
        return {name: e.server.base_url for name, e in self._emulators.items()}

    @property
    def control_urls(self) -> dict[str, str]:
        """Each running provider's control plane (``https://127.0.0.1:PORT/_lab``)."""
        return {name: e.server.control_url for name, e in self._emulators.items()}

    @property
    def settle_s(self) -> float:
        """The longest delay any emulator puts between a write and its enforcement (GCP's
        IAM propagation), from each emulator's optional ``propagation_s``."""
        delays = [float(getattr(e, "propagation_s", 0.0)) for e in self._emulators.values()]
        return max(delays, default=0.0)

    @property
    def faults(self) -> dict[str, FaultState]:
        """Each running provider's live fault settings."""
        return {name: e.server.faults for name, e in self._emulators.items()}

    @property
    def tls(self) -> LabTLS:
        """The lab's CA and server certificate (only once started), for more servers."""
        if self._tls is None:
            raise LabError("the lab is not running")
        return self._tls

    def extend_config(self, extra: dict[str, object]) -> Settings:
        """Add top-level keys to the configuration file (an exercise host's URL, a shared
        journal) and reload it."""
        self._extra.update(extra)
        self._settings = self._write_config()
        return self._settings

    def start(self) -> Lab:
        """Create the CA, start every emulator the world needs and write the config."""
        if self._directory is not None:
            raise LabError("the lab is already running")
        saved = self._load_state()
        self._directory = self._prepare_directory()
        try:
            tls = self._tls = create_lab_tls(self._directory)
            for name, plugin in lab_plugins().items():
                if not self.world.has(name):
                    continue
                emulator = plugin.emulator(self.world, tls, self.now)
                if emulator is not None:
                    emulator.start()
                    self._emulators[name] = emulator
            if saved is not None:
                for name, emulator in self._emulators.items():
                    emulator.import_state(saved.emulators[name])
                self.resumed = True
            self._link(tls.ca_path)
            self._settings = self._write_config()
        except BaseException:
            self.stop()
            raise
        return self

    def save_state(self) -> None:
        """Write every emulator's state to :attr:`state_file`, for the next lab on this
        world to go on from; call it once the lab's clients are done."""
        from agent_ir.lab import state

        if self.state_file is None:
            raise LabError("this lab was started without a state file")
        emulators = {name: e.export_state() for name, e in self._emulators.items()}
        saved = state.SavedLab(state.fingerprint(self.world), self.now, emulators)
        state.save(self.state_file, saved)

    def _load_state(self) -> SavedLab | None:
        """The saved state to go on from (its seeding instant becomes the lab's ``now``)."""
        if self.state_file is None:
            return None
        from agent_ir.lab import state

        saved = state.load(self.state_file, self.world)
        if saved is not None:
            self.now = saved.seeded_at
        return saved

    def _link(self, ca_path: Path) -> None:
        """Call each emulator's optional ``link`` hook (see :data:`LinkHook`)."""
        endpoints = self.endpoints
        for emulator in self._emulators.values():
            link: LinkHook | None = getattr(emulator, "link", None)
            if link is not None:
                link(endpoints, ca_path)

    def stop(self) -> None:
        """Stop every emulator; remove the directory when the lab made it."""
        emulators, self._emulators = self._emulators, {}
        for emulator in reversed(list(emulators.values())):
            emulator.stop()
        if self._directory is not None and self._given_directory is None:
            try:
                shutil.rmtree(self._directory)
            except OSError as exc:
                log.warning("could not remove the lab directory %s: %s", self._directory, exc)
        self._directory = None
        self._settings = None
        self._tls = None

    def reset(self) -> None:
        """Put every emulator back to the world as seeded, faults included."""
        for emulator in self._emulators.values():
            emulator.reset()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _prepare_directory(self) -> Path:
        if self._given_directory is None:
            return Path(tempfile.mkdtemp(prefix="agent-ir-lab-"))
        try:
            self._given_directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LabError(
                f"cannot create the lab directory {self._given_directory}: {exc}"
            ) from exc
        return self._given_directory.resolve()

    def _write_config(self) -> Settings:
        directory = self.directory
        providers = {
            name: emulator.provider_settings(directory)
            for name, emulator in self._emulators.items()
        }
        document = {
            "name": "lab",
            "lab": True,
            "lab_control": self.control_urls,
            **self._extra,
            "inventory": [agent.model_dump(mode="json") for agent in self.world.inventory],
            "providers": providers,
        }
        text = "# Written by agent-ir for a running lab; it holds no secrets.\n" + yaml.safe_dump(
            document, sort_keys=False
        )
        try:
            self.config_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise LabError(f"cannot write {self.config_path}: {exc}") from exc
        return load_settings(self.config_path)
