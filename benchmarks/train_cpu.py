"""GRPO on SmolLM2-135M's Answer Agent on this CPU: reward curve, validation before and after.

1. Evaluates the untrained model on the validation split (conv-30, 81 questions) with the
   evaluation harness: ``memory-r1 eval locomo --system rag-turns --top-k K --no-distill``.
2. Trains the Answer Agent with GRPO over conv-26 (the 152 training questions) through the
   recipe ``training/train_answer_agent.py`` until ``--minutes`` of wall time are spent.
3. Evaluates the trained checkpoint the same way (``--answer-model hf:<checkpoint>``).
4. Runs a few PPO steps on the same data to measure its samples per second.

Writes ``benchmarks/results/train_cpu.json`` and ``benchmarks/results/train_cpu_reward.png``.

    python benchmarks/train_cpu.py [--minutes 30] [--top-k 5] [--out runs/bench-train]

The model sees the turns of each speaker's top-K (a 135M model cannot read 60 memories in a
useful time here), answers without the distillation step, and is rewarded with token F1
(exact match, the paper's reward, is zero for almost every sample of a 135M model, which
leaves GRPO no signal). LoCoMo is read from $MEMORY_R1_LOCOMO or
../shared/data/locomo/locomo10.json (CC BY-NC 4.0; never copied into this repository).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from train_answer_agent import Args, main  # noqa: E402  (the recipe, not a package)

from memory_r1.cli import main as cli  # noqa: E402
from memory_r1.training import GRPOArgs, PPOArgs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
METRICS = ("f1_mem0", "f1_locomo", "bleu1", "exact_match")
LOCOMO = os.environ.get("MEMORY_R1_LOCOMO") or str(ROOT.parent / "shared/data/locomo/locomo10.json")


def evaluate(out: Path, args: argparse.Namespace, answer_model: str | None) -> dict[str, Any]:
    """The harness on the validation split; returns the overall figures of rag-turns."""
    argv = [
        "eval",
        "locomo",
        "--out",
        str(out),
        "--system",
        "rag-turns",
        "--model",
        "smollm2",
        "--split",
        "validation",
        "--top-k",
        str(args.top_k),
        "--no-distill",
        "--no-plots",
    ]
    argv += ["--data", LOCOMO]
    if args.questions:
        argv += ["--limit-questions", str(args.questions)]
    if answer_model:
        argv += ["--answer-model", answer_model]
    if cli(argv) != 0:
        raise SystemExit(f"evaluation failed: {' '.join(argv)}")
    system = json.loads((out / "summary.json").read_text())["systems"]["rag-turns"]
    return {"overall": system["overall"], "answer_latency_s": system["latency"]["answer"]}


def train(out: Path, args: argparse.Namespace, algo: Literal["grpo", "ppo"]) -> dict[str, Any]:
    """One recipe run; returns its log history and throughput."""
    common = {"max_completion_length": 24, "max_prompt_length": 2048}
    grpo = GRPOArgs(
        learning_rate=args.lr,
        num_generations=4,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        max_minutes=args.minutes,
        logging_steps=1,
        **common,
    )
    ppo = PPOArgs(
        actor_lr=args.lr,
        rollout_batch_size=8,
        minibatch_size=8,
        micro_batch_size=2,
        max_steps=args.ppo_steps,
        save=False,
        **common,
    )
    recipe = Args(
        algo=algo,
        teacher="verbatim",
        embedder="sentence-transformers",
        threads=args.threads,
        device=args.device,
        locomo=LOCOMO,
        cache_dir=str(out.parent / "cache"),
        answer_k=args.top_k,
        metric="f1",
        distill=False,
        output_dir=str(out),
        grpo=grpo,
        ppo=ppo,
    )
    result = main(recipe)
    samples = 8 * result.steps  # GRPO: 2 prompts x 4 completions; PPO: rollouts of 8
    seconds = sum(result.step_times)
    return {
        "steps": result.steps,
        "samples": samples,
        "seconds": seconds,
        "samples_per_s": samples / seconds if seconds else 0.0,
        "history": [
            {k: v for k, v in h.items() if isinstance(v, int | float)} for h in result.log_history
        ],
    }


def paired(before: Path, after: Path, metric: str, rounds: int = 10_000) -> dict[str, float]:
    """The after − before difference of a metric over the same questions, with a 95% paired
    bootstrap interval and the count of questions that went up and down."""
    import random

    def scores(run: Path) -> dict[str, float]:
        lines = (run / "predictions.jsonl").read_text().splitlines()
        return {r["qa_id"]: r["metrics"][metric] for r in map(json.loads, lines)}

    b, a = scores(before), scores(after)
    diffs = [a[q] - b[q] for q in sorted(b.keys() & a.keys())]
    rng = random.Random(0)
    means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(rounds))
    return {"n": len(diffs), "diff": sum(diffs) / len(diffs),
            "ci95": (means[int(0.025 * rounds)], means[int(0.975 * rounds)]),
            "up": sum(d > 0 for d in diffs), "down": sum(d < 0 for d in diffs)}  # fmt: skip


def plot(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(h["step"], h["reward"]) for h in history if "reward" in h and "step" in h]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([s for s, _ in points], [r for _, r in points], marker=".", lw=1)
    if len(points) >= 5:  # a moving average of 5 steps
        avg = [sum(r for _, r in points[i - 5 : i]) / 5 for i in range(5, len(points) + 1)]
        ax.plot([s for s, _ in points[4:]], avg, lw=2, label="mean of 5 steps")
        ax.legend()
    ax.set(
        xlabel="GRPO step",
        ylabel="mean reward (token F1)",
        title="SmolLM2-135M Answer Agent, GRPO on conv-26 (CPU)",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    started = time.time()
    before = evaluate(out / "eval-before", args, None)
    grpo = train(out / "answer-grpo", args, "grpo")
    after = evaluate(out / "eval-after", args, f"hf:{out / 'answer-grpo'}")
    ppo = train(out / "answer-ppo", args, "ppo")
    change = {m: paired(out / "eval-before", out / "eval-after", m) for m in METRICS}
    return {
        "change": change,
        "minutes": args.minutes,
        "top_k": args.top_k,
        "lr": args.lr,
        "load_average": os.getloadavg(),
        "wall_s": time.time() - started,
        "before": before,
        "after": after,
        "grpo": grpo,
        "ppo": ppo,
    }


def cli_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="GRPO wall-time budget")
    parser.add_argument("--top-k", type=int, default=5, help="memories per speaker")
    parser.add_argument("--lr", type=float, default=1e-5, help="actor learning rate")
    parser.add_argument("--ppo-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default="cpu", help='"cuda" on a GPU machine')
    parser.add_argument("--questions", type=int, default=0, help="validation sample (0: all)")
    parser.add_argument("--out", default="runs/bench-train")
    return parser.parse_args()


if __name__ == "__main__":
    figures = run(cli_args())
    RESULTS.mkdir(exist_ok=True)
    plot(figures["grpo"]["history"], RESULTS / "train_cpu_reward.png")
    (RESULTS / "train_cpu.json").write_text(json.dumps(figures, indent=1))
    b, a = figures["before"]["overall"], figures["after"]["overall"]
    for name in METRICS:
        c = figures["change"][name]
        print(f"{name:12s} before {100 * b[name]:5.1f}  after {100 * a[name]:5.1f}  "
              f"change {100 * c['diff']:+.1f} [{100 * c['ci95'][0]:+.1f}, "
              f"{100 * c['ci95'][1]:+.1f}] up {c['up']} down {c['down']}")  # fmt: skip
    for algo in ("grpo", "ppo"):
        g = figures[algo]
        print(f"{algo}: {g['steps']} steps, {g['samples_per_s']:.3f} samples/s")
