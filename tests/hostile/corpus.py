"""The bad-input corpus: configuration, world, playbook, exercise, CLI arguments, journal
files and credential files, each case with the exit code the README's table promises and,
for user files, where the problem must be located.

Cases are generated from small valid documents by one change each, so every case names
exactly what is wrong with it (its id), and the valid base is itself checked to pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent_ir.data import default_world, exercise_dir, playbook_dir

ROOT = Path(__file__).parents[2]

# exit codes (README)
USAGE, BAD_INPUT, NOT_FOUND, PROVIDER, JOURNAL = 2, 3, 4, 5, 9


@dataclass(frozen=True)
class Case:
    """One bad input. ``argv`` may say ``{f}`` (the first file's path) and ``{d}`` (the
    case's directory). ``located`` is ``line`` (``FILE:LINE`` must appear), ``file`` (the
    file's path must appear) or None; ``line`` pins the exact line when it is known."""

    id: str
    argv: tuple[str, ...]
    code: int
    files: tuple[tuple[str, bytes], ...] = ()
    located: str | None = None
    line: int | None = None
    fragment: str | None = None
    special: str | None = None  # "fifo": {f} is a FIFO; "dir": {f} is a directory
    setup: Callable[[Path], None] | None = field(default=None, compare=False)


def _yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False).encode()


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(doc))
    node = copy
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


_DELETE = object()

# --- values that are wrong for a field of each kind -----------------------------------------

BAD_INTS = [0, -1, 10**9, "many", 1.5, [], {}, None]
BAD_FLOATS = [0, -1, 1e12, "fast", [], {}, ".nan"]
BAD_BOOLS = ["maybe", 2, [], {}]
BAD_STRS = [[], {}, 12]
BAD_NAMES = [
    "../../x",
    "a/b",
    "..",
    ".",
    ".hidden",
    "-dash",
    "x" * 65,
    "x" * 300,
    "a\\b",
    "",
    "a b",
    "tab\there",
    "new\nline",
    "esc\x1bname",
    "nul\x00",
    "semi;colon",
    "star*",
    "q?",
    "dollar$",
    "back`tick",
    "pipe|x",
    "~home",
    "ümlaut",
    "\u202eright-to-left",
]
SECRETS = [
    "Zq8~vX3.kL9mN2pQ7rS4tU6wY1aB5cD0eF",
    "AKIAABCDEFGHIJKLMNOP",
    "SSWS 00abcdefghijklmnopqrstuvwxyz0123",
    "-----BEGIN PRIVATE KEY-----",
    "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
]
NOT_HTTPS = [
    "http://example.test",
    "ftp://example.test",
    "https://",
    "example.test",
    "file:///etc/passwd",
    "http://127.0.0.1:9",
    "javascript:alert(1)",
    "//example.test",
]

# --- configuration ----------------------------------------------------------------------------

ENTRA = {
    "tenant_id": "6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "client_secret_env": "ENTRA_SECRET",
}
CONFIG: dict[str, Any] = {
    "name": "corpus",
    "providers": {
        "aws": {"profile": "ir", "region": "us-east-1", "endpoint_url": "https://iam.example.test"},
        "entra": ENTRA,
        "gcp": {"projects": ["corp-prod"]},
        "okta": {"org_url": "https://corp.okta.test", "api_token_env": "OKTA_TOKEN"},
    },
}
_CONFIG_NUMBERS = {
    ("aws", "max_concurrency"): BAD_INTS,
    ("aws", "max_attempts"): BAD_INTS,
    ("aws", "timeout_s"): BAD_FLOATS,
    ("entra", "max_concurrency"): BAD_INTS,
    ("entra", "timeout_s"): BAD_FLOATS,
    ("gcp", "page_size"): BAD_INTS,
    ("gcp", "writes_per_minute"): BAD_INTS,
    ("okta", "max_retries"): [-1, 11, "x", []],
    ("okta", "page_size"): BAD_INTS,
}
_CONFIG_URLS = [
    ("aws", "endpoint_url"),
    ("entra", "authority"),
    ("entra", "graph_url"),
    ("gcp", "iam_url"),
    ("gcp", "resource_manager_url"),
    ("gcp", "credentials_url"),
    ("gcp", "policy_analyzer_url"),
    ("gcp", "token_uri"),
    ("okta", "org_url"),
]
_POINTERS = [
    ("entra", "client_secret_env"),
    ("entra", "client_secret_file"),
    ("entra", "certificate_password_env"),
    ("okta", "api_token_env"),
]
_LITERAL_SECRETS = [
    ("entra", "client_secret"),
    ("okta", "api_token"),
    ("aws", "secret_access_key"),
    ("aws", "aws_secret_access_key"),
    ("gcp", "private_key"),
    ("okta", "password"),
]


def _config_case(case_id: str, doc: Any, **extra: Any) -> Case:
    return Case(
        f"config/{case_id}",
        ("--config", "{f}", "journal", "list"),
        BAD_INPUT,
        (("config.yaml", _yaml(doc) if not isinstance(doc, bytes) else doc),),
        located=extra.pop("located", "line"),
        **extra,
    )


def config_cases() -> Iterator[Case]:
    """Every way a configuration file can be wrong that we promise to locate."""
    for index, name in enumerate(BAD_NAMES):
        yield _config_case(f"name-{index}", _set(CONFIG, ("name",), name))
    for (section, key), values in _CONFIG_NUMBERS.items():
        for value in values:
            doc = _set(CONFIG, ("providers", section, key), value)
            yield _config_case(f"{section}-{key}-{value!r}"[:60], doc)
    for section, key in _CONFIG_URLS:
        for value in NOT_HTTPS:
            doc = _set(CONFIG, ("providers", section, key), value)
            yield _config_case(f"{section}-{key}-{value}"[:60], doc)
    for section, key in _POINTERS:
        for index, secret in enumerate(SECRETS):
            doc = _set(CONFIG, ("providers", section, key), secret)
            if section == "entra":
                doc["providers"]["entra"].pop("client_secret_env")
                doc["providers"]["entra"][key] = secret
            yield _config_case(f"pointer-{section}-{key}-{index}", doc, fragment="not shown")
    for section, key in _LITERAL_SECRETS:
        doc = _set(CONFIG, ("providers", section, key), "hunter2-literal")
        yield _config_case(f"literal-{section}-{key}", doc, fragment="secret")
    for where in ((), ("providers",), *(("providers", s) for s in CONFIG["providers"])):
        node: Any = CONFIG
        for key in where:
            node = node[key]
        doc = _set(CONFIG, (*where, "surprise"), 1)
        yield _config_case(f"unknown-key-{'.'.join(where) or 'top'}", doc, fragment="unknown key")
    for section, key in [
        ("entra", "tenant_id"),
        ("entra", "client_id"),
        ("gcp", "projects"),
        ("okta", "org_url"),
    ]:
        yield _config_case(
            f"missing-{section}-{key}", _set(CONFIG, ("providers", section, key), _DELETE)
        )
    for section in CONFIG["providers"]:
        for index, value in enumerate([[], 12, "x", True]):
            doc = _set(CONFIG, ("providers", section), value)
            yield _config_case(f"section-{section}-{index}", doc)
    yield _config_case(
        "entra-two-sources", _set(CONFIG, ("providers", "entra", "client_secret_file"), "s.txt")
    )
    yield _config_case(
        "entra-no-source", _set(CONFIG, ("providers", "entra", "client_secret_env"), _DELETE)
    )
    yield _config_case(
        "okta-no-auth", _set(CONFIG, ("providers", "okta", "api_token_env"), _DELETE)
    )
    yield _config_case("okta-half-jwt", _set(CONFIG, ("providers", "okta", "client_id"), "0oa1"))
    yield _config_case("gcp-empty-projects", _set(CONFIG, ("providers", "gcp", "projects"), []))
    yield _config_case("read-only-not-bool", _set(CONFIG, ("read_only",), "yes please"))
    yield _config_case("inventory-not-list", _set(CONFIG, ("inventory",), "everyone"))
    yield _config_case(
        "inventory-bad-provider",
        _set(
            CONFIG,
            ("inventory",),
            [{"name": "a", "identities": [{"provider": "azure", "id": "x"}]}],
        ),
    )
    yield from _yaml_cases("config", ("--config", "{f}", "journal", "list"))
    for kind in ("fifo", "dir"):
        yield Case(
            f"config/{kind}",
            ("--config", "{f}", "journal", "list"),
            BAD_INPUT,
            (("config.yaml", b""),),
            located="file",
            special=kind,
        )
    for device in ("/dev/zero", "/dev/null", "/dev/urandom"):
        yield Case(
            f"config/device-{device}",
            ("--config", device, "journal", "list"),
            BAD_INPUT,
            fragment=device,
        )
    yield Case(
        "config/missing",
        ("--config", "{d}/nope.yaml", "journal", "list"),
        BAD_INPUT,
        fragment="no such file",
    )
    yield _config_case("oversized", b"name: big\n" + b"#" * 1_100_000 + b"\n", located="file")


def _yaml_cases(kind: str, argv: tuple[str, ...]) -> Iterator[Case]:
    """YAML-level problems any user file can have (first layer of validation)."""
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    texts: dict[str, tuple[bytes, int | None]] = {
        "syntax-colon": (b"name: [unclosed\n", 2),
        "syntax-indent": (b"name: a\n  bad: indent\n", 2),
        "tab-indent": (b"name: a\nproviders:\n\taws: {}\n", 3),
        "duplicate-key": (b"name: a\nname: b\n", 2),
        "merge-key": (b"base: &b {x: 1}\nother:\n  <<: *b\n", 3),
        "python-tag": (b"name: !!python/object/apply:os.system ['true']\n", 1),
        "custom-tag": (b"name: !vault abc\n", 1),
        "alias-bomb": ("\n".join(bomb).encode() + b"\n", None),
        "deep-nesting": (b"name: " + b"[" * 5000 + b"]" * 5000 + b"\n", 1),
        "deep-mapping": (
            b"".join(b"  " * i + b"k:\n" for i in range(80)) + b"  " * 80 + b"v\n",
            None,
        ),
        "top-level-list": (b"- name: a\n", 1),
        "top-level-scalar": (b"just words\n", 1),
        "not-utf8": (b"name: caf\xe9\n", 1),
        "binary": (bytes(range(256)) * 4, None),
        "raw-escape": (b"name: a\x1b[2Jb\n", 1),
        "raw-nul": (b"name: a\x00b\n", 1),
        "bad-date": (b"name: a\nwhen: 2024-02-30\n", 2),
        "bad-int-tag": (b"name: !!int x\n", 1),
        "two-documents": (b"name: a\n---\nname: b\n", 2),
        "non-string-key": (b"? [a, b]\n: c\n", 1),
    }
    for case_id, (text, line) in texts.items():
        yield Case(
            f"{kind}/yaml-{case_id}",
            argv,
            BAD_INPUT,
            ((f"{kind}.yaml", text),),
            located="line" if line else "file",
            line=line,
        )


# --- worlds -----------------------------------------------------------------------------------

WORLD: dict[str, Any] = {
    "version": 1,
    "name": "corpus",
    "aws": {
        "accounts": [
            {
                "id": "111111111111",
                "users": [
                    {"name": "agent-1", "access_keys": [{"age_days": 4, "last_used_days_ago": 1}]}
                ],
                "roles": [
                    {
                        "name": "role-1",
                        "last_used_days_ago": 1,
                        "trust_policy": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                    "Action": "sts:AssumeRole",
                                }
                            ],
                        },
                    }
                ],
            }
        ]
    },
    "okta": {
        "org": {"subdomain": "corp", "company": "Corp"},
        "users": [{"login": "alice@corp.test", "first_name": "A", "last_name": "M"}],
        "apps": [
            {
                "label": "app-1",
                "auth": "client_secret_basic",
                "secrets": [{"age_days": 3}],
                "scopes": ["okta.users.read"],
                "last_used_days_ago": 1,
            }
        ],
        "api_tokens": [
            {"name": "tok-1", "user": "alice@corp.test", "age_days": 4, "last_used_days_ago": 1}
        ],
    },
    "gcp": {
        "projects": [
            {
                "id": "corp-prod",
                "number": "482913570126",
                "service_accounts": [
                    {
                        "email": "agent-one@corp-prod.iam.gserviceaccount.com",
                        "keys": [{"age_days": 10, "last_used_days_ago": 1}],
                    }
                ],
            }
        ]
    },
    "entra": {
        "tenant": {
            "id": "6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10",
            "domain": "corp.test",
            "name": "Corp",
        },
        "users": [{"upn": "alice@corp.test", "name": "Alice"}],
        "applications": [
            {
                "name": "app-1",
                "owners": ["alice@corp.test"],
                "passwords": [{"name": "p", "age_days": 4, "last_used_days_ago": 1}],
            }
        ],
    },
}
_USER = ("aws", "accounts", 0, "users", 0)
_ROLE = ("aws", "accounts", 0, "roles", 0)
_KEY = (*_USER, "access_keys", 0)
_APP = ("okta", "apps", 0)
_TOKEN = ("okta", "api_tokens", 0)
_SA = ("gcp", "projects", 0, "service_accounts", 0)
_EAPP = ("entra", "applications", 0)
_WORLD_NUMBERS = [
    (*_KEY, "age_days"),
    (*_KEY, "last_used_days_ago"),
    (*_ROLE, "last_used_days_ago"),
    (*_APP, "last_used_days_ago"),
    (*_TOKEN, "age_days"),
    (*_TOKEN, "last_used_days_ago"),
    (*_SA, "keys", 0, "age_days"),
    (*_SA, "keys", 0, "last_used_days_ago"),
    (*_EAPP, "passwords", 0, "age_days"),
    (*_EAPP, "passwords", 0, "last_used_days_ago"),
]
_WORLD_NUMBER_VALUES = [1e12, -1, "old", [], {}, ".inf", 20_001]
_WORLD_NAMES = [
    (*_USER, "name"),
    (*_ROLE, "name"),
    ("aws", "accounts", 0, "id"),
    (*_SA, "email"),
    ("gcp", "projects", 0, "id"),
    ("entra", "tenant", "id"),
    ("okta", "users", 0, "login"),
]
_WORLD_BAD_NAMES = ["", "a/b/../c", "x" * 300, [], {}, "sp ace!", "\u202e"]


def _world_case(case_id: str, doc: Any, **extra: Any) -> Case:
    return Case(
        f"world/{case_id}",
        ("lab", "check", "{f}"),
        BAD_INPUT,
        (("world.yaml", _yaml(doc)),),
        located="line",
        **extra,
    )


def world_cases() -> Iterator[Case]:
    """Every way a world file can be wrong that ``lab check`` must catch before serving."""
    for path in _WORLD_NUMBERS:
        for value in _WORLD_NUMBER_VALUES:
            yield _world_case(f"{'.'.join(map(str, path))}={value!r}", _set(WORLD, path, value))
    for path in _WORLD_NAMES:
        for index, value in enumerate(_WORLD_BAD_NAMES):
            yield _world_case(f"{'.'.join(map(str, path))}-{index}", _set(WORLD, path, value))
    for section in ("aws", "okta", "gcp", "entra"):
        yield _world_case(
            f"unknown-key-{section}", _set(WORLD, (section, "surprise"), 1), fragment="unknown key"
        )
        yield _world_case(f"section-not-mapping-{section}", _set(WORLD, (section,), ["x"]))
    for case_id, path, value in [
        ("version-2", ("version",), 2),
        ("version-text", ("version",), "one"),
        ("unknown-provider", ("azure",), {}),
        ("two-access-keys-more", (*_USER, "access_keys"), [{"age_days": 1}] * 3),
        ("policy-not-mapping", (*_ROLE, "trust_policy"), "allow all"),
        ("app-auth-unknown", (*_APP, "auth"), "carrier-pigeon"),
        ("app-scope-bad", (*_APP, "scopes"), ["okta.users.read; drop"]),
        ("token-unknown-user", (*_TOKEN, "user"), "nobody@corp.test"),
        ("entra-owner-unknown", (*_EAPP, "owners"), ["nobody@corp.test"]),
        ("gcp-number-text", ("gcp", "projects", 0, "number"), "many"),
        ("aws-tag-escape", (*_USER, "tags"), {"agent-ir:owner": "a\x1b]0;pwned\x07"}),
        ("aws-tag-newline", (*_USER, "tags"), {"note": "a\nb"}),
        ("aws-tag-key-empty", (*_USER, "tags"), {"": "x"}),
        ("aws-tag-too-long", (*_USER, "tags"), {"k": "x" * 300}),
        ("faults-unknown", ("faults",), {"aws": {"explode_rate": 1}}),
        ("faults-rate-above-one", ("faults",), {"aws": {"error_rate": 2}}),
        ("faults-malformed-unknown", ("faults",), {"okta": {"malformed": "sideways"}}),
    ]:
        yield _world_case(case_id, _set(WORLD, path, value))
    for entry in sorted((ROOT / "tests" / "corpus" / "worlds" / "bad").glob("*.yaml")):
        yield Case(
            f"world/shipped-corpus-{entry.stem}",
            ("lab", "check", "{f}"),
            BAD_INPUT,
            (("world.yaml", entry.read_bytes()),),
            located="line",
        )
    yield from _yaml_cases("world", ("lab", "check", "{f}"))
    yield Case(
        "world/fifo",
        ("lab", "check", "{f}"),
        BAD_INPUT,
        (("world.yaml", b""),),
        located="file",
        special="fifo",
    )
    yield Case("world/dev-zero", ("lab", "check", "/dev/zero"), BAD_INPUT, fragment="/dev/zero")


# --- playbooks --------------------------------------------------------------------------------

PLAYBOOK = yaml.safe_load((playbook_dir() / "contain-agent.yaml").read_text())
_STEP = ("steps", 0)


def _playbook_case(case_id: str, doc: Any, **extra: Any) -> Case:
    return Case(
        f"playbook/{case_id}",
        ("playbook", "validate", "{f}"),
        BAD_INPUT,
        (("playbook.yaml", _yaml(doc)),),
        located="line",
        **extra,
    )


def playbook_cases() -> Iterator[Case]:
    """Playbooks wrong in structure, types, references and per-action checks."""
    for case_id, path, value in [
        ("name-missing", ("name",), _DELETE),
        ("name-list", ("name",), ["a"]),
        ("version-9", ("version",), 9),
        ("steps-missing", ("steps",), _DELETE),
        ("steps-empty", ("steps",), []),
        ("steps-mapping", ("steps",), {"a": 1}),
        ("max-targets-zero", ("max_targets",), 0),
        ("max-targets-text", ("max_targets",), "fifty"),
        ("max-targets-huge", ("max_targets",), 10**12),
        ("unknown-top", ("surprise",), 1),
        ("parameters-list", ("parameters",), ["lock_trust"]),
        ("param-type-unknown", ("parameters", "lock_trust", "type"), "complex"),
        ("param-default-wrong", ("parameters", "lock_trust", "default"), "sometimes"),
        ("param-unknown-key", ("parameters", "lock_trust", "surprise"), 1),
        ("step-id-missing", (*_STEP, "id"), _DELETE),
        ("step-id-bad", (*_STEP, "id"), "../x"),
        ("step-id-list", (*_STEP, "id"), ["a"]),
        ("step-action-missing", (*_STEP, "action"), _DELETE),
        ("step-action-unknown", (*_STEP, "action"), "launch-missiles"),
        ("step-action-close", (*_STEP, "action"), "disable-credential"),
        ("step-scope-unknown", (*_STEP, "scope"), "galaxy"),
        ("step-unknown-key", (*_STEP, "surprise"), 1),
        ("step-approve-text", (*_STEP, "approve"), "yes please"),
        ("step-with-unknown", (*_STEP, "with"), {"surprise": 1}),
        ("step-with-list", (*_STEP, "with"), [1]),
        ("step-when-unknown", (*_STEP, "when"), {"surprise": 1}),
        ("step-when-undeclared", (*_STEP, "when"), {"param": "nope"}),
        ("step-on-error-bad", (*_STEP, "on_error"), "explode"),
        ("ref-undeclared", ("steps", 1, "with"), {"include_delegating_users": "${nope}"}),
        ("ref-type", ("steps", 1, "with"), {"include_delegating_users": "not-a-bool"}),
        ("duplicate-step-id", ("steps", 1, "id"), "disable-credentials"),
        ("step-not-mapping", ("steps", 0), "disable-credentials"),
        ("step-null", ("steps", 0), None),
        ("description-list", ("description",), ["a"]),
    ]:
        yield _playbook_case(case_id, _set(PLAYBOOK, path, value))
    for index, value in enumerate([*BAD_STRS, None, True]):
        yield _playbook_case(f"step-action-type-{index}", _set(PLAYBOOK, (*_STEP, "action"), value))
    for entry in sorted((ROOT / "tests" / "corpus" / "playbooks" / "bad").glob("*.yaml")):
        yield Case(
            f"playbook/shipped-corpus-{entry.stem}",
            ("playbook", "validate", "{f}"),
            BAD_INPUT,
            (("playbook.yaml", entry.read_bytes()),),
            located="line",
        )
    yield from _yaml_cases("playbook", ("playbook", "validate", "{f}"))
    yield Case(
        "playbook/fifo",
        ("playbook", "validate", "{f}"),
        BAD_INPUT,
        (("playbook.yaml", b""),),
        located="file",
        special="fifo",
    )


# --- exercises --------------------------------------------------------------------------------

EXERCISE = yaml.safe_load((exercise_dir() / "shadow-token.yaml").read_text())
EXERCISE["world"] = str(default_world())
_EXERCISE_ARGV = (
    "tabletop",
    "{f}",
    "--playbook",
    "contain-agent",
    "--agent",
    "gpt-scraper-bot",
    "--yes",
)


def exercise_cases() -> Iterator[Case]:
    """Exercises refused before any lab starts."""
    for case_id, path, value in [
        ("name-missing", ("name",), _DELETE),
        ("version-2", ("version",), 2),
        ("world-missing-file", ("world",), "/nonexistent/world.yaml"),
        ("suspects-empty", ("suspects",), []),
        ("suspects-text", ("suspects",), "everyone"),
        ("respond-at-negative", ("respond_at",), -5),
        ("respond-at-text", ("respond_at",), "soon"),
        ("inject-kind-unknown", ("injects", 0, "kind"), "meteor"),
        ("inject-at-negative", ("injects", 0, "at"), -1),
        ("inject-at-huge", ("injects", 0, "at"), 1e12),
        ("inject-unknown-key", ("injects", 0, "surprise"), 1),
        ("change-unknown", ("injects", 1, "change"), "teleport"),
        ("change-provider-unknown", ("injects", 1, "provider"), "azure"),
        ("injects-mapping", ("injects",), {"a": 1}),
        ("unknown-top", ("surprise",), 1),
        ("narrative-list", ("narrative",), ["a"]),
    ]:
        yield Case(
            f"exercise/{case_id}",
            _EXERCISE_ARGV,
            BAD_INPUT,
            (("exercise.yaml", _yaml(_set(EXERCISE, path, value))),),
            located="line",
        )
    yield from _yaml_cases("exercise", _EXERCISE_ARGV)


# --- command-line arguments -------------------------------------------------------------------


def cli_cases() -> Iterator[Case]:
    """Bad command lines: usage errors (2) and unknown incidents or playbooks (4)."""
    config = (("config.yaml", b"name: corpus\njournal_dir: journal\n"),)
    usage = [
        ("no-such-command", ["launch"]),
        ("no-such-command-esc", ["\x1b]0;pwned\x07"]),
        ("unknown-option", ["--frobnicate", "inventory"]),
        ("output-unknown", ["inventory", "--output", "xml"]),
        ("output-esc", ["inventory", "--output", "\x1b[2J"]),
        ("show-missing-agent", ["show"]),
        ("plan-missing-agent", ["plan"]),
        ("revoke-missing-agent", ["revoke"]),
        ("restore-missing-incident", ["restore"]),
        ("resume-missing-incident", ["resume"]),
        ("run-missing-playbook", ["run"]),
        ("journal-missing-sub", ["journal", "nope"]),
        ("journal-show-missing", ["journal", "show"]),
        ("lab-unknown-sub", ["lab", "explode"]),
        ("lab-faults-provider", ["lab", "faults", "azure"]),
        ("lab-generate-agents-text", ["lab", "generate", "--agents", "many"]),
        ("lab-generate-seed-text", ["lab", "generate", "--seed", "x"]),
        ("lab-check-no-files", ["lab", "check"]),
        ("playbook-no-sub", ["playbook", "explode"]),
        ("playbook-validate-no-files", ["playbook", "validate"]),
        ("tabletop-no-exercise", ["tabletop"]),
        ("config-missing-value", ["--config"]),
        ("world-missing-value", ["--world"]),
        ("param-no-equals", ["plan", "a", "--param", "lock_trust"]),
        ("long-option-garbage", ["--" + "x" * 5000]),
    ]
    for case_id, argv in usage:
        yield Case(f"cli/{case_id}", tuple(argv), USAGE)
    with_config = ("--config", "{f}")
    for case_id, argv in [
        ("journal-show-unknown", ["journal", "show", "IR-20250101-120000-abcd"]),
        ("journal-show-esc", ["journal", "show", "IR-\x1b[2J"]),
        ("journal-show-traversal", ["journal", "show", "../../etc/passwd"]),
        ("journal-verify-unknown", ["journal", "verify", "IR-20250101-120000-abcd"]),
        ("restore-unknown", ["restore", "IR-20250101-120000-abcd", "--yes", "--reason", "r"]),
        ("resume-unknown", ["resume", "IR-20250101-120000-abcd"]),
        ("restore-traversal", ["restore", "../../../etc/passwd", "--yes", "--reason", "r"]),
        ("permissions-unknown-playbook", ["permissions", "no-such-playbook"]),
        ("playbook-validate-missing", ["playbook", "validate", "{d}/nope.yaml"]),
        (
            "tabletop-unknown-exercise",
            [
                "tabletop",
                "no-such-exercise",
                "--playbook",
                "contain-agent",
                "--agent",
                "a",
                "--yes",
            ],
        ),
    ]:
        # a named file that does not exist is a bad input file (3), like any unreadable one
        expected = BAD_INPUT if case_id.endswith(("-missing", "-exercise")) else NOT_FOUND
        yield Case(f"cli/{case_id}", (*with_config, *argv), expected, config)


# --- journal files ----------------------------------------------------------------------------

INCIDENT = "IR-20250101-120000-c0de"


def _write_journal(directory: Path) -> Path:
    from agent_ir.engine import journal as jr

    journal = jr.Journal.create(directory, INCIDENT, {"agent": "a", "playbook": "p"})
    journal.append("note", {"text": "one"})
    journal.append("note", {"text": "two"})
    journal.close()
    return journal.path


def _damage(change: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        change(_write_journal(directory / "journal"))

    return setup


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _replace_line(index: int, text: bytes) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        lines = _lines(path)
        lines[index] = text
        path.write_bytes(b"".join(lines))

    return change


def _edit_record(index: int, key: str, value: Any) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        lines = _lines(path)
        record = json.loads(lines[index])
        record[key] = value
        lines[index] = json.dumps(record).encode() + b"\n"
        path.write_bytes(b"".join(lines))

    return change


def _do(action: Callable[[Path], Any]) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        action(path)

    return change


JOURNAL_DAMAGE: dict[str, Callable[[Path], None]] = {
    "line-garbage": _replace_line(1, b"not json at all\n"),
    "line-binary": _replace_line(1, bytes(range(1, 256)) + b"\n"),
    "line-deep-array": _replace_line(1, b"[" * 200_000 + b"\n"),
    "line-deep-object": _replace_line(1, b'{"a":' * 100_000 + b"\n"),
    "line-huge": _replace_line(1, b'"' + b"x" * (17 * 1024 * 1024) + b'"\n'),
    "line-list": _replace_line(1, b"[1, 2, 3]\n"),
    "line-null": _replace_line(1, b"null\n"),
    "line-empty-object": _replace_line(1, b"{}\n"),
    "line-escape": _replace_line(1, b'{"kind": "\\u001b]0;pwned\\u0007"}\n'),
    "hash-changed": _edit_record(1, "hash", "0" * 64),
    "prev-changed": _edit_record(2, "prev", "f" * 64),
    "seq-changed": _edit_record(1, "seq", 7),
    "seq-text": _edit_record(1, "seq", "one"),
    "payload-changed": _edit_record(1, "payload", {"text": "forged"}),
    "kind-changed": _edit_record(1, "kind", "incident-start"),
    "ts-garbage": _edit_record(1, "ts", "yesterday"),
    "first-not-start": _edit_record(0, "kind", "note"),
    "tail-deleted": _do(lambda p: p.write_bytes(b"".join(_lines(p)[:-1]))),
    "middle-deleted": _do(lambda p: p.write_bytes(b"".join(_lines(p)[::2]))),
    "lines-swapped": _do(lambda p: p.write_bytes(b"".join(_lines(p)[::-1]))),
    "truncated-file": _do(lambda p: p.write_bytes(b"")),
    "head-garbage": _do(lambda p: p.with_suffix(".head").write_bytes(b"\x00\xff garbage")),
    "head-deep": _do(lambda p: p.with_suffix(".head").write_bytes(b"[" * 200_000)),
    "head-ahead": _do(lambda p: p.with_suffix(".head").write_text('{"seq": 99, "hash": "x"}')),
    "head-missing-and-tail": _do(
        lambda p: (p.with_suffix(".head").unlink(), p.write_bytes(b"".join(_lines(p)[:-1])))
    ),
    "file-gone-head-left": _do(lambda p: p.unlink()),
}


def journal_cases() -> Iterator[Case]:
    """Damaged journals: ``journal verify`` says so with exit 9 and never crashes."""
    config = (("config.yaml", b"name: corpus\njournal_dir: journal\n"),)
    for name, change in JOURNAL_DAMAGE.items():
        yield Case(
            f"journal/verify-{name}",
            ("--config", "{f}", "journal", "verify"),
            JOURNAL,
            config,
            setup=_damage(change),
            fragment=INCIDENT,
        )
    for name in ("line-garbage", "line-deep-array", "hash-changed", "line-binary"):
        yield Case(
            f"journal/show-{name}",
            ("--config", "{f}", "journal", "show", INCIDENT),
            JOURNAL,
            config,
            setup=_damage(JOURNAL_DAMAGE[name]),
        )


# --- credential files -------------------------------------------------------------------------

JWK = {"kty": "RSA", "n": "sXch", "e": "AQAB", "d": "kQ", "kid": "k1"}


def _okta_config(key: str) -> bytes:
    return (
        "name: corpus\nproviders:\n  okta:\n    org_url: https://corp.okta.test\n"
        f"    client_id: 0oa1\n    private_key_file: {key}\n"
    ).encode()


def credential_cases() -> Iterator[Case]:
    """Key files that exist but hold no usable key: located errors, exit 3."""
    bad_keys: dict[str, bytes] = {
        "binary": bytes(range(256)),
        "empty": b"",
        "text": b"this is my key, honest\n",
        "jwk-not-object": b"[1, 2]\n",
        "jwk-invalid-json": b'{"kty": "RSA", \n',
        "jwk-deep": b"{" + b'"a":{' * 50 + b"}",
        "jwk-no-kty": json.dumps({k: v for k, v in JWK.items() if k != "kty"}).encode(),
        "jwk-kty-oct": json.dumps({**JWK, "kty": "oct"}).encode(),
        "jwk-ec-no-x": json.dumps({"kty": "EC", "crv": "P-256", "y": "a", "d": "b"}).encode(),
        "pem-public": b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
        "pem-certificate": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "utf16": '{"kty": "RSA"}'.encode("utf-16"),
    }
    for field_name in ("n", "e", "d"):
        bad_keys[f"jwk-no-{field_name}"] = json.dumps(
            {k: v for k, v in JWK.items() if k != field_name}
        ).encode()
        bad_keys[f"jwk-{field_name}-number"] = json.dumps({**JWK, field_name: 5}).encode()
    for name, content in bad_keys.items():
        yield Case(
            f"credentials/okta-{name}",
            ("--config", "{f}", "journal", "list"),
            BAD_INPUT,
            (("config.yaml", _okta_config("okta.key")), ("okta.key", content)),
            fragment="okta.key",
        )
    yield Case(
        "credentials/okta-key-is-directory",
        ("--config", "{f}", "journal", "list"),
        BAD_INPUT,
        (("config.yaml", _okta_config("{d}")),),
        fragment="private_key_file",
    )
    yield Case(
        "credentials/okta-key-is-dev-zero",
        ("--config", "{f}", "journal", "list"),
        BAD_INPUT,
        (("config.yaml", _okta_config("/dev/zero")),),
        fragment="/dev/zero",
    )
    yield Case(
        "credentials/okta-key-huge",
        ("--config", "{f}", "journal", "list"),
        BAD_INPUT,
        (("config.yaml", _okta_config("okta.key")), ("okta.key", b"{" + b" " * 200_000)),
        fragment="okta.key",
    )


def all_cases() -> list[Case]:
    """The whole corpus, in a stable order."""
    return [
        *config_cases(),
        *world_cases(),
        *playbook_cases(),
        *exercise_cases(),
        *cli_cases(),
        *journal_cases(),
        *credential_cases(),
    ]
