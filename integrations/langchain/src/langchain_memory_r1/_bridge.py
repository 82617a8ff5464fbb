"""One decision-making core, two thin I/O shells, for ``Memory`` and ``AsyncMemory`` alike.

Everything this package does to a bank is written once, as a generator (a *flow*) that
yields ``Call`` requests naming a public ``Memory`` method and receives the result.
``run`` performs the calls with plain method calls, ``arun`` awaits them; either works on
a ``Memory`` or an ``AsyncMemory``:

==================  ======================================  =================================
                    ``Memory``                              ``AsyncMemory``
==================  ======================================  =================================
``run`` (sync)      plain calls                             a private event loop (a worker
                                                            thread when one already runs)
``arun`` (async)    the whole flow in a worker thread       native ``await`` on every call
==================  ======================================  =================================

A call that raises is thrown back into the flow, which may handle it (``NotFoundError``
reads as "no such key") or let it propagate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from memory_r1 import AsyncMemory, ConfigurationError, Memory

T = TypeVar("T")
AnyMemory: TypeAlias = Memory | AsyncMemory


@dataclass(frozen=True)
class Call:
    """Call ``method`` of the memory with these arguments; the result is its return value."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Flow: TypeAlias = Generator[Call, Any, T]


def check_memory(memory: object) -> AnyMemory:
    """``memory`` itself if it is a ``Memory`` or an ``AsyncMemory``; else a typed error."""
    if not isinstance(memory, Memory | AsyncMemory):
        raise ConfigurationError(
            f"expected a memory_r1.Memory or AsyncMemory, got {type(memory).__name__}"
        )
    return memory


def run(memory: AnyMemory, flow: Flow[T]) -> T:
    """Drive ``flow`` to its end, blocking."""
    if isinstance(memory, AsyncMemory):
        return _block_on(arun(memory, flow))
    send: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = flow.throw(error) if error is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            send = getattr(memory, call.method)(*call.args, **call.kwargs)
        except Exception as exc:
            error = exc


async def arun(memory: AnyMemory, flow: Flow[T]) -> T:
    """Drive ``flow`` to its end without blocking the event loop."""
    if isinstance(memory, Memory):
        return await asyncio.to_thread(run, memory, flow)
    send: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = flow.throw(error) if error is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            send = await getattr(memory, call.method)(*call.args, **call.kwargs)
        except Exception as exc:
            error = exc


def _block_on(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from a thread whose loop is running: block it on a loop of our own, elsewhere.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="memory-r1-sync") as pool:
        return pool.submit(asyncio.run, coro).result()
