"""Lazy imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from memory_r1.exceptions import MissingDependencyError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise ``MissingDependencyError`` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is not installed; install it with: pip install 'memory-r1[{extra}]'"
        ) from exc
