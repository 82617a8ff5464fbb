"""The OpenAI backend: the ``openai`` SDK, straight to OpenAI or to any OpenAI-compatible
server (vLLM, Ollama's ``/v1``, LM Studio, llama.cpp's server), without litellm.

The SDK costs a few milliseconds per call on the client side, litellm several times more
(``benchmarks/vs_mem0.py``); use ``LiteLLM`` for providers that do not speak OpenAI's API.
``openai`` is imported on first use, never at module import.

Retries are the SDK's: ``num_retries`` becomes the clients' ``max_retries``, so connection
errors, timeouts, 408, 409, 429 and 5xx replies are retried with exponential backoff (and
``Retry-After`` honoured); other errors are not.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError, MemoryR1Error
from memory_r1.llms._openai_style import CALL_KEYS, ChatCompletionsLLM, JsonMode

if TYPE_CHECKING:
    import openai

__all__ = ["LOCAL_API_KEY", "OpenAILLM"]

LOCAL_API_KEY = "not-needed"
"""The key sent to a ``base_url`` server when none is given (local servers ignore it)."""

_RESERVED = CALL_KEYS | {"max_completion_tokens"}
# OpenAI's reasoning models take ``max_completion_tokens`` and no temperature but the default.
_REASONING = re.compile(r"^(o\d|gpt-5)")
# OpenAI's models from before structured outputs: JSON mode only.
_NO_SCHEMA = re.compile(r"^gpt-(3\.5|4)(-|$)")


def _openai() -> Any:  # the openai module
    return require("openai", "openai")


class OpenAILLM(ChatCompletionsLLM):
    """An ``LLM`` backed by ``openai.OpenAI`` / ``openai.AsyncOpenAI`` chat completions.

    ``model`` is the name the server knows: ``"gpt-4o-mini"`` on OpenAI, ``"qwen2.5:7b"``
    on Ollama, the Hugging Face id on vLLM. When a call passes ``json_schema``,
    ``json_mode`` decides what is sent (see ``pick_response_format``): ``"auto"`` sends the
    schema (OpenAI's current models, vLLM, Ollama, LM Studio and llama.cpp enforce it),
    except to OpenAI's gpt-3.5 and gpt-4 models, which get plain JSON mode. Callers
    validate the text either way. For OpenAI's reasoning models (o1, o3, o4-mini, gpt-5,
    ...) ``max_tokens`` is sent as ``max_completion_tokens`` and ``temperature`` is left
    out, as they accept neither.

    The clients are built on first use: one sync client, and one async client per event
    loop (an ``httpx`` connection pool cannot cross loops).

    Args:
        model: the model name.
        base_url: the server's URL ending in ``/v1``; default ``$OPENAI_BASE_URL``, else
            OpenAI's.
        api_key: the API key; default ``$OPENAI_API_KEY``, else, when a server URL is set,
            ``LOCAL_API_KEY`` (local servers take any key).
        timeout: seconds per request.
        num_retries: retries after a transient error (the clients' ``max_retries``).
        json_mode: ``"auto"``, ``"schema"``, ``"json_object"`` or ``"off"``.
        extra: more keyword arguments for every ``chat.completions.create`` call, e.g.
            ``{"seed": 0}`` or ``{"extra_body": {...}}`` for a server's own options.
        client: an ``openai.OpenAI`` to use instead of building one (``base_url``,
            ``api_key``, ``timeout`` and ``num_retries`` then do not apply to it).
        async_client: likewise an ``openai.AsyncOpenAI``, used on every event loop.

    Raises:
        ConfigurationError: an invalid argument, or ``extra`` sets a key this class owns;
            on a call, no API key, or the server refused it (401/403).
        MissingDependencyError: on the first call, if openai is not installed.
        LLMError: from ``complete``/``acomplete`` when the call fails after its retries
            or the reply is malformed.

    Example:
        >>> llm = OpenAILLM("qwen2.5:7b", base_url="http://localhost:11434/v1")
        >>> llm.name
        'openai:qwen2.5:7b'
        >>> body = llm.request_body([{"role": "user", "content": "hi"}], max_tokens=8)
        >>> body["model"], body["temperature"], body["max_tokens"]
        ('qwen2.5:7b', 0.0, 8)
    """

    prefix = "openai"
    reserved = _RESERVED

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        num_retries: int = 2,
        json_mode: JsonMode = "auto",
        extra: dict[str, Any] | None = None,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
    ) -> None:
        super().__init__(model, json_mode, timeout, num_retries, extra)
        self.base_url = base_url
        self._api_key = api_key
        self._client = client
        self._async_client = async_client
        self._loop_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, openai.AsyncOpenAI
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _server(self) -> tuple[str, str | None]:
        return "base_url", self.base_url

    def _capabilities(self) -> tuple[bool, bool]:
        return _NO_SCHEMA.match(self.model) is None, True

    def _reasoning(self) -> bool:
        return _REASONING.match(self.model) is not None

    def _settings(self) -> dict[str, Any]:
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = self._api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if base_url is None:
                raise ConfigurationError(
                    "OpenAILLM needs an API key: set OPENAI_API_KEY or pass api_key= "
                    "(or base_url= for a local server, which needs none)"
                )
            api_key = LOCAL_API_KEY
        return {
            "base_url": base_url,
            "api_key": api_key,
            "timeout": self.timeout,
            "max_retries": self.num_retries,
        }

    def sync_client(self) -> openai.OpenAI:
        """The ``openai.OpenAI`` client, built on first use.

        Raises:
            ConfigurationError: no API key (see the class's ``api_key``).
            MissingDependencyError: openai is not installed.
        """
        with self._lock:
            if self._client is None:
                client: openai.OpenAI = _openai().OpenAI(**self._settings())
                self._client = client
            return self._client

    def async_client(self) -> openai.AsyncOpenAI:
        """The ``openai.AsyncOpenAI`` client of the running event loop, built on first use.

        Raises:
            ConfigurationError: no API key (see the class's ``api_key``).
            MissingDependencyError: openai is not installed.
        """
        if self._async_client is not None:
            return self._async_client
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._loop_clients.get(loop)
            if client is None:
                client = _openai().AsyncOpenAI(**self._settings())
                self._loop_clients[loop] = client
            return client

    def _error(self, exc: Exception) -> MemoryR1Error:
        sdk = _openai()
        status = getattr(exc, "status_code", None)
        if isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
            return ConfigurationError(
                f"{self.base_url or 'OpenAI'} refused the API key for {self.model!r} "
                f"({status}): set OPENAI_API_KEY or pass api_key=; {exc}"
            )
        transient = isinstance(exc, sdk.APIConnectionError) or (
            status is not None and (status >= 500 or status in (408, 409, 429))
        )
        return self._failure(exc, 1 + self.num_retries if transient else 1)

    def _call(self, body: dict[str, Any]) -> tuple[Any, float]:
        client = self.sync_client()
        start = time.perf_counter()
        try:
            raw = client.chat.completions.create(**body)
        except Exception as exc:  # the SDK's errors, or an unreadable body (ValueError)
            raise self._error(exc) from exc
        return raw, time.perf_counter() - start

    async def _acall(self, body: dict[str, Any]) -> tuple[Any, float]:
        client = self.async_client()
        start = time.perf_counter()
        try:
            raw = await client.chat.completions.create(**body)
        except Exception as exc:  # the SDK's errors, or an unreadable body (ValueError)
            raise self._error(exc) from exc
        return raw, time.perf_counter() - start
