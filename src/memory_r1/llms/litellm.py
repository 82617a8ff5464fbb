"""The litellm backend: any API model litellm can route to (OpenAI, Ollama, vLLM, ...).

litellm is imported on first use, never at module import, and only after
``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set (unless the user set it), so that importing
it does not fetch a price map from the network.

Retries are ours, not litellm's: litellm is called with ``num_retries=0`` (which also sets
the OpenAI client's ``max_retries`` to 0) and transient errors are retried here with
exponential backoff. litellm's own retry path needs ``tenacity``, which litellm does not
depend on, and resets the global ``litellm.num_retries``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from typing import Any

from memory_r1._lazy import require
from memory_r1.llms._openai_style import (
    CALL_KEYS,
    RETRYABLE_STATUS,
    ChatCompletionsLLM,
    JsonMode,
    pick_response_format,
)

__all__ = ["JsonMode", "LiteLLM", "pick_response_format"]

RETRY_BASE_S = 1.0
"""Seconds before the first retry; doubled for each further one."""
RETRY_MAX_S = 16.0
"""Cap on the wait between two attempts."""

# Keys that LiteLLM sets itself; passing them through ``extra`` would be ambiguous.
_RESERVED = CALL_KEYS | {"api_base", "api_key", "num_retries", "max_retries"}


@functools.cache
def _litellm() -> Any:  # the litellm module; untyped (ignore_missing_imports)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    module: Any = require("litellm", "litellm")
    module.suppress_debug_info = True
    return module


def _is_retryable(exc: Exception) -> bool:
    """Transient failures: timeouts, rate limits, connection errors and 5xx."""
    lit = _litellm()
    transient = (
        lit.Timeout,
        lit.RateLimitError,
        lit.APIConnectionError,
        lit.InternalServerError,
        lit.ServiceUnavailableError,
        lit.BadGatewayError,
    )
    return isinstance(exc, transient) or getattr(exc, "status_code", None) in RETRYABLE_STATUS


def _retry_delay(attempt: int) -> float:
    return float(min(RETRY_MAX_S, RETRY_BASE_S * 2**attempt))


# Self-hosted servers that constrain output to a JSON schema (litellm maps the schema to
# Ollama's ``format``; vLLM and LM Studio take it as is). litellm's model map cannot list
# their local model names, and for Ollama its lookup would query a server at localhost.
_SCHEMA_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "lm_studio"})
# Providers whose litellm capability lookup calls the server: never ask, assume no schema.
_NO_LOOKUP_PROVIDERS = frozenset({"lemonade"})


@functools.cache
def _capabilities(model: str) -> tuple[bool, bool]:
    """``(supports_schema, supports_response_format)`` for ``model``, without network."""
    lit = _litellm()
    try:
        _, provider, _, _ = lit.get_llm_provider(model=model)
    except Exception:  # unknown provider: let the call itself report it
        return False, False
    try:
        params = lit.get_supported_openai_params(model=model, custom_llm_provider=provider)
    except Exception:
        params = None
    supports_format = "response_format" in (params or ())
    if provider in _SCHEMA_PROVIDERS:
        return True, supports_format
    if provider in _NO_LOOKUP_PROVIDERS:
        return False, supports_format
    try:
        schema = bool(lit.supports_response_schema(model=model, custom_llm_provider=provider))
    except Exception:
        schema = False
    return schema, supports_format


class LiteLLM(ChatCompletionsLLM):
    """An ``LLM`` backed by ``litellm.completion`` / ``litellm.acompletion``.

    The model string uses litellm's provider prefixes: ``"gpt-4o-mini"``,
    ``"openai/<name>"`` with ``api_base`` for any OpenAI-compatible server,
    ``"ollama/qwen2.5:7b"``, ``"hosted_vllm/<hf-id>"``, ``"anthropic/..."``.
    When a call passes ``json_schema``, ``json_mode`` decides what is sent (see
    ``pick_response_format``). ``"auto"`` sends the schema to providers that enforce one
    (per litellm's model map, plus Ollama, vLLM and LM Studio servers), plain JSON mode
    to other providers that accept ``response_format``, and nothing otherwise; the
    capability lookup never touches the network. Callers validate the text either way.
    For OpenAI-compatible servers, ``OpenAILLM`` (``"openai:<model>"``) does the same
    with less client overhead.

    Args:
        model: the litellm model string.
        api_base: the server URL, for self-hosted or OpenAI-compatible endpoints.
        api_key: the API key; by default litellm reads the provider's env variable.
        timeout: seconds per request.
        num_retries: retries after a transient error (timeout, rate limit, connection
            error, 5xx), with exponential backoff; other errors are not retried.
        json_mode: ``"auto"``, ``"schema"``, ``"json_object"`` or ``"off"``.
        extra: more keyword arguments for every litellm call, e.g. ``{"seed": 0}``,
            ``{"drop_params": True}``, or ``{"mock_response": "..."}`` for offline tests
            (litellm then returns that text, or raises it if it is an exception).

    Raises:
        ConfigurationError: an invalid argument, or ``extra`` sets a key this class owns.
        MissingDependencyError: on the first call, if litellm is not installed.
        LLMError: from ``complete``/``acomplete`` when litellm fails after its retries.

    Example:
        >>> llm = LiteLLM("gpt-4o-mini", extra={"mock_response": "hi"})
        >>> llm.complete([{"role": "user", "content": "hello"}]).text
        'hi'
    """

    prefix = "litellm"
    reserved = _RESERVED

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        num_retries: int = 2,
        json_mode: JsonMode = "auto",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, json_mode, timeout, num_retries, extra)
        self.api_base = api_base
        self._api_key = api_key

    def _server(self) -> tuple[str, str | None]:
        return "api_base", self.api_base

    def _capabilities(self) -> tuple[bool, bool]:
        return _capabilities(self.model)

    def _litellm_kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = {**body, "timeout": self.timeout, "num_retries": 0}  # retries are ours
        if self.api_base is not None:
            kwargs["api_base"] = self.api_base
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key
        return kwargs

    def _call(self, body: dict[str, Any]) -> tuple[Any, float]:
        lit, kwargs = _litellm(), self._litellm_kwargs(body)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                raw = lit.completion(**kwargs)
            except Exception as exc:
                if attempt >= self.num_retries or not _is_retryable(exc):
                    raise self._failure(exc, attempt + 1) from exc
            else:
                return raw, time.perf_counter() - start
            time.sleep(_retry_delay(attempt))
            attempt += 1

    async def _acall(self, body: dict[str, Any]) -> tuple[Any, float]:
        lit, kwargs = _litellm(), self._litellm_kwargs(body)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                raw = await lit.acompletion(**kwargs)
            except Exception as exc:
                if attempt >= self.num_retries or not _is_retryable(exc):
                    raise self._failure(exc, attempt + 1) from exc
            else:
                return raw, time.perf_counter() - start
            await asyncio.sleep(_retry_delay(attempt))
            attempt += 1
