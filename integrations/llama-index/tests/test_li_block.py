"""``MemoryR1Block`` inside a real llama-index ``Memory`` over a real memory-r1 bank."""

from __future__ import annotations

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory
from llama_index.core.storage.chat_store.base_db import MessageStatus
from llama_index.core.utils import get_tokenizer
from memory_r1 import AsyncMemory, HistoryOp
from memory_r1.testing import FunctionLLM

from llama_index.memory.memory_r1 import MemoryR1Block

FACT = "alice's favourite colour is teal"
FILLER = "I had a long day at work today, honestly."


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


def prompts_sent(llm: FunctionLLM) -> str:
    return "\n".join(c.messages[-1]["content"] for c in llm.calls)


async def test_flushed_turns_reach_the_manager_and_come_back_in_the_system_message(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    block = MemoryR1Block(bank=bank, user_id="alice", names={"user": "alice"})
    memory = Memory.from_defaults(token_limit=40, token_flush_size=10, memory_blocks=[block])

    await memory.aput_messages([user("My favourite colour is teal."), assistant("Noted.")])
    assert llm.calls == []  # still in the short-term queue: nothing reached the manager
    for i in range(3):
        await memory.aput(user(f"{FILLER} ({i})"))
        await memory.aput(assistant("Noted."))

    (stored,) = (await bank.get_all(user_id="alice")).items
    assert (stored.text, stored.actor, stored.sources) == (FACT, "alice", [memory.session_id])
    assert "alice: My favourite colour is teal." in prompts_sent(llm)
    active = await memory.aget_all(status=MessageStatus.ACTIVE)
    assert active and active[-1].content == "Noted."
    assert f"{FILLER} (2)" not in prompts_sent(llm)  # the latest turn was not flushed

    messages = await memory.aget(input="What is my favourite colour?")
    assert messages[0].role == MessageRole.SYSTEM
    system = messages[0].content or ""
    assert "<long_term_memory>" in system and FACT in system
    assert [m.content for m in messages[1:]] == [m.content for m in active]


async def test_an_update_replaces_the_memory_instead_of_adding_one(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    block = MemoryR1Block(bank=bank, user_id="alice", names={"user": "alice"})
    await block.aput([user("My favourite colour is teal.")])
    await block.aput([user("My favourite colour is green.")])
    (item,) = (await bank.get_all(user_id="alice")).items
    assert (item.text, item.version) == ("alice's favourite colour is green", 2)
    assert [h.operation for h in await bank.history(item.id)] == [HistoryOp.ADD, HistoryOp.UPDATE]


async def test_roles_pick_which_messages_are_remembered(bank: AsyncMemory) -> None:
    block = MemoryR1Block(bank=bank, user_id="alice", infer=False, roles=("user",))
    await block.aput([user("I live in Lisbon"), assistant("Lisbon is lovely"), user("  ")])
    assert [m.text for m in await bank.get_all(user_id="alice")] == ["I live in Lisbon"]
    await block.aput([assistant("only the assistant spoke")])  # nothing to send: no call
    assert len(await bank.get_all(user_id="alice")) == 1


async def test_distill_keeps_only_what_the_answer_agent_selects(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    for text in (FACT, "alice's dog is called Rex", "alice's city is Lisbon"):
        await bank.add(text, user_id="alice", infer=False)
    question = [user("What is my favourite colour?")]
    searched = await MemoryR1Block(bank=bank, user_id="alice").aget(question)
    distilled = await MemoryR1Block(bank=bank, user_id="alice", distill=True).aget(question)
    assert len(searched.splitlines()) == 3
    assert distilled.splitlines() == [line for line in searched.splitlines() if FACT in line]
    assert llm.calls[-1].messages[0]["content"].startswith("You answer questions")


async def test_nothing_is_rendered_without_a_question_or_memories(bank: AsyncMemory) -> None:
    block = MemoryR1Block(bank=bank, user_id="alice")
    assert await block.aget(None) == ""
    assert await block.aget([user("What is my favourite colour?")]) == ""
    memory = Memory.from_defaults(memory_blocks=[block])
    await memory.aput(user("hello"))
    assert [m.role for m in await memory.aget()] == [MessageRole.USER]


async def test_truncation_drops_the_lowest_scored_memories_not_the_block(
    bank: AsyncMemory,
) -> None:
    texts = [
        "teal is my favourite colour",
        "my favourite food is ramen",
        "my brother lives in Porto",
        "the dentist appointment is on Friday",
    ]
    for text in texts:
        await bank.add(text, user_id="alice", infer=False)
    block = MemoryR1Block(bank=bank, user_id="alice")
    question = user("What is my favourite colour?")
    lines = (await block.aget([question])).splitlines()
    scores = [m.score for m in await bank.search(question.content or "", user_id="alice")]
    assert len(lines) == 4 and scores == sorted(scores, reverse=True)
    assert "teal is my favourite colour" in lines[0]

    tokens = get_tokenizer()
    budget = len(tokens(question.content or "")) + len(tokens("\n".join(lines[:2])))
    memory = Memory.from_defaults(token_limit=budget, memory_blocks=[block])
    await memory.aput(question)
    system = (await memory.aget())[0].content or ""
    assert all(line in system for line in lines[:2])
    assert not any(line in system for line in lines[2:])


async def test_truncate_returns_none_when_nothing_fits(bank: AsyncMemory) -> None:
    block = MemoryR1Block(bank=bank, user_id="alice")
    assert await block.atruncate("- a\n- b", 10_000) is None
    assert await block.atruncate("- a\n- b", 0) == "- a\n- b"
