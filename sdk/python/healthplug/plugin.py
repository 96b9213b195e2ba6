"""Plugins: a class whose `@tool` methods the assistant can invoke.

    class StepCounter(Plugin):
        @tool("steps-this-week", "Total steps over the last 7 days",
              params={"days": {"type": "integer", "minimum": 1, "maximum": 30}})
        def steps(self, days=7):
            rows = health.aggregate([DataType.STEPS]).daily().last_days(days).fetch()
            return {"steps": sum(r.sum for r in rows)}

    WitWorld = export(StepCounter)   # what componentize-py looks for

Arguments are checked against each tool's JSON-schema parameters before
the method runs (unknown, missing, mistyped or out-of-range ones are
`invalid-args`); the method's return value is sent as JSON.
"""

import json

from .errors import HealthplugError, InvalidArgs

_TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class Tool:
    """A tool: name, description, JSON-schema parameters, the method."""

    def __init__(self, name, description, params, required, method):
        self.name = name
        self.description = description
        self.params = dict(params or {})
        self.required = list(required)
        self.method = method

    def schema(self):
        return {
            "type": "object",
            "properties": self.params,
            "required": self.required,
            "additionalProperties": False,
        }

    def check(self, args):
        """Raises `InvalidArgs` naming the first problem."""
        if not isinstance(args, dict):
            raise InvalidArgs("arguments must be a JSON object")
        for name in args:
            if name not in self.params:
                raise InvalidArgs(f"unknown argument `{name}` (takes: {', '.join(self.params) or 'none'})")
        for name in self.required:
            if name not in args:
                raise InvalidArgs(f"missing argument `{name}`")
        for name, value in args.items():
            spec = self.params[name]
            kind = spec.get("type")
            if kind in _TYPES and not _TYPES[kind](value):
                raise InvalidArgs(f"`{name}` must be of type {kind}")
            if "minimum" in spec and value < spec["minimum"]:
                raise InvalidArgs(f"`{name}` must be at least {spec['minimum']}")
            if "maximum" in spec and value > spec["maximum"]:
                raise InvalidArgs(f"`{name}` must be at most {spec['maximum']}")
            if "enum" in spec and value not in spec["enum"]:
                raise InvalidArgs(f"`{name}` must be one of {spec['enum']}")


def tool(name, description, params=None, required=()):
    """Marks a method as a tool. `params` maps argument names to JSON
    schemas (`{"type": "integer", "minimum": 1}`); defaults come from the
    method's own keyword defaults."""

    def mark(method):
        method.__healthplug_tool__ = Tool(name, description, params, required, method)
        return method

    return mark


class Plugin:
    """Subclass it and mark methods with `@tool`."""

    @classmethod
    def tool_list(cls):
        found = []
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                t = getattr(attr, "__healthplug_tool__", None)
                if t is not None and all(t.name != f.name for f in found):
                    found.append(t)
        return found


def export(plugin_class):
    """The `WitWorld` class componentize-py exports for `plugin_class`."""
    import wit_world
    from componentize_py_types import Err
    from wit_world.imports.types import ToolError_Failed, ToolError_InvalidArgs, ToolError_UnknownTool, ToolSpec

    tools = plugin_class.tool_list()

    class WitWorld(wit_world.WitWorld):
        def tools(self):
            return [ToolSpec(t.name, t.description, json.dumps(t.schema()), None) for t in tools]

        def invoke(self, name, args_json):
            found = next((t for t in tools if t.name == name), None)
            if found is None:
                raise Err(ToolError_UnknownTool(name))
            try:
                args = json.loads(args_json or "{}")
                found.check(args)
                result = found.method(plugin_class(), **args)
                return json.dumps(result)
            except (InvalidArgs, json.JSONDecodeError) as e:
                raise Err(ToolError_InvalidArgs(str(e))) from None
            except HealthplugError as e:
                raise Err(ToolError_Failed(str(e))) from None

    return WitWorld
