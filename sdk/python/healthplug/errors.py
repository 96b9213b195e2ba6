"""Typed errors: every refusal the host can give, as a Python exception.

A consent refusal is `NotGranted` (with the data type and the reason), so
a plugin tells the user what to grant instead of treating it as "no data".
"""

from wit_world.imports import types as _wit


class HealthplugError(Exception):
    """Any error the host returned."""


class NotGranted(HealthplugError):
    """The user's consent does not cover this access."""

    def __init__(self, data_type, reason):
        self.data_type = data_type
        self.reason = reason
        super().__init__(f"{type_id(data_type)} not granted ({reason_id(reason)})")


class CapabilityNotGranted(HealthplugError):
    """`storage` or `network` is not granted, or was revoked."""


class InvalidRequest(HealthplugError):
    """The request is malformed (bad time range, coded type aggregated, ...)."""


class LimitExceeded(HealthplugError):
    """A per-invocation limit was reached (host calls, samples, bytes)."""


class Unavailable(HealthplugError):
    """The host could not serve the request right now."""


class InvalidArgs(Exception):
    """A tool's arguments do not match its parameters."""


def type_id(data_type):
    """`DataType.HEART_RATE` -> `heart-rate` (the registry id)."""
    return data_type.name.lower().replace("_", "-")


def reason_id(reason):
    """`DenialReason.NOT_GRANTED` -> `not-granted`."""
    return reason.name.lower().replace("_", "-")


def from_wit(err):
    """The exception for a WIT `error` value."""
    if isinstance(err, _wit.Error_NotGranted):
        return NotGranted(err.value.data_type, err.value.reason)
    if isinstance(err, _wit.Error_CapabilityNotGranted):
        return CapabilityNotGranted(err.value)
    if isinstance(err, _wit.Error_InvalidRequest):
        return InvalidRequest(err.value)
    if isinstance(err, _wit.Error_LimitExceeded):
        return LimitExceeded(err.value)
    return Unavailable(getattr(err, "value", str(err)))


def call(fn, *args):
    """Calls a WIT import, turning its `Err` into a typed exception."""
    from componentize_py_types import Err

    try:
        return fn(*args)
    except Err as e:
        raise from_wit(e.value) from None
