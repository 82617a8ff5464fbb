"""The LLM judge: prompt, lenient parsing, errors kept apart from WRONG, repeated runs."""

from __future__ import annotations

import asyncio
import math

import pytest

from memory_r1.eval.judge import (
    JUDGE_PROMPT,
    JUDGE_SCHEMA,
    ItemJudgement,
    JudgeItem,
    JudgeVerdict,
    LLMJudge,
    RunScore,
    judge_messages,
    parse_verdict,
    summarize,
)
from memory_r1.exceptions import ConfigurationError, LLMError
from memory_r1.llms.base import LLMResponse, Message
from memory_r1.testing import CallInfo, FunctionLLM, ScriptedLLM

CORRECT = '{"reasoning": "Same thing.", "label": "CORRECT"}'
WRONG = '{"reasoning": "Different thing.", "label": "WRONG"}'
GARBLED = "I think it is right"


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        (CORRECT, "CORRECT"),
        (WRONG, "WRONG"),
        ('```json\n{"label": "CORRECT"}\n```', "CORRECT"),
        ('Sure. {"reasoning": "Off topic.", "label": "WRONG"} Hope that helps!', "WRONG"),
        ('{"label": "correct"}', "CORRECT"),
        ('{"label": " WRONG. "}', "WRONG"),
        ('{"other": 1} {"label": "WRONG"}', "WRONG"),
    ],
)
def test_parse_reads_the_label(reply: str, label: str) -> None:
    verdict = parse_verdict(reply)
    assert (verdict.label, verdict.error, verdict.raw) == (label, None, reply)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("CORRECT", "no valid JSON object"),
        ('{"verdict": "CORRECT"}', 'no JSON object with the key "label"'),
        ('{"label": "MAYBE"}', "neither CORRECT nor WRONG"),
        ('{"label": "CORRECT or WRONG"}', "neither CORRECT nor WRONG"),
        ('{"label": true}', "neither CORRECT nor WRONG"),
        ('{"label": "CORR', "no valid JSON object"),
    ],
)
def test_unparseable_reply_is_an_error_not_wrong(reply: str, error: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.label is None and verdict.score is None
    assert verdict.error is not None and error in verdict.error


def test_truncation_is_mentioned_in_the_error() -> None:
    assert "max_tokens" in str(parse_verdict('{"label": "CO', truncated=True).error)


def test_reasoning_is_kept() -> None:
    assert parse_verdict(CORRECT).reasoning == "Same thing."
    assert parse_verdict('{"label": "WRONG", "reasoning": 3}').reasoning is None


def test_messages_carry_the_protocol() -> None:
    (message,) = judge_messages("When did Ann move?", "May 2023", "last May")
    assert message["role"] == "user"
    content = message["content"]
    lines = content.splitlines()
    assert "Question: When did Ann move?" in lines
    assert "Gold answer: May 2023" in lines
    assert "Generated answer: last May" in lines
    for phrase in ("CORRECT or WRONG", "generously", '"label"', "same date or period"):
        assert phrase in content
    assert set(JUDGE_SCHEMA["properties"]["label"]["enum"]) == {"CORRECT", "WRONG"}


def test_judge_passes_its_options_and_counts_usage() -> None:
    llm = ScriptedLLM([CORRECT])
    judge = LLMJudge(llm, temperature=0.7, max_tokens=64)
    verdict = judge.judge("q?", "gold", "pred")
    assert verdict.label == "CORRECT" and verdict.usage.calls == 1
    call = llm.calls[0]
    assert (call.temperature, call.max_tokens, call.json_schema) == (0.7, 64, JUDGE_SCHEMA)
    assert LLMJudge(ScriptedLLM([CORRECT]), json_mode=False).json_schema is None


def test_llm_errors_propagate() -> None:
    with pytest.raises(LLMError, match="down"):
        LLMJudge(ScriptedLLM([LLMError("down")])).judge("q", "g", "p")


def _items() -> list[JudgeItem]:
    return [
        JudgeItem(question=f"q{i}", gold="g", prediction=f"p{i}", category=cat, key=f"k{i}")
        for i, cat in enumerate([1, 1, 2, 2])
    ]


# Replies by (run, item): run 0 judges all four CORRECT; run 1 two CORRECT, two WRONG;
# run 2 two CORRECT, one WRONG and one unparseable reply.
SCRIPT = {
    0: [CORRECT, CORRECT, CORRECT, CORRECT],
    1: [CORRECT, WRONG, CORRECT, WRONG],
    2: [CORRECT, WRONG, CORRECT, GARBLED],
}


def _scripted(messages: list[Message], info: CallInfo) -> str:
    run, item = divmod(info.index, 4)  # evaluate goes run by run
    return SCRIPT[run][item]


def test_repeated_runs_mean_and_std() -> None:
    report = LLMJudge(FunctionLLM(_scripted), runs=3).evaluate(_items())
    stats = report.stats()
    assert stats.runs == (
        RunScore(correct=4, wrong=0, errors=0),
        RunScore(correct=2, wrong=2, errors=0),
        RunScore(correct=2, wrong=1, errors=1),
    )
    assert stats.errors == 1 and stats.n_questions == 4
    # errors left out: accuracies 1, 1/2, 2/3 -> mean 13/18; sample std over three runs
    acc = [1.0, 0.5, 2 / 3]
    mean = sum(acc) / 3
    assert stats.mean == pytest.approx(13 / 18, abs=1e-12)
    assert stats.std == pytest.approx(math.sqrt(sum((a - mean) ** 2 for a in acc) / 2), abs=1e-12)
    # errors as wrong: 1, 1/2, 1/2 -> mean 2/3, std sqrt((1/9 + 1/36 + 1/36) / 2) = sqrt(1/12)
    assert stats.strict_mean == pytest.approx(2 / 3, abs=1e-12)
    assert stats.strict_std == pytest.approx(math.sqrt(1 / 12), abs=1e-12)
    assert report.n_runs == 3 and report.usage.calls == 12


def test_per_item_and_per_category() -> None:
    report = LLMJudge(FunctionLLM(_scripted), runs=3).evaluate(_items())
    assert [j.item.key for j in report.judgements] == ["k0", "k1", "k2", "k3"]
    assert [j.correct_fraction for j in report.judgements] == [1.0, 1 / 3, 1.0, 0.5]
    assert report.judgements[3].verdicts[2].error is not None
    assert report.categories() == (1, 2)
    cat1 = report.stats(category=1)
    assert [r.accuracy for r in cat1.runs] == [1.0, 0.5, 0.5]
    cat2 = report.stats(category=2)
    assert [r.accuracy for r in cat2.runs] == [1.0, 0.5, 1.0] and cat2.errors == 1
    assert report.stats(category=5).n_questions == 0 and report.stats(category=5).mean is None


def test_single_run_has_zero_std() -> None:
    stats = LLMJudge(ScriptedLLM([CORRECT, WRONG])).evaluate(_items()[:2]).stats()
    assert (stats.mean, stats.std) == (0.5, 0.0)


def test_all_errors_give_no_accuracy() -> None:
    stats = summarize(
        [ItemJudgement(item=_items()[0], verdicts=(JudgeVerdict(label=None, error="x"),))]
    )
    assert stats.mean is None and stats.strict_mean == 0.0 and stats.errors == 1


def _by_prediction(messages: list[Message], info: CallInfo) -> str:
    # the same verdict in every run: items p0 and p2 are CORRECT, p1 WRONG, p3 garbled
    content = messages[0]["content"]
    for prediction, reply in (("p0", CORRECT), ("p1", WRONG), ("p2", CORRECT), ("p3", GARBLED)):
        if f"Generated answer: {prediction}\n" in content:
            return reply
    raise AssertionError(content)


async def test_async_evaluate_matches_sync_and_bounds_concurrency() -> None:
    in_flight, peak = 0, 0

    async def slow(messages: list[Message], info: CallInfo) -> LLMResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return LLMResponse(text=_by_prediction(messages, info), prompt_tokens=10)

    judge = LLMJudge(FunctionLLM(slow), runs=2, max_concurrency=3)
    report = await judge.aevaluate(_items())
    sync = LLMJudge(FunctionLLM(_by_prediction), runs=2).evaluate(_items())
    assert [[v.label for v in j.verdicts] for j in report.judgements] == [
        [v.label for v in j.verdicts] for j in sync.judgements
    ]
    assert report.stats().mean == sync.stats().mean == pytest.approx(2 / 3)
    assert report.stats().errors == 2
    assert 1 < peak <= 3
    assert report.usage.prompt_tokens == 80 and report.usage.calls == 8


async def test_ajudge() -> None:
    assert (await LLMJudge(ScriptedLLM([WRONG])).ajudge("q", "g", "p")).label == "WRONG"


def test_bad_configuration() -> None:
    llm = ScriptedLLM([])
    with pytest.raises(ConfigurationError):
        LLMJudge(llm, runs=0)
    with pytest.raises(ConfigurationError):
        LLMJudge(llm, max_concurrency=0)
    with pytest.raises(ConfigurationError, match="prediction"):
        LLMJudge(llm, prompt="Question: {question} Gold: {gold}")
    with pytest.raises(ConfigurationError):
        LLMJudge(llm).evaluate(_items(), runs=0)
    assert "{question}" in JUDGE_PROMPT
