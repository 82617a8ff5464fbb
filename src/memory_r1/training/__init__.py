"""Train Memory-R1's two agents with outcome-driven RL (extra ``memory-r1[train]``).

The pieces, in the order a run uses them:

* **Data** (paper App. B.2): ``BankBuilder`` has a teacher LLM write memory banks through
  memory-r1's own pipeline and caches them as JSONL; ``answer_tuples`` and
  ``manager_tuples`` turn a LoCoMo conversation into training tuples, and ``answer_rows`` /
  ``manager_rows`` into dataset rows (prompt + the columns the rewards read).
* **Rewards**: ``AnswerReward`` (exact match of the answer, or F1) and ``ManagerReward``
  (apply the sampled operations, let a frozen Answer Agent answer, score it), both with
  trl's reward signature; unparseable outputs score 0 and are counted in ``.stats``.
* **RL**: ``train_grpo`` (trl's ``GRPOTrainer``) and ``train_ppo`` (our own PPO with a
  value head), configured by ``GRPOArgs`` / ``PPOArgs`` whose defaults are the paper's.
* **Checkpoints**: ``load_policy`` and ``save_policy``; a saved directory serves as an agent
  backend: ``Memory(llm="hf:runs/manager", answer_llm="hf:runs/answer")``.

Importing this package imports neither torch nor trl; they load when training starts.
The recipes in the repository's ``training/`` folder put it all together; see
``docs/training.md``.
"""

from memory_r1.training._common import TrainResult
from memory_r1.training.banks import BankBuilder, BankSnapshot
from memory_r1.training.checkpoint import LoRAArgs, load_policy, save_policy
from memory_r1.training.data import (
    AnswerTuple,
    LinkedQA,
    ManagerTuple,
    answer_rows,
    answer_tuples,
    linked_turns,
    manager_rows,
    manager_tuples,
)
from memory_r1.training.grpo import GRPOArgs, train_grpo
from memory_r1.training.ppo import PPOArgs, train_ppo
from memory_r1.training.rewards import AnswerReward, ManagerReward, RewardStats

__all__ = [
    "AnswerReward",
    "AnswerTuple",
    "BankBuilder",
    "BankSnapshot",
    "GRPOArgs",
    "LinkedQA",
    "LoRAArgs",
    "ManagerReward",
    "ManagerTuple",
    "PPOArgs",
    "RewardStats",
    "TrainResult",
    "answer_rows",
    "answer_tuples",
    "linked_turns",
    "load_policy",
    "manager_rows",
    "manager_tuples",
    "save_policy",
    "train_grpo",
    "train_ppo",
]
