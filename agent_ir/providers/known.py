"""A provider name in a user file (config, world, playbook), checked against the installed
plugins as a ``Literal`` of their names would be, with the same message and JSON Schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from agent_ir.providers.registry import available


def _known(name: str) -> str:
    """Refuse a provider name that no installed plugin has, as a Literal would."""
    names = list(available())
    if name not in names:
        quoted = [repr(n) for n in names]
        listed = (
            ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)
        )
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": listed}
        )
    return name


class _ProviderSchema:
    """The JSON Schema of a provider name: an enum of the installed providers."""

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"enum": list(available()), "type": "string"}


KnownProvider = Annotated[str, AfterValidator(_known), _ProviderSchema()]
"""A provider name in a user file, checked against the installed plugins."""
