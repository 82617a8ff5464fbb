"""The report's figures, computed by hand on a small hand-written JSONL run."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory_r1.eval._records import QuestionRecord, read_jsonl
from memory_r1.eval.report import build_report, percentile, summarize
from memory_r1.exceptions import InvalidInputError, NotFoundError

PNG = b"\x89PNG\r\n\x1a\n"


def rec(system: str, n: int, category: int, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "system": system,
        "qa_id": f"conv/q{n}",
        "sample_id": "conv",
        "category": category,
        "question": f"question {n}?",
        "gold": "gold",
        "prediction": "answer",
    }
    return base | fields


def scores(f1: float, bleu: float, f1_locomo: float, em: float) -> dict[str, float]:
    return {"f1_mem0": f1, "bleu1": bleu, "f1_locomo": f1_locomo, "exact_match": em}


C, W = "CORRECT", "WRONG"
RECORDS = [
    rec("a", 1, 1, metrics=scores(0.5, 0.4, 0.6, 0.0), judge_labels=[C, C], search_s=0.1,
        answer_s=1.0, total_s=1.1, prompt_tokens=100, completion_tokens=10, calls=1,
        evidence=["D1:1"], evidence_recall=1.0),
    rec("a", 2, 1, metrics=scores(1.0, 1.0, 1.0, 1.0), judge_labels=[C, W], search_s=0.2,
        answer_s=2.0, total_s=2.2, prompt_tokens=200, completion_tokens=20, calls=2,
        evidence=["D1:1", "D1:2"], evidence_recall=0.5),
    rec("a", 3, 2, prediction="", metrics=scores(0.0, 0.0, 0.0, 0.0), judge_labels=[W, W],
        error="no **Answer:** marker"),
    rec("a", 4, 4, metrics=scores(0.25, 0.2, 0.3, 0.0), judge_labels=[C, None], search_s=0.3,
        answer_s=3.0, total_s=3.3, prompt_tokens=300, completion_tokens=30, calls=1),
    rec("a", 5, 5, metrics=scores(1.0, 1.0, 1.0, 1.0), judge_labels=[C, C], search_s=9.0,
        answer_s=91.0, total_s=100.0, prompt_tokens=1000, completion_tokens=0, calls=1),
    rec("b", 1, 4, skipped="over the context budget"),
    rec("b", 2, 4, metrics=scores(1.0, 1.0, 1.0, 1.0), answer_s=5.0, total_s=5.0, calls=1),
]  # fmt: skip
INGESTS = [
    {"system": "a", "sample_id": "conv", "turns": 10, "calls": 20, "memories": 7,
     "prompt_tokens": 900, "completion_tokens": 100, "seconds": 4.0},
    {"system": "a", "sample_id": "conv2", "turns": 30, "calls": 60, "failed_turns": 1,
     "seconds": 6.0},
    {"system": "b", "sample_id": "conv", "turns": 10},
]  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    lines = [json.dumps(r) for r in RECORDS]
    (tmp_path / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "ingest.jsonl").write_text("\n".join(json.dumps(i) for i in INGESTS) + "\n")
    return tmp_path


def test_figures_per_category_and_overall_leave_category_5_out(run_dir: Path) -> None:
    a = build_report(run_dir, plots=False).systems["a"]
    assert a.overall.n == 4 and a.overall.n_errors == 1 and sorted(a.categories) == [1, 2, 4]
    assert a.overall.f1_mem0 == pytest.approx((0.5 + 1.0 + 0.0 + 0.25) / 4)
    assert a.overall.bleu1 == pytest.approx((0.4 + 1.0 + 0.0 + 0.2) / 4)
    assert a.overall.f1_locomo == pytest.approx((0.6 + 1.0 + 0.0 + 0.3) / 4)
    assert a.overall.exact_match == pytest.approx(1 / 4)
    assert a.categories[1].f1_mem0 == pytest.approx(0.75) and a.categories[1].n == 2
    assert a.categories[2].f1_mem0 == 0.0 and a.categories[4].f1_mem0 == 0.25
    assert a.overall.evidence_recall == pytest.approx(0.75)  # records without evidence: none
    # judge: run 1 = C C W C -> 3/4; run 2 = C W W (one unlabeled) -> 1/3
    assert a.overall.judge_mean == pytest.approx((3 / 4 + 1 / 3) / 2)
    assert a.overall.judge_std == pytest.approx(statistics.stdev([3 / 4, 1 / 3]))
    assert (a.overall.judge_runs, a.overall.judge_errors) == (2, 1)
    assert a.categories[1].judge_mean == pytest.approx(0.75)


def test_latency_and_cost_count_only_finished_answers(run_dir: Path) -> None:
    a = build_report(run_dir, plots=False).systems["a"]
    assert a.latency["total"].p50 == pytest.approx(2.2)  # of 1.1, 2.2, 3.3 (error left out)
    assert a.latency["total"].p95 == pytest.approx(2.2 + 0.9 * 1.1)
    assert a.latency["search"].p50 == pytest.approx(0.2)
    assert a.latency["answer"].p95 == pytest.approx(2.0 + 0.9 * 1.0)
    assert a.tokens_per_query == pytest.approx((110 + 220 + 330) / 3)
    assert a.prompt_tokens_per_query == pytest.approx(200)
    assert a.calls_per_query == pytest.approx(4 / 3)
    ing = a.ingestion
    assert (ing.conversations, ing.turns, ing.calls, ing.failed_turns) == (2, 40, 80, 1)
    assert ing.calls_per_turn == 2.0 and ing.seconds_per_turn == pytest.approx(0.25)
    assert ing.tokens == 1000 and ing.memories == 7


def test_skipped_questions_are_counted_apart(run_dir: Path) -> None:
    b = build_report(run_dir, plots=False).systems["b"]
    assert (b.overall.n, b.overall.n_skipped, b.overall.f1_mem0) == (1, 1, 1.0)
    assert b.overall.judge_mean is None and b.latency["total"].p50 == 5.0


def test_category_5_counts_when_asked(run_dir: Path) -> None:
    a = build_report(run_dir, include_adversarial=True, plots=False).systems["a"]
    assert a.overall.n == 5 and 5 in a.categories
    assert a.overall.f1_mem0 == pytest.approx((1.75 + 1.0) / 5)
    assert a.latency["total"].p50 == pytest.approx((2.2 + 3.3) / 2)


def test_files_labels_and_plots(run_dir: Path) -> None:
    build_report(run_dir)
    saved = json.loads((run_dir / "summary.json").read_text())
    assert saved["label_map"] == "mem0" and saved["category_labels"]["1"] == "single-hop"
    assert saved["systems"]["a"]["categories"]["1"]["n"] == 2
    md = (run_dir / "report.md").read_text()
    assert "| single-hop (cat 1, n=2) | temporal (cat 2, n=1) | open-domain (cat 4, n=2) |" in md
    assert "| a | 75.0 / 70.0 / 75.0 ± 35.4 |" in md  # category 1: F1 / BLEU-1 / J
    assert "| b | 1 | 1 | 0 |" in md  # answered, skipped, errors
    for plot in ("category_scores.png", "latency_cdf.png"):
        assert (run_dir / "plots" / plot).read_bytes().startswith(PNG)
    build_report(run_dir, label_map="locomo", plots=False)
    assert "| multi-hop (cat 1, n=2) |" in (run_dir / "report.md").read_text()


def test_systems_keep_the_order_asked_for() -> None:
    records = [QuestionRecord.model_validate(r) for r in RECORDS]
    assert list(summarize(records, systems=["b", "a"])) == ["b", "a"]
    assert list(summarize(records)) == ["a", "b"]
    assert summarize([r for r in records if r.category == 5]) == {}


def test_a_torn_last_line_is_ignored_and_a_bad_line_is_an_error(run_dir: Path) -> None:
    path = run_dir / "predictions.jsonl"
    with path.open("a") as f:
        f.write('{"system": "a", "qa_id": "co')
    assert len(read_jsonl(path, QuestionRecord)) == len(RECORDS)
    path.write_text('{"system": "a"}\n')
    with pytest.raises(InvalidInputError, match=r"predictions\.jsonl:1"):
        read_jsonl(path, QuestionRecord)


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"predictions\.jsonl"):
        build_report(tmp_path)


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40),
    st.floats(0, 100),
)
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    got = percentile(values, q)
    assert got is not None and math.isclose(got, float(np.percentile(values, q)), abs_tol=1e-6)
    assert min(values) <= got <= max(values)


def test_percentile_edges() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0
