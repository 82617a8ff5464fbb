"""The arithmetic of PPO: a rollout batch, log-probabilities and values, GAE, the two losses.

Tensors are ``[batch, completion tokens]``; ``mask`` is 1 on real completion tokens (up to
and including the end-of-sequence token) and 0 on padding. torch is imported inside the
functions so that importing this module stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from memory_r1._lazy import require

__all__ = ["Rollout", "gae", "masked_mean", "policy_forward", "ppo_losses", "whiten"]


class _Policy(Protocol):
    lm: Any
    value_head: Any


@dataclass
class Rollout:
    """One batch of sampled completions and what PPO computes from them.

    Attributes:
        prompt_ids / prompt_mask: the left-padded prompts.
        completion_ids / mask: the right-padded completions and their token mask.
        scores: the reward of each completion.
        logprobs / values / ref_logprobs: per completion token, at sampling time.
        advantages / returns: from GAE.
        index: which rows of the original batch these are.
    """

    prompt_ids: Any
    prompt_mask: Any
    completion_ids: Any
    mask: Any
    scores: Any
    logprobs: Any = None
    values: Any = None
    ref_logprobs: Any = None
    advantages: Any = None
    returns: Any = None
    index: list[int] = field(default_factory=list)

    @classmethod
    def start(cls, prompts: Any, completion_ids: Any, mask: Any, scores: Any) -> Rollout:
        """A batch from tokenized prompts and sampled completions."""
        return cls(
            prompt_ids=prompts["input_ids"],
            prompt_mask=prompts["attention_mask"],
            completion_ids=completion_ids,
            mask=mask,
            scores=scores,
            index=list(range(completion_ids.shape[0])),
        )

    @property
    def size(self) -> int:
        """Number of sequences."""
        return len(self.index)

    def select(self, rows: list[int]) -> Rollout:
        """The sub-batch of these rows (positions in this batch)."""
        tensors = {
            name: None if (value := getattr(self, name)) is None else value[rows]
            for name in (
                "prompt_ids",
                "prompt_mask",
                "completion_ids",
                "mask",
                "scores",
                "logprobs",
                "values",
                "ref_logprobs",
                "advantages",
                "returns",
            )
        }
        return replace(self, **tensors, index=[self.index[i] for i in rows])

    def slice(self, start: int, stop: int) -> Rollout:
        """Rows ``start`` to ``stop`` (exclusive)."""
        return self.select(list(range(start, min(stop, self.size))))


def policy_forward(policy: _Policy, batch: Rollout, temperature: float) -> tuple[Any, Any]:
    """Log-probabilities of the completion tokens under ``policy`` (at the sampling
    temperature) and the value estimate before each of them."""
    torch = require("torch", "train")
    input_ids = torch.cat([batch.prompt_ids, batch.completion_ids], dim=1)
    attention = torch.cat([batch.prompt_mask, batch.mask.to(batch.prompt_mask.dtype)], dim=1)
    positions = (attention.cumsum(1) - 1).clamp(min=0)  # left padding: count real tokens
    out = policy.lm(
        input_ids=input_ids,
        attention_mask=attention,
        position_ids=positions,
        output_hidden_states=True,
    )
    start = batch.prompt_ids.shape[1] - 1  # the logits at position i predict token i + 1
    logits = out.logits[:, start:-1].float() / temperature
    logprobs = logits.log_softmax(-1).gather(-1, batch.completion_ids.unsqueeze(-1)).squeeze(-1)
    hidden = out.hidden_states[-1][:, start:-1]
    values = policy.value_head(hidden.to(policy.value_head.weight.dtype)).squeeze(-1).float()
    return logprobs, values


def masked_mean(x: Any, mask: Any) -> Any:
    """The mean of ``x`` over the positions where ``mask`` is 1."""
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: Any, mask: Any) -> Any:
    """``x`` shifted and scaled to mean 0 and variance 1 over the masked positions."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) * (var + 1e-8).rsqrt() * mask


def gae(rewards: Any, values: Any, mask: Any, gamma: float, lam: float) -> tuple[Any, Any]:
    """Generalised advantage estimates and returns, token by token from the end.

    ``rewards`` and ``values`` must be 0 on padding, so nothing flows back from beyond a
    completion's end.

    Example:
        >>> import torch
        >>> adv, ret = gae(torch.tensor([[0.0, 0.0, 1.0]]), torch.zeros(1, 3),
        ...                torch.ones(1, 3), gamma=1.0, lam=1.0)
        >>> ret.tolist()  # with gamma = lambda = 1 and no critic: the reward-to-go
        [[1.0, 1.0, 1.0]]
    """
    torch = require("torch", "train")
    steps = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(steps)):
        next_value = values[:, t + 1] if t + 1 < steps else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = delta + gamma * lam * last
        advantages[:, t] = last
    advantages = advantages * mask
    return advantages, advantages + values


def ppo_losses(
    logprobs: Any, values: Any, batch: Rollout, clip_eps: float, value_clip: float
) -> dict[str, Any]:
    """The clipped policy loss (Eq. 2), the clipped value loss, and diagnostics.

    Returns:
        ``pg_loss`` and ``vf_loss`` (tensors to differentiate), ``clipfrac`` (the share of
        tokens whose ratio was clipped) and ``approx_kl`` (to the sampling policy).
    """
    torch = require("torch", "train")
    mask, adv = batch.mask, batch.advantages
    log_ratio = logprobs - batch.logprobs
    ratio = log_ratio.exp()
    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_eps, 1 + clip_eps))
    clipped_values = batch.values + (values - batch.values).clamp(-value_clip, value_clip)
    vf = torch.max((values - batch.returns) ** 2, (clipped_values - batch.returns) ** 2)
    with torch.no_grad():
        clipfrac = masked_mean(((ratio - 1).abs() > clip_eps).float(), mask)
        approx_kl = masked_mean((ratio - 1) - log_ratio, mask)
    return {
        "pg_loss": masked_mean(pg, mask),
        "vf_loss": 0.5 * masked_mean(vf, mask),
        "clipfrac": clipfrac,
        "approx_kl": approx_kl,
    }
