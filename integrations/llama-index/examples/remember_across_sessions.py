"""A llama-index FunctionAgent that remembers its users across sessions, with memory-r1.

Each session gets a fresh short-term history (``MemoryR1Memory``); every turn also goes to
memory-r1's Memory Manager, which adds, updates or deletes facts in a bank on disk, scoped per
user. A later session, a new process even, finds them again.

It runs offline with no API key: both models are small rule-based stand-ins (memory-r1's
``FunctionLLM`` and llama-index's ``MockFunctionCallingLLM``), so what you see is the real
memory pipeline around fake language skills. With real models, replace them:

    # pip install "memory-r1[litellm,hf]" llama-index-llms-openai; export OPENAI_API_KEY=...
    bank = AsyncMemory(path=..., embedder="sentence-transformers",
                       llm="litellm:openai/gpt-4o-mini")
    agent = FunctionAgent(llm=OpenAI(model="gpt-4o-mini"))

Run:  python integrations/llama-index/examples/remember_across_sessions.py [--bank DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM
from memory_r1 import AsyncMemory, Prompts
from memory_r1.testing import CallInfo, FunctionLLM

from llama_index.memory.memory_r1 import MemoryR1Memory

# -- offline stand-ins for the two models ---------------------------------------------------

FACT = re.compile(r"^(?P<subject>\w+'s [\w ]+?) is (?P<value>[\w ]+)$")


def memory_model(messages: Sequence[Mapping[str, Any]], info: CallInfo) -> str:
    """memory-r1's model: "My X is Y" becomes a fact; a fact about a known X is an UPDATE."""
    system, prompt = messages[0]["content"], messages[-1]["content"]
    if system == Prompts().extraction_system:
        lines = prompt.split("Conversation:\n")[1].split("\n\n")[0].splitlines()
        found = [re.match(r"^(\w+): My ([\w ]+ is [\w ]+)\.?$", line) for line in lines]
        return json.dumps({"facts": [f"{m[1]}'s {m[2]}" for m in found if m]})
    stored = json.loads(prompt.split("Stored memories:\n")[1].split("\n\nNew facts:")[0])
    facts = json.loads(prompt.split("New facts:\n")[1].split("\n\nReturn only")[0])
    ops = []
    for fact in facts:
        subject = FACT.match(fact)
        old = next((m for m in stored if subject and m["text"].startswith(subject[1])), None)
        if old is None:
            ops.append({"id": "new", "text": fact, "event": "ADD"})
        else:
            event = "NONE" if old["text"] == fact else "UPDATE"
            ops.append({"id": old["id"], "text": fact, "event": event, "old_memory": old["text"]})
    return json.dumps({"memory": ops})


def agent_model(messages: Sequence[ChatMessage], **_: Any) -> ChatMessage:
    """The agent's model: answers "What is my X?" from the memories in its system messages."""
    said = next(m.content or "" for m in reversed(messages) if m.role == MessageRole.USER)
    reply = "Noted."
    if asked := re.match(r"What is my ([\w ]+)\?", said):
        context = "\n".join(m.content or "" for m in messages if m.role == MessageRole.SYSTEM)
        found = re.search(rf"'s {asked[1]} is ([\w ]+)", context)
        reply = f"Your {asked[1]} is {found[1]}." if found else "I don't know that yet."
    return ChatMessage(role=MessageRole.ASSISTANT, content=reply)


# -- the agent --------------------------------------------------------------------------------

SESSIONS = [
    ("alice", "My favourite colour is teal."),
    ("bob", "My favourite colour is red."),
    ("alice", "What is my favourite colour?"),
    ("alice", "My favourite colour is green."),
    ("alice", "What is my favourite colour?"),
    ("bob", "What is my favourite colour?"),
    ("carol", "What is my favourite colour?"),
]


async def main(bank_path: Path | None = None) -> list[str]:
    """Run one short session per line of ``SESSIONS``; return (and print) the transcript."""
    bank = AsyncMemory(path=bank_path, embedder="hashing", llm=FunctionLLM(memory_model))
    agent = FunctionAgent(
        llm=MockFunctionCallingLLM(response_generator=agent_model),
        system_prompt="You are a helpful assistant with a long-term memory.",
    )
    transcript = []
    try:
        for user, text in SESSIONS:
            session = MemoryR1Memory.from_defaults(
                bank=bank, user_id=user, names={"user": user}, roles=("user",)
            )
            reply = await agent.run(user_msg=text, memory=session)
            transcript += [f"[{user}] {text}", f"  agent: {reply}"]
            print(*transcript[-2:], sep="\n")
        (memory,) = (await bank.get_all(user_id="alice")).items
        for record in await bank.history(memory.id):
            transcript.append(f"  history: {record.operation.value} {record.new_text!r}")
            print(transcript[-1])
    finally:
        bank.close()
    return transcript


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bank", type=Path, help="bank folder (default: a temporary one)")
    asyncio.run(main(parser.parse_args().bank))
