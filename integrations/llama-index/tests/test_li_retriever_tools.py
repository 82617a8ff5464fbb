"""``MemoryR1Retriever`` and ``memory_tools`` over a real bank."""

from __future__ import annotations

import asyncio

from llama_index.core.schema import MetadataMode, QueryBundle
from memory_r1 import AsyncMemory
from memory_r1.testing import FunctionLLM

from llama_index.memory.memory_r1 import MemoryR1Retriever, memory_tools

TEXTS = ["teal is my favourite colour", "my dog is called Rex", "I live in Lisbon"]


async def fill(bank: AsyncMemory) -> None:
    for text in TEXTS:
        await bank.add(text, user_id="alice", infer=False, metadata={"topic": text.split()[-1]})
    await bank.add("bob's favourite colour is red", user_id="bob", infer=False)


async def test_retriever_returns_scored_nodes_of_the_scope_only(bank: AsyncMemory) -> None:
    await fill(bank)
    found = await MemoryR1Retriever(bank, user_id="alice").aretrieve("favourite colour")
    expected = await bank.search("favourite colour", user_id="alice")
    assert [(n.node.node_id, n.score) for n in found] == [(str(m.id), m.score) for m in expected]
    assert {n.node.get_content() for n in found} == set(TEXTS)
    top = found[0].node
    assert top.get_content() == "teal is my favourite colour"
    assert top.metadata["memory_id"] == top.node_id and top.metadata["user_id"] == "alice"
    assert top.metadata["topic"] == "colour" and top.metadata["version"] == 1
    llm_view = top.get_content(metadata_mode=MetadataMode.LLM)
    assert "memory_id" not in llm_view and "teal is my favourite colour" in llm_view


def test_retriever_sync_with_top_k_and_filters(bank: AsyncMemory) -> None:
    asyncio.run(fill(bank))
    one = MemoryR1Retriever(bank, user_id="alice", top_k=1).retrieve("favourite colour")
    assert [n.node.get_content() for n in one] == ["teal is my favourite colour"]
    filtered = MemoryR1Retriever(bank, user_id="alice", filters={"topic": "Lisbon"})
    assert [n.node.get_content() for n in filtered.retrieve(QueryBundle("colour"))] == [
        "I live in Lisbon"
    ]
    assert MemoryR1Retriever(bank, user_id="carol").retrieve("favourite colour") == []


async def test_retriever_with_distill_returns_the_selected_memories(
    bank: AsyncMemory, llm: FunctionLLM
) -> None:
    await fill(bank)
    nodes = await MemoryR1Retriever(bank, user_id="alice", distill=True).aretrieve(
        "What is my favourite colour?"
    )
    assert [n.node.get_content() for n in nodes] == ["teal is my favourite colour"]
    assert len(llm.calls) == 1


async def test_tools_remember_through_the_manager_and_recall(bank: AsyncMemory) -> None:
    remember, recall = memory_tools(bank, user_id="alice")
    assert [t.metadata.name for t in (remember, recall)] == ["remember", "recall"]
    assert set(remember.metadata.get_parameters_dict()["properties"]) == {"fact"}

    added = await remember.acall(fact="alice's favourite colour is teal")
    assert added.content == 'Remembered: ADD "alice\'s favourite colour is teal"'
    same = await remember.acall(fact="alice's favourite colour is teal")
    assert same.content == "Already known; nothing changed."
    updated = await remember.acall(fact="alice's favourite colour is green")
    assert updated.content == (
        'Remembered: UPDATE "alice\'s favourite colour is green"'
        ' (was "alice\'s favourite colour is teal")'
    )
    assert len(await bank.get_all(user_id="alice")) == 1

    found = await recall.acall(query="favourite colour")
    assert "alice's favourite colour is green" in found.content
    _, bobs_recall = memory_tools(bank, user_id="bob")
    assert (await bobs_recall.acall(query="favourite colour")).content == "No memories found."
