"""GRPO for either agent, on trl's ``GRPOTrainer`` (Memory-R1 Eq. 3).

For each prompt, ``num_generations`` completions are sampled at temperature 1.0; each one's
advantage is its reward minus the group's mean, divided by the group's standard deviation;
the policy takes a clipped policy-gradient step with a KL penalty ``beta`` to the reference
(the initial policy). What the paper fixes is the default here (actor learning rate 1e-6,
constant schedule, temperature 1.0, prompt/response 4096/2048 tokens, 128 prompts per
step on 4 GPUs with micro-batches of 2); what it leaves open is an argument whose default
follows veRL, the framework the paper used (group size 5, KL coefficient 0.001).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError, InvalidInputError
from memory_r1.training._common import RewardFn, TrainResult, finish_run, fit_prompts
from memory_r1.training.checkpoint import LoRAArgs, apply_lora

__all__ = ["GRPOArgs", "train_grpo"]

log = logging.getLogger(__name__)


@dataclass
class GRPOArgs:
    """GRPO settings (``trl.GRPOConfig`` is built from them).

    Attributes:
        output_dir: where the trained policy is saved (and trl's own files go).
        learning_rate: actor learning rate (paper: 1e-6), constant after ``warmup_steps``.
        num_generations: the group size G (paper: unspecified; veRL's example uses 5).
        beta: KL coefficient to the reference policy (paper: unspecified; veRL: 0.001);
            0 drops the reference model altogether.
        epsilon: the policy-ratio clip.
        loss_type: trl's loss aggregation; ``"grpo"`` is the paper's Eq. 3.
        temperature: sampling temperature of the rollouts (paper: 1.0).
        max_prompt_length: longer prompts are dropped before training (paper: 4096).
        max_completion_length: generation budget (paper: 2048).
        per_device_train_batch_size: completions per device per micro-batch (paper: 2).
        gradient_accumulation_steps: micro-batches per optimizer step. The default gives
            the paper's 128 prompts per step on 4 devices: 4 x 2 x 80 = 640 = 128 x 5.
        max_steps: optimizer steps; -1 runs ``num_train_epochs`` epochs.
        max_minutes: stop after the step that passes this wall time (0: no limit).
        num_train_epochs: passes over the data when ``max_steps`` is -1.
        warmup_steps: linear warm-up before the constant learning rate.
        seed: the seed of sampling and shuffling.
        bf16: train in bfloat16 (GPUs).
        gradient_checkpointing: trade compute for memory (needed at 7-8B).
        lora: train LoRA adapters instead of every weight.
        logging_steps: log every this many steps.
        save: save the final policy to ``output_dir``.
    """

    output_dir: str = "runs/grpo"
    learning_rate: float = 1e-6
    num_generations: int = 5
    beta: float = 0.001
    epsilon: float = 0.2
    loss_type: str = "grpo"
    temperature: float = 1.0
    max_prompt_length: int = 4096
    max_completion_length: int = 2048
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 80
    max_steps: int = -1
    max_minutes: float = 0.0
    num_train_epochs: float = 1.0
    warmup_steps: int = 0
    seed: int = 0
    bf16: bool = False
    gradient_checkpointing: bool = False
    lora: LoRAArgs | None = None
    logging_steps: int = 1
    save: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    """Further ``trl.GRPOConfig`` fields, passed as they are."""


def _config(args: GRPOArgs, use_cpu: bool) -> Any:
    trl = require("trl", "train")
    return trl.GRPOConfig(
        output_dir=args.output_dir,
        learning_rate=args.learning_rate,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=args.warmup_steps,
        num_generations=args.num_generations,
        beta=args.beta,
        epsilon=args.epsilon,
        loss_type=args.loss_type,
        temperature=args.temperature,
        max_completion_length=args.max_completion_length,
        per_device_train_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        max_steps=args.max_steps,
        num_train_epochs=args.num_train_epochs,
        seed=args.seed,
        bf16=args.bf16,
        gradient_checkpointing=args.gradient_checkpointing,
        logging_steps=args.logging_steps,
        save_strategy="no",
        report_to=[],
        use_cpu=use_cpu,
        **args.extra,
    )


def _check_reference(model: Any, args: GRPOArgs) -> None:
    """trl re-loads the KL reference from ``model.config._name_or_path``: it must be a local
    directory holding the initial weights (never a hub id: nothing may be downloaded)."""
    source = getattr(model.config, "_name_or_path", "")
    if args.beta != 0 and args.lora is None and not (source and Path(source).is_dir()):
        raise ConfigurationError(
            f"GRPO with beta={args.beta} loads its reference model from the policy's "
            f"directory, but the policy came from {source!r}; load it with "
            "load_policy(<directory>), use LoRA, or set beta=0"
        )


class _Deadline:
    """A ``TrainerCallback`` that stops training after the step that passes a wall time."""

    @staticmethod
    def make(minutes: float) -> Any:
        transformers = require("transformers", "train")
        deadline = time.monotonic() + minutes * 60

        class Deadline(transformers.TrainerCallback):  # type: ignore[misc,name-defined]
            def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> Any:
                if time.monotonic() >= deadline:
                    control.should_training_stop = True
                return control

        return Deadline()


def train_grpo(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    reward_funcs: RewardFn | Sequence[RewardFn],
    args: GRPOArgs,
    *,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train ``model`` with GRPO on ``rows`` (``answer_rows`` or ``manager_rows``).

    Args:
        model: a causal LM (``load_policy``); trained in place (or through LoRA).
        tokenizer: its tokenizer, with a chat template.
        rows: dataset rows with a conversational ``prompt`` and the rewards' columns.
        reward_funcs: ``AnswerReward``, ``ManagerReward``, or any trl reward functions
            (their rewards are summed).
        args: the settings.
        callbacks: extra ``transformers.TrainerCallback`` objects.

    Returns:
        A ``TrainResult``; the policy is in ``args.output_dir`` when ``args.save``.

    Raises:
        InvalidInputError: no row fits ``max_prompt_length``.
        ConfigurationError: a KL reference is needed but the policy has no local directory.
        MissingDependencyError: the ``train`` extra is not installed.
    """
    trl, datasets = require("trl", "train"), require("datasets", "train")
    torch = require("torch", "train")
    kept, dropped = fit_prompts(rows, tokenizer, args.max_prompt_length)
    if not kept:
        raise InvalidInputError(f"no prompt fits max_prompt_length={args.max_prompt_length}")
    funcs = [reward_funcs] if callable(reward_funcs) else list(reward_funcs)
    _check_reference(model, args)
    if args.lora is not None:
        model = apply_lora(model, args.lora)
    trainer = trl.GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=_config(args, use_cpu=not torch.cuda.is_available()),
        train_dataset=datasets.Dataset.from_list([dict(r) for r in kept]),
        processing_class=tokenizer,
        callbacks=[*callbacks, *([_Deadline.make(args.max_minutes)] if args.max_minutes else [])],
    )
    trainer.train()
    history = list(trainer.state.log_history)
    times = [float(h["step_time"]) for h in history if "step_time" in h]
    return finish_run(
        trainer.model,
        tokenizer,
        args,
        steps=int(trainer.state.global_step),
        history=history,
        step_times=times,
        dropped=dropped,
    )
