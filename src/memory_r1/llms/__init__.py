"""LLM backends behind one protocol, and ``resolve_llm`` to build one from a string.

Only the protocol and the fakes are imported here; backends (and their heavy
dependencies) are imported when ``resolve_llm`` needs them. Import ``OpenAILLM`` from
``memory_r1.llms.openai``, ``LiteLLM`` from ``memory_r1.llms.litellm`` and
``TransformersLLM`` from ``memory_r1.llms.transformers``.
"""

from __future__ import annotations

import importlib
from typing import Any

from memory_r1.exceptions import ConfigurationError
from memory_r1.llms.base import LLM, LLMResponse, Message, Usage
from memory_r1.llms.function import CallInfo, FunctionLLM, ScriptedCall, ScriptedLLM

__all__ = [
    "LLM",
    "CallInfo",
    "FunctionLLM",
    "LLMResponse",
    "Message",
    "ScriptedCall",
    "ScriptedLLM",
    "Usage",
    "resolve_llm",
]

_PREFIXES = ("openai", "litellm", "hf", "gguf")
_ALIASES = ("smollm2",)
_VALID = (
    "'openai:<model>' (OpenAI or any OpenAI-compatible server via base_url=, e.g. "
    "'openai:gpt-4o-mini'), "
    "'litellm:<model>' (e.g. 'litellm:openai/gpt-4o-mini', 'litellm:ollama/qwen2.5:7b'), "
    "'hf:<path or hub id>', 'gguf:<path.gguf>', 'smollm2', or an LLM instance"
)


def _transformers_module() -> Any:
    return importlib.import_module("memory_r1.llms.transformers")


def resolve_llm(spec: str | LLM, **kwargs: Any) -> LLM:
    """Build an LLM from a spec string, or return an ``LLM`` instance unchanged.

    The spec is split on its first colon only, so model names may contain colons.

    Args:
        spec: ``"openai:<model>"`` (the ``openai`` SDK: OpenAI, or any OpenAI-compatible
            server given ``base_url=``), ``"litellm:<model>"`` (any provider litellm
            routes to), ``"hf:<path>"``, ``"gguf:<file.gguf>"``, ``"smollm2"`` (the
            bundled SmolLM2 GGUF), or an object implementing ``LLM``.
        **kwargs: forwarded to the backend's constructor (``OpenAILLM``, ``LiteLLM`` or
            ``TransformersLLM``), e.g. ``base_url=...``, ``api_base=...`` or
            ``json_mode="off"``.

    Returns:
        The LLM.

    Raises:
        ConfigurationError: unknown prefix, empty model, a non-LLM object, or keyword
            overrides given with an instance.
        MissingDependencyError: the backend's extra is not installed.

    Example:
        >>> resolve_llm("openai:gpt-4o-mini").name
        'openai:gpt-4o-mini'
        >>> resolve_llm("openai:qwen2.5:7b", base_url="http://localhost:11434/v1")
        OpenAILLM('qwen2.5:7b', base_url='http://localhost:11434/v1', json_mode='auto')
        >>> resolve_llm("litellm:ollama/qwen2.5:7b").name
        'litellm:ollama/qwen2.5:7b'
    """
    if not isinstance(spec, str):
        if not isinstance(spec, LLM):
            raise ConfigurationError(f"expected an LLM or a spec string, got {spec!r}")
        if kwargs:
            raise ConfigurationError(
                f"keyword overrides {sorted(kwargs)} apply to spec strings, not LLM instances"
            )
        return spec
    text = spec.strip()
    if text in _ALIASES:
        module = _transformers_module()
        llm: LLM = module.TransformersLLM(module.smollm2_gguf_path(), **kwargs)
        return llm
    prefix, sep, rest = text.partition(":")
    if not sep or prefix not in _PREFIXES:
        raise ConfigurationError(f"unknown LLM spec {spec!r}; valid specs: {_VALID}")
    rest = rest.strip()
    if not rest:
        raise ConfigurationError(f"LLM spec {spec!r} names no model after {prefix + ':'!r}")
    if prefix == "openai":
        from memory_r1.llms.openai import OpenAILLM

        return OpenAILLM(rest, **kwargs)
    if prefix == "litellm":
        from memory_r1.llms.litellm import LiteLLM

        return LiteLLM(rest, **kwargs)
    llm = _transformers_module().TransformersLLM(rest, **kwargs)
    return llm
