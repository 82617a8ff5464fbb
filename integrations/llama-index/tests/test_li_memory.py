"""``MemoryR1Memory``: every turn goes to the Memory Manager; reads inject memories."""

from __future__ import annotations

from typing import Any

from llama_index.core.async_utils import asyncio_run
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory
from memory_r1 import AsyncMemory, MemoryStatus
from memory_r1.testing import FunctionLLM

from llama_index.memory.memory_r1 import MemoryR1Memory

FACT = "alice's favourite colour is teal"
QUESTION = "What is my favourite colour?"


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


def extractions(llm: FunctionLLM) -> list[str]:
    """The conversation part of each fact-extraction prompt the bank's model received."""
    prompts = [c.messages[-1]["content"] for c in llm.calls]
    return [p.split("Conversation:\n")[1].split("\n\n")[0] for p in prompts if "Conversation:" in p]


def texts(bank: AsyncMemory, user_id: str) -> list[str]:
    """The scope's memories, read from sync code."""
    return [m.text for m in asyncio_run(bank.get_all(user_id=user_id))]


def alice(bank: AsyncMemory, **options: Any) -> MemoryR1Memory:
    return MemoryR1Memory.from_defaults(
        bank=bank, user_id="alice", names={"user": "alice"}, **options
    )


def test_sync_put_remembers_and_a_new_session_gets_it(bank: AsyncMemory) -> None:
    first = alice(bank)
    first.put(user("My favourite colour is teal."))
    assert texts(bank, "alice") == [FACT]

    second = alice(bank)  # a new session: empty short-term history, same long-term memory
    assert second.get_all() == []
    messages = second.get(input=QUESTION)
    assert [m.role for m in messages] == [MessageRole.SYSTEM]
    assert FACT in (messages[0].content or "")
    assert second.get_all() == []  # reading never writes to the short-term history


async def test_async_put_messages_reach_the_manager_per_speaker_and_get_uses_the_question(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    memory = alice(bank)
    await memory.aput_messages([user("My favourite colour is teal."), assistant("Noted.")])
    assert extractions(llm) == ["alice: My favourite colour is teal.", "assistant: Noted."]
    await memory.aput(user(QUESTION))
    messages = await memory.aget()
    assert messages[0].role == MessageRole.SYSTEM and FACT in (messages[0].content or "")
    assert [m.content for m in messages[1:]] == [
        "My favourite colour is teal.",
        "Noted.",
        QUESTION,
    ]


async def test_memories_join_an_existing_system_message(bank: AsyncMemory) -> None:
    memory = alice(bank)
    await memory.aput(user("My favourite colour is teal."))
    await memory.aset([ChatMessage(role=MessageRole.SYSTEM, content="Be brief."), user(QUESTION)])
    messages = await memory.aget()
    assert [m.role for m in messages] == [MessageRole.SYSTEM, MessageRole.USER]
    content = messages[0].content or ""
    assert FACT in content and content.endswith("Be brief.")
    assert (await memory.aget_all())[0].content == "Be brief."  # the stored one is untouched


async def test_set_remembers_only_the_messages_beyond_the_current_history(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    memory = alice(bank)
    history = [user("My favourite colour is teal."), assistant("Noted.")]
    await memory.aset(history)
    await memory.aset([*history, user("My dog is Rex.")])
    assert extractions(llm) == [
        "alice: My favourite colour is teal.",
        "assistant: Noted.",
        "alice: My dog is Rex.",
    ]
    assert len(await memory.aget_all()) == 3


async def test_reset_clears_short_term_only(bank: AsyncMemory) -> None:
    memory = alice(bank)
    await memory.aput(user("My favourite colour is teal."))
    await memory.areset()
    assert await memory.aget_all() == []
    assert FACT in ((await memory.aget(input=QUESTION))[0].content or "")


async def test_clear_long_term_deletes_restorably_or_erases(bank: AsyncMemory) -> None:
    memory = alice(bank)
    bob = MemoryR1Memory.from_defaults(bank=bank, user_id="bob")
    await memory.aput(user("My favourite colour is teal."))
    await bob.aput(user("My favourite colour is red."))

    assert await memory.aclear_long_term() == 1
    (kept,) = (await bank.get_all(user_id="alice", include_deleted=True)).items
    assert kept.status is MemoryStatus.DELETED
    assert [m.role for m in await memory.aget(input=QUESTION)] == [MessageRole.USER]

    assert memory.clear_long_term(erase=True) == 1
    assert len(await bank.get_all(user_id="alice", include_deleted=True)) == 0
    assert len(await bank.get_all(user_id="bob")) == 1  # other scopes are untouched


async def test_from_defaults_takes_a_primary_memory_and_options(bank: AsyncMemory) -> None:
    primary = Memory.from_defaults(session_id="s-1", token_limit=500)
    memory = MemoryR1Memory.from_defaults(
        bank=bank, user_id="alice", primary_memory=primary, top_k=1, infer=False,
        context_template="Known facts:\n{memories}",
    )  # fmt: skip
    await memory.aput(user("I live in Lisbon"))
    await memory.aput(user("I work as a nurse"))
    assert await primary.aget_all() == await memory.aget_all()
    system = (await memory.aget(input="Where do I live?"))[0].content or ""
    assert system.startswith("Known facts:\n- ") and len(system.splitlines()) == 2
    assert memory.class_name() == "MemoryR1Memory"
    dumped = memory.model_dump()
    assert "bank" not in dumped and dumped["user_id"] == "alice"
