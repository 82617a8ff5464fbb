"""TransformersLLM on the real SmolLM2-135M GGUF: cache, chat, async, constrained decoding.

The model is loaded twice in the whole module: once from the GGUF (which writes the
safetensors cache into a fresh temporary directory) and once from that cache.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("xgrammar")
pytest.importorskip("gguf")
pytest.importorskip("accelerate")

from llm_contract import LLMContract
from memory_r1.exceptions import ConfigurationError, InvalidInputError, MissingDependencyError
from memory_r1.llms.base import LLM, Message
from memory_r1.llms.transformers import TransformersLLM, smollm2_gguf_path

MANAGER_SCHEMA: dict[str, Any] = json.loads(
    '{"type":"object","properties":{"memory":{"type":"array","maxItems":4,"items":{"type":"object",'
    '"properties":{"id":{"type":"string"},"text":{"type":"string"},"event":{"type":"string",'
    '"enum":["ADD","UPDATE","DELETE","NONE"]},"old_memory":{"type":"string"}},'
    '"required":["id","text","event"],"additionalProperties":false}}},"required":["memory"],'
    '"additionalProperties":false}'
)

MANAGER_SYSTEM = (
    "You are the Memory Manager of a personal assistant. You keep short memories about the "
    "user. Given the existing memories and one new fact, choose an operation for each memory: "
    "ADD a new memory for new information (use the next free id), UPDATE an existing memory "
    "when the fact refines it (keep its id, put the previous text in old_memory), DELETE a "
    "memory the fact contradicts, or NONE when nothing changes. Each text is one short "
    'sentence. Reply only with JSON like {"memory": [{"id": "0", "text": "...", "event": "NONE"}]}.'
)

# (existing memories, new fact): varied topics and operations.
MANAGER_CASES: list[tuple[list[str], str]] = [
    (["Lives in Berlin", "Works as a nurse"], "I just moved to Munich for a new job."),
    (["Has a dog named Rex", "Likes jogging"], "My cat Luna turned three today."),
    (["Is vegetarian", "Loves Italian food"], "I started eating fish again last month."),
    (["Plays guitar", "Studies chemistry"], "I also play the piano now."),
    (["Allergic to peanuts", "Drinks coffee every morning"], "I switched from coffee to tea."),
    (["Birthday is May 3", "Has two sisters"], "My brother Tom is visiting next week."),
    (["Drives a Toyota", "Commutes by car"], "I sold my car and bike to work now."),
    (["Favourite color is blue", "Likes hiking"], "The weather is nice today."),
    (["Learning Spanish", "Visited Mexico in 2022"], "I passed my B2 Spanish exam."),
    (["Works at Acme Corp", "Manager is Dana"], "I quit Acme and joined Globex."),
    (["Reads sci-fi novels", "Favourite author is Asimov"], "I am reading Dune right now."),
    (["Runs 5 km weekly", "Training for a half marathon"], "I finished my first marathon!"),
    (["Has a daughter, Mia", "Mia is 4 years old"], "Mia started school this autumn."),
    (["Lives with a roommate", "Rents an apartment"], "I bought a house with my partner."),
    (["Uses Linux at work", "Prefers vim"], "I switched my editor to VS Code."),
    (["Likes jazz", "Goes to concerts monthly"], "I saw Norah Jones live last night."),
    (["Is learning to cook", "Favourite dish is curry"], "I cooked ramen from scratch."),
    (["Has a peanut allergy", "Carries an EpiPen"], "My doctor says I am not allergic."),
    (["Supports FC Barcelona", "Watches every match"], "I stopped following football."),
    (["Wakes up at 6am", "Meditates daily"], "I now wake up at 7am."),
    (["Owns a bakery", "Bakes sourdough", "Opens at 8am"], "The bakery now opens at 7am."),
    (["Enjoys chess", "Rated 1500 online", "Plays on weekends"], "My rating reached 1650."),
    (["Is a teacher", "Teaches math"], "I also coach the school basketball team."),
    (["Has a fish tank", "Keeps goldfish"], "Nothing new about me today."),
]


def manager_messages(memories: list[str], fact: str) -> list[Message]:
    existing = json.dumps([{"id": str(i), "text": t} for i, t in enumerate(memories)])
    return [
        {"role": "system", "content": MANAGER_SYSTEM},
        {"role": "user", "content": f"Existing memories: {existing}\nNew fact: {fact}"},
    ]


def schema_errors(obj: Any) -> list[str]:
    """Check ``obj`` against MANAGER_SCHEMA by hand (no jsonschema dependency)."""
    if not isinstance(obj, dict) or set(obj) != {"memory"}:
        return [f"top level must be an object with only 'memory': {obj!r}"]
    items = obj["memory"]
    if not isinstance(items, list) or len(items) > 4:
        return [f"'memory' must be a list of at most 4 items: {items!r}"]
    errors = []
    for item in items:
        if not isinstance(item, dict) or not {"id", "text", "event"} <= set(item):
            errors.append(f"item lacks id/text/event: {item!r}")
        elif not set(item) <= {"id", "text", "event", "old_memory"}:
            errors.append(f"item has extra keys: {item!r}")
        elif not all(isinstance(v, str) for v in item.values()):
            errors.append(f"item values must be strings: {item!r}")
        elif item["event"] not in {"ADD", "UPDATE", "DELETE", "NONE"}:
            errors.append(f"bad event: {item!r}")
    return errors


def chat(question: str) -> list[Message]:
    return [{"role": "user", "content": question}]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def gguf_llm(cache_dir: Path) -> TransformersLLM:
    return TransformersLLM(smollm2_gguf_path(), cache_dir=cache_dir, max_new_tokens=32)


@pytest.fixture(scope="module")
def cached_llm(gguf_llm: TransformersLLM, cache_dir: Path) -> TransformersLLM:
    # One padded batch for all manager prompts: on CPU, prefill of ~4.5k prompt tokens and
    # the decoding steps both cost less in one batch than in several.
    return TransformersLLM(
        smollm2_gguf_path(), cache_dir=cache_dir, max_new_tokens=32, batch_size=24
    )


def test_missing_path_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        TransformersLLM(tmp_path / "nope.gguf")
    with pytest.raises(ConfigurationError, match="does not exist"):
        TransformersLLM(tmp_path, gguf_file="nope.gguf")


def test_smollm2_path_points_at_the_shipped_gguf() -> None:
    path = smollm2_gguf_path()
    assert path.is_file()
    assert path.suffix == ".gguf"
    assert issubclass(MissingDependencyError, ConfigurationError)


@pytest.mark.slow
def test_second_load_reads_the_safetensors_cache(
    gguf_llm: TransformersLLM, cached_llm: TransformersLLM, cache_dir: Path
) -> None:
    assert not gguf_llm.loaded_from_cache
    assert cached_llm.loaded_from_cache
    assert cached_llm.source == gguf_llm.source
    assert cached_llm.source.parent == cache_dir
    assert (cached_llm.source / "model.safetensors").is_file()
    assert [p.name for p in cache_dir.iterdir()] == [cached_llm.source.name]  # no partial dirs
    assert cached_llm.load_time_s < gguf_llm.load_time_s / 3


@pytest.mark.slow
def test_gguf_and_cache_give_identical_greedy_outputs(
    gguf_llm: TransformersLLM, cached_llm: TransformersLLM
) -> None:
    conversations = [chat("What is the capital of France?"), chat("Name three fruits.")]
    from_gguf = gguf_llm.complete_batch(conversations, max_tokens=24)
    from_cache = cached_llm.complete_batch(conversations, max_tokens=24)
    assert [r.text for r in from_gguf] == [r.text for r in from_cache]


@pytest.mark.slow
def test_greedy_chat_completion(cached_llm: TransformersLLM) -> None:
    response = cached_llm.complete(chat("What is the capital of France?"), max_tokens=32)
    assert "Paris" in response.text
    assert 10 < response.prompt_tokens < 100
    assert 0 < response.completion_tokens <= 32
    assert response.latency_s > 0
    assert response.model == cached_llm.name == "transformers:SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.slow
async def test_acomplete_equals_complete(cached_llm: TransformersLLM) -> None:
    questions = [chat("Name a planet."), chat("What colour is the sky?")]
    expected = [cached_llm.complete(q, max_tokens=16) for q in questions]
    # Concurrent calls share the model; the lock serializes them.
    got = await asyncio.gather(*(cached_llm.acomplete(q, max_tokens=16) for q in questions))
    assert [r.text for r in got] == [r.text for r in expected]
    assert [r.completion_tokens for r in got] == [r.completion_tokens for r in expected]


@pytest.mark.slow
def test_uncompilable_schema_is_an_invalid_input(cached_llm: TransformersLLM) -> None:
    with pytest.raises(InvalidInputError, match="JSON schema"):
        cached_llm.complete(chat("hi"), json_schema={"type": "no-such-type"})


@pytest.mark.slow
def test_budget_cut_is_reported_as_truncated(cached_llm: TransformersLLM) -> None:
    messages = manager_messages(*MANAGER_CASES[0])
    response = cached_llm.complete(messages, json_schema=MANAGER_SCHEMA, max_tokens=6)
    assert response.truncated
    assert response.completion_tokens == 6
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.slow
def test_constrained_manager_output_always_matches_the_schema(
    cached_llm: TransformersLLM,
) -> None:
    budget = 160
    conversations = [manager_messages(memories, fact) for memories, fact in MANAGER_CASES]
    responses = cached_llm.complete_batch(
        conversations, json_schema=MANAGER_SCHEMA, max_tokens=budget
    )
    assert len(responses) == len(MANAGER_CASES) >= 20
    cut = [i for i, r in enumerate(responses) if r.truncated]
    for i, response in enumerate(responses):
        if i in cut:
            assert response.completion_tokens == budget
            with pytest.raises(json.JSONDecodeError):
                json.loads(response.text)
        else:
            assert schema_errors(json.loads(response.text)) == [], response.text
    # The grammar guarantees every finished output; the only failure left is a greedy
    # repetition loop inside a string running into the budget (1 of 24 when measured).
    assert len(cut) <= 2, [responses[i].text for i in cut]
    # Bounding string length turns such a loop into a finished, valid (if dull) output.
    bounded = json.loads(json.dumps(MANAGER_SCHEMA))
    bounded["properties"]["memory"]["items"]["properties"]["text"]["maxLength"] = 100
    retried = cached_llm.complete_batch(
        [conversations[i] for i in cut], json_schema=bounded, max_tokens=budget
    )
    for response in retried:
        assert not response.truncated, response.text
        assert schema_errors(json.loads(response.text)) == [], response.text


@pytest.mark.slow
class TestTransformersLLMContract(LLMContract):
    @pytest.fixture
    def llm(self, cached_llm: TransformersLLM) -> LLM:
        return cached_llm


@pytest.mark.slow
def test_pattern_constrains_the_whole_output(cached_llm: TransformersLLM) -> None:
    import re

    pattern = r"(yes|no), because [a-z ]{1,40}\."
    response = cached_llm.complete(chat("Is the sky blue? Say why."), pattern=pattern)
    assert not response.truncated and re.fullmatch(pattern, response.text), response.text
    with pytest.raises(InvalidInputError, match="not both"):
        cached_llm.complete(chat("hi"), pattern=".*", json_schema={"type": "object"})


@pytest.mark.slow
@pytest.mark.parametrize("distill", [True, False])
def test_answer_agent_on_smollm2_returns_a_parsed_answer(
    cached_llm: TransformersLLM, tmp_path: Path, distill: bool
) -> None:
    from memory_r1 import Memory

    facts = {
        "Maya": ["Maya moved to Lisbon in March 2023", "Maya works as a nurse"],
        "Leo": ["Leo adopted a dog named Biscuit", "Leo plays the guitar in a band"],
    }
    with Memory(path=tmp_path / "bank", embedder="hashing", llm=cached_llm) as mem:
        for name, texts in facts.items():
            turns = [{"role": "user", "name": name, "content": t} for t in texts]
            mem.add(turns, user_id="pair", infer=False, timestamp="2023-05-08T10:00:00")
        result = mem.answer("What is the name of Leo's dog?", user_id="pair", distill=distill)
    assert result.answer.strip() and result.usage.calls >= 1
    assert len(result.retrieved) == 4  # top-k per speaker: both speakers' memories
    shown = {m.id for m in result.retrieved}
    assert set(result.selected) <= shown
    if distill:  # the grammar lets it quote only shown memories, so each quote resolves
        quoted = [ln for ln in result.reasoning.splitlines() if ln.startswith("- ")]
        assert len(result.selected) == len({q for q in quoted}), result.reasoning
