"""Train both agents one after the other, each against its frozen partner (paper App. E).

The paper trains the two agents separately and leaves their order open (Alg. 2 builds the Answer
Agent's data with a trained Memory Manager, while Alg. 5 needs an Answer Agent for the Manager's
reward), so the order is an argument:

* ``answer-first`` (default): the Answer Agent trains on the teacher's banks; then the Memory
  Manager trains with that trained Answer Agent frozen inside its reward.
* ``manager-first``: the Memory Manager trains with the base model as its frozen Answer Agent;
  then the Answer Agent trains on banks that the trained Manager writes (``teacher`` = it).

    python training/train_both.py --config training/configs/tiny-cpu.toml --order manager-first

Both recipes read their own tables of the config ([answer], [manager]) and [common].
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_answer_agent
import train_memory_manager

from memory_r1.exceptions import ConfigurationError
from memory_r1.training.recipe import parse_args


def main(argv: list[str] | None = None) -> None:
    """Parse ``--order``, then run the two recipes in that order with the rest of the flags."""
    pre = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    pre.add_argument("--order", choices=("answer-first", "manager-first"), default="answer-first")
    known, rest = pre.parse_known_args(argv)
    answer = parse_args(train_answer_agent.Args, section="answer", argv=rest, known_only=True)
    manager = parse_args(train_memory_manager.Args, section="manager", argv=rest, known_only=True)
    if Path(answer.output_dir).resolve() == Path(manager.output_dir).resolve():
        raise ConfigurationError(f"both agents would be saved to {answer.output_dir}")
    if known.order == "answer-first":
        trained = train_answer_agent.main(answer)
        train_memory_manager.main(replace(manager, answer_llm=f"hf:{trained.output_dir}"))
    else:
        trained = train_memory_manager.main(manager)
        train_answer_agent.main(replace(answer, teacher=f"hf:{trained.output_dir}"))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    main()
