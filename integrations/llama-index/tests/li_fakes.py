"""Rule-based stand-ins for the two models in these tests (the only fakes: LLM replies).

``policy`` answers memory-r1's three prompts (fact extraction, Memory Manager, Answer Agent)
the way a careful model would on simple sentences such as "My favourite colour is teal";
``agent_llm`` is llama-index's ``MockFunctionCallingLLM`` answering "What is my X?" from the
memories it finds in its system messages, or through the ``remember`` / ``recall`` tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import uuid4

from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from memory_r1 import Prompts
from memory_r1.testing import CallInfo, FunctionLLM

_PROMPTS = Prompts()
_FACT = re.compile(r"^(?P<subject>.+?'s [\w ]+?) is (?P<value>.+?)\.?$")
_QUESTION = re.compile(r"what is my (?P<what>[\w ]+?)\??$", re.IGNORECASE)


def fact_of(speaker: str, text: str) -> str | None:
    """ "My favourite colour is teal." said by alice -> "alice's favourite colour is teal";
    a sentence that is already such a fact stays as it is; anything else is no fact."""
    text = text.strip().rstrip(".")
    if _FACT.match(text):
        return text
    match = re.match(r"^my (?P<rest>.+ is .+)$", text, re.IGNORECASE)
    return f"{speaker}'s {match['rest']}" if match else None


def _extract(prompt: str) -> str:
    conversation = prompt.split("Conversation:\n", 1)[1].split("\n\n", 1)[0]
    facts = []
    for line in conversation.splitlines():
        speaker, _, text = line.partition(": ")
        fact = fact_of(speaker, text) if speaker != "assistant" else None
        if fact:
            facts.append(fact)
    return json.dumps({"facts": facts})


def _manage(prompt: str) -> str:
    stored_part, facts_part = prompt.split("New facts:\n", 1)
    stored = json.loads(stored_part.split("Stored memories:\n", 1)[1].strip())
    facts = json.loads(facts_part.split("\n\nReturn only", 1)[0])
    ops: list[dict[str, str]] = []
    for fact in facts:
        subject = _FACT.match(fact)
        same = [
            m
            for m in stored
            if subject and (s := _FACT.match(m["text"])) and s["subject"] == subject["subject"]
        ]
        if not same:
            ops.append({"id": str(len(stored) + len(ops)), "text": fact, "event": "ADD"})
        elif same[0]["text"] == fact:
            ops.append({"id": same[0]["id"], "text": fact, "event": "NONE"})
        else:
            old = same[0]["text"]
            ops.append({"id": same[0]["id"], "text": fact, "event": "UPDATE", "old_memory": old})
    return json.dumps({"memory": ops})


def _answer(prompt: str) -> str:
    question = prompt.rsplit("Question: ", 1)[1]
    words = {w for w in re.findall(r"[a-z]{4,}", question.lower())} - {"what", "does"}
    lines = [ln for ln in prompt.splitlines() if ln.startswith("- ") and ": " in ln]
    chosen = [ln for ln in lines if words & set(re.findall(r"[a-z]{4,}", ln.lower()))]
    answer = chosen[0].rsplit(" ", 1)[1] if chosen else "unknown"
    return "**Memories selected as relevant:**\n" + "\n".join(chosen) + f"\n**Answer:** {answer}"


def _policy(messages: Sequence[Mapping[str, Any]], info: CallInfo) -> str:
    system, prompt = messages[0]["content"], messages[-1]["content"]
    if system == _PROMPTS.extraction_system:
        return _extract(prompt)
    if system == _PROMPTS.manager_system:
        return _manage(prompt)
    if system == _PROMPTS.answer_system:
        return _answer(prompt)
    raise AssertionError(f"unexpected prompt: {system[:60]!r}")


def policy() -> FunctionLLM:
    """memory-r1's LLM for the tests: extraction, management and answers by rule."""
    return FunctionLLM(_policy, name="rules")


def answer_from(context: str, question: str) -> str:
    """ "What is my favourite colour?" + a context line "alice's favourite colour is teal"."""
    asked = _QUESTION.search(question)
    if asked:
        for line in context.splitlines():
            found = re.search(rf"'s {re.escape(asked['what'])} is (?P<value>[\w ]+)", line)
            if found:
                return f"Your {asked['what']} is {found['value']}."
    return "I don't know that yet."


def _last_user(messages: Sequence[ChatMessage]) -> int:
    return max(i for i, m in enumerate(messages) if m.role == MessageRole.USER)


def _reply_from_memory(messages: Sequence[ChatMessage], **_: Any) -> ChatMessage:
    """Answers questions from the system messages (where memory is injected)."""
    question = messages[_last_user(messages)].content or ""
    if not question.endswith("?"):
        return ChatMessage(role=MessageRole.ASSISTANT, content="Noted.")
    context = "\n".join(m.content or "" for m in messages if m.role == MessageRole.SYSTEM)
    return ChatMessage(role=MessageRole.ASSISTANT, content=answer_from(context, question))


def _call(tool: str, **kwargs: str) -> ChatMessage:
    block = ToolCallBlock(tool_call_id=f"call-{uuid4().hex}", tool_name=tool, tool_kwargs=kwargs)
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])


def _reply_with_tools(messages: Sequence[ChatMessage], **_: Any) -> ChatMessage:
    """Calls ``remember`` for statements and ``recall`` for questions, then answers."""
    start = _last_user(messages)
    said = messages[start].content or ""
    results = [m.content or "" for m in messages[start:] if m.role == MessageRole.TOOL]
    if not results:
        if said.endswith("?"):
            return _call("recall", query=said)
        return _call("remember", fact=fact_of("the user", said) or said)
    if said.endswith("?"):
        return ChatMessage(role=MessageRole.ASSISTANT, content=answer_from(results[-1], said))
    return ChatMessage(role=MessageRole.ASSISTANT, content="Noted.")


def agent_llm(*, tools: bool = False) -> MockFunctionCallingLLM:
    """llama-index's mock function-calling LLM with a rule-based reply."""
    return MockFunctionCallingLLM(
        response_generator=_reply_with_tools if tools else _reply_from_memory
    )
