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
import copy
import functools
import os
import re
import time
from collections.abc import Sequence
from typing import Any, Literal, get_args

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms.base import LLMResponse, Message

__all__ = ["JsonMode", "LiteLLM", "pick_response_format"]

JsonMode = Literal["auto", "schema", "json_object", "off"]

RETRY_BASE_S = 1.0
"""Seconds before the first retry; doubled for each further one."""
RETRY_MAX_S = 16.0
"""Cap on the wait between two attempts."""
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})

# Keys that LiteLLM sets itself; passing them through ``extra`` would be ambiguous.
_RESERVED = frozenset(
    {"model", "messages", "stream", "temperature", "max_tokens", "response_format"}
    | {"api_base", "api_key", "timeout", "num_retries", "max_retries"}
)


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
    return isinstance(exc, transient) or getattr(exc, "status_code", None) in _RETRYABLE_STATUS


def _retry_delay(attempt: int) -> float:
    return float(min(RETRY_MAX_S, RETRY_BASE_S * 2**attempt))


def _schema_name(json_schema: dict[str, Any]) -> str:
    # OpenAI requires ^[a-zA-Z0-9_-]{1,64}$.
    title = str(json_schema.get("title") or "response")
    return re.sub(r"[^a-zA-Z0-9_-]", "_", title)[:64] or "response"


def pick_response_format(
    json_schema: dict[str, Any] | None,
    json_mode: JsonMode,
    *,
    supports_schema: bool,
    supports_response_format: bool,
) -> dict[str, Any] | None:
    """Choose the ``response_format`` to send, or ``None`` to send none. Pure.

    ``"auto"`` sends the schema when the provider supports response schemas, else plain
    JSON mode when it supports ``response_format`` at all, else nothing. ``"schema"`` and
    ``"json_object"`` force that form; ``"off"`` never sends one. Nothing is sent when
    the caller asked for no schema.

    Args:
        json_schema: the schema the caller asked for, or ``None``.
        json_mode: the backend's setting.
        supports_schema: whether the provider accepts ``{"type": "json_schema", ...}``.
        supports_response_format: whether it accepts ``response_format`` at all.

    Returns:
        The ``response_format`` value, or ``None``.

    Example:
        >>> pick_response_format({"type": "object"}, "auto",
        ...                      supports_schema=False, supports_response_format=True)
        {'type': 'json_object'}
    """
    if json_schema is None or json_mode == "off":
        return None
    use_schema = json_mode == "schema" or (json_mode == "auto" and supports_schema)
    if use_schema:
        return {
            "type": "json_schema",
            "json_schema": {
                "name": _schema_name(json_schema),
                "schema": json_schema,
                "strict": False,
            },
        }
    if json_mode == "json_object" or supports_response_format:
        return {"type": "json_object"}
    return None


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


class LiteLLM:
    """An ``LLM`` backed by ``litellm.completion`` / ``litellm.acompletion``.

    The model string uses litellm's provider prefixes: ``"gpt-4o-mini"``,
    ``"openai/<name>"`` with ``api_base`` for any OpenAI-compatible server,
    ``"ollama/qwen2.5:7b"``, ``"hosted_vllm/<hf-id>"``, ``"anthropic/..."``.
    When a call passes ``json_schema``, ``json_mode`` decides what is sent (see
    ``pick_response_format``). ``"auto"`` sends the schema to providers that enforce one
    (per litellm's model map, plus Ollama, vLLM and LM Studio servers), plain JSON mode
    to other providers that accept ``response_format``, and nothing otherwise; the
    capability lookup never touches the network. Callers validate the text either way.

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
        if not model or not model.strip():
            raise ConfigurationError("LiteLLM needs a model name, e.g. 'openai/gpt-4o-mini'")
        if json_mode not in get_args(JsonMode):
            raise ConfigurationError(
                f"json_mode must be one of {get_args(JsonMode)}, got {json_mode!r}"
            )
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        if num_retries < 0:
            raise ConfigurationError(f"num_retries must be >= 0, got {num_retries}")
        clash = sorted(_RESERVED.intersection(extra or {}))
        if clash:
            raise ConfigurationError(
                f"extra may not set {clash}: use LiteLLM's own arguments or the call's"
            )
        self.model = model
        self.api_base = api_base
        self.timeout = timeout
        self.num_retries = num_retries
        self.json_mode: JsonMode = json_mode
        self._api_key = api_key
        self._extra = dict(extra or {})

    @property
    def name(self) -> str:
        """``"litellm:<model>"``."""
        return f"litellm:{self.model}"

    def __repr__(self) -> str:
        base = f", api_base={self.api_base!r}" if self.api_base else ""
        return f"LiteLLM({self.model!r}{base}, json_mode={self.json_mode!r})"

    def response_format(self, json_schema: dict[str, Any] | None) -> dict[str, Any] | None:
        """The ``response_format`` this backend sends for ``json_schema`` (or ``None``)."""
        if json_schema is None or self.json_mode == "off":
            return None
        schema, fmt = _capabilities(self.model) if self.json_mode == "auto" else (False, False)
        return pick_response_format(
            json_schema, self.json_mode, supports_schema=schema, supports_response_format=fmt
        )

    def _kwargs(
        self,
        messages: Sequence[Message],
        json_schema: dict[str, Any] | None,
        max_tokens: int | None,
        temperature: float,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            **self._extra,
            "model": self.model,
            "messages": [copy.deepcopy(m) for m in messages],
            "temperature": temperature,
            "timeout": self.timeout,
            "num_retries": 0,  # retries are ours; see the module docstring
        }
        if self.api_base is not None:
            kwargs["api_base"] = self.api_base
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        response_format = self.response_format(json_schema)
        if response_format is not None:
            kwargs["response_format"] = response_format
        return kwargs

    def _to_response(self, raw: Any, latency: float) -> LLMResponse:
        choices = getattr(raw, "choices", None) or []
        if not choices:
            raise LLMError(f"litellm returned no choices for {self.model!r}")
        choice = choices[0]
        message = getattr(choice, "message", None)
        usage = getattr(raw, "usage", None)
        return LLMResponse(
            text=getattr(message, "content", None) or "",
            prompt_tokens=getattr(usage, "prompt_tokens", None) or 0,
            completion_tokens=getattr(usage, "completion_tokens", None) or 0,
            latency_s=latency,
            model=getattr(raw, "model", None) or self.model,
            truncated=getattr(choice, "finish_reason", None) == "length",
        )

    def _error(self, exc: Exception, attempts: int) -> LLMError:
        return LLMError(
            f"litellm call to {self.model!r} failed after {attempts} attempt(s): "
            f"{type(exc).__name__}: {exc}"
        )

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Complete the conversation with ``litellm.completion``.

        ``pattern`` is not sent: providers take no regular-expression constraint, so the
        prompt's own format instructions carry it (the caller's parser checks the result).

        Raises:
            LLMError: the call failed (transient errors after ``num_retries`` retries);
                chains litellm's last error.
        """
        lit = _litellm()
        kwargs = self._kwargs(messages, json_schema, max_tokens, temperature)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                raw = lit.completion(**kwargs)
            except Exception as exc:
                if attempt >= self.num_retries or not _is_retryable(exc):
                    raise self._error(exc, attempt + 1) from exc
            else:
                return self._to_response(raw, time.perf_counter() - start)
            time.sleep(_retry_delay(attempt))
            attempt += 1

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Async twin of ``complete``, with ``litellm.acompletion``.

        Raises:
            LLMError: the call failed (transient errors after ``num_retries`` retries);
                chains litellm's last error.
        """
        lit = _litellm()
        kwargs = self._kwargs(messages, json_schema, max_tokens, temperature)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                raw = await lit.acompletion(**kwargs)
            except Exception as exc:
                if attempt >= self.num_retries or not _is_retryable(exc):
                    raise self._error(exc, attempt + 1) from exc
            else:
                return self._to_response(raw, time.perf_counter() - start)
            await asyncio.sleep(_retry_delay(attempt))
            attempt += 1
