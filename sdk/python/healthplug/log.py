"""Log lines kept with the invocation (never printed by the host)."""

from wit_world.imports import log as _log
from wit_world.imports.types import LogLevel


def _emit(level, message):
    _log.log(level, str(message))


def debug(message):
    """A detail."""
    _emit(LogLevel.DEBUG, message)


def info(message):
    """Normal operation."""
    _emit(LogLevel.INFO, message)


def warn(message):
    """Something unexpected but handled."""
    _emit(LogLevel.WARN, message)


def error(message):
    """A failure."""
    _emit(LogLevel.ERROR, message)
