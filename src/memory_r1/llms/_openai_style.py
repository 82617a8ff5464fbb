"""What the OpenAI-style backends (``LiteLLM`` and ``OpenAILLM``) share.

``ChatCompletionsLLM`` implements the ``LLM`` protocol over one chat-completion call,
which each backend makes its own way (``_call`` / ``_acall``). Around it, pure helpers:
option checks, the ``response_format`` for a JSON schema, the keyword arguments of a
call, and a chat completion (an object with ``choices``, ``usage`` and ``model``
attributes, as both SDKs return) turned into an ``LLMResponse``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, get_args

from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms.base import LLMResponse, Message

__all__ = [
    "CALL_KEYS",
    "RETRYABLE_STATUS",
    "ChatCompletionsLLM",
    "JsonMode",
    "call_kwargs",
    "check_options",
    "parse_completion",
    "pick_response_format",
]

JsonMode = Literal["auto", "schema", "json_object", "off"]

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt: timeouts, conflicts, rate limits and 5xx."""

CALL_KEYS = frozenset(
    {"model", "messages", "stream", "temperature", "max_tokens", "response_format", "timeout"}
)
"""Keys a backend sets on every call itself, so ``extra`` may not set them."""


def check_options(
    model: str,
    *,
    json_mode: str,
    timeout: float,
    num_retries: int,
    extra: dict[str, Any] | None,
    reserved: frozenset[str],
    backend: str,
) -> None:
    """Raise ``ConfigurationError`` for an argument a backend cannot work with.

    Example:
        >>> check_options("m", json_mode="auto", timeout=0, num_retries=0, extra=None,
        ...               reserved=CALL_KEYS, backend="X")
        Traceback (most recent call last):
        ...
        memory_r1.exceptions.ConfigurationError: timeout must be positive, got 0
    """
    if not model or not model.strip():
        raise ConfigurationError(f"{backend} needs a model name, e.g. 'gpt-4o-mini'")
    if json_mode not in get_args(JsonMode):
        raise ConfigurationError(
            f"json_mode must be one of {get_args(JsonMode)}, got {json_mode!r}"
        )
    if timeout <= 0:
        raise ConfigurationError(f"timeout must be positive, got {timeout}")
    if num_retries < 0:
        raise ConfigurationError(f"num_retries must be >= 0, got {num_retries}")
    clash = sorted(reserved.intersection(extra or {}))
    if clash:
        raise ConfigurationError(
            f"extra may not set {clash}: use {backend}'s own arguments or the call's"
        )


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


def call_kwargs(
    extra: dict[str, Any],
    model: str,
    messages: Sequence[Message],
    *,
    temperature: float | None,
    max_tokens: int | None,
    response_format: dict[str, Any] | None,
    max_tokens_key: str = "max_tokens",
) -> dict[str, Any]:
    """The keyword arguments of one chat-completion call; ``messages`` are copied.

    ``temperature=None`` leaves it out; ``max_tokens`` goes under ``max_tokens_key``.

    Example:
        >>> call_kwargs({"seed": 0}, "m", [], temperature=0.0, max_tokens=8,
        ...             response_format=None)
        {'seed': 0, 'model': 'm', 'messages': [], 'temperature': 0.0, 'max_tokens': 8}
    """
    kwargs: dict[str, Any] = {
        **extra,
        "model": model,
        "messages": [copy.deepcopy(m) for m in messages],
    }
    if temperature is not None:
        kwargs["temperature"] = temperature
    if max_tokens is not None:
        kwargs[max_tokens_key] = max_tokens
    if response_format is not None:
        kwargs["response_format"] = response_format
    return kwargs


def parse_completion(raw: Any, *, model: str, source: str, latency_s: float) -> LLMResponse:
    """An ``LLMResponse`` from a chat completion; missing usage counts as zero tokens.

    Raises:
        LLMError: the reply has no choices, or fields of the wrong type.
    """
    choices = getattr(raw, "choices", None) or []
    if not isinstance(choices, Sequence) or isinstance(choices, str) or not choices:
        raise LLMError(f"{source} returned no choices for {model!r}: {str(raw)[:200]!r}")
    choice = choices[0]
    message = getattr(choice, "message", None)
    usage = getattr(raw, "usage", None)
    try:
        return LLMResponse(
            text=getattr(message, "content", None) or "",
            prompt_tokens=getattr(usage, "prompt_tokens", None) or 0,
            completion_tokens=getattr(usage, "completion_tokens", None) or 0,
            latency_s=latency_s,
            model=getattr(raw, "model", None) or model,
            truncated=getattr(choice, "finish_reason", None) == "length",
        )
    except ValueError as exc:  # pydantic's ValidationError: a field of the wrong type
        raise LLMError(f"{source} returned a malformed reply for {model!r}: {exc}") from exc


class ChatCompletionsLLM:
    """The ``LLM`` protocol over one OpenAI-style chat-completion call.

    Subclasses set ``prefix`` and ``reserved``, make the call in ``_call`` / ``_acall``
    (returning the raw completion and the seconds its last attempt took) and may override
    ``_capabilities`` (what ``json_mode="auto"`` may send), ``_reasoning`` (no
    temperature, and ``max_completion_tokens`` for ``max_tokens``) and ``_server`` (shown
    by ``repr``).
    """

    prefix: ClassVar[str] = "chat"
    reserved: ClassVar[frozenset[str]] = CALL_KEYS
    """The keys ``extra`` may not set."""

    def __init__(
        self,
        model: str,
        json_mode: JsonMode,
        timeout: float,
        num_retries: int,
        extra: dict[str, Any] | None,
    ) -> None:
        check_options(
            model,
            json_mode=json_mode,
            timeout=timeout,
            num_retries=num_retries,
            extra=extra,
            reserved=self.reserved,
            backend=type(self).__name__,
        )
        self.model = model
        self.timeout = timeout
        self.num_retries = num_retries
        self.json_mode: JsonMode = json_mode
        self._extra = dict(extra or {})

    @property
    def name(self) -> str:
        """``"<prefix>:<model>"``, e.g. ``"openai:gpt-4o-mini"``."""
        return f"{self.prefix}:{self.model}"

    def _server(self) -> tuple[str, str | None]:
        return "base_url", None

    def __repr__(self) -> str:
        arg, url = self._server()
        server = f", {arg}={url!r}" if url else ""
        return f"{type(self).__name__}({self.model!r}{server}, json_mode={self.json_mode!r})"

    def _capabilities(self) -> tuple[bool, bool]:
        """``(supports_schema, supports_response_format)``, for ``json_mode="auto"``."""
        return True, True

    def _reasoning(self) -> bool:
        return False

    def response_format(self, json_schema: dict[str, Any] | None) -> dict[str, Any] | None:
        """The ``response_format`` this backend sends for ``json_schema`` (or ``None``)."""
        if json_schema is None or self.json_mode == "off":
            return None
        schema, fmt = self._capabilities() if self.json_mode == "auto" else (False, False)
        return pick_response_format(
            json_schema, self.json_mode, supports_schema=schema, supports_response_format=fmt
        )

    def request_body(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """The chat-completion arguments of one call (no I/O; no credentials)."""
        reasoning = self._reasoning()
        return call_kwargs(
            self._extra,
            self.model,
            messages,
            temperature=None if reasoning else temperature,
            max_tokens=max_tokens,
            response_format=self.response_format(json_schema),
            max_tokens_key="max_completion_tokens" if reasoning else "max_tokens",
        )

    def _failure(self, exc: Exception, attempts: int) -> LLMError:
        url = self._server()[1]
        at = f" at {url}" if url else ""
        return LLMError(
            f"{self.prefix} call to {self.model!r}{at} failed after {attempts} attempt(s): "
            f"{type(exc).__name__}: {exc}"
        )

    def _call(self, body: dict[str, Any]) -> tuple[Any, float]:
        raise NotImplementedError

    async def _acall(self, body: dict[str, Any]) -> tuple[Any, float]:
        raise NotImplementedError

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Complete the conversation with one chat-completion call (and its retries).

        ``pattern`` is not sent: servers take no regular-expression constraint through
        this API, so the prompt's own format instructions carry it (the caller's parser
        checks the result).

        Raises:
            LLMError: the call failed (transient errors after ``num_retries`` retries) or
                the reply is malformed; chains the last error.
            ConfigurationError: (``OpenAILLM``) no API key, or the server refused it.
        """
        body = self.request_body(
            messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
        )
        raw, latency = self._call(body)
        return parse_completion(raw, model=self.model, source=self.prefix, latency_s=latency)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Async twin of ``complete``.

        Raises:
            LLMError: as ``complete``.
            ConfigurationError: as ``complete``.
        """
        body = self.request_body(
            messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
        )
        raw, latency = await self._acall(body)
        return parse_completion(raw, model=self.model, source=self.prefix, latency_s=latency)
