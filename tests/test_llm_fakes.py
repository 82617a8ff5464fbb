"""ScriptedLLM and FunctionLLM: the fakes our users and our tests rely on."""

from __future__ import annotations

import asyncio
import doctest
import itertools
import threading
from typing import Any

import pytest

import memory_r1.llms.function as function_module
from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms import LLM, FunctionLLM, LLMResponse, ScriptedLLM
from memory_r1.llms.base import Message
from memory_r1.llms.function import CallInfo, ScriptedCall, approx_tokens

USER: list[Message] = [{"role": "user", "content": "hello there"}]


def test_docstring_examples_run() -> None:
    result = doctest.testmod(function_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_fakes_satisfy_the_protocol() -> None:
    assert isinstance(ScriptedLLM([]), LLM)
    assert isinstance(FunctionLLM(lambda messages, info: ""), LLM)


# ScriptedLLM ------------------------------------------------------------------------------


def test_scripted_replies_in_order() -> None:
    llm = ScriptedLLM(["one", "two", "three"])
    assert [llm.complete(USER).text for _ in range(3)] == ["one", "two", "three"]


def test_scripted_exception_is_raised_as_given() -> None:
    boom = ValueError("boom")
    llm = ScriptedLLM([LLMError("down"), boom, "after"])
    with pytest.raises(LLMError, match="down"):
        llm.complete(USER)
    with pytest.raises(ValueError) as info:
        llm.complete(USER)
    assert info.value is boom
    assert llm.complete(USER).text == "after"


def test_scripted_llmresponse_is_returned_verbatim() -> None:
    reply = LLMResponse(text="cut", completion_tokens=7, truncated=True, model="m")
    assert ScriptedLLM([reply]).complete(USER) is reply


def test_scripted_runs_out_with_llmerror() -> None:
    llm = ScriptedLLM(["a", "b"])
    llm.complete(USER)
    llm.complete(USER)
    with pytest.raises(LLMError, match="ran out of replies after 2 calls"):
        llm.complete(USER)
    with pytest.raises(LLMError, match="after 2 calls"):
        llm.complete(USER)


def test_scripted_empty_script() -> None:
    with pytest.raises(LLMError, match="after 0 calls"):
        ScriptedLLM([]).complete(USER)


def test_scripted_consumes_iterables_lazily() -> None:
    llm = ScriptedLLM(itertools.repeat("ok"))
    assert all(llm.complete(USER).text == "ok" for _ in range(100))
    counter = ScriptedLLM(str(i) for i in itertools.count())
    assert [counter.complete(USER).text for _ in range(3)] == ["0", "1", "2"]


def test_scripted_records_calls_as_copies() -> None:
    llm = ScriptedLLM(["x"])
    messages: list[Message] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]
    schema: dict[str, Any] = {"type": "object"}
    llm.complete(messages, json_schema=schema, max_tokens=12, temperature=0.5)
    messages[1]["content"] = "changed"
    messages.append({"role": "user", "content": "more"})
    schema["type"] = "array"
    assert llm.calls == [
        ScriptedCall(
            messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
            json_schema={"type": "object"},
            max_tokens=12,
            temperature=0.5,
        )
    ]


def test_scripted_records_failed_calls_too() -> None:
    llm = ScriptedLLM([LLMError("x")])
    with pytest.raises(LLMError):
        llm.complete(USER)
    with pytest.raises(LLMError, match="ran out"):
        llm.complete(USER)
    assert len(llm.calls) == 2


def test_scripted_token_approximation() -> None:
    llm = ScriptedLLM(["four words in reply"], name="fake")
    messages: list[Message] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "  what   is\nthis?  "},
    ]
    response = llm.complete(messages)
    assert response.prompt_tokens == 5
    assert response.completion_tokens == 4
    assert response.latency_s == 0.0
    assert response.model == "fake"
    assert response.truncated is False
    assert response.usage.calls == 1


def test_approx_tokens() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("a  b\tc\n") == 3


def test_scripted_name_and_repr() -> None:
    llm = ScriptedLLM(["x"], name="mm")
    assert llm.name == "mm"
    assert "mm" in repr(llm)


async def test_scripted_sync_and_async_share_one_script() -> None:
    llm = ScriptedLLM(["s1", "a1", "s2", "a2"])
    assert llm.complete(USER).text == "s1"
    assert (await llm.acomplete(USER)).text == "a1"
    assert llm.complete(USER).text == "s2"
    assert (await llm.acomplete(USER, max_tokens=3)).text == "a2"
    assert [c.max_tokens for c in llm.calls] == [None, None, None, 3]
    with pytest.raises(LLMError, match="after 4 calls"):
        await llm.acomplete(USER)


async def test_scripted_concurrent_async_calls_each_get_one_reply() -> None:
    llm = ScriptedLLM(str(i) for i in range(50))
    texts = [r.text for r in await asyncio.gather(*(llm.acomplete(USER) for _ in range(50)))]
    assert sorted(texts, key=int) == [str(i) for i in range(50)]


def test_scripted_is_thread_safe() -> None:
    llm = ScriptedLLM(str(i) for i in range(400))
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            text = llm.complete(USER).text
            with lock:
                seen.append(text)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen, key=int) == [str(i) for i in range(400)]
    assert len(llm.calls) == 400


# FunctionLLM ------------------------------------------------------------------------------


def test_function_sync() -> None:
    infos: list[CallInfo] = []

    def fn(messages: list[Message], info: CallInfo) -> str:
        infos.append(info)
        return f"{len(messages)} message(s): {messages[-1]['content']}"

    llm = FunctionLLM(fn, name="fn")
    response = llm.complete(USER, json_schema={"type": "object"}, max_tokens=5, temperature=0.3)
    assert response.text == "1 message(s): hello there"
    assert response.model == "fn"
    assert response.prompt_tokens == 2
    assert response.completion_tokens == 4
    assert response.latency_s >= 0.0
    llm.complete(USER)
    assert infos == [
        CallInfo(json_schema={"type": "object"}, max_tokens=5, temperature=0.3, index=0),
        CallInfo(json_schema=None, max_tokens=None, temperature=0.0, index=1),
    ]
    assert len(llm.calls) == 2
    assert llm.calls[0].messages == USER


def test_function_gets_a_copy_of_the_messages() -> None:
    def fn(messages: list[Message], info: CallInfo) -> str:
        messages[0]["content"] = "overwritten"
        messages.append({"role": "assistant", "content": "extra"})
        return "ok"

    messages: list[Message] = [{"role": "user", "content": "original"}]
    FunctionLLM(fn).complete(messages)
    assert messages == [{"role": "user", "content": "original"}]


def test_function_may_return_an_llmresponse() -> None:
    reply = LLMResponse(text="t", prompt_tokens=1, completion_tokens=2, truncated=True)
    assert FunctionLLM(lambda messages, info: reply).complete(USER) is reply


def test_function_wrong_return_type() -> None:
    llm = FunctionLLM(lambda messages, info: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(LLMError, match="returned int"):
        llm.complete(USER)


def test_function_exceptions_propagate() -> None:
    def fn(messages: list[Message], info: CallInfo) -> str:
        raise KeyError("nope")

    with pytest.raises(KeyError):
        FunctionLLM(fn).complete(USER)


def test_function_needs_a_callable() -> None:
    with pytest.raises(ConfigurationError, match="callable"):
        FunctionLLM("not a function")  # type: ignore[arg-type]


async def test_function_async_fn() -> None:
    async def fn(messages: list[Message], info: CallInfo) -> str:
        await asyncio.sleep(0)
        return f"async {info.index}"

    llm = FunctionLLM(fn)
    assert llm.is_async
    assert (await llm.acomplete(USER)).text == "async 0"
    assert (await llm.acomplete(USER)).text == "async 1"
    with pytest.raises(ConfigurationError, match=r"acomplete\(\)"):
        llm.complete(USER)


async def test_function_async_callable_object() -> None:
    class Replier:
        async def __call__(self, messages: list[Message], info: CallInfo) -> str:
            return "from object"

    llm = FunctionLLM(Replier())
    assert llm.is_async
    assert (await llm.acomplete(USER)).text == "from object"


async def test_function_sync_fn_through_acomplete() -> None:
    llm = FunctionLLM(lambda messages, info: "sync")
    assert not llm.is_async
    assert (await llm.acomplete(USER)).text == "sync"
    assert "function" in repr(llm)
