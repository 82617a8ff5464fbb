"""The litellm backend, offline: ``mock_response`` through ``extra`` and a patched completion."""

from __future__ import annotations

import copy
import doctest
import importlib.util
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from typing import Any

import pytest

import memory_r1.llms.litellm as litellm_module
from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms.base import Message
from memory_r1.llms.litellm import LiteLLM, pick_response_format

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("litellm") is None, reason="litellm not installed"
)

USER: list[Message] = [{"role": "user", "content": "Reply in JSON."}]
SCHEMA: dict[str, Any] = {
    "title": "Memory Op",
    "type": "object",
    "properties": {"op": {"type": "string"}},
}
AS_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "Memory_Op", "schema": SCHEMA, "strict": False},
}
AS_OBJECT = {"type": "json_object"}


@pytest.fixture
def lit() -> Any:
    """The litellm module, imported the way the backend imports it."""
    return litellm_module._litellm()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm_module, "RETRY_BASE_S", 0.0)


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch, lit: Any) -> list[dict[str, Any]]:
    """Record the kwargs of every ``litellm.completion`` call (which still runs the mock)."""
    calls: list[dict[str, Any]] = []
    real = lit.completion

    def spy(**kwargs: Any) -> Any:
        calls.append(copy.deepcopy(kwargs))
        return real(**kwargs)

    monkeypatch.setattr(lit, "completion", spy)
    return calls


def mock(reply: Any = "ok", **kwargs: Any) -> LiteLLM:
    return LiteLLM("gpt-4o-mini", extra={"mock_response": reply}, **kwargs)


# json mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "schema_ok", "format_ok", "expected"),
    [
        ("auto", True, True, AS_SCHEMA),
        ("auto", False, True, AS_OBJECT),
        ("auto", False, False, None),
        ("schema", False, False, AS_SCHEMA),
        ("json_object", True, True, AS_OBJECT),
        ("json_object", False, False, AS_OBJECT),
        ("off", True, True, None),
    ],
)
def test_pick_response_format(
    mode: Any, schema_ok: bool, format_ok: bool, expected: dict[str, Any] | None
) -> None:
    chosen = pick_response_format(
        SCHEMA, mode, supports_schema=schema_ok, supports_response_format=format_ok
    )
    assert chosen == expected


@pytest.mark.parametrize("mode", ["auto", "schema", "json_object", "off"])
def test_pick_response_format_without_schema_sends_nothing(mode: Any) -> None:
    chosen = pick_response_format(None, mode, supports_schema=True, supports_response_format=True)
    assert chosen is None


@pytest.mark.parametrize(
    ("schema", "name"),
    [({}, "response"), ({"title": "a.b c"}, "a_b_c"), ({"title": "x" * 80}, "x" * 64)],
)
def test_schema_name_is_valid_for_openai(schema: dict[str, Any], name: str) -> None:
    chosen = pick_response_format(
        schema, "schema", supports_schema=True, supports_response_format=True
    )
    assert chosen is not None
    assert chosen["json_schema"]["name"] == name


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        ("gpt-4o-mini", "auto", AS_SCHEMA),  # in litellm's map with response schemas
        ("ollama/qwen2.5:7b", "auto", AS_SCHEMA),  # local servers that enforce schemas
        ("ollama_chat/qwen2.5:7b", "auto", AS_SCHEMA),
        ("hosted_vllm/Qwen/Qwen2.5-7B-Instruct", "auto", AS_SCHEMA),
        ("openai/some-local-model", "auto", AS_OBJECT),  # unknown model: JSON mode only
        ("not-a-known-model", "auto", None),  # unknown provider: send nothing
        ("openai/some-local-model", "schema", AS_SCHEMA),
        ("ollama/qwen2.5:7b", "json_object", AS_OBJECT),
        ("gpt-4o-mini", "off", None),
    ],
)
def test_response_format_per_provider(model: str, mode: Any, expected: Any) -> None:
    assert LiteLLM(model, json_mode=mode).response_format(SCHEMA) == expected


def test_response_format_is_sent(record: list[dict[str, Any]]) -> None:
    mock('{"op": "ADD"}').complete(USER, json_schema=SCHEMA)
    mock("plain").complete(USER)
    assert record[0]["response_format"] == AS_SCHEMA
    assert "response_format" not in record[1]


# calls ------------------------------------------------------------------------------------


def test_complete_with_mock_response() -> None:
    response = mock("hello").complete(USER)
    assert response.text == "hello"
    assert (response.prompt_tokens, response.completion_tokens) == (10, 20)  # litellm's mock
    assert response.model == "gpt-4o-mini"
    assert response.truncated is False
    assert response.latency_s >= 0.0


def test_call_arguments(record: list[dict[str, Any]]) -> None:
    llm = LiteLLM(
        "openai/my-model",
        api_base="http://localhost:8000/v1",
        api_key="sk-test",
        timeout=5.0,
        num_retries=4,
        extra={"mock_response": "ok", "seed": 7},
    )
    llm.complete(USER, max_tokens=32, temperature=0.2)
    llm.complete(USER)
    first, second = record
    assert first["model"] == "openai/my-model"
    assert first["api_base"] == "http://localhost:8000/v1"
    assert first["api_key"] == "sk-test"
    assert first["timeout"] == 5.0
    assert first["num_retries"] == 0  # retries are ours
    assert first["seed"] == 7
    assert (first["max_tokens"], first["temperature"]) == (32, 0.2)
    assert "max_tokens" not in second
    assert second["temperature"] == 0.0


def test_truncated_and_usage_from_the_response() -> None:
    raw = {
        "model": "served-name",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": "cut sh"},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    response = mock(raw).complete(USER, max_tokens=2)
    assert response.text == "cut sh"
    assert response.truncated is True
    assert (response.prompt_tokens, response.completion_tokens) == (3, 2)
    assert response.model == "served-name"


def test_missing_usage_and_content_become_zero_and_empty(
    monkeypatch: pytest.MonkeyPatch, lit: Any
) -> None:
    choice = SimpleNamespace(message=SimpleNamespace(content=None), finish_reason="tool_calls")
    monkeypatch.setattr(lit, "completion", lambda **kwargs: SimpleNamespace(choices=[choice]))
    response = LiteLLM("gpt-4o-mini").complete(USER)
    assert response.text == ""
    assert (response.prompt_tokens, response.completion_tokens) == (0, 0)
    assert response.model == "gpt-4o-mini"


def test_no_choices_is_an_llmerror(monkeypatch: pytest.MonkeyPatch, lit: Any) -> None:
    monkeypatch.setattr(lit, "completion", lambda **kwargs: SimpleNamespace(choices=[]))
    with pytest.raises(LLMError, match="no choices"):
        LiteLLM("gpt-4o-mini").complete(USER)


def test_does_not_mutate_messages(record: list[dict[str, Any]]) -> None:
    messages: list[Message] = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
    ]
    before = copy.deepcopy(messages)
    mock().complete(messages, json_schema=SCHEMA)
    assert messages == before
    assert record[0]["messages"] == before


async def test_acomplete_with_mock_response() -> None:
    response = await mock('{"op": "NOOP"}').acomplete(USER, json_schema=SCHEMA)
    assert response.text == '{"op": "NOOP"}'
    assert response.completion_tokens == 20


# errors and retries -----------------------------------------------------------------------


def rate_limit(lit: Any) -> Exception:
    return lit.RateLimitError("slow down", llm_provider="openai", model="gpt-4o-mini")


def count_calls(monkeypatch: pytest.MonkeyPatch, lit: Any, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(lit, name)

    def counted(**kwargs: Any) -> Any:
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(lit, name, counted)
    return calls


def test_error_after_retries_chains_the_original(
    monkeypatch: pytest.MonkeyPatch, lit: Any, no_backoff: None
) -> None:
    calls = count_calls(monkeypatch, lit, "completion")
    with pytest.raises(LLMError, match="after 3 attempt") as info:
        mock(rate_limit(lit), num_retries=2).complete(USER)
    assert isinstance(info.value.__cause__, lit.RateLimitError)
    assert len(calls) == 3


def test_no_retry_on_a_permanent_error(
    monkeypatch: pytest.MonkeyPatch, lit: Any, no_backoff: None
) -> None:
    calls = count_calls(monkeypatch, lit, "completion")
    bad = lit.AuthenticationError("bad key", llm_provider="openai", model="gpt-4o-mini")
    with pytest.raises(LLMError, match="AuthenticationError") as info:
        mock(bad, num_retries=5).complete(USER)
    assert info.value.__cause__ is not None
    assert len(calls) == 1


def test_retry_then_success(monkeypatch: pytest.MonkeyPatch, lit: Any, no_backoff: None) -> None:
    real = lit.completion
    failures = [rate_limit(lit), lit.InternalServerError("5xx", "openai", "gpt-4o-mini")]

    def flaky(**kwargs: Any) -> Any:
        if failures:
            raise failures.pop(0)
        return real(**kwargs)

    monkeypatch.setattr(lit, "completion", flaky)
    assert mock("finally", num_retries=2).complete(USER).text == "finally"


def test_num_retries_zero_tries_once(
    monkeypatch: pytest.MonkeyPatch, lit: Any, no_backoff: None
) -> None:
    calls = count_calls(monkeypatch, lit, "completion")
    with pytest.raises(LLMError, match="after 1 attempt"):
        mock(rate_limit(lit), num_retries=0).complete(USER)
    assert len(calls) == 1


async def test_async_error_after_retries(
    monkeypatch: pytest.MonkeyPatch, lit: Any, no_backoff: None
) -> None:
    calls = count_calls(monkeypatch, lit, "acompletion")  # returns the coroutine unawaited
    with pytest.raises(LLMError) as info:
        await mock(rate_limit(lit), num_retries=1).acomplete(USER)
    assert isinstance(info.value.__cause__, lit.RateLimitError)
    assert len(calls) == 2


def test_retry_delay_grows_and_is_capped() -> None:
    delays = [litellm_module._retry_delay(a) for a in range(8)]
    assert delays == sorted(delays)
    assert delays[1] == 2 * delays[0]
    assert delays[-1] == litellm_module.RETRY_MAX_S


# construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": ""},
        {"model": "gpt-4o-mini", "json_mode": "yaml"},
        {"model": "gpt-4o-mini", "timeout": 0},
        {"model": "gpt-4o-mini", "num_retries": -1},
        {"model": "gpt-4o-mini", "extra": {"temperature": 1.0}},
        {"model": "gpt-4o-mini", "extra": {"messages": []}},
    ],
)
def test_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        LiteLLM(**kwargs)


def test_name_and_repr_hide_the_key() -> None:
    llm = LiteLLM("ollama/qwen2.5:7b", api_key="sk-secret", api_base="http://h:11434")
    assert llm.name == "litellm:ollama/qwen2.5:7b"
    assert "sk-secret" not in repr(llm)
    assert "http://h:11434" in repr(llm)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(litellm_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_litellm_is_imported_lazily_with_the_local_cost_map() -> None:
    script = textwrap.dedent(
        """
        import os, sys
        import memory_r1.llms
        import memory_r1.llms.litellm as m
        assert "litellm" not in sys.modules, "imported at module import"
        llm = m.LiteLLM("gpt-4o-mini", extra={"mock_response": "hi"})
        assert "litellm" not in sys.modules, "imported at construction"
        assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ
        assert llm.complete([{"role": "user", "content": "x"}]).text == "hi"
        assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        import litellm
        assert litellm.suppress_debug_info is True
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
