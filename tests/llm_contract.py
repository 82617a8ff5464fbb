"""The contract every ``LLM`` backend must satisfy.

Subclass ``LLMContract`` in a ``test_*.py`` module, name the subclass ``Test...`` and
override the ``llm`` fixture; pytest then runs every check below against that backend.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from memory_r1.llms.base import LLM, LLMResponse, Message

SCHEMA: dict[str, Any] = {
    "title": "Answer",
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}


def _conversation() -> list[Message]:
    return [
        {"role": "system", "content": "You answer in JSON."},
        {"role": "user", "content": "Reply with a JSON object holding an answer."},
    ]


def _check_response(response: LLMResponse) -> None:
    assert isinstance(response, LLMResponse)
    assert isinstance(response.text, str)
    assert response.prompt_tokens >= 0
    assert response.completion_tokens >= 0
    assert response.latency_s >= 0.0
    assert isinstance(response.truncated, bool)
    assert isinstance(response.model, str)


class LLMContract:
    """Checks shared by every LLM backend; override the ``llm`` fixture."""

    max_tokens = 64  # every call is bounded, so real local models stay quick

    @pytest.fixture
    def llm(self) -> LLM:
        raise NotImplementedError("override the llm fixture in the subclass")

    def test_satisfies_protocol(self, llm: LLM) -> None:
        assert isinstance(llm, LLM)
        assert isinstance(llm.name, str)
        assert llm.name

    def test_complete_returns_response(self, llm: LLM) -> None:
        _check_response(llm.complete(_conversation(), max_tokens=self.max_tokens))

    def test_complete_accepts_all_options(self, llm: LLM) -> None:
        response = llm.complete(
            _conversation(), json_schema=SCHEMA, max_tokens=self.max_tokens, temperature=0.0
        )
        _check_response(response)

    def test_does_not_mutate_messages(self, llm: LLM) -> None:
        messages = _conversation()
        before = copy.deepcopy(messages)
        llm.complete(messages, json_schema=SCHEMA, max_tokens=self.max_tokens)
        assert messages == before

    def test_accepts_a_tuple_of_messages(self, llm: LLM) -> None:
        _check_response(llm.complete(tuple(_conversation()), max_tokens=self.max_tokens))

    async def test_acomplete_returns_response(self, llm: LLM) -> None:
        messages = _conversation()
        before = copy.deepcopy(messages)
        response = await llm.acomplete(messages, json_schema=SCHEMA, max_tokens=self.max_tokens)
        _check_response(response)
        assert messages == before
