"""Train Memory-R1's Answer Agent with GRPO or PPO (paper §3.2, App. B.2 Alg. 2).

Data: for every question of the training split (conv-26: 152), the top ``answer_k`` memories of
each speaker from the conversation's bank, which the ``teacher`` writes (GPT-4o-mini in the paper,
or a trained Memory Manager: ``--teacher hf:runs/manager``) and which is cached under
``cache_dir``. Reward: exact match of the text after ``**Answer:**`` with the gold answer.

    python training/train_answer_agent.py --config training/configs/tiny-cpu.toml
    python training/train_answer_agent.py --config training/configs/tiny-cpu.toml --algo ppo
    python training/train_answer_agent.py --config training/configs/paper-llama-3.1-8b.toml

The trained policy lands in ``output_dir`` and serves as ``Memory(answer_llm="hf:<output_dir>")``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from memory_r1.eval import load_locomo
from memory_r1.training import (
    AnswerReward,
    BankBuilder,
    GRPOArgs,
    PPOArgs,
    TrainResult,
    answer_rows,
    answer_tuples,
    load_policy,
)
from memory_r1.training.recipe import default_locomo_path, parse_args, run_algo

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Train the Answer Agent (GRPO or PPO)."""

    algo: Literal["grpo", "ppo"] = "grpo"
    policy: str = "smollm2"  # the model to train: a directory, a .gguf file, or "smollm2"
    dtype: str = "float32"  # "bfloat16" on GPUs
    device: str = "cpu"  # "cuda" for our PPO on a GPU (GRPO places the model itself)
    threads: int = 0  # torch CPU threads; 0 leaves torch's default (use 1 on a shared CPU)
    locomo: str = ""  # locomo10.json; default $MEMORY_R1_LOCOMO or ../shared/data/locomo
    split: Literal["train", "validation", "test", "all"] = "train"
    teacher: str = "verbatim"  # writes the bank: an LLM spec, or "verbatim" (turns as said)
    embedder: str = "sentence-transformers"  # "hashing" needs no model
    cache_dir: str = "runs/cache"  # the teacher's banks (JSONL), reused by later runs
    answer_k: int = 30  # memories per speaker (paper: 30, i.e. 60 in all)
    metric: Literal["exact_match", "f1"] = "exact_match"  # the reward (paper: exact match)
    distill: bool = True  # distilled memories before **Answer:** (paper); off for tiny models
    max_questions: int = 0  # 0: all of them
    output_dir: str = "runs/answer"
    grpo: GRPOArgs = field(default_factory=GRPOArgs)
    ppo: PPOArgs = field(default_factory=PPOArgs)


def main(args: Args) -> TrainResult:
    """Build (or reload) the data, train, save; returns the run's result."""
    start = time.perf_counter()
    data = load_locomo(args.locomo or default_locomo_path(ROOT), verify="warn")
    builder = BankBuilder(args.teacher, args.embedder, cache_dir=args.cache_dir, progress=True)
    tuples = [
        t
        for conv in data.split(args.split)
        for t in answer_tuples(conv, builder.conversation_bank(conv), builder, k=args.answer_k)
    ]
    tuples = tuples[: args.max_questions or None]
    logging.info(
        "%d answer tuples from %s (%.1f s)", len(tuples), args.split, time.perf_counter() - start
    )
    model, tokenizer = load_policy(
        args.policy, dtype=args.dtype, device=args.device, num_threads=args.threads or None
    )
    reward = AnswerReward(args.metric, distill=args.distill)
    result = run_algo(
        args.algo,
        model,
        tokenizer,
        answer_rows(tuples, distill=args.distill),
        reward,
        grpo=args.grpo,
        ppo=args.ppo,
        output_dir=args.output_dir,
    )
    steps = result.step_times
    print(
        f"{args.algo}: {result.steps} steps, {sum(steps) / max(len(steps), 1):.2f} s/step, "
        f"mean reward {reward.stats.mean:.3f}, unparseable {reward.stats.unparseable}"
        f"/{reward.stats.scored}, total {time.perf_counter() - start:.0f} s"
    )
    if result.output_dir is not None:
        print(
            f'saved to {result.output_dir}; serve it: Memory(answer_llm="hf:{result.output_dir}")'
        )
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    main(parse_args(Args, section="answer"))
