"""``memory-r1 eval``: run LoCoMo through several systems, and rebuild a run's report.

::

    memory-r1 eval locomo --split test --system memory-r1 --system rag-turns \\
        --model litellm:openai/gpt-4o-mini --judge litellm:openai/gpt-4o-mini --judge-runs 3 \\
        --embedder sentence-transformers --out runs/gpt4o-mini --concurrency 8
    memory-r1 eval report runs/gpt4o-mini --label-map locomo

``add_eval_commands`` adds both to the ``memory-r1`` parser. ``locomo_command`` is what
``eval locomo`` runs, with the LLM resolver as a parameter, so that Python callers and tests
can hand it models that no spec string names (``memory_r1.testing.FunctionLLM``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memory_r1.config import AgentConfig
from memory_r1.eval._records import EvalConfig
from memory_r1.eval.report import REPORT_FILE, build_report
from memory_r1.eval.runner import run_locomo
from memory_r1.eval.systems import SYSTEMS
from memory_r1.exceptions import ConfigurationError, InvalidInputError
from memory_r1.llms import resolve_llm
from memory_r1.llms.base import LLM

__all__ = ["add_eval_commands", "config_from_args", "locomo_command", "report_command"]

Resolver = Callable[[str], LLM]


def _locomo_parser(sub: Any) -> None:
    p = sub.add_parser("locomo", help="run LoCoMo through one or more systems (resumable)")
    p.add_argument("--out", type=Path, required=True, help="run directory (re-run to resume)")
    p.add_argument(
        "--system",
        action="append",
        choices=sorted(SYSTEMS),
        dest="systems",
        help="a system to evaluate; repeat for several (default: memory-r1)",
    )
    p.add_argument(
        "--model", required=True, help="manager/extractor LLM: openai:<model>, litellm:<model>, ..."
    )
    p.add_argument("--answer-model", help="Answer Agent LLM for every system (default: --model)")
    p.add_argument("--judge", help="LLM judge spec (default: no judge, no J)")
    p.add_argument("--judge-runs", type=int, default=1, help="judge calls per answer")
    p.add_argument("--embedder", default="sentence-transformers", help="embedder spec")
    p.add_argument("--embedder-dim", type=int, help="vector size (litellm embedders)")
    p.add_argument("--split", default="test", choices=["train", "validation", "test", "all"])
    p.add_argument(
        "--conversation",
        action="append",
        default=[],
        dest="conversations",
        help="only this sample_id of the split; repeat for several",
    )
    p.add_argument("--data", type=Path, help="locomo10.json (default: $MEMORY_R1_LOCOMO)")
    p.add_argument(
        "--verify",
        default="error",
        choices=["error", "warn", "off"],
        help="on a sha256 other than the official file's",
    )
    p.add_argument("--limit-questions", type=int, help="a seeded sample per conversation")
    p.add_argument("--concurrency", type=int, default=1, help="questions answered at a time")
    p.add_argument("--label-map", default="mem0", choices=["mem0", "locomo"])
    p.add_argument("--top-k", type=int, help="memories retrieved per speaker (default 30)")
    p.add_argument("--no-distill", action="store_true", help="answer without distillation")
    p.add_argument(
        "--agents",
        type=json.loads,
        default={},
        help='AgentConfig fields as JSON, e.g. \'{"extraction": "turns"}\'',
    )
    p.add_argument(
        "--context-budget",
        type=int,
        default=64_000,
        help="full-context: most tokens (prompt + answer) per question",
    )
    p.add_argument("--include-adversarial", action="store_true", help="ask category 5 too")
    p.add_argument("--no-captions", action="store_true", help="leave image captions out")
    p.add_argument("--seed", type=int, default=0, help="seed of the question sample")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(fn=lambda args: locomo_command(args, resolve=resolve_llm))  # fmt: skip


def _report_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="rebuild summary.json, report.md and plots of a run")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--label-map", choices=["mem0", "locomo"], help="default: the run's")
    p.add_argument(
        "--include-adversarial",
        action="store_true",
        default=None,
        help="count category 5 (default: the run's setting)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(fn=report_command)


def add_eval_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``eval locomo`` and ``eval report`` to a parser's subparsers; return ``eval``'s."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval", help="LoCoMo evaluation: run systems, build reports"
    )
    sub = parser.add_subparsers(dest="eval_command", required=True)
    _locomo_parser(sub)
    _report_parser(sub)
    return parser


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    """The ``EvalConfig`` of parsed ``eval locomo`` arguments.

    Raises:
        InvalidInputError: an invalid value (the message names it).
    """
    agents: dict[str, Any] = dict(args.agents)
    if args.top_k is not None:
        agents["answer_k"] = args.top_k
    if args.no_distill:
        agents["distill"] = False
    try:
        return EvalConfig(
            out=args.out,
            systems=tuple(args.systems or ["memory-r1"]),
            split=args.split,
            conversations=tuple(args.conversations),
            data=args.data,
            verify=args.verify,
            embedder=args.embedder,
            embedder_args={"dim": args.embedder_dim} if args.embedder_dim else {},
            agents=AgentConfig.model_validate(agents),
            judge_runs=args.judge_runs,
            concurrency=args.concurrency,
            limit_questions=args.limit_questions,
            include_adversarial=args.include_adversarial,
            label_map=args.label_map,
            context_budget=args.context_budget,
            captions=not args.no_captions,
            seed=args.seed,
            plots=not args.no_plots,
        )
    except ValidationError as exc:
        raise InvalidInputError(f"invalid eval settings:\n{exc}") from exc


def locomo_command(args: argparse.Namespace, *, resolve: Resolver = resolve_llm) -> int:
    """Run ``eval locomo`` with LLMs built by ``resolve`` from the spec strings; print the
    report. Returns the exit status (0)."""
    config = config_from_args(args)
    if args.judge is None and args.judge_runs != 1:
        raise ConfigurationError("--judge-runs needs --judge")
    llm = resolve(args.model)
    answer_llm = resolve(args.answer_model) if args.answer_model else llm
    judge_llm = resolve(args.judge) if args.judge else None
    run_locomo(
        config,
        llm=llm,
        answer_llm=answer_llm,
        judge_llm=judge_llm,
        log=None if args.quiet else sys.stderr,
    )
    print((config.out / REPORT_FILE).read_text(encoding="utf-8"))
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Run ``eval report``: rebuild the run's report files and print the markdown."""
    build_report(
        args.run_dir,
        label_map=args.label_map,
        include_adversarial=args.include_adversarial,
        plots=not args.no_plots,
    )
    print((args.run_dir / REPORT_FILE).read_text(encoding="utf-8"))
    return 0
