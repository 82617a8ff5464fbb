"""Real llama-index agent loops remembering across sessions (mock models, real memory)."""

from __future__ import annotations

import asyncio

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import MessageRole
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import BaseMemory, Memory
from memory_r1 import AsyncMemory
from memory_r1.testing import FunctionLLM

from li_fakes import agent_llm
from llama_index.memory.memory_r1 import MemoryR1Block, MemoryR1Memory, memory_tools

QUESTION = "What is my favourite colour?"
FILLER = "I had a long day at work today, honestly."


def session(bank: AsyncMemory, user_id: str) -> MemoryR1Memory:
    """A new session: fresh short-term history, the user's long-term memory."""
    return MemoryR1Memory.from_defaults(bank=bank, user_id=user_id, names={"user": user_id})


async def chat(agent: FunctionAgent, text: str, memory: BaseMemory | None = None) -> str:
    return str(await agent.run(user_msg=text, memory=memory))


def new_agent() -> FunctionAgent:
    return FunctionAgent(llm=agent_llm(), system_prompt="You are a helpful assistant.")


async def test_function_agent_remembers_across_sessions_and_keeps_users_apart(
    bank: AsyncMemory,
) -> None:
    agent = new_agent()
    assert await chat(agent, "My favourite colour is teal.", session(bank, "alice")) == "Noted."
    assert await chat(agent, "My favourite colour is red.", session(bank, "bob")) == "Noted."

    later = session(bank, "alice")
    assert await chat(agent, QUESTION, later) == "Your favourite colour is teal."
    assert await chat(agent, QUESTION, session(bank, "bob")) == "Your favourite colour is red."
    assert await chat(agent, QUESTION, session(bank, "carol")) == "I don't know that yet."
    roles = [m.role for m in await later.aget_all()]
    assert roles == [MessageRole.USER, MessageRole.ASSISTANT]  # one session's turns only


def test_function_agent_driven_from_sync_code(bank: AsyncMemory) -> None:
    agent = new_agent()
    asyncio.run(chat(agent, "My favourite colour is teal.", session(bank, "alice")))
    assert asyncio.run(chat(agent, QUESTION, session(bank, "alice"))) == (
        "Your favourite colour is teal."
    )
    assert asyncio.run(chat(agent, QUESTION, session(bank, "bob"))) == "I don't know that yet."


def test_sync_chat_engine_remembers_across_sessions(bank: AsyncMemory, llm: FunctionLLM) -> None:
    def engine(user_id: str) -> SimpleChatEngine:
        return SimpleChatEngine.from_defaults(llm=agent_llm(), memory=session(bank, user_id))

    assert str(engine("alice").chat("My favourite colour is teal.")) == "Noted."
    assert str(engine("alice").chat(QUESTION)) == "Your favourite colour is teal."
    assert str(engine("bob").chat(QUESTION)) == "I don't know that yet."
    assert llm.calls  # the memory-r1 policies ran: the fact came through the Memory Manager


async def test_function_agent_with_the_block_in_a_memory(bank: AsyncMemory) -> None:
    def memory() -> Memory:
        block = MemoryR1Block(bank=bank, user_id="alice", names={"user": "alice"})
        return Memory.from_defaults(token_limit=40, token_flush_size=10, memory_blocks=[block])

    agent, first = new_agent(), memory()
    await chat(agent, "My favourite colour is teal.", first)
    assert len(await bank.get_all(user_id="alice")) == 0  # not flushed yet
    for i in range(3):
        await chat(agent, f"{FILLER} ({i})", first)
    assert len(await bank.get_all(user_id="alice")) == 1
    assert await chat(agent, QUESTION, memory()) == "Your favourite colour is teal."


async def test_function_agent_with_memory_tools(bank: AsyncMemory) -> None:
    def agent(user_id: str) -> FunctionAgent:
        return FunctionAgent(llm=agent_llm(tools=True), tools=memory_tools(bank, user_id=user_id))

    assert await chat(agent("alice"), "My favourite colour is teal.") == "Noted."
    (item,) = (await bank.get_all(user_id="alice")).items
    assert item.text == "the user's favourite colour is teal"
    assert await chat(agent("alice"), QUESTION) == "Your favourite colour is teal."
    assert await chat(agent("bob"), QUESTION) == "I don't know that yet."
