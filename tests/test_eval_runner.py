"""The LoCoMo runner end to end on the mini file: every system, the report files, resumption.

The models are ``FunctionLLM``s that read the prompt as a model would: the extractor turns
each line of the conversation into a fact, the Memory Manager adds every fact, the Answer
Agent answers from the memory lines it is shown (and says "Not mentioned" when the line it
needs is not among them), and the judge compares the answer with the gold answer.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from memory_r1 import Memory
from memory_r1.eval import load_locomo
from memory_r1.eval._records import EvalConfig, IngestRecord, QuestionRecord, read_jsonl
from memory_r1.eval.locomo import LoCoMo, parse_locomo
from memory_r1.eval.runner import plan_questions, run_locomo
from memory_r1.eval.systems import FullContextSystem, Setup, make_system
from memory_r1.exceptions import (
    ConfigurationError,
    InvalidInputError,
    LLMError,
    MissingDependencyError,
)
from memory_r1.llms.base import Message
from memory_r1.testing import CallInfo, FunctionLLM, HashingEmbedder

MINI = Path(__file__).parent / "data" / "mini_locomo.json"
PNG = b"\x89PNG\r\n\x1a\n"

# question keyword -> (a word the needed memory line contains, the answer)
KNOWLEDGE = {
    "'s cat": ("Pixel", "Pixel"),
    "live now": ("moved here", "Porto"),
    "half marathon": ("half marathon yesterday", "1 June 2023"),
    "adopt Pixel": ("adopted", "2023"),
    "cities": ("Lisbon", "Lisbon, Porto"),
    "books": ("librarian", "Yes"),
    "market": ("pottery bowls", "two pottery bowls"),
}


def _after(text: str, marker: str) -> str:
    return text.rsplit(marker, 1)[1].split("\n", 1)[0]


def policy(messages: list[Message], info: CallInfo) -> str:
    """Extraction, Memory Manager, Answer Agent and judge, each by what its prompt asks."""
    user = next(m["content"] for m in messages if m["role"] == "user")  # re-asks come after
    if "Conversation:\n" in user:
        lines = user.split("Conversation:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        return json.dumps({"facts": [line.replace(": ", " said: ", 1) for line in lines]})
    if "New facts:\n" in user:
        facts = json.loads(user.split("New facts:\n", 1)[1].split("\n\nReturn", 1)[0])
        ops = [{"id": f"new{i}", "text": f, "event": "ADD"} for i, f in enumerate(facts)]
        return json.dumps({"memory": ops})
    if "## New Messages\n" in user:  # mem0's extraction: keep what the user said
        said = user.split("## New Messages\n", 1)[1].split("\n\n##", 1)[0].splitlines()
        texts = [line.removeprefix("user: ") for line in said if line.startswith("user: ")]
        return json.dumps({"memory": [{"id": str(i), "text": t} for i, t in enumerate(texts)]})
    if "Generated answer:" in user:
        gold, said = _after(user, "Gold answer: "), _after(user, "Generated answer: ")
        gist = gold.split(";")[0].lower()  # "Yes; she took a job as a librarian" -> "yes"
        label = "CORRECT" if said and gist in said.lower() else "WRONG"
        return json.dumps({"reasoning": "compared", "label": label})
    question = user.rsplit("Question: ", 1)[1]
    for key, (needle, answer) in KNOWLEDGE.items():
        if key in question:
            shown = [ln for ln in user.splitlines() if ln.startswith("- ") and needle in ln]
            if shown:
                return f"**Memories selected as relevant:**\n{shown[0]}\n**Answer:** {answer}"
    return "**Memories selected as relevant:**\n**Answer:** Not mentioned in the conversation"


def mini() -> LoCoMo:
    return load_locomo(MINI, verify="off")


def two_conversations() -> LoCoMo:
    """The mini conversation and a renamed copy of it (Rita and Tiago), as two samples."""
    raw = json.loads(MINI.read_text())
    copy = json.loads(
        json.dumps(raw[0])
        .replace("Rosa", "Rita")
        .replace("Tomas", "Tiago")
        .replace("mini-1", "mini-2")
    )
    return parse_locomo([raw[0], copy], source="two", sha256="two")


SYSTEMS = ("memory-r1", "rag-turns", "full-context")


def config(out: Path, **overrides: object) -> EvalConfig:
    values: dict[str, object] = {
        "out": out,
        "systems": SYSTEMS,
        "embedder": "hashing",
        "judge_runs": 2,
    }
    return EvalConfig.model_validate(values | overrides)


def records(out: Path) -> list[QuestionRecord]:
    return read_jsonl(out / "predictions.jsonl", QuestionRecord)


def test_every_system_end_to_end_writes_the_report(tmp_path: Path) -> None:
    llm, judge = FunctionLLM(policy), FunctionLLM(policy)
    summary = run_locomo(config(tmp_path), llm=llm, judge_llm=judge, data=mini(), log=None)

    got = records(tmp_path)
    assert Counter(r.system for r in got) == {s: 7 for s in SYSTEMS}  # category 5 left out
    assert all(r.category != 5 and r.error is None and r.skipped is None for r in got)
    by = {(r.system, r.qa_id): r for r in got}
    cat = by[("memory-r1", "mini-1/q0")]
    assert (cat.prediction, cat.selected, cat.metrics["exact_match"]) == ("Pixel", ["D1:1"], 1.0)
    assert cat.judge_labels == ["CORRECT", "CORRECT"] and cat.judge_calls == 2
    assert cat.evidence_recall == 1.0 and cat.calls == 1 and cat.prompt_tokens > 0
    for system in SYSTEMS:  # the mini bank is small: every system sees every turn
        assert summary.systems[system].overall.judge_mean == 1.0
        assert set(by[(system, "mini-1/q1")].retrieved) >= {"D2:2", "D3:1"}

    ingests = {i.system: i for i in read_jsonl(tmp_path / "ingest.jsonl", IngestRecord)}
    assert ingests["memory-r1"].calls == 2 * 15  # one extraction + one manager call per turn
    assert ingests["memory-r1"].memories == 15 and ingests["rag-turns"].calls == 0
    assert summary.systems["memory-r1"].ingestion.calls_per_turn == 2.0

    extraction = [c for c in llm.calls if "Conversation:\n" in c.messages[-1]["content"]]
    assert len(extraction) == 15
    assert "3 March, 2023" in extraction[0].messages[-1]["content"]  # the session time
    with Memory(path=tmp_path / "banks/rag-turns/mini-1", embedder="hashing") as bank:
        texts = [m.text for m in bank.get_all(user_id="mini-1")]
        assert {m.actor for m in bank.get_all(user_id="mini-1")} == {"Rosa", "Tomas"}
    assert any(t.endswith("[shares a photo: a photo of a blue bicycle leaning against a wall]")
               for t in texts)  # fmt: skip

    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["systems"]["rag-turns"]["overall"]["n"] == 7
    assert saved["manifest"]["models"]["judge"] == "function"
    assert saved["manifest"]["prompts_hash"] and saved["label_map"] == "mem0"
    report = (tmp_path / "report.md").read_text()
    assert "| full-context |" in report and "single-hop (cat 1, n=1)" in report
    for plot in ("category_scores.png", "latency_cdf.png"):
        assert (tmp_path / "plots" / plot).read_bytes().startswith(PNG)


def test_full_context_over_budget_is_skipped_with_a_reason(tmp_path: Path) -> None:
    cfg = config(tmp_path, systems=("full-context",), context_budget=500, plots=False)
    judge = FunctionLLM(policy)
    summary = run_locomo(cfg, llm=FunctionLLM(policy), judge_llm=judge, data=mini(), log=None)
    got = records(tmp_path)
    assert len(got) == 7 and all(r.skipped and "context budget of 500" in r.skipped for r in got)
    assert all(r.metrics == {} and r.judge_labels == [] for r in got) and judge.calls == []
    overall = summary.systems["full-context"].overall
    assert (overall.n, overall.n_skipped, overall.f1_mem0) == (0, 7, None)


def test_full_context_shows_every_turn_in_order_with_its_session_time() -> None:
    llm = FunctionLLM(policy)
    setup = Setup(llm=llm, answer_llm=llm, embedder=HashingEmbedder(64))
    conv = mini().conversations[0]
    run = FullContextSystem(setup).open(conv, Path("unused"))
    prediction = run.answer(conv.qa[5])
    assert prediction.answer == "Yes" and prediction.selected == ["D2:4"]
    assert prediction.retrieved == [t.dia_id for _, t in conv.iter_turns()]
    prompt = llm.calls[0].messages[-1]["content"]
    assert "- 10:15 am on 3 March, 2023: Rosa: Hi Tomas!" in prompt
    assert prompt.index("Rosa: Hi Tomas") < prompt.index("Tomas: Next I want to cycle")


def test_an_answer_never_formatted_right_is_recorded_as_an_error(tmp_path: Path) -> None:
    def unformatted(messages: list[Message], info: CallInfo) -> str:
        asked = any("Question: " in m["content"] for m in messages)
        return "I am not sure." if asked else policy(messages, info)

    cfg = config(tmp_path, systems=("rag-turns",), plots=False)
    judge = FunctionLLM(policy)
    summary = run_locomo(cfg, llm=FunctionLLM(unformatted), judge_llm=judge, data=mini(), log=None)
    got = records(tmp_path)
    assert len(got) == 7 and all(r.error and "**Answer:**" in r.error for r in got)
    assert all(r.prediction == "" and r.metrics["f1_mem0"] == 0.0 for r in got)
    assert all(r.judge_labels == ["WRONG", "WRONG"] and r.judge_calls == 0 for r in got)
    assert all(r.calls == 3 for r in got)  # the first try and two re-asks
    assert judge.calls == [] and summary.systems["rag-turns"].overall.n_errors == 7


def failing_after(n: int, error: BaseException) -> FunctionLLM:
    def fn(messages: list[Message], info: CallInfo) -> str:
        if info.index >= n:
            raise error
        return policy(messages, info)

    return FunctionLLM(fn)


def extraction_speakers(llm: FunctionLLM) -> Counter[str]:
    found: Counter[str] = Counter()
    for call in llm.calls:
        content = call.messages[-1]["content"]
        if "Conversation:\n" in content:
            found[re.split(r"Conversation:\n(\w+):", content)[1]] += 1
    return found


def test_an_interrupted_ingestion_restarts_that_conversation_only(tmp_path: Path) -> None:
    cfg = config(tmp_path, systems=("memory-r1", "rag-turns"), plots=False)
    data = two_conversations()
    # mini-1: 30 ingestion calls + 7 answers (memory-r1), 7 answers (rag-turns); then mini-2
    # fails in the middle of its memory-r1 ingestion
    broken = failing_after(30 + 7 + 7 + 11, LLMError("the API went away"))
    with pytest.raises(LLMError):
        run_locomo(cfg, llm=broken, data=data, log=None)
    assert {r.sample_id for r in records(tmp_path)} == {"mini-1"}
    assert len(records(tmp_path)) == 14

    llm = FunctionLLM(policy)
    run_locomo(cfg, llm=llm, data=data, log=None)
    assert extraction_speakers(llm) == {"Rita": 7, "Tiago": 8}  # mini-1 was not re-ingested
    got = records(tmp_path)
    every = [(s, f"{c}/q{i}") for s in cfg.systems for c in ("mini-1", "mini-2") for i in range(7)]
    assert Counter(r.key for r in got) == dict.fromkeys(every, 1)
    assert len(read_jsonl(tmp_path / "ingest.jsonl", IngestRecord)) == 4
    with Memory(path=tmp_path / "banks/memory-r1/mini-2", embedder="hashing") as bank:
        erased = bank.erase(user_id="mini-2")  # counts what the bank held: nothing twice
    assert (erased.memories, erased.inputs) == (15, 15)


def test_an_interrupted_answering_resumes_without_duplicates(tmp_path: Path) -> None:
    cfg = config(tmp_path, systems=("rag-turns", "full-context"), concurrency=3, plots=False)

    def interrupted(messages: list[Message], info: CallInfo) -> str:
        prompt = messages[-1]["content"]
        if "whole conversation" in prompt and "Which cities" in prompt:
            raise KeyboardInterrupt  # Ctrl-C while full-context answers its questions
        return policy(messages, info)

    with pytest.raises(KeyboardInterrupt):
        run_locomo(
            cfg,
            llm=FunctionLLM(interrupted),
            judge_llm=FunctionLLM(policy),
            data=mini(),
            log=None,
        )
    first = records(tmp_path)
    assert 7 <= len(first) < 14  # rag-turns finished, full-context did not
    with (tmp_path / "predictions.jsonl").open("a") as f:
        f.write('{"system": "rag-turns", "qa_id": "mini-1/q')  # a line torn by a kill

    llm, judge = FunctionLLM(policy), FunctionLLM(policy)
    summary = run_locomo(cfg, llm=llm, judge_llm=judge, data=mini(), log=None)
    got = records(tmp_path)
    assert Counter(r.key for r in got) == {(s, f"mini-1/q{i}"): 1 for s in cfg.systems
                                          for i in range(7)}  # fmt: skip
    assert len(judge.calls) == 2 * (14 - len(first))  # only what was not done is judged again
    assert all(r.judge_labels == ["CORRECT", "CORRECT"] for r in got)
    assert summary.systems["rag-turns"].overall.n == 7
    assert len(read_jsonl(tmp_path / "ingest.jsonl", IngestRecord)) == 2  # not ingested again
    with Memory(path=tmp_path / "banks/rag-turns/mini-1", embedder="hashing") as bank:
        assert bank.erase(user_id="mini-1").inputs == 15


def test_a_run_directory_keeps_its_configuration(tmp_path: Path) -> None:
    llm = FunctionLLM(policy)
    run_locomo(
        config(tmp_path, systems=("rag-turns",), plots=False), llm=llm, data=mini(), log=None
    )
    with pytest.raises(ConfigurationError, match="agents"):
        other = config(tmp_path, systems=("rag-turns",), plots=False, agents={"answer_k": 5})
        run_locomo(other, llm=llm, data=mini(), log=None)
    more = config(tmp_path, systems=("full-context",), plots=False)  # adding a system is fine
    summary = run_locomo(more, llm=llm, data=mini(), log=None)
    assert list(summary.systems) == ["rag-turns", "full-context"]


def test_question_sample_is_seeded_and_kept_in_order(tmp_path: Path) -> None:
    data = two_conversations()
    pick = lambda seed: [  # noqa: E731
        [q.qa_id for q in qs]
        for _, qs in plan_questions(data, config(tmp_path, limit_questions=3, seed=seed))
    ]
    assert pick(1) == pick(1) and pick(1) != pick(2)
    for ids in pick(1):
        assert len(ids) == 3 and ids == sorted(ids)
    every = plan_questions(
        data, config(tmp_path, include_adversarial=True, conversations=("mini-2",))
    )
    assert [(c.sample_id, len(qs)) for c, qs in every] == [("mini-2", 8)]


def test_mem0_needs_mem0ai() -> None:
    llm = FunctionLLM(policy)
    setup = Setup(llm=llm, answer_llm=llm, embedder=HashingEmbedder(64))
    if importlib.util.find_spec("mem0") is None:
        with pytest.raises(MissingDependencyError, match="mem0ai"):
            make_system("mem0", setup)
    else:
        assert make_system("mem0", setup).name == "mem0"
    with pytest.raises(ConfigurationError, match="unknown system"):
        make_system("zep", setup)


def test_mem0_end_to_end_when_installed(tmp_path: Path) -> None:
    if importlib.util.find_spec("mem0") is None:  # not importorskip: mem0 is imported later,
        pytest.skip("mem0ai is not installed")  # once its telemetry is switched off
    cfg = config(tmp_path, systems=("mem0",), plots=False)
    summary = run_locomo(
        cfg, llm=FunctionLLM(policy), judge_llm=FunctionLLM(policy), data=mini(), log=None
    )
    got = records(tmp_path)
    assert len(got) == 7 and all(r.error is None for r in got)
    assert summary.systems["mem0"].overall.judge_mean == 1.0
    ingestion = summary.systems["mem0"].ingestion
    assert ingestion.calls == 2 * 8 and ingestion.memories == 15  # 8 batches of 2, per speaker
    cat = {r.qa_id: r for r in got}["mini-1/q0"]
    assert cat.selected == ["D1:1", "D1:2"]  # the batch the memory came from


def test_a_record_torn_inside_a_multibyte_character_is_ignored(tmp_path: Path) -> None:
    from memory_r1.eval._records import JsonlWriter

    path = tmp_path / "ingest.jsonl"
    record = IngestRecord(system="rag-turns", sample_id="café-1", turns=2)
    with JsonlWriter(path) as writer:
        writer.write(record)
    full = path.read_bytes()
    line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode()
    cut = line.index("é".encode()) + 1  # a killed run stopped between the two bytes of "é"
    path.write_bytes(full + line[:cut])
    assert read_jsonl(path, IngestRecord) == [record]
    path.write_bytes(full.replace("é".encode(), b"\xff"))  # a complete line that is not UTF-8
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_jsonl(path, IngestRecord)
