"""The JSON Schemas (draft 2020-12) of the telemetry payloads, one file per payload type.

Each ``<type>.schema.json`` describes a whole message, envelope included, with
``additionalProperties: false`` and a relative ``$id`` (``telemetry/v1/<type>.schema.json``).
They ship inside the package so that monitoring integrators and tests read the
same files; docs/telemetry.md explains them.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Final

_SUFFIX: Final = ".schema.json"
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")


def schema_types() -> tuple[str, ...]:
    """The payload types that have a schema, sorted."""
    files = resources.files(__name__).iterdir()
    return tuple(sorted(f.name.removesuffix(_SUFFIX) for f in files if f.name.endswith(_SUFFIX)))


def load_schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema of the payload type ``type_name`` ("birth", "alarm", ...); ValueError if there is none."""
    if not _NAME.fullmatch(type_name):  # a type name, never a path
        raise ValueError(f"no telemetry schema for type {type_name!r}")
    try:
        text = resources.files(__name__).joinpath(type_name + _SUFFIX).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ValueError(f"no telemetry schema for type {type_name!r}") from err
    schema = json.loads(text)
    if not isinstance(schema, dict):
        raise ValueError(f"{type_name}{_SUFFIX} is not a JSON object")  # a broken package, not a caller's fault
    return schema
