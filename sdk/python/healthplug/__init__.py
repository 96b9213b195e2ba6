"""healthplug SDK for Python plugins.

A plugin is a class of `@tool` methods; `export(MyPlugin)` gives the
`WitWorld` class componentize-py builds into a WebAssembly component
against healthplug's WIT. `python -m healthplug.build <dir>` picks the
world that matches the manifest (no `storage` import unless it declares
`[storage]`) and runs componentize-py. See docs/python.md.
"""

from wit_world.imports.types import DataType, DenialReason, Granularity
from wit_world.imports.types import FieldSet as Fields

from . import health, log
from .batch import Aggregate, Coding, Sample, Samples
from .errors import (
    CapabilityNotGranted,
    HealthplugError,
    InvalidArgs,
    InvalidRequest,
    LimitExceeded,
    NotGranted,
    Unavailable,
    reason_id,
    type_id,
)
from .plugin import Plugin, export, tool

__all__ = [
    "Aggregate", "CapabilityNotGranted", "Coding", "DataType", "DenialReason", "Fields", "Granularity",
    "HealthplugError", "InvalidArgs", "InvalidRequest", "LimitExceeded", "NotGranted", "Plugin", "Sample",
    "Samples", "Unavailable", "export", "health", "log", "reason_id", "tool", "type_id",
]
