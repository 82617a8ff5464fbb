"""PPO for either agent (Memory-R1 Eq. 2), small enough to check against the paper line by line.

trl 1.16 has no PPO, so this is our own, in the manner of cleanrl's ``ppo.py``: an
``@dataclass`` of arguments, a few helpers, then the loop. One iteration:

1. **Rollout.** Sample one completion per prompt at temperature 1.0 (``rollout_batch_size``
   prompts).
2. **Score.** The reward functions - the same ``AnswerReward`` / ``ManagerReward`` as GRPO,
   called with trl's signature - give one score per completion.
3. **Per-token rewards.** Every completion token gets ``-kl_coef * (log pi_old - log pi_ref)``
   (a KL penalty to the frozen initial policy); the last one also gets the score.
4. **GAE.** The value head's estimates give advantages (gamma, lambda) and returns; the
   advantages are whitened over the batch.
5. **Update.** ``ppo_epochs`` passes over shuffled minibatches: the clipped policy loss
   ``-min(rho*A, clip(rho, 1-eps, 1+eps)*A)`` and the clipped value loss, with the actor's
   learning rate (1e-6) for the language model and the critic's (1e-5) for the value head.

The critic is a linear value head on the policy's last hidden state (shared backbone). The
defaults the paper leaves open (clip ranges, gamma, lambda, KL coefficient) follow veRL.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memory_r1._lazy import require
from memory_r1.exceptions import InvalidInputError
from memory_r1.training._common import (
    RewardFn,
    TrainResult,
    finish_run,
    fit_prompts,
    render_prompt,
)
from memory_r1.training.checkpoint import LoRAArgs, apply_lora
from memory_r1.training.ppo_core import Rollout, gae, policy_forward, ppo_losses, whiten

__all__ = ["PPOArgs", "PolicyWithValue", "train_ppo"]

log = logging.getLogger(__name__)


@dataclass
class PPOArgs:
    """PPO settings.

    Attributes:
        output_dir: where the trained policy is saved.
        actor_lr: learning rate of the language model (paper: 1e-6).
        critic_lr: learning rate of the value head (paper: 1e-5).
        temperature: rollout sampling temperature (paper: 1.0).
        max_prompt_length: longer prompts are dropped (paper: 4096).
        max_completion_length: generation budget (paper: 2048).
        rollout_batch_size: prompts per iteration (paper: 128).
        minibatch_size: sequences per optimizer step.
        micro_batch_size: sequences per forward pass (paper: 2 per GPU).
        ppo_epochs: passes over each rollout batch (veRL: 1).
        clip_eps: policy-ratio clip epsilon (veRL: 0.2).
        value_clip: value-change clip (veRL: 0.5).
        vf_coef: weight of the value loss.
        gamma: discount (veRL: 1.0).
        lam: GAE lambda (veRL: 1.0).
        kl_coef: KL penalty to the initial policy, in the reward (veRL: 0.001); 0 drops the
            reference model.
        max_grad_norm: gradient clipping.
        max_steps: PPO iterations.
        max_minutes: stop after the step that passes this wall time (0: no limit).
        seed: seed of sampling and shuffling.
        bf16: load-time dtype is the caller's; this runs the forward passes in bfloat16.
        lora: train LoRA adapters (the reference is then the adapter-free base).
        save: save the final policy to ``output_dir``.
    """

    output_dir: str = "runs/ppo"
    actor_lr: float = 1e-6
    critic_lr: float = 1e-5
    temperature: float = 1.0
    max_prompt_length: int = 4096
    max_completion_length: int = 2048
    rollout_batch_size: int = 128
    minibatch_size: int = 32
    micro_batch_size: int = 2
    ppo_epochs: int = 1
    clip_eps: float = 0.2
    value_clip: float = 0.5
    vf_coef: float = 0.5
    gamma: float = 1.0
    lam: float = 1.0
    kl_coef: float = 0.001
    max_grad_norm: float = 1.0
    max_steps: int = 1
    max_minutes: float = 0.0
    seed: int = 0
    bf16: bool = False
    lora: LoRAArgs | None = None
    save: bool = True


@dataclass
class PolicyWithValue:
    """A causal LM and a linear value head on its last hidden state."""

    lm: Any
    value_head: Any

    @classmethod
    def wrap(cls, lm: Any) -> PolicyWithValue:
        """Add a fresh value head to ``lm`` (same device and dtype)."""
        torch = require("torch", "train")
        param = next(lm.parameters())
        head = torch.nn.Linear(lm.config.hidden_size, 1).to(param.device, param.dtype)
        return cls(lm=lm, value_head=head)


def _generate(policy: PolicyWithValue, tokenizer: Any, prompts: Any, args: PPOArgs) -> Any:
    """Sampled completion ids for the left-padded ``prompts`` (right-padded with pad)."""
    torch = require("torch", "train")
    policy.lm.eval()
    with torch.no_grad():
        out = policy.lm.generate(
            **prompts,
            do_sample=True,
            temperature=args.temperature,
            top_k=0,
            top_p=1.0,
            max_new_tokens=args.max_completion_length,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=_stop_ids(policy.lm, tokenizer),
        )
    policy.lm.train()
    return out[:, prompts["input_ids"].shape[1] :]


def _stop_ids(lm: Any, tokenizer: Any) -> list[int]:
    """The tokens that end a completion: the model's and the tokenizer's end-of-sequence ids
    (chat models often end a turn with a token of their own, e.g. LLaMA-3's ``<|eot_id|>``)."""
    eos = lm.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


def _completion_mask(completions: Any, stop_ids: Sequence[int]) -> Any:
    """1 up to and including the first end-of-sequence token, 0 after it."""
    torch = require("torch", "train")
    is_end = torch.isin(completions, torch.tensor(list(stop_ids), device=completions.device))
    first = torch.where(is_end.any(1), is_end.int().argmax(1), completions.shape[1] - 1)
    steps = torch.arange(completions.shape[1], device=completions.device)
    return (steps[None, :] <= first[:, None]).to(torch.float32)


def _score(
    rows: Sequence[Mapping[str, Any]],
    texts: list[str],
    reward_funcs: Sequence[RewardFn],
    metrics: dict[str, float],
) -> list[float]:
    """The summed rewards of the completions, called with trl's signature."""
    columns = {k: [r[k] for r in rows] for k in rows[0] if k != "prompt"}
    completions = [[{"role": "assistant", "content": t}] for t in texts]
    total = [0.0] * len(texts)
    for fn in reward_funcs:
        scores = fn(
            prompts=[r["prompt"] for r in rows],
            completions=completions,
            log_metric=metrics.__setitem__,
            **columns,
        )
        total = [a + float(b or 0.0) for a, b in zip(total, scores, strict=True)]
    return total


def _rollout(
    policy: PolicyWithValue,
    ref: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    reward_funcs: Sequence[RewardFn],
    args: PPOArgs,
) -> tuple[Rollout, dict[str, float]]:
    """Sample, score and evaluate one batch: everything the update needs."""
    torch = require("torch", "train")
    texts = [render_prompt(tokenizer, r["prompt"]) for r in rows]
    prompts = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    prompts = prompts.to(policy.lm.device)
    completions = _generate(policy, tokenizer, prompts, args)
    mask = _completion_mask(completions, _stop_ids(policy.lm, tokenizer))
    lengths = mask.sum(1).long().tolist()
    decoded = [
        tokenizer.decode(row[:n], skip_special_tokens=True)
        for row, n in zip(completions.tolist(), lengths, strict=True)
    ]
    metrics: dict[str, float] = {}
    scores = torch.tensor(_score(rows, decoded, reward_funcs, metrics), device=mask.device)
    batch = Rollout.start(prompts, completions, mask, scores)
    with torch.no_grad():
        batch.logprobs, batch.values = _forward_all(policy, batch, args)
        batch.ref_logprobs = _ref_logprobs(policy, ref, batch, args)
    kl = (batch.logprobs - batch.ref_logprobs) * mask
    rewards = -args.kl_coef * kl
    last = mask.sum(1).long() - 1
    rewards[torch.arange(len(rows)), last] += scores
    batch.advantages, batch.returns = gae(rewards, batch.values * mask, mask, args.gamma, args.lam)
    batch.advantages = whiten(batch.advantages, mask)
    metrics.update(
        reward=float(scores.mean()),
        kl=float(kl.sum(1).mean()),
        completion_length=float(mask.sum(1).mean()),
    )
    return batch, metrics


def _forward_all(policy: PolicyWithValue, batch: Rollout, args: PPOArgs) -> tuple[Any, Any]:
    torch = require("torch", "train")
    parts = [
        policy_forward(policy, batch.slice(i, i + args.micro_batch_size), args.temperature)
        for i in range(0, batch.size, args.micro_batch_size)
    ]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def _ref_logprobs(policy: PolicyWithValue, ref: Any, batch: Rollout, args: PPOArgs) -> Any:
    """Log-probabilities under the frozen reference (zeros when ``kl_coef`` is 0)."""
    torch = require("torch", "train")
    if args.kl_coef == 0:
        return batch.logprobs.clone()
    if ref is None:  # LoRA: the reference is the base model without its adapters
        with policy.lm.disable_adapter():
            return _forward_all(policy, batch, args)[0]
    frozen = PolicyWithValue(lm=ref, value_head=policy.value_head)
    with torch.no_grad():
        return _forward_all(frozen, batch, args)[0]


def _update(
    policy: PolicyWithValue, optimizer: Any, batch: Rollout, args: PPOArgs, generator: Any
) -> dict[str, float]:
    """``ppo_epochs`` passes of clipped updates over shuffled minibatches."""
    torch = require("torch", "train")
    params = [*policy.lm.parameters(), *policy.value_head.parameters()]
    stats: dict[str, list[float]] = {"pg_loss": [], "vf_loss": [], "clipfrac": [], "approx_kl": []}
    for _ in range(args.ppo_epochs):
        order = torch.randperm(batch.size, generator=generator).tolist()
        for start in range(0, batch.size, args.minibatch_size):
            chosen = order[start : start + args.minibatch_size]
            optimizer.zero_grad()
            for i in range(0, len(chosen), args.micro_batch_size):
                micro = batch.select(chosen[i : i + args.micro_batch_size])
                logprobs, values = policy_forward(policy, micro, args.temperature)
                losses = ppo_losses(logprobs, values, micro, args.clip_eps, args.value_clip)
                loss = losses["pg_loss"] + args.vf_coef * losses["vf_loss"]
                (loss * len(micro.index) / len(chosen)).backward()
                for k in stats:
                    stats[k].append(float(losses[k].detach()))
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
    return {k: sum(v) / len(v) for k, v in stats.items() if v}


def train_ppo(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    reward_funcs: RewardFn | Sequence[RewardFn],
    args: PPOArgs,
) -> TrainResult:
    """Train ``model`` with PPO on ``rows`` (``answer_rows`` or ``manager_rows``).

    Args:
        model: a causal LM (``load_policy``); trained in place (or through LoRA).
        tokenizer: its tokenizer, with a chat template and a pad token.
        rows: dataset rows with a conversational ``prompt`` and the rewards' columns.
        reward_funcs: ``AnswerReward``, ``ManagerReward`` or other trl-style rewards (summed).
        args: the settings.

    Returns:
        A ``TrainResult`` (``log_history`` has one entry per iteration).

    Raises:
        InvalidInputError: no row fits ``max_prompt_length``.
    """
    torch = require("torch", "train")
    kept, dropped = fit_prompts(rows, tokenizer, args.max_prompt_length)
    if not kept:
        raise InvalidInputError(f"no prompt fits max_prompt_length={args.max_prompt_length}")
    funcs = [reward_funcs] if callable(reward_funcs) else list(reward_funcs)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    ref = None if args.lora is not None or args.kl_coef == 0 else _frozen_copy(model)
    lm = apply_lora(model, args.lora) if args.lora is not None else model
    tokenizer.padding_side = "left"
    policy = PolicyWithValue.wrap(lm)
    optimizer = _optimizer(policy, args)
    history: list[dict[str, Any]] = []
    order: list[int] = []
    deadline = time.monotonic() + args.max_minutes * 60
    for step in range(1, args.max_steps + 1):
        if args.max_minutes and step > 1 and time.monotonic() >= deadline:
            break
        start = time.perf_counter()
        while len(order) < args.rollout_batch_size:  # a new epoch, freshly shuffled
            order += torch.randperm(len(kept), generator=generator).tolist()
        chosen, order = order[: args.rollout_batch_size], order[args.rollout_batch_size :]
        with torch.autocast(lm.device.type, torch.bfloat16, enabled=args.bf16):
            batch, metrics = _rollout(
                policy, ref, tokenizer, [kept[i] for i in chosen], funcs, args
            )
            metrics.update(_update(policy, optimizer, batch, args, generator))
        metrics.update(step=step, step_time=time.perf_counter() - start)
        history.append(metrics)
        log.info("ppo step %d/%d %s", step, args.max_steps, _fmt(metrics))
    times = [h["step_time"] for h in history]
    return finish_run(
        lm,
        tokenizer,
        args,
        steps=len(history),
        history=history,
        step_times=times,
        dropped=dropped,
    )


def _optimizer(policy: PolicyWithValue, args: PPOArgs) -> Any:
    """Adam with the actor's learning rate on the LM and the critic's on the value head (no
    weight decay: parameters move only where the losses push them)."""
    torch = require("torch", "train")
    actor = [p for p in policy.lm.parameters() if p.requires_grad]
    critic = list(policy.value_head.parameters())
    return torch.optim.AdamW(
        [{"params": actor, "lr": args.actor_lr}, {"params": critic, "lr": args.critic_lr}],
        weight_decay=0.0,
    )


def _frozen_copy(model: Any) -> Any:
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _fmt(metrics: Mapping[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k != "step")
