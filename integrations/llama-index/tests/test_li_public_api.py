"""The public surface is pinned; the package is a thin, namespaced, light adapter."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

import llama_index.memory.memory_r1 as package

PUBLIC = ["MemoryR1Block", "MemoryR1Memory", "MemoryR1Retriever", "memory_tools"]
MODULES = ["_settings", "block", "memory", "retriever", "tools"]


def test_all_is_pinned_and_importable() -> None:
    assert sorted(package.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(package, name).__doc__, name


def test_the_namespace_levels_have_no_init() -> None:
    here = Path(package.__file__).parent
    assert here.name == "memory_r1" and (here / "py.typed").is_file()
    assert not (here.parent / "__init__.py").exists()  # llama_index/memory/
    assert not (here.parent.parent / "__init__.py").exists()  # llama_index/


def test_dependencies_are_memory_r1_pinned_to_its_major_and_llama_index_core() -> None:
    dist = distribution("llama-index-memory-memory-r1")
    required = sorted(r.replace(" ", "") for r in dist.requires or [] if "extra ==" not in r)
    assert len(required) == 2
    assert required[0].startswith("llama-index-core") and "<0.15" in required[0]
    assert required[1].startswith("memory-r1") and {"<1", ">=0.1"} <= set(
        required[1].removeprefix("memory-r1").split(",")
    )


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"llama_index.memory.memory_r1.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_import_loads_no_model_library() -> None:
    code = (
        "import sys, llama_index.memory.memory_r1; "
        "print(sorted({'torch', 'transformers', 'litellm', 'sentence_transformers'}"
        " & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
