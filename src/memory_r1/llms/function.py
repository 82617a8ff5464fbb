"""Fake LLMs for tests and examples: a scripted one and one backed by a plain function.

Both satisfy the ``LLM`` protocol, never touch the network and count tokens with a
deterministic approximation (whitespace-separated words), so usage accounting can be
tested exactly. They are re-exported from ``memory_r1.testing``.
"""

from __future__ import annotations

import copy
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms.base import LLMResponse, Message

__all__ = ["CallInfo", "FunctionLLM", "ScriptedCall", "ScriptedLLM", "approx_tokens"]

Reply = str | LLMResponse | BaseException
FunctionResult = str | LLMResponse
SyncFn = Callable[[list[Message], "CallInfo"], FunctionResult]
AsyncFn = Callable[[list[Message], "CallInfo"], Awaitable[FunctionResult]]
_EXHAUSTED: Any = object()


def approx_tokens(text: str) -> int:
    """Count whitespace-separated words: the fakes' deterministic stand-in for tokens.

    Example:
        >>> approx_tokens("two words")
        2
    """
    return len(text.split())


@dataclass(frozen=True)
class CallInfo:
    """The options of one call, as handed to a ``FunctionLLM`` function.

    Attributes:
        json_schema: the JSON schema the caller asked for, if any.
        max_tokens: the caller's completion-token limit, if any.
        temperature: the caller's sampling temperature.
        index: 0 for the fake's first call, 1 for the second, and so on.
        pattern: the regular expression the caller asked the output to match, if any.
    """

    json_schema: dict[str, Any] | None
    max_tokens: int | None
    temperature: float
    index: int
    pattern: str | None = None


@dataclass(frozen=True)
class ScriptedCall:
    """One call a fake received; ``messages`` is a deep copy taken at call time."""

    messages: list[Message]
    json_schema: dict[str, Any] | None
    max_tokens: int | None
    temperature: float
    pattern: str | None = None


def _copy_messages(messages: Sequence[Message]) -> list[Message]:
    return [copy.deepcopy(m) for m in messages]


def _build_response(
    text: str, messages: Sequence[Message], model: str, latency: float
) -> LLMResponse:
    prompt = sum(approx_tokens(str(m.get("content", ""))) for m in messages)
    return LLMResponse(
        text=text,
        prompt_tokens=prompt,
        completion_tokens=approx_tokens(text),
        latency_s=latency,
        model=model,
    )


class _Recorder:
    """Thread-safe call log shared by both fakes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[ScriptedCall] = []

    def _record(
        self,
        messages: Sequence[Message],
        json_schema: dict[str, Any] | None,
        max_tokens: int | None,
        temperature: float,
        pattern: str | None,
    ) -> ScriptedCall:
        call = ScriptedCall(
            messages=_copy_messages(messages),
            json_schema=copy.deepcopy(json_schema),
            max_tokens=max_tokens,
            temperature=temperature,
            pattern=pattern,
        )
        self.calls.append(call)
        return call


class ScriptedLLM(_Recorder):
    """An LLM that returns pre-written replies in order.

    Sync and async calls consume one shared script under a lock. A reply that is an
    exception is raised as given (script ``LLMError(...)`` to test error paths); an
    ``LLMResponse`` is returned verbatim (script one with ``truncated=True`` to test
    truncation); a string becomes an ``LLMResponse`` with whitespace-word token counts
    and zero latency. The script may be infinite, e.g. ``itertools.repeat("ok")``.

    Args:
        replies: the replies, consumed lazily in order.
        name: the value of ``.name`` and of each response's ``model``.

    Raises:
        LLMError: from ``complete``/``acomplete`` once the script is exhausted.

    Example:
        >>> llm = ScriptedLLM(["hello", "world"])
        >>> llm.complete([{"role": "user", "content": "hi"}]).text
        'hello'
        >>> llm.calls[0].messages
        [{'role': 'user', 'content': 'hi'}]
    """

    def __init__(self, replies: Iterable[Reply], *, name: str = "scripted") -> None:
        super().__init__()
        self._replies = iter(replies)
        self._name = name
        self._served = 0

    @property
    def name(self) -> str:
        """The name given at construction."""
        return self._name

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Record the call and return (or raise) the next scripted reply."""
        with self._lock:
            self._record(messages, json_schema, max_tokens, temperature, pattern)
            reply = next(self._replies, _EXHAUSTED)
            if reply is _EXHAUSTED:
                raise LLMError(f"ScriptedLLM ran out of replies after {self._served} calls")
            self._served += 1
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, LLMResponse):
            return reply
        return _build_response(cast(str, reply), messages, self._name, 0.0)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Async twin of ``complete``; consumes the same script."""
        return self.complete(
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            pattern=pattern,
        )

    def script(self, *replies: Reply) -> None:
        """Replace what is left of the script with ``replies`` and forget recorded calls."""
        with self._lock:
            self._replies = iter(replies)
            self.calls.clear()

    def __repr__(self) -> str:
        return f"ScriptedLLM(name={self._name!r}, calls={len(self.calls)})"


def _is_async_callable(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class FunctionLLM(_Recorder):
    """An LLM whose replies come from your function ``fn(messages, info)``.

    ``fn`` receives a deep copy of the messages and a ``CallInfo`` and returns either the
    reply text or a full ``LLMResponse`` (returned verbatim). For text, tokens are
    counted as whitespace words and ``latency_s`` is the time ``fn`` took. Exceptions
    from ``fn`` propagate unchanged. If ``fn`` is a coroutine function, use
    ``acomplete``; ``complete`` then raises ``ConfigurationError``. A sync ``fn`` works
    with both (``acomplete`` calls it directly, without a thread). Calls are recorded in
    ``.calls`` like ``ScriptedLLM``'s.

    Args:
        fn: a sync or async function ``(list[Message], CallInfo) -> str | LLMResponse``.
        name: the value of ``.name`` and of each response's ``model``.

    Raises:
        ConfigurationError: ``fn`` is not callable, or ``complete`` on an async ``fn``.
        LLMError: ``fn`` returned something other than ``str`` or ``LLMResponse``.

    Example:
        >>> echo = FunctionLLM(lambda messages, info: messages[-1]["content"].upper())
        >>> echo.complete([{"role": "user", "content": "hi there"}]).text
        'HI THERE'
    """

    def __init__(self, fn: SyncFn | AsyncFn, *, name: str = "function") -> None:
        if not callable(fn):
            raise ConfigurationError(f"FunctionLLM needs a callable, got {type(fn).__name__}")
        super().__init__()
        self._fn = fn
        self._name = name
        self.is_async = _is_async_callable(fn)

    @property
    def name(self) -> str:
        """The name given at construction."""
        return self._name

    def _start(
        self,
        messages: Sequence[Message],
        json_schema: dict[str, Any] | None,
        max_tokens: int | None,
        temperature: float,
        pattern: str | None,
    ) -> tuple[list[Message], CallInfo]:
        with self._lock:
            index = len(self.calls)
            self._record(messages, json_schema, max_tokens, temperature, pattern)
        info = CallInfo(
            json_schema=copy.deepcopy(json_schema),
            max_tokens=max_tokens,
            temperature=temperature,
            index=index,
            pattern=pattern,
        )
        return _copy_messages(messages), info

    def _finish(self, result: object, messages: Sequence[Message], latency: float) -> LLMResponse:
        if isinstance(result, LLMResponse):
            return result
        if isinstance(result, str):
            return _build_response(result, messages, self._name, latency)
        raise LLMError(
            f"FunctionLLM {self._name!r}: fn returned {type(result).__name__}, "
            "expected str or LLMResponse"
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
        """Call ``fn`` and wrap its result.

        Raises:
            ConfigurationError: ``fn`` is async; use ``acomplete``.
        """
        if self.is_async:
            raise ConfigurationError(
                f"FunctionLLM {self._name!r} wraps an async function; call acomplete() instead"
            )
        copied, info = self._start(messages, json_schema, max_tokens, temperature, pattern)
        start = time.perf_counter()
        result = cast(SyncFn, self._fn)(copied, info)
        return self._finish(result, messages, time.perf_counter() - start)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Await ``fn`` if it is async, else call it; wrap its result."""
        copied, info = self._start(messages, json_schema, max_tokens, temperature, pattern)
        start = time.perf_counter()
        result: object = self._fn(copied, info)
        if inspect.isawaitable(result):
            result = await result
        return self._finish(result, messages, time.perf_counter() - start)

    def __repr__(self) -> str:
        return f"FunctionLLM(name={self._name!r}, async={self.is_async})"
