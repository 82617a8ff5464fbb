"""Train Memory-R1's Memory Manager with GRPO or PPO (paper §3.1, App. B.2 Alg. 1, Eq. 4).

Data: one tuple per dialogue turn that questions cite as evidence (conv-26: 133): the turn, the
temporal bank the ``teacher`` builds from the ``window`` turns before it (paper: 24 or 50), the
teacher's facts of the turn, and the linked questions. Reward: the sampled operations are applied
to a copy of the bank, the frozen ``answer_llm`` answers each linked question from it, and the
answers' exact match with the gold ones is averaged. The Answer Agent never trains here.

    python training/train_memory_manager.py --config training/configs/tiny-cpu.toml
    python training/train_memory_manager.py --config training/configs/tiny-cpu.toml --algo ppo
    python training/train_memory_manager.py --config training/configs/paper-llama-3.1-8b.toml \
        --answer-llm hf:runs/answer

The trained policy lands in ``output_dir`` and serves as ``Memory(llm="hf:<output_dir>")``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from memory_r1.config import AgentConfig
from memory_r1.eval import load_locomo
from memory_r1.training import (
    BankBuilder,
    GRPOArgs,
    ManagerReward,
    PPOArgs,
    TrainResult,
    load_policy,
    manager_rows,
    manager_tuples,
)
from memory_r1.training.recipe import default_locomo_path, parse_args, run_algo

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Train the Memory Manager (GRPO or PPO) against a frozen Answer Agent."""

    algo: Literal["grpo", "ppo"] = "grpo"
    policy: str = "smollm2"  # the model to train: a directory, a .gguf file, or "smollm2"
    dtype: str = "float32"  # "bfloat16" on GPUs
    device: str = "cpu"  # "cuda" for our PPO on a GPU (GRPO places the model itself)
    threads: int = 0  # torch CPU threads; 0 leaves torch's default (use 1 on a shared CPU)
    answer_llm: str = "smollm2"  # the frozen Answer Agent: base model, or "hf:runs/answer"
    locomo: str = ""  # locomo10.json; default $MEMORY_R1_LOCOMO or ../shared/data/locomo
    split: Literal["train", "validation", "test", "all"] = "train"
    teacher: str = "verbatim"  # builds the temporal banks: an LLM spec, or "verbatim"
    embedder: str = "sentence-transformers"  # "hashing" needs no model
    cache_dir: str = "runs/cache"  # the teacher's banks (JSONL), reused by later runs
    window: int = 24  # preceding turns per temporal bank (paper: 24 in B.2, 50 in Alg. 1)
    related_k: int = 5  # memories shown per new fact
    answer_k: int = 30  # memories per speaker for the frozen Answer Agent (paper: 30)
    metric: Literal["exact_match", "f1"] = "exact_match"  # the reward (paper: exact match)
    max_tuples: int = 0  # 0: all of them
    output_dir: str = "runs/manager"
    grpo: GRPOArgs = field(default_factory=GRPOArgs)
    ppo: PPOArgs = field(default_factory=PPOArgs)


def main(args: Args) -> TrainResult:
    """Build (or reload) the data, train, save; returns the run's result."""
    start = time.perf_counter()
    data = load_locomo(args.locomo or default_locomo_path(ROOT), verify="warn")
    agents = AgentConfig(related_k=args.related_k, answer_k=args.answer_k)
    builder = BankBuilder(
        args.teacher, args.embedder, cache_dir=args.cache_dir, agents=agents, progress=True
    )
    limit = args.max_tuples or None
    tuples = [
        t
        for conv in data.split(args.split)
        for t in manager_tuples(conv, builder, window=args.window, limit=limit)
    ][:limit]
    logging.info(
        "%d manager tuples from %s (%.1f s)", len(tuples), args.split, time.perf_counter() - start
    )
    model, tokenizer = load_policy(
        args.policy, dtype=args.dtype, device=args.device, num_threads=args.threads or None
    )
    reward = ManagerReward(args.answer_llm, builder.embedder, metric=args.metric, agents=agents)
    result = run_algo(
        args.algo,
        model,
        tokenizer,
        manager_rows(tuples),
        reward,
        grpo=args.grpo,
        ppo=args.ppo,
        output_dir=args.output_dir,
    )
    steps, stats = result.step_times, reward.stats
    print(
        f"{args.algo}: {result.steps} steps, {sum(steps) / max(len(steps), 1):.2f} s/step, "
        f"mean reward {stats.mean:.3f}, unparseable {stats.unparseable}/{stats.scored}, "
        f"answer failures {stats.answer_failures}, total {time.perf_counter() - start:.0f} s"
    )
    if result.output_dir is not None:
        print(f'saved to {result.output_dir}; serve it: Memory(llm="hf:{result.output_dir}")')
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    main(parse_args(Args, section="manager"))
