"""Every LLM backend we ship runs the shared ``LLMContract`` suite."""

from __future__ import annotations

import importlib.util
import itertools

import pytest

from llm_contract import LLMContract
from memory_r1.llms import FunctionLLM, ScriptedLLM
from memory_r1.llms.base import LLM, Message
from memory_r1.llms.function import CallInfo
from memory_r1.llms.litellm import LiteLLM


class TestScriptedLLMContract(LLMContract):
    @pytest.fixture
    def llm(self) -> LLM:
        return ScriptedLLM(itertools.repeat("ok"))


class TestFunctionLLMContract(LLMContract):
    @pytest.fixture
    def llm(self) -> LLM:
        def reply(messages: list[Message], info: CallInfo) -> str:
            messages.append({"role": "assistant", "content": "scribble"})  # must not leak
            return '{"answer": "ok"}'

        return FunctionLLM(reply)


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="litellm not installed")
class TestLiteLLMContract(LLMContract):
    @pytest.fixture
    def llm(self) -> LLM:
        return LiteLLM("gpt-4o-mini", extra={"mock_response": '{"answer": "ok"}'})
