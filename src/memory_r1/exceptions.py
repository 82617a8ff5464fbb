"""Every error memory-r1 raises on purpose.

One tree, so ``except MemoryR1Error`` catches them all::

    MemoryR1Error
    ├── InvalidInputError            bad arguments; nothing was changed
    │   ├── ScopeError               missing scope, or an id from another scope
    │   ├── FilterError              malformed filter or unknown operator
    │   └── DimensionMismatchError   embedder and bank disagree on vector size
    ├── NotFoundError                no memory with that id (in that scope)
    ├── ConfigurationError           a config value, extra or resolver spec is wrong
    │   └── MissingDependencyError   an optional extra is not installed
    ├── BankLockedError              another process holds the embedded bank
    ├── StorageError                 the vector engine or history log failed
    ├── LLMError                     an LLM backend call failed (after its retries)
    └── PolicyOutputError            a policy's output stayed invalid after re-asks

Every ``InvalidInputError`` is raised before anything is written.
"""

from __future__ import annotations

__all__ = [
    "BankLockedError",
    "ConfigurationError",
    "DimensionMismatchError",
    "FilterError",
    "InvalidInputError",
    "LLMError",
    "MemoryR1Error",
    "MissingDependencyError",
    "NotFoundError",
    "PolicyOutputError",
    "ScopeError",
    "StorageError",
]


class MemoryR1Error(Exception):
    """Base of every error memory-r1 raises on purpose."""


class InvalidInputError(MemoryR1Error, ValueError):
    """An argument is invalid; nothing was changed."""


class ScopeError(InvalidInputError):
    """No scope was given, or an id belongs to another scope."""


class FilterError(InvalidInputError):
    """A filter is malformed or uses an unknown operator."""


class DimensionMismatchError(InvalidInputError):
    """The embedder's vector size differs from the bank's."""


class NotFoundError(MemoryR1Error, KeyError):
    """No memory with that id exists in the given scope."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


class ConfigurationError(MemoryR1Error):
    """A configuration value, resolver spec or combination is wrong."""


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class BankLockedError(MemoryR1Error):
    """Another process holds the embedded bank (it is single-process)."""


class StorageError(MemoryR1Error):
    """The vector engine or the history log failed."""


class LLMError(MemoryR1Error):
    """An LLM backend call failed after its retries."""


class PolicyOutputError(MemoryR1Error):
    """A policy's output was still invalid after the allowed re-asks.

    Attributes:
        last_output: the policy's last raw output.
        errors: the validation error of each attempt, in order.
    """

    def __init__(self, message: str, *, last_output: str, errors: list[str]) -> None:
        super().__init__(message)
        self.last_output = last_output
        self.errors = errors
