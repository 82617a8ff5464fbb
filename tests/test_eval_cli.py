"""``memory-r1 eval locomo`` and ``memory-r1 eval report``: parsing, and runs on the mini file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from memory_r1.cli import _parser, main
from memory_r1.eval import cli as eval_cli
from memory_r1.eval.cli import config_from_args, locomo_command
from memory_r1.llms.base import LLM
from memory_r1.testing import FunctionLLM
from test_eval_runner import MINI, policy


def parse(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["eval", "locomo", *argv])


def test_every_option_reaches_the_configuration(tmp_path: Path) -> None:
    args = parse(
        "--out", str(tmp_path), "--model", "litellm:m", "--system", "memory-r1",
        "--system", "rag-turns", "--judge", "litellm:j", "--judge-runs", "3",
        "--split", "validation", "--conversation", "conv-30", "--data", "x.json",
        "--verify", "warn", "--limit-questions", "5", "--concurrency", "4",
        "--label-map", "locomo", "--top-k", "10", "--no-distill",
        "--agents", '{"extraction": "turns", "verbatim": true}', "--embedder", "litellm:e",
        "--embedder-dim", "64", "--context-budget", "9000", "--include-adversarial",
        "--no-captions", "--seed", "7", "--no-plots",
    )  # fmt: skip
    config = config_from_args(args)
    assert config.systems == ("memory-r1", "rag-turns") and config.split == "validation"
    assert config.conversations == ("conv-30",) and config.data == Path("x.json")
    assert (config.verify, config.judge_runs, config.limit_questions) == ("warn", 3, 5)
    assert (config.concurrency, config.label_map, config.seed) == (4, "locomo", 7)
    assert config.agents.answer_k == 10 and config.agents.distill is False
    assert config.agents.extraction == "turns" and config.agents.verbatim is True
    assert config.embedder == "litellm:e" and config.embedder_args == {"dim": 64}
    assert config.context_budget == 9000 and config.include_adversarial
    assert not config.captions and not config.plots


def test_defaults(tmp_path: Path) -> None:
    config = config_from_args(parse("--out", str(tmp_path), "--model", "m"))
    assert config.systems == ("memory-r1",) and config.split == "test"
    assert config.label_map == "mem0" and config.judge_runs == 1 and config.concurrency == 1
    assert config.agents.answer_k == 30 and config.agents.distill
    assert not config.include_adversarial and config.plots and config.limit_questions is None


@pytest.mark.parametrize(
    "bad",
    [["--system", "zep"], ["--label-map", "vendor"], ["--split", "dev"], ["--agents", "{"]],
)
def test_bad_choices_are_refused_by_the_parser(bad: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        parse("--out", str(tmp_path), "--model", "m", *bad)


def test_invalid_values_are_typed_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["eval", "locomo", "--out", str(tmp_path), "--model", "m"]
    assert main([*base, "--concurrency", "0"]) == 2
    assert "concurrency" in capsys.readouterr().err
    assert main([*base, "--judge-runs", "3"]) == 2
    assert "--judge" in capsys.readouterr().err


def run_args(out: Path) -> list[str]:
    return [
        "eval", "locomo", "--out", str(out), "--data", str(MINI), "--verify", "off",
        "--model", "fake", "--judge", "judge", "--judge-runs", "2", "--embedder", "hashing",
        "--system", "rag-turns", "--system", "full-context", "--concurrency", "2", "--quiet",
    ]  # fmt: skip


def test_locomo_command_runs_with_models_from_a_resolver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def resolve(spec: str) -> LLM:
        asked.append(spec)
        return FunctionLLM(policy, name=spec)

    args = _parser().parse_args(run_args(tmp_path))
    assert locomo_command(args, resolve=resolve) == 0
    assert asked == ["fake", "judge"]
    out = capsys.readouterr().out
    assert "| rag-turns |" in out and "| full-context |" in out
    manifest = json.loads((tmp_path / "config.json").read_text())
    assert manifest["models"] == {
        "llm": "fake", "answer_llm": "fake", "judge": "judge", "embedder": "hashing:256",
    }  # fmt: skip
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 14
    assert (tmp_path / "plots" / "latency_cdf.png").exists()


def test_main_runs_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eval_cli, "resolve_llm", lambda spec: FunctionLLM(policy, name=spec))
    assert main([*run_args(tmp_path), "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["eval", "report", str(tmp_path), "--label-map", "locomo", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "multi-hop (cat 1, n=1)" in out and "J is the LLM judge's accuracy" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["label_map"] == "locomo" and summary["systems"]["rag-turns"]["overall"]["n"] == 7


def test_report_of_a_directory_without_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
