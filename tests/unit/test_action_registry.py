"""Walk every action of the catalog and every provider's implementation: each must carry
its schema, permissions, reversibility, hazards where it has side effects, and a YAML
example that validates as a playbook step."""

from __future__ import annotations

import inspect
import re

import pytest

from agent_ir.actions.base import ProviderAction, Reversibility
from agent_ir.actions.catalog import CATALOG, ActionParams
from agent_ir.playbook.loader import load_playbook_text
from agent_ir.providers import registry

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def _as_playbook(steps_yaml: str) -> str:
    body = "\n".join("  " + line for line in steps_yaml.strip().splitlines())
    return f"name: example\nparameters:\n  from: {{type: string}}\n  to: {{type: string}}\nsteps:\n{body}\n"


def _implementations() -> list[tuple[str, type[ProviderAction]]]:  # type: ignore[type-arg]
    found = []
    for name in sorted(registry.available()):
        registry.load(name)
        for action, impl in registry.plugin(name).actions().items():
            found.append((f"{name}:{action}", impl))
    return found


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_action_has_schema_and_a_valid_example(name: str) -> None:
    spec = CATALOG[name]
    assert spec.summary and spec.phase in (1, 2, 3, 4)
    assert issubclass(spec.params, ActionParams)
    assert spec.params.model_config.get("extra") == "forbid"
    playbook = load_playbook_text(_as_playbook(spec.example), f"<example of {name}>")
    assert playbook.steps[0].action == name


def test_every_provider_adapter_is_listed_without_importing_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom agent_ir.providers import registry\n"
        "names = sorted(registry.available())\n"
        "loaded = [m for m in sys.modules if m.startswith('agent_ir.providers.') and m.endswith('adapter')]\n"
        "print(names, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['aws', 'entra', 'gcp', 'okta'] []"


def test_an_unknown_adapter_names_the_installed_ones() -> None:
    from agent_ir.errors import NotFoundError

    with pytest.raises(NotFoundError, match="installed: aws, entra, gcp, okta"):
        registry.load("azure")


IMPLS = _implementations()


@pytest.mark.parametrize("label,impl", IMPLS, ids=[label for label, _ in IMPLS])
def test_implementation_declares_everything(label: str, impl: type[ProviderAction]) -> None:  # type: ignore[type-arg]
    provider, action = label.split(":")
    assert impl.action == action and action in CATALOG
    assert impl.provider == provider
    assert impl.permissions and all(isinstance(p, str) and p for p in impl.permissions)
    assert isinstance(impl.reversible, Reversibility)
    if impl.reversible is not Reversibility.NO:
        assert impl.restore_permissions, f"{label} can be undone, so restoring needs permissions"
        assert impl.restore is not ProviderAction.restore, f"{label} must implement restore"
    if impl.reversible is not Reversibility.YES:
        assert impl.hazards, f"{label} is not fully reversible and must say why"
    doc = inspect.getdoc(impl) or ""
    blocks = YAML_BLOCK.findall(doc)
    assert blocks, f"{label} needs a ```yaml example in its docstring"
    playbook = load_playbook_text(_as_playbook(blocks[0]), f"<example of {label}>")
    assert playbook.steps[0].action == action
