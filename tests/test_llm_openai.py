"""The openai backend, offline: the real ``openai`` SDK over an ``httpx.MockTransport``.

Every request goes through the SDK's own request building, retries and response parsing;
the mock transport plays the server and records what it was sent.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llm_contract import LLMContract
from memory_r1 import AsyncMemory, HistoryOp, Memory
from memory_r1.exceptions import ConfigurationError, LLMError, MissingDependencyError
from memory_r1.llms import LLM, Message, resolve_llm
from memory_r1.llms.openai import LOCAL_API_KEY, OpenAILLM

pytest.importorskip("openai")

import httpx  # a dependency of openai
import openai

BASE = "http://llm.test/v1"
USER: list[Message] = [{"role": "user", "content": "List the facts as JSON."}]
SCHEMA: dict[str, Any] = {
    "title": "Fact list",
    "type": "object",
    "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
    "required": ["facts"],
}
AS_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "Fact_list", "schema": SCHEMA, "strict": False},
}
FAST_RETRY = {"retry-after-ms": "1"}  # the SDK honours it: retries without the backoff

Reply = str | dict[str, Any] | httpx.Response | Exception | Callable[[httpx.Request], Any]


def completion(
    text: str, *, prompt: int = 11, produced: int = 7, finish: str = "stop", model: str = "served"
) -> dict[str, Any]:
    """A chat completion as an OpenAI-compatible server sends it."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": produced, "total_tokens": 18},
    }


class Server:
    """The mock server: answers with the scripted replies in turn (the last one repeats)
    and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or ["ok"]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if callable(reply) and not isinstance(reply, type):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        body = reply if isinstance(reply, dict) else completion(reply)
        return httpx.Response(200, json=body)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Server]:
    """Route every client the backend builds to a mock server: ``server = serve(...)``."""

    def start(*replies: Reply) -> Server:
        server = Server(*replies)
        transport = httpx.MockTransport(server)
        for name, http in (("OpenAI", httpx.Client), ("AsyncOpenAI", httpx.AsyncClient)):
            real = getattr(openai, name)
            factory = functools.partial(real, http_client=http(transport=transport))
            monkeypatch.setattr(openai, name, factory)
        return server

    return start


def llm(**kwargs: Any) -> OpenAILLM:
    options: dict[str, Any] = {"base_url": BASE, "api_key": "sk-test", "num_retries": 0}
    return OpenAILLM(kwargs.pop("model", "gpt-4o-mini"), **(options | kwargs))


def status(code: int, message: str = "nope", headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": "error", "code": None}}
    return lambda request: httpx.Response(code, json=body, headers=headers)


# requests -----------------------------------------------------------------------------------


def test_request_body_and_headers(serve: Callable[..., Server]) -> None:
    server = serve('{"op": "ADD"}')
    response = llm(extra={"seed": 7}).complete(
        USER, json_schema=SCHEMA, max_tokens=32, temperature=0.2
    )
    assert response.text == '{"op": "ADD"}'
    (request,) = server.requests
    assert str(request.url) == f"{BASE}/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert server.bodies[0] == {
        "model": "gpt-4o-mini",
        "messages": USER,
        "temperature": 0.2,
        "max_tokens": 32,
        "response_format": AS_SCHEMA,
        "seed": 7,
    }


def test_defaults_send_no_max_tokens_and_no_format(serve: Callable[..., Server]) -> None:
    server = serve("plain")
    llm().complete(USER)
    assert server.bodies[0] == {"model": "gpt-4o-mini", "messages": USER, "temperature": 0.0}


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        ("gpt-4o-mini", "auto", AS_SCHEMA),
        ("qwen2.5:7b", "auto", AS_SCHEMA),  # local servers enforce schemas
        ("gpt-4", "auto", {"type": "json_object"}),  # OpenAI's models before json_schema
        ("gpt-3.5-turbo", "auto", {"type": "json_object"}),
        ("gpt-4-turbo", "schema", AS_SCHEMA),
        ("gpt-4o-mini", "json_object", {"type": "json_object"}),
        ("gpt-4o-mini", "off", None),
    ],
)
def test_response_format(
    serve: Callable[..., Server], model: str, mode: Any, expected: dict[str, Any] | None
) -> None:
    server = serve("{}")
    backend = llm(model=model, json_mode=mode)
    assert backend.response_format(SCHEMA) == expected
    backend.complete(USER, json_schema=SCHEMA)
    assert server.bodies[0].get("response_format") == expected


def test_reasoning_models_get_max_completion_tokens_and_no_temperature(
    serve: Callable[..., Server],
) -> None:
    server = serve("ok")
    llm(model="o4-mini").complete(USER, max_tokens=64, temperature=0.0)
    body = server.bodies[0]
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body and "temperature" not in body


def test_pattern_is_accepted_and_not_sent(serve: Callable[..., Server]) -> None:
    server = serve("**Answer:** x")
    assert llm().complete(USER, pattern=r"\*\*Answer:\*\* .+").text == "**Answer:** x"
    assert "pattern" not in server.bodies[0]
    assert set(server.bodies[0]) == {"model", "messages", "temperature"}


def test_does_not_mutate_messages(serve: Callable[..., Server]) -> None:
    server = serve("ok")
    messages: list[Message] = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
    ]
    before = [dict(m) for m in messages]
    llm().complete(tuple(messages), json_schema=SCHEMA)
    assert messages == before
    assert server.bodies[0]["messages"] == before


# replies ------------------------------------------------------------------------------------


def test_usage_model_and_truncation_from_the_reply(serve: Callable[..., Server]) -> None:
    serve(completion("cut sh", prompt=3, produced=2, finish="length", model="served-name"))
    response = llm().complete(USER, max_tokens=2)
    assert response.text == "cut sh"
    assert (response.prompt_tokens, response.completion_tokens) == (3, 2)
    assert response.usage.calls == 1 and response.usage.prompt_tokens == 3
    assert response.model == "served-name"
    assert response.truncated is True
    assert response.latency_s >= 0.0


def test_missing_usage_and_content_become_zero_and_empty(serve: Callable[..., Server]) -> None:
    body = completion("x")
    del body["usage"], body["model"]
    body["choices"][0]["message"]["content"] = None
    serve(body)
    response = llm().complete(USER)
    assert (response.text, response.prompt_tokens, response.completion_tokens) == ("", 0, 0)
    assert response.model == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (httpx.Response(200, json={"choices": []}), "no choices"),
        (httpx.Response(200, json={"unexpected": 1}), "no choices"),
        (httpx.Response(200, text="Bad Gateway, but 200"), "no choices"),
        (httpx.Response(200, json={"choices": [{"message": {"content": 5}}]}), "malformed"),
        (
            httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"}),
            "JSONDecodeError",
        ),
    ],
)
def test_malformed_replies_are_llmerrors(
    serve: Callable[..., Server], reply: httpx.Response, match: str
) -> None:
    serve(reply)
    with pytest.raises(LLMError, match=match):
        llm().complete(USER)


# errors and retries ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [401, 403])
def test_a_refused_key_is_a_configuration_error_and_not_retried(
    serve: Callable[..., Server], code: int
) -> None:
    server = serve(status(code, "Incorrect API key provided"))
    with pytest.raises(ConfigurationError, match="refused the API key") as info:
        llm(num_retries=3).complete(USER)
    assert isinstance(info.value.__cause__, openai.APIStatusError)
    assert not isinstance(info.value, LLMError)
    assert len(server.requests) == 1


def test_server_error_after_retries(serve: Callable[..., Server]) -> None:
    server = serve(status(500, "boom", FAST_RETRY))
    with pytest.raises(LLMError, match=r"after 3 attempt\(s\): InternalServerError") as info:
        llm(num_retries=2).complete(USER)
    assert isinstance(info.value.__cause__, openai.InternalServerError)
    assert len(server.requests) == 3


def test_retry_then_success(serve: Callable[..., Server]) -> None:
    server = serve(status(429, "slow down", FAST_RETRY), status(503, "busy", FAST_RETRY), "fine")
    assert llm(num_retries=2).complete(USER).text == "fine"
    assert len(server.requests) == 3


def test_no_retry_on_a_bad_request(serve: Callable[..., Server]) -> None:
    server = serve(status(400, "bad max_tokens"))
    with pytest.raises(LLMError, match=r"after 1 attempt\(s\): BadRequestError.*bad max_tokens"):
        llm(num_retries=3).complete(USER)
    assert len(server.requests) == 1


def test_timeout_is_retried_then_an_llmerror(serve: Callable[..., Server]) -> None:
    server = serve(httpx.ReadTimeout("too slow"))
    with pytest.raises(LLMError, match=r"after 2 attempt\(s\): APITimeoutError") as info:
        llm(num_retries=1, timeout=0.5).complete(USER)
    assert isinstance(info.value.__cause__, openai.APITimeoutError)
    assert len(server.requests) == 2


def test_connection_error_is_an_llmerror(serve: Callable[..., Server]) -> None:
    serve(httpx.ConnectError("connection refused"))
    with pytest.raises(LLMError, match=f"at {BASE} failed after 1 attempt.*APIConnectionError"):
        llm().complete(USER)


async def test_async_errors_are_mapped_too(serve: Callable[..., Server]) -> None:
    server = serve(status(401), status(502, "down", FAST_RETRY))
    with pytest.raises(ConfigurationError):
        await llm().acomplete(USER)
    with pytest.raises(LLMError, match=r"after 2 attempt\(s\)"):
        await llm(num_retries=1).acomplete(USER)
    assert len(server.requests) == 3


# async --------------------------------------------------------------------------------------


async def test_acomplete(serve: Callable[..., Server]) -> None:
    server = serve(completion('{"op": "NOOP"}', prompt=5, produced=4))
    backend = llm()
    response = await backend.acomplete(USER, json_schema=SCHEMA, max_tokens=16)
    assert response.text == '{"op": "NOOP"}'
    assert (response.prompt_tokens, response.completion_tokens) == (5, 4)
    assert server.bodies[0]["response_format"] == AS_SCHEMA
    assert server.bodies[0]["max_tokens"] == 16
    assert backend.async_client() is backend.async_client()  # one per loop


def test_each_event_loop_gets_its_own_async_client(serve: Callable[..., Server]) -> None:
    serve("ok")
    backend = llm()

    async def call() -> tuple[str, object]:
        return (await backend.acomplete(USER)).text, backend.async_client()

    (first, a), (second, b) = asyncio.run(call()), asyncio.run(call())
    assert (first, second) == ("ok", "ok")
    assert a is not b


# clients and keys -----------------------------------------------------------------------------


def test_clients_are_built_once_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    backend = OpenAILLM("m", base_url=BASE, api_key="sk-1", timeout=7.0, num_retries=4)
    client = backend.sync_client()
    assert backend.sync_client() is client
    assert str(client.base_url).rstrip("/") == BASE
    assert (client.api_key, client.timeout, client.max_retries) == ("sk-1", 7.0, 4)


def test_injected_clients_are_used(serve: Callable[..., Server]) -> None:
    server = Server("injected")
    transport = httpx.MockTransport(server)
    sync = openai.OpenAI(api_key="k", base_url=BASE, http_client=httpx.Client(transport=transport))
    async_ = openai.AsyncOpenAI(
        api_key="k", base_url=BASE, http_client=httpx.AsyncClient(transport=transport)
    )
    backend = OpenAILLM("m", client=sync, async_client=async_)
    assert backend.complete(USER).text == "injected"
    assert asyncio.run(backend.acomplete(USER)).text == "injected"
    assert backend.sync_client() is sync and len(server.requests) == 2


def test_key_from_the_environment(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    server = serve("ok")
    OpenAILLM("gpt-4o-mini", base_url=BASE).complete(USER)
    assert server.requests[0].headers["authorization"] == "Bearer sk-env"


def test_a_local_server_needs_no_key(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = serve("ok")
    OpenAILLM("qwen2.5:7b", base_url=BASE).complete(USER)
    assert server.requests[0].headers["authorization"] == f"Bearer {LOCAL_API_KEY}"


def test_openai_without_a_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        OpenAILLM("gpt-4o-mini").complete(USER)


def test_missing_openai_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # import openai now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"memory-r1\[openai\]"):
        OpenAILLM("m", base_url=BASE).complete(USER)


# construction and resolve_llm ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": ""},
        {"model": "m", "json_mode": "yaml"},
        {"model": "m", "timeout": 0},
        {"model": "m", "num_retries": -1},
        {"model": "m", "extra": {"temperature": 1.0}},
        {"model": "m", "extra": {"max_completion_tokens": 9}},
    ],
)
def test_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        OpenAILLM(**kwargs)


def test_name_and_repr_hide_the_key() -> None:
    backend = OpenAILLM("qwen2.5:7b", api_key="sk-secret", base_url="http://h:11434/v1")
    assert backend.name == "openai:qwen2.5:7b"
    assert isinstance(backend, LLM)
    assert "sk-secret" not in repr(backend)
    assert "http://h:11434/v1" in repr(backend)


def test_resolve_llm_builds_it(serve: Callable[..., Server]) -> None:
    server = serve("hi")
    backend = resolve_llm("openai:qwen2.5:7b", base_url=BASE, json_mode="off", num_retries=0)
    assert isinstance(backend, OpenAILLM)
    assert (backend.model, backend.base_url, backend.json_mode) == ("qwen2.5:7b", BASE, "off")
    assert backend.complete(USER).text == "hi"
    assert server.bodies[0]["model"] == "qwen2.5:7b"


def test_openai_is_imported_on_first_use_only() -> None:
    script = textwrap.dedent(
        """
        import sys
        from memory_r1 import Memory
        from memory_r1.llms import resolve_llm
        llm = resolve_llm("openai:gpt-4o-mini", base_url="http://localhost:1/v1")
        with Memory(embedder="hashing", llm=llm):
            pass
        assert "openai" not in sys.modules and "litellm" not in sys.modules
        llm.sync_client()
        assert "openai" in sys.modules and "litellm" not in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


class TestOpenAILLMContract(LLMContract):
    @pytest.fixture
    def llm(self, serve: Callable[..., Server]) -> LLM:
        serve('{"answer": "ok"}')
        return OpenAILLM("gpt-4o-mini", base_url=BASE, api_key="k", num_retries=0)


# end to end: Memory over the mock server ----------------------------------------------------


def scripted_model(request: httpx.Request) -> httpx.Response:
    """A cooperative model for memory-r1's three prompts: each turn is one fact, every
    new fact is added, and the answer cites the first memory shown."""
    messages = json.loads(request.content)["messages"]
    system, user = messages[0]["content"], messages[-1]["content"]
    if '{"facts"' in system:
        turns = user.split("Conversation:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        reply: dict[str, Any] = {"facts": [t.split(": ", 1)[1] for t in turns]}
    elif "Stored memories:" in user:
        new = json.loads(user.split("New facts:\n", 1)[1].split("\n\n", 1)[0])
        reply = {"memory": [{"id": str(i), "text": f, "event": "ADD"} for i, f in enumerate(new)]}
    else:
        shown = next(line for line in user.splitlines() if line.startswith("- "))
        text = f"**Memories selected as relevant:**\n{shown}\n**Answer:** Seattle"
        return httpx.Response(200, json=completion(text))
    return httpx.Response(200, json=completion(json.dumps(reply)))


TURN = [{"role": "user", "name": "Caroline", "content": "Caroline moved to Seattle"}]


@pytest.fixture
def bank_config(tmp_path: Path) -> dict[str, Any]:
    return {"store": {"path": str(tmp_path / "bank")}, "embedder": "hashing:64"}


def test_memory_add_search_answer_end_to_end(
    serve: Callable[..., Server], bank_config: dict[str, Any]
) -> None:
    server = serve(scripted_model)
    backend = OpenAILLM("fake", base_url=BASE, num_retries=0)
    with Memory(bank_config, llm=backend) as m:
        result = m.add(TURN, user_id="c", timestamp="2023-05-08T10:00:00")
        assert result.facts == ["Caroline moved to Seattle"]
        assert [e.event for e in result.events] == [HistoryOp.ADD]
        usage = result.usage
        assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (2, 22, 14)
        hits = m.search("Where does Caroline live?", user_id="c")
        assert [h.text for h in hits] == ["Caroline moved to Seattle"]
        answer = m.answer("Where does Caroline live?", user_id="c")
        assert answer.answer == "Seattle"
        assert len(answer.selected) == 1
    extraction, manager, answering = server.bodies
    assert extraction["model"] == "fake"
    assert extraction["response_format"]["type"] == "json_schema"
    assert "facts" in extraction["response_format"]["json_schema"]["schema"]["properties"]
    assert "memory" in manager["response_format"]["json_schema"]["schema"]["properties"]
    assert "response_format" not in answering  # the answer's pattern is not sent
    assert all("max_tokens" in body for body in server.bodies)


async def test_async_memory_end_to_end(
    serve: Callable[..., Server], bank_config: dict[str, Any]
) -> None:
    server = serve(scripted_model)
    async with AsyncMemory(bank_config, llm=OpenAILLM("fake", base_url=BASE)) as m:
        result = await m.add(TURN, user_id="c", timestamp="2023-05-08T10:00:00")
        assert [e.event for e in result.events] == [HistoryOp.ADD]
        assert (await m.answer("Where?", user_id="c")).answer == "Seattle"
    assert len(server.requests) == 3
