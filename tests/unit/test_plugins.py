"""Every provider is described once, by its plugin, and every list of providers comes from
the registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_ir.lab.plugin import lab_plugins
from agent_ir.lab.world import World, world_model
from agent_ir.providers import registry
from agent_ir.providers.base import Ability
from agent_ir.providers.known import KnownProvider
from agent_ir.settings import ProvidersSettings, settings_model


def test_each_descriptor_agrees_with_its_adapter() -> None:
    for name, plugin in registry.plugins().items():
        adapter = plugin.load_adapter()
        assert adapter.name == name
        assert adapter.abilities == plugin.abilities, name
        if Ability.READ_PERMISSIONS in adapter.abilities:
            assert adapter.read_permissions, f"{name} declares READ_PERMISSIONS but lists none"


def test_builtin_settings_sections_are_the_plugins_models() -> None:
    for name in ("aws", "entra", "gcp", "okta"):
        plugin = registry.plugin(name)
        annotation = ProvidersSettings.model_fields[name].annotation
        assert plugin.settings in getattr(annotation, "__args__", ()), name


def test_every_provider_has_a_lab_plugin_with_its_world_section() -> None:
    labs = lab_plugins()
    assert set(registry.names()) <= set(labs)
    model = world_model()
    for name, plugin in labs.items():
        assert model.model_fields[name].annotation is plugin.section


def test_without_extra_plugins_the_models_are_the_declared_ones() -> None:
    assert set(registry.names()) == {"aws", "entra", "gcp", "okta"}
    assert world_model() is World
    assert settings_model().model_fields["providers"].annotation is ProvidersSettings


def test_a_provider_name_is_checked_against_the_installed_plugins() -> None:
    from pydantic import TypeAdapter

    names = TypeAdapter(KnownProvider)
    assert names.validate_python("okta") == "okta"
    with pytest.raises(ValidationError, match="Input should be 'aws', 'entra', 'gcp' or 'okta'"):
        names.validate_python("azure")
    assert names.json_schema() == {"enum": ["aws", "entra", "gcp", "okta"], "type": "string"}


def test_each_adapter_hands_its_actions_the_facts_type_its_plugin_declares() -> None:
    import typing

    for name, plugin in registry.plugins().items():
        facts = plugin.load_facts()
        assert facts is not None, f"{name} declares no discovery facts type"
        hints = typing.get_type_hints(plugin.load_adapter().plan_facts)
        assert hints["return"] is facts, name
