"""Settings: the configuration file that says which providers to use and where their
credentials come from (a profile, a role ARN, an environment variable's name, a key file's
path), never the credentials themselves.

Lookup order: ``--config FILE``, then ``$AGENT_IR_CONFIG``, then
``$XDG_CONFIG_HOME/agent-ir/config.yaml`` (``~/.config/agent-ir/config.yaml``). When none
exists the CLI falls back to the default lab world.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, create_model

from agent_ir.config_location import ENV_VAR as ENV_VAR  # re-exported: callers import here
from agent_ir.config_location import default_path as default_path
from agent_ir.config_location import locate as locate
from agent_ir.errors import ConfigError, Problem, SecretInConfigError
from agent_ir.inventory_spec import InventoryAgent
from agent_ir.providers import registry
from agent_ir.providers.entra.config import EntraSettings
from agent_ir.providers.gcp.config import GcpSettings
from agent_ir.providers.okta.config import OktaSettings, read_key_file
from agent_ir.yamlsrc import Located, PathKey, load_file, parse_model

# Keys that would hold a secret value. Keys that say where a secret lives end in one of
# the pointer suffixes and are allowed.
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|private_?key|api_?key|access_?key|credential|sessionkey)",
    re.IGNORECASE,
)
_POINTER_SUFFIX = ("_env", "_file", "_path", "_var", "_id", "_arn", "_name", "_uri", "_url")
_SECRET_VALUE = (
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^SSWS\s*\S+"),
)


# The name becomes a directory (journals go under it), so no separators, no "..", bounded.
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AwsAccountSettings(_Strict):
    """A further AWS account, read through a role the responder assumes there."""

    id: str
    role_arn: str


class AwsSettings(_Strict):
    """Where the AWS credentials come from: boto3's own chain, narrowed by these."""

    profile: str | None = None
    shared_credentials_file: Path | None = None
    config_file: Path | None = None
    role_arn: str | None = Field(None, description="assume this role first, if set")
    region: str = "us-east-1"
    endpoint_url: str | None = Field(None, description="IAM and STS endpoint (the lab's)")
    ca_bundle: Path | None = None
    accounts: list[AwsAccountSettings] = Field(default_factory=list)
    max_concurrency: int = Field(16, ge=1, le=256)
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(5, ge=1, le=20)


class ProvidersSettings(_Strict):
    """One optional section per installed provider plugin, of the plugin's settings model.

    The four built-in sections are declared here for typed access by their own modules;
    any other installed provider adds its own (see :func:`settings_model`)."""

    aws: AwsSettings | None = None
    entra: EntraSettings | None = None
    gcp: GcpSettings | None = None
    okta: OktaSettings | None = None

    def section(self, provider: str) -> BaseModel | None:
        """One provider's section, or None when it is not configured."""
        section: BaseModel | None = getattr(self, provider, None)
        return section

    def configured(self) -> list[str]:
        """The configured providers, in canonical order."""
        return sorted(n for n in type(self).model_fields if getattr(self, n) is not None)


class SigningSettings(_Strict):
    """The Ed25519 key that signs each incident's chain head; PEM files, never the keys."""

    private_key_file: Path | None = Field(None, description="signs (the responder's machine)")
    public_key_file: Path | None = Field(None, description="verifies (what auditors get)")


class FileSinkSettings(_Strict):
    """Append every OCSF event, one JSON object a line, to a file."""

    type: Literal["file"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    path: Path


class WebhookSinkSettings(_Strict):
    """POST each record's OCSF events as JSON to an HTTPS endpoint, HMAC-SHA256 signed."""

    type: Literal["webhook"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: str = Field(pattern=r"^https://")
    hmac_secret_env: str | None = Field(None, description="variable holding the HMAC key")
    hmac_secret_file: Path | None = Field(None, description="file holding the HMAC key")
    ca_bundle: Path | None = None
    timeout_s: float = Field(5, gt=0, le=60)


class SplunkHecSinkSettings(_Strict):
    """Send each record's OCSF events to a Splunk HTTP Event Collector, with indexer
    acknowledgement: a record counts as delivered only once Splunk has indexed it."""

    type: Literal["splunk_hec"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: str = Field(pattern=r"^https://", description="the collector, e.g. https://splunk:8088")
    token_env: str | None = Field(None, description="variable holding the HEC token")
    token_file: Path | None = Field(None, description="file holding the HEC token")
    channel: str | None = Field(
        None,
        pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
        description="X-Splunk-Request-Channel GUID; by default one derived from name and url",
    )
    host: str | None = Field(None, description="the events' host; by default this machine's")
    index: str | None = None
    ca_bundle: Path | None = None
    timeout_s: float = Field(5, gt=0, le=60)
    ack_timeout_s: float = Field(30, gt=0, le=600, description="how long to wait for the ack")


SinkSettings = Annotated[
    FileSinkSettings | WebhookSinkSettings | SplunkHecSinkSettings, Field(discriminator="type")
]


class SignalReceiverSettings(_Strict):
    """A Shared Signals receiver that takes pushed Security Event Tokens (RFC 8935)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    endpoint: str = Field(pattern=r"^https://")
    audience: str
    subject_format: Literal["iss_sub", "email", "opaque", "complex"] = "iss_sub"
    bearer_token_env: str | None = Field(None, description="variable with the push token")
    bearer_token_file: Path | None = None
    ca_bundle: Path | None = None
    timeout_s: float = Field(5, gt=0, le=60)


class SignalsSettings(_Strict):
    """Shared Signals (CAEP/RISC) transmitter: who we are and where events go."""

    issuer: str
    signing_key_file: Path = Field(description="PEM private key: Ed25519, RSA or EC P-256")
    key_id: str | None = None
    subject_issuers: dict[str, str] = Field(
        default_factory=dict, description="per provider, the issuer of its subjects (iss_sub)"
    )
    receivers: list[SignalReceiverSettings] = Field(default_factory=list)


class EvidenceSettings(_Strict):
    """Evidence that leaves the laptop (see :mod:`agent_ir.evidence`)."""

    signing: SigningSettings | None = None
    sinks: list[SinkSettings] = Field(default_factory=list)
    signals: SignalsSettings | None = None

    def resolved(self, base: Path) -> EvidenceSettings:
        """A copy with every relative file path taken relative to ``base``."""
        signing = _resolve_files(self.signing, base) if self.signing else None
        sinks = [_resolve_files(sink, base) for sink in self.sinks]
        signals = None
        if self.signals is not None:
            receivers = [_resolve_files(r, base) for r in self.signals.receivers]
            signals = _resolve_files(self.signals, base).model_copy(
                update={"receivers": receivers}
            )
        return self.model_copy(update={"signing": signing, "sinks": sinks, "signals": signals})


_M = TypeVar("_M", bound=BaseModel)


def _resolve_files(section: _M, base: Path) -> _M:
    files = {
        k: (base / v.expanduser()).resolve()
        for k in type(section).model_fields
        if isinstance(v := getattr(section, k), Path)
    }
    return section.model_copy(update=files)


class Settings(_Strict):
    """The whole configuration file."""

    name: str = Field(
        "default",
        pattern=NAME_PATTERN,
        description="shown on every screen and names the journal directory: letters, digits, "
        "'.', '_' and '-', at most 64 characters, not starting with '.' or '-'",
    )
    lab: bool = Field(False, description="true when the providers are lab emulators")
    lab_control: dict[str, str] = Field(
        default_factory=dict, description="the running lab's fault-control URLs"
    )
    exercise_url: str | None = Field(
        None, description="the shared tabletop exercise a running lab hosts, if any"
    )
    journal_dir: Path | None = None
    read_only: bool = Field(False, description="refuse every write path")
    inventory: list[InventoryAgent] = Field(default_factory=list)
    providers: ProvidersSettings = Field(default_factory=ProvidersSettings)
    evidence: EvidenceSettings | None = None
    source: Path | None = Field(None, exclude=True)


def settings_model() -> type[Settings]:
    """The settings model with a ``providers`` section for every installed provider."""
    extra = tuple(
        (name, plugin.settings)
        for name, plugin in registry.plugins().items()
        if name not in ProvidersSettings.model_fields
    )
    return _extended(extra) if extra else Settings


@functools.cache
def _extended(sections: tuple[tuple[str, type[BaseModel]], ...]) -> type[Settings]:
    """A subclass of :class:`Settings` whose providers take the given extra sections."""
    fields: dict[str, Any] = {name: (model | None, None) for name, model in sections}
    providers = create_model("ProvidersSettings", __base__=ProvidersSettings, **fields)
    return create_model(
        "Settings", __base__=Settings, providers=(providers, Field(default_factory=providers))
    )


def load_settings(path: Path) -> Settings:
    """Load, check for literal secrets, and validate a configuration file."""
    doc = load_file(path, error=ConfigError, max_bytes=1_000_000)
    secrets = list(_find_secrets(doc, doc.data, ()))
    if secrets:
        raise SecretInConfigError(secrets)
    settings = parse_model(doc, settings_model(), ConfigError)
    insecure = list(_plain_http(doc, settings))
    if insecure:
        raise ConfigError(insecure)
    base = path.parent
    resolved = settings.model_copy(update={"source": path, **_resolve_paths(settings, base)})
    _check_key_files(resolved)
    return resolved


def _check_key_files(settings: Settings) -> None:
    """A key file that exists but holds no usable key is the configuration's fault, found
    now and located, not an SDK failure in the middle of discovery. A missing file is left
    to the provider (it may appear before use, as mounted secrets do)."""
    okta = settings.providers.okta
    if okta is not None and okta.private_key_file is not None:
        with contextlib.suppress(OSError):
            read_key_file(okta.private_key_file)


def _resolve_paths(settings: Settings, base: Path) -> dict[str, Any]:
    """Relative paths in provider sections and ``journal_dir`` are relative to the file."""
    update: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for name in type(settings.providers).model_fields:
        section = getattr(settings.providers, name)
        if section is None:
            continue
        fields = {
            key: (base / value.expanduser()).resolve()
            for key in type(section).model_fields
            if isinstance(value := getattr(section, key), Path)
        }
        sections[name] = section.model_copy(update=fields)
    if sections:
        update["providers"] = settings.providers.model_copy(update=sections)
    if settings.journal_dir is not None:
        update["journal_dir"] = (base / settings.journal_dir.expanduser()).resolve()
    if settings.evidence is not None:
        update["evidence"] = settings.evidence.resolved(base)
    return update


def _plain_http(doc: Located, settings: Settings) -> Iterator[Problem]:
    """Every provider endpoint must be ``https://``: SigV4 requests, signed JWT assertions
    and bearer tokens travel to them. Only a lab configuration may name plain-http
    loopback endpoints."""
    for provider in type(settings.providers).model_fields:
        section = getattr(settings.providers, provider)
        if section is None:
            continue
        for key in type(section).model_fields:
            value = getattr(section, key)
            if not (key.endswith(("_url", "_uri")) or key == "authority"):
                continue
            if not isinstance(value, str) or not value:
                continue
            url = urlsplit(value)
            if url.scheme == "https" and url.hostname:
                continue
            if url.scheme == "http" and settings.lab and url.hostname in _LOOPBACK:
                continue
            where = ("providers", provider, key)
            yield doc.problem(
                where,
                "must be an https:// URL (plain http is allowed only for a lab on loopback)",
            )


def _pointer_problem(doc: Located, path: PathKey, name: str, value: Any) -> Problem | None:
    """A ``*_env`` key must hold a variable's name, a ``*_file`` key a path; a value that
    looks like a pasted secret is refused without repeating it."""
    if not isinstance(value, str) or not value:
        return None
    lowered = name.lower()
    looks_secret = any(p.search(value) for p in _SECRET_VALUE)
    if lowered.endswith(("_env", "_var")) and (looks_secret or not _ENV_NAME.match(value)):
        return doc.problem(
            path,
            f"'{name}' must name an environment variable (letters, digits, '_'); its value "
            "is not one and may be a secret, so it is not shown",
        )
    if lowered.endswith(("_file", "_path")) and (
        looks_secret or _mixed_token(value)
    ):
        return doc.problem(
            path,
            f"'{name}' must be a file path; its value looks like a secret, so it is not shown",
        )
    return None


def _mixed_token(value: str) -> bool:
    """Long, no directory part, and upper case, lower case and digits all mixed: how a
    generated secret looks, and how a file name almost never does."""
    return (
        len(value) >= 20
        and "/" not in value
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


def _find_secrets(doc: Located, node: Any, path: PathKey) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(node, dict):
        for key, value in node.items():
            child = (*path, key)
            name = str(key)
            pointer = _pointer_problem(doc, child, name, value)
            if pointer is not None:
                found.append(pointer)
            elif (
                _SECRET_KEY.search(name)
                and not name.lower().endswith(_POINTER_SUFFIX)
                and isinstance(value, str | int)
                and value != ""
            ):
                found.append(
                    doc.problem(
                        child,
                        f"'{name}' holds a secret value; name where it comes from instead "
                        f"(for example '{name}_env: VARIABLE' or '{name}_file: PATH')",
                    )
                )
            else:
                found.extend(_find_secrets(doc, value, child))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_find_secrets(doc, item, (*path, index)))
    elif isinstance(node, str) and any(p.search(node) for p in _SECRET_VALUE):
        found.append(
            doc.problem(
                path,
                "this value looks like a secret; config files may only say where secrets come from",
            )
        )
    return found
