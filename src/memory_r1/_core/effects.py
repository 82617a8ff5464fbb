"""Sans-I/O plumbing: flows are generators that yield effects; two drivers carry them out.

Every decision ``Memory`` and ``AsyncMemory`` make is written once, as a generator that
yields an effect (embed these texts, call the bank, call an LLM) and receives its result.
``run_sync`` performs effects with plain calls; ``run_async`` awaits native async methods
where they exist and runs blocking ones in a worker thread. An effect that raises is
thrown back into the flow, which may handle it (e.g. re-ask an LLM) or let it propagate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from memory_r1.embeddings.base import Embedder
from memory_r1.types import TraceEvent

T = TypeVar("T")


@dataclass(frozen=True)
class Embed:
    """Embed ``texts``; the result is a list of vectors (lists of floats)."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """Call a blocking function (a bank method, say); the result is its return value."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Complete:
    """Call an LLM: ``llm.complete`` / ``await llm.acomplete`` with these arguments."""

    llm: Any
    messages: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    purpose: str = "llm"


@dataclass(frozen=True)
class Emit:
    """Hand a trace event to the caller's hook (the result is None)."""

    event: TraceEvent


Effect = Embed | Call | Complete | Emit
Hook = Callable[[TraceEvent], None]
Flow = Generator[Effect, Any, T]


def _embedded(vectors: Any) -> list[list[float]]:
    return [list(map(float, row)) for row in vectors]


def _llm_event(effect: Complete, response: Any) -> TraceEvent:
    return TraceEvent(
        kind="llm_call",
        data={
            "purpose": effect.purpose,
            "model": getattr(effect.llm, "name", "?"),
            "prompt_tokens": response.prompt_tokens,
            "completion_tokens": response.completion_tokens,
            "latency_s": response.latency_s,
            "truncated": response.truncated,
        },
    )


def _emit(hook: Hook | None, event: TraceEvent) -> None:
    if hook is not None:
        hook(event)


def run_sync(flow: Flow[T], embedder: Embedder, hook: Hook | None = None) -> T:
    """Drive ``flow`` to its end with blocking calls."""
    send: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            if isinstance(effect, Embed):
                send = _embedded(embedder.embed(list(effect.texts))) if effect.texts else []
            elif isinstance(effect, Call):
                send = effect.fn(*effect.args, **effect.kwargs)
            elif isinstance(effect, Emit):
                _emit(hook, effect.event)
            else:
                send = effect.llm.complete(list(effect.messages), **effect.kwargs)
                _emit(hook, _llm_event(effect, send))
        except Exception as exc:
            error = exc


async def run_async(flow: Flow[T], embedder: Embedder, hook: Hook | None = None) -> T:
    """Drive ``flow`` to its end without blocking the event loop."""
    send: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            if isinstance(effect, Embed):
                send = _embedded(await _aembed(embedder, effect.texts)) if effect.texts else []
            elif isinstance(effect, Call):
                send = await asyncio.to_thread(effect.fn, *effect.args, **effect.kwargs)
            elif isinstance(effect, Emit):
                _emit(hook, effect.event)
            else:
                send = await effect.llm.acomplete(list(effect.messages), **effect.kwargs)
                _emit(hook, _llm_event(effect, send))
        except Exception as exc:
            error = exc


async def _aembed(embedder: Embedder, texts: Sequence[str]) -> Any:
    aembed = getattr(embedder, "aembed", None)
    if aembed is not None:
        return await aembed(list(texts))
    return await asyncio.to_thread(embedder.embed, list(texts))
