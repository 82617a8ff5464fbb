"""What GRPO and PPO share: the reward-function type, prompt filtering, the run's result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_r1.training.checkpoint import args_info, save_policy

__all__ = ["RewardFn", "TrainResult", "finish_run", "fit_prompts", "render_prompt"]

log = logging.getLogger(__name__)
RewardFn = Callable[..., list[float]]
"""trl's reward signature: ``f(prompts=..., completions=..., **columns) -> list[float]``."""


@dataclass
class TrainResult:
    """What a training run did.

    Attributes:
        output_dir: where the policy was saved (None when ``save`` was off).
        steps: optimizer steps taken.
        log_history: one dict of metrics per logged step (reward, loss, KL, step time...).
        step_times: wall seconds of each optimizer step.
        dropped_prompts: prompts left out for exceeding ``max_prompt_length``.
        model: the trained policy (LoRA merged in when it was saved).
    """

    output_dir: Path | None
    steps: int
    log_history: list[dict[str, Any]]
    step_times: list[float]
    dropped_prompts: int
    model: Any = None


def fit_prompts(
    rows: Sequence[Mapping[str, Any]], tokenizer: Any, max_prompt_length: int
) -> tuple[list[Mapping[str, Any]], int]:
    """The rows whose chat-templated ``prompt`` fits ``max_prompt_length`` tokens, and how
    many were dropped (trl does not truncate prompts, and a cut prompt would lose its
    question)."""
    kept = [r for r in rows if _n_tokens(tokenizer, r["prompt"]) <= max_prompt_length]
    dropped = len(rows) - len(kept)
    if dropped:
        log.warning(
            "dropped %d of %d prompts over %d tokens", dropped, len(rows), max_prompt_length
        )
    return kept, dropped


def render_prompt(tokenizer: Any, prompt: Any) -> str:
    """A prompt as the text the model reads (chat template and generation prompt applied)."""
    if isinstance(prompt, str):
        return prompt
    text: str = tokenizer.apply_chat_template(
        [dict(m) for m in prompt], add_generation_prompt=True, tokenize=False
    )
    return text


def _n_tokens(tokenizer: Any, prompt: Any) -> int:
    ids = tokenizer(render_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"]
    return len(ids)


def finish_run(
    model: Any,
    tokenizer: Any,
    args: Any,
    *,
    steps: int,
    history: list[dict[str, Any]],
    step_times: list[float],
    dropped: int,
) -> TrainResult:
    """Merge LoRA adapters, save the policy when ``args.save``, and describe the run."""
    trained = model.merge_and_unload() if args.lora is not None else model
    out = None
    if args.save:
        info = {**args_info(args), "log_history": history}
        out = save_policy(trained, tokenizer, args.output_dir, info=info)
    return TrainResult(out, steps, history, step_times, dropped, trained)
