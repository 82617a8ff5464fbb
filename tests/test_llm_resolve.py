"""resolve_llm: spec parsing and dispatch, with the backends' constructors replaced."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
import textwrap
import types
from typing import Any

import pytest

import memory_r1.llms as llms_module
import memory_r1.llms.litellm as litellm_module
from memory_r1.exceptions import ConfigurationError
from memory_r1.llms import ScriptedLLM, resolve_llm


class Built:
    """Stands in for a backend class and records how it was constructed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs


@pytest.fixture
def fake_transformers(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in ``memory_r1.llms.transformers``, so no model is loaded (or imported)."""
    module = types.ModuleType("memory_r1.llms.transformers")
    module.TransformersLLM = Built  # type: ignore[attr-defined]
    module.smollm2_gguf_path = lambda: "/cache/smollm2.gguf"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "memory_r1.llms.transformers", module)
    return module


@pytest.fixture
def fake_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm_module, "LiteLLM", Built)


@pytest.mark.parametrize(
    ("spec", "model"),
    [
        ("litellm:openai/gpt-4o-mini", "openai/gpt-4o-mini"),
        ("litellm:ollama/qwen2.5:7b", "ollama/qwen2.5:7b"),  # split on the first colon only
        ("litellm:gpt-4o-mini", "gpt-4o-mini"),
        ("  litellm:hosted_vllm/Qwen/Qwen2.5-7B  ", "hosted_vllm/Qwen/Qwen2.5-7B"),
    ],
)
def test_litellm_specs(spec: str, model: str) -> None:
    llm = resolve_llm(spec)
    assert isinstance(llm, litellm_module.LiteLLM)
    assert llm.model == model
    assert llm.name == f"litellm:{model}"


def test_litellm_keyword_overrides() -> None:
    llm = resolve_llm(
        "litellm:openai/my-model", api_base="http://localhost:8000/v1", json_mode="off"
    )
    assert isinstance(llm, litellm_module.LiteLLM)
    assert llm.api_base == "http://localhost:8000/v1"
    assert llm.json_mode == "off"


def test_litellm_constructor_is_looked_up_at_call_time(fake_litellm: None) -> None:
    built = resolve_llm("litellm:ollama/qwen2.5:7b", timeout=5.0)
    assert isinstance(built, Built)
    assert built.args == ("ollama/qwen2.5:7b",)
    assert built.kwargs == {"timeout": 5.0}


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("hf:/models/qwen2.5-3b", "/models/qwen2.5-3b"),
        ("hf:Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"),
        ("gguf:/models/file.gguf", "/models/file.gguf"),
        ("gguf:C:/models/file.gguf", "C:/models/file.gguf"),
    ],
)
def test_local_specs(fake_transformers: types.ModuleType, spec: str, path: str) -> None:
    built = resolve_llm(spec, device="cpu")
    assert isinstance(built, Built)
    assert built.args == (path,)
    assert built.kwargs == {"device": "cpu"}


def test_smollm2_alias(fake_transformers: types.ModuleType) -> None:
    built = resolve_llm("smollm2")
    assert isinstance(built, Built)
    assert built.args == ("/cache/smollm2.gguf",)


@pytest.mark.parametrize(
    "spec", ["anthropic:claude", "gpt-4o-mini", "", "ollama/qwen2.5:7b", "HF:/x", "smollm3"]
)
def test_unknown_spec_lists_the_valid_ones(spec: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_llm(spec)
    message = str(info.value)
    for valid in ("openai:", "litellm:", "hf:", "gguf:", "smollm2"):
        assert valid in message


@pytest.mark.parametrize("spec", ["openai:", "litellm:", "hf:  ", "gguf:"])
def test_empty_model_is_rejected(spec: str) -> None:
    with pytest.raises(ConfigurationError, match="names no model"):
        resolve_llm(spec)


def test_instances_pass_through() -> None:
    llm = ScriptedLLM(["x"])
    assert resolve_llm(llm) is llm


def test_instance_with_overrides_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="overrides"):
        resolve_llm(ScriptedLLM([]), timeout=3)


def test_non_llm_object_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="expected an LLM"):
        resolve_llm(42)  # type: ignore[arg-type]


def test_docstring_examples_run() -> None:
    result = doctest.testmod(llms_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_import_is_light() -> None:
    script = textwrap.dedent(
        """
        import sys
        import memory_r1.llms
        from memory_r1.llms import resolve_llm
        resolve_llm("litellm:ollama/qwen2.5:7b")
        resolve_llm("openai:gpt-4o-mini")
        heavy = {"litellm", "openai", "torch", "transformers", "memory_r1.llms.transformers"}
        assert not heavy & set(sys.modules), heavy & set(sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
