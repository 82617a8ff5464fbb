"""Bad input: clear, typed errors, raised before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from memory_r1 import (
    AsyncMemory,
    ConfigurationError,
    FilterError,
    InvalidInputError,
    Memory,
    PolicyOutputError,
)
from memory_r1.testing import FunctionLLM
from pydantic import ValidationError

from llama_index.memory.memory_r1 import (
    MemoryR1Block,
    MemoryR1Memory,
    MemoryR1Retriever,
    memory_tools,
)

TELL = ChatMessage(role=MessageRole.USER, content="My favourite colour is teal.")


def build(kind: str, bank: Any, **options: Any) -> object:
    if kind == "block":
        return MemoryR1Block(bank=bank, **options)
    if kind == "memory":
        return MemoryR1Memory.from_defaults(bank=bank, **options)
    if kind == "retriever":
        return MemoryR1Retriever(bank, **options)
    return memory_tools(bank, **options)


KINDS = ["block", "memory", "retriever", "tools"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_sync_memory_is_refused_with_a_hint(kind: str, tmp_path: Path) -> None:
    with (
        Memory(path=tmp_path / "sync", embedder="hashing:64") as sync_bank,
        pytest.raises(TypeError, match=r"AsyncMemory\(\.\.\.\) instead of Memory"),
    ):
        build(kind, sync_bank, user_id="alice")


@pytest.mark.parametrize("kind", KINDS)
def test_something_else_as_bank_is_a_type_error(kind: str) -> None:
    with pytest.raises(TypeError, match=r"bank must be a memory_r1\.AsyncMemory, got str"):
        build(kind, "/tmp/bank", user_id="alice")


@pytest.mark.parametrize("kind", KINDS)
def test_a_scope_is_required(kind: str, bank: AsyncMemory) -> None:
    with pytest.raises(ValidationError, match="at least one of user_id, agent_id, run_id"):
        build(kind, bank)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top_k": 0}, "greater than 0"),
        ({"query_messages": 0}, "greater than 0"),
        ({"roles": ()}, "roles must be a non-empty subset"),
        ({"roles": ("user", "wizard")}, "roles must be a non-empty subset"),
        ({"distill": True, "filters": {"topic": "x"}}, "filters apply to search"),
        ({"context_template": "Memories:"}, "must contain {memories}"),
        ({"user_id": 7}, "valid string"),
    ],
)
def test_bad_options_are_validation_errors(
    bank: AsyncMemory, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        MemoryR1Memory.from_defaults(bank=bank, **{"user_id": "alice", **options})


async def test_inferring_without_an_llm_fails_and_writes_nothing(tmp_path: Path) -> None:
    bank = AsyncMemory(path=tmp_path / "no-llm", embedder="hashing:64")
    try:
        memory = MemoryR1Memory.from_defaults(bank=bank, user_id="alice")
        with pytest.raises(ConfigurationError, match="needs an llm"):
            await memory.aput(TELL)
        assert await memory.aget_all() == []
        assert len(await bank.get_all(user_id="alice")) == 0
    finally:
        bank.close()


async def test_a_model_that_keeps_failing_raises_and_writes_nothing(tmp_path: Path) -> None:
    broken = FunctionLLM(lambda messages, info: "not json")
    bank = AsyncMemory(path=tmp_path / "broken", embedder="hashing:64", llm=broken)
    try:
        memory = MemoryR1Memory.from_defaults(bank=bank, user_id="alice")
        with pytest.raises(PolicyOutputError) as error:
            memory.put(TELL)
        assert error.value.last_output == "not json"
        assert memory.get_all() == []
        assert len(await bank.get_all(user_id="alice")) == 0
    finally:
        bank.close()


async def test_an_empty_fact_for_the_remember_tool(bank: AsyncMemory) -> None:
    remember, _ = memory_tools(bank, user_id="alice")
    with pytest.raises(InvalidInputError, match="non-empty"):
        await remember.acall(fact="   ")


async def test_a_malformed_filter_is_a_filter_error(bank: AsyncMemory) -> None:
    await bank.add("I live in Lisbon", user_id="alice", infer=False)
    retriever = MemoryR1Retriever(bank, user_id="alice", filters={"topic": {"$nope": 1}})
    with pytest.raises(FilterError):
        await retriever.aretrieve("Lisbon")
