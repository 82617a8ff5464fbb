"""What the recipe scripts in ``training/`` share: arguments from a dataclass, a TOML config
and the command line; the LoCoMo file; the choice of algorithm.

A recipe declares ``@dataclass class Args`` (fields may be dataclasses themselves, such as
``grpo: GRPOArgs``). ``parse_args(Args, section="answer")`` fills it from, in order: the
defaults, the config file's ``[common]`` and ``[<section>]`` tables (nested tables such as
``[answer.grpo]`` fill nested fields), then flags: ``--max-questions 8``,
``--grpo.max-steps 2``, ``--lora.r 8``. Unknown keys are errors, never ignored.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from memory_r1.exceptions import ConfigurationError
from memory_r1.training._common import RewardFn, TrainResult
from memory_r1.training.grpo import GRPOArgs, train_grpo
from memory_r1.training.ppo import PPOArgs, train_ppo

__all__ = ["default_locomo_path", "parse_args", "run_algo"]

A = TypeVar("A")
Algo = Literal["grpo", "ppo"]


def default_locomo_path(repo_root: Path) -> Path:
    """``$MEMORY_R1_LOCOMO``, else ``<repo_root>/../shared/data/locomo/locomo10.json``."""
    env = os.environ.get("MEMORY_R1_LOCOMO")
    return Path(env) if env else repo_root.parent / "shared" / "data" / "locomo" / "locomo10.json"


def run_algo(
    algo: Algo,
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    reward: RewardFn,
    *,
    grpo: GRPOArgs,
    ppo: PPOArgs,
    output_dir: str,
) -> TrainResult:
    """Train with ``algo`` (``"grpo"`` or ``"ppo"``), saving to ``output_dir``."""
    if algo == "grpo":
        return train_grpo(
            model, tokenizer, rows, reward, dataclasses.replace(grpo, output_dir=output_dir)
        )
    if algo == "ppo":
        return train_ppo(
            model, tokenizer, rows, reward, dataclasses.replace(ppo, output_dir=output_dir)
        )
    raise ConfigurationError(f"unknown algorithm {algo!r}; use grpo or ppo")


def parse_args(
    cls: type[A], *, section: str, argv: Sequence[str] | None = None, known_only: bool = False
) -> A:
    """An instance of the dataclass ``cls`` from its defaults, a TOML config and flags.

    ``known_only`` ignores flags ``cls`` does not have (for a script running two recipes).

    Raises:
        ConfigurationError: an unreadable config, an unknown key or a bad value (an unknown
            flag exits with argparse's usage message).
    """
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path)
    known, rest = pre.parse_known_args(argv)
    values: dict[str, Any] = {}
    if known.config is not None:
        values = _merge(_table(known.config, "common"), _table(known.config, section))
    parser = argparse.ArgumentParser(description=(cls.__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--config", type=Path, help="a TOML file with [common] / [section] tables")
    flags = _add_flags(parser, cls)
    parsed = vars(parser.parse_known_args(rest)[0] if known_only else parser.parse_args(rest))
    for dest, path in flags.items():
        if parsed[dest] is not None:
            _set(values, path, parsed[dest])
    return _build(cls, values, section)


def _table(path: Path, name: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: [{name}] must be a table")
    return table


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
        out[key] = _merge(out[key], value) if both else value
    return out


def _set(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    values[path[-1]] = value


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _add_flags(
    parser: argparse.ArgumentParser, cls: type, path: tuple[str, ...] = ()
) -> dict[str, tuple[str, ...]]:
    """One flag per leaf field (``--grpo.max-steps``); returns argparse dest -> field path."""
    flags: dict[str, tuple[str, ...]] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        kind, here = _strip_optional(hints[f.name]), (*path, f.name)
        if dataclasses.is_dataclass(kind):
            flags.update(_add_flags(parser, kind, here))  # type: ignore[arg-type]
            continue
        if typing.get_origin(kind) is dict:
            continue  # mappings come from the config file only
        dest = "__".join(here)
        default = f.default if f.default is not dataclasses.MISSING else "(computed)"
        parser.add_argument(
            "--" + ".".join(p.replace("_", "-") for p in here),
            dest=dest,
            type=_converter(kind),
            default=None,
            metavar=_metavar(kind),
            help=f.metadata.get("help", f"default: {default}"),
        )
        flags[dest] = here
    return flags


def _strip_optional(kind: Any) -> Any:
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else kind
    return kind


def _converter(kind: Any) -> Callable[[str], Any]:
    if kind is bool:
        return _boolean
    if typing.get_origin(kind) is tuple:
        return lambda s: tuple(p.strip() for p in s.split(",") if p.strip())
    if kind in (int, float):
        return kind  # type: ignore[no-any-return]
    return str


def _metavar(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return "{" + "|".join(map(str, typing.get_args(kind))) + "}"
    return getattr(kind, "__name__", "VALUE").upper()


def _boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _build(cls: type[A], values: Mapping[str, Any], where: str) -> A:
    """``cls(**values)``, recursing into dataclass fields, checking keys and literals."""
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigurationError(f"[{where}]: unknown setting(s) {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        kind = _strip_optional(hints[name])
        if dataclasses.is_dataclass(kind) and isinstance(value, Mapping):
            value = _build(kind, value, f"{where}.{name}")  # type: ignore[arg-type]
        elif typing.get_origin(kind) is Literal and value not in typing.get_args(kind):
            raise ConfigurationError(
                f"[{where}] {name}: {value!r} is not one of {typing.get_args(kind)}"
            )
        elif typing.get_origin(kind) is tuple and isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigurationError(f"[{where}]: {exc}") from exc
