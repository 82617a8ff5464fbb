"""The ``memory-r1`` command: a demo, and add/search/history/export on a bank folder."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

from memory_r1.exceptions import MemoryR1Error, PolicyOutputError
from memory_r1.memory import Memory
from memory_r1.types import HistoryRecord, MemoryItem, ScoredMemory


class _ScopeArgs(TypedDict, total=False):
    user_id: str
    agent_id: str
    run_id: str


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _memories(items: Sequence[MemoryItem]) -> str:
    rows = [
        [
            str(i.id)[:8],
            f"{i.score:.3f}" if isinstance(i, ScoredMemory) else "",
            i.version,
            i.status.value,
            i.text,
        ]
        for i in items
    ]
    return _table(["id", "score", "v", "status", "text"], rows)


def _history(records: Sequence[HistoryRecord]) -> str:
    rows = [
        [r.seq, r.operation.value, r.version, r.old_text or "", r.new_text or ""] for r in records
    ]
    return _table(["seq", "op", "v", "old", "new"], rows)


def _scoped_demo(mem: Memory) -> None:
    """The walk-through on a bank: add, search, update, delete, restore, history."""
    say = print
    user: _ScopeArgs = {"user_id": "caroline"}
    say("1. Remember three things Caroline said (stored as given, infer=False):")
    added = mem.add_batch(
        [
            {"messages": "Caroline lives in Boston", **user, "timestamp": "2023-05-08T13:56:00"},
            {
                "messages": "Caroline adopted a cat named Miso",
                **user,
                "timestamp": "2023-05-08T13:57:00",
            },
            {"messages": "Caroline works as a nurse", **user, "timestamp": "2023-05-08T13:58:00"},
        ]
    )
    say(_memories([mem.get(r.ids[0]) for r in added]))
    say("\n2. Search 'Where does Caroline live?':")
    say(_memories(mem.search("Where does Caroline live?", limit=2, **user)))
    home = added[0].ids[0]
    say("\n3. She moved: update the memory (a new version; the old one stays in history):")
    say(_memories([mem.update(home, "Caroline moved from Boston to Seattle in June 2023")]))
    say("\n4. A contradiction: she no longer works as a nurse -> delete (restorable):")
    job = added[2].ids[0]
    mem.delete(job)
    say(_memories(mem.get_all(include_deleted=True, **user).items))
    say("\n5. Restore it, then the full history of the changed memory:")
    mem.restore(job)
    say(_history(mem.history(home)))
    say("\n6. Another user sees nothing of Caroline's:")
    say(f"search as user 'melanie' -> {len(mem.search('Seattle', user_id='melanie'))} results")


DIALOGUE = [  # (session time, speaker, text): a changed fact and a contradiction
    ("2023-05-08T13:56:00", "Caroline", "I just moved to Boston for my new job as a nurse!"),
    ("2023-05-08T13:57:00", "Melanie", "Congrats! I started painting landscapes last week."),
    ("2023-06-20T18:10:00", "Caroline", "Big news: I left Boston, I live in Seattle now."),
    ("2023-06-20T18:11:00", "Caroline", "And I'm not a nurse anymore, I quit to study art."),
]
QUESTIONS = ["Where does Caroline live now?", "What does Melanie paint?"]


def _agents_demo(mem: Memory) -> None:
    """Memory-R1 end to end: the manager decides per turn, then the answer agent answers."""
    changed = None
    for when, speaker, text in DIALOGUE:
        print(f"[{when[:10]}] {speaker}: {text}")
        try:
            result = mem.add(
                [{"role": "user", "name": speaker, "content": text}], user_id="demo", timestamp=when
            )
        except PolicyOutputError as exc:
            print(f"  manager output rejected, nothing written: {exc}")
            continue
        print(f"  facts: {result.facts}")
        for d in result.decisions:
            print(f"  {d.event:<6} {d.text}" + (f"   (was: {d.old_text})" if d.old_text else ""))
        changed = next((e.id for e in result.events if e.old_text is not None), changed)
        print(f"  ({result.usage.calls} LLM calls, {result.usage.latency_s:.1f} s)")
    if changed is not None:
        print("\nHistory of the memory that changed:")
        print(_history(mem.history(changed)))
    print("\nAll memories now:")
    print(_memories(mem.get_all(user_id="demo", include_deleted=True).items))
    for question in QUESTIONS:
        try:
            answer = mem.answer(question, user_id="demo")
            print(
                f"\nQ: {question}\nA: {answer.answer}  ({len(answer.selected)} memories "
                f"selected of {len(answer.retrieved)}, {answer.total_s:.1f} s)"
            )
        except PolicyOutputError as exc:
            print(f"\nQ: {question}\nA: (no parseable answer: {exc})")


# SmolLM2-135M cannot extract facts or rewrite memories (it copies the prompt's examples);
# it can choose. So the demo runs it in small-model mode: each turn is the fact, the
# manager only decides ADD/UPDATE/DELETE/NONE, and its texts are the turns word for word.
SMALL_MODEL_AGENTS = {"extraction": "turns", "verbatim": True}


def _cmd_demo(args: argparse.Namespace) -> int:
    small = args.model == "smollm2"
    config = {"agents": SMALL_MODEL_AGENTS} if small else {}
    with Memory(config, path=args.path, embedder=args.embedder, llm=args.model) as mem:
        where = args.path or "a temporary folder (deleted at the end)"
        print(f"memory-r1 demo: embedded Qdrant bank in {where}, embedder {mem.embedder.name}")
        print("\nPart 1 - the bank by hand (infer=False):\n")
        _scoped_demo(mem)
        print(f"\nPart 2 - Memory-R1's two agents on {args.model}:\n")
        if small:
            print(
                "(small-model mode: a 135M model cannot extract facts, so each turn is the "
                "fact and the manager\n only chooses the operations; use --model "
                "openai:<model> or litellm:<model> for the full pipeline)\n"
            )
        _agents_demo(mem)
    return 0


def _open(args: argparse.Namespace) -> Memory:
    return Memory(path=args.path, embedder=args.embedder)


def _scope(args: argparse.Namespace) -> _ScopeArgs:
    scope = _ScopeArgs()
    for key in ("user_id", "agent_id", "run_id"):
        if (value := getattr(args, key)) is not None:
            scope[key] = value
    return scope


def _cmd_add(args: argparse.Namespace) -> int:
    with _open(args) as mem:
        result = mem.add(args.text, infer=False, timestamp=args.timestamp, **_scope(args))
        print(_memories([mem.get(i) for i in result.ids]))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    with _open(args) as mem:
        print(_memories(mem.search(args.query, limit=args.limit, **_scope(args))))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    with _open(args) as mem:
        print(_history(mem.history(args.memory_id)))
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    with Memory(path=args.path, embedder=args.embedder, llm=args.model) as mem:
        result = mem.answer(args.question, **_scope(args))
        print(result.answer)
        print(_memories([m for m in result.retrieved if m.id in set(result.selected)]))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    """Every memory of a scope, deleted ones too, with its history, as JSON lines."""
    with _open(args) as mem:
        cursor: str | None = None
        while True:
            page = mem.get_all(limit=500, cursor=cursor, include_deleted=True, **_scope(args))
            for item in page:
                record = {
                    "memory": item.model_dump(mode="json"),
                    "history": [h.model_dump(mode="json") for h in mem.history(item.id)],
                }
                print(json.dumps(record, ensure_ascii=False))
            if (cursor := page.next_cursor) is None:
                return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memory-r1", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a walk-through on the embedded defaults")
    demo.add_argument("--path", type=Path, help="bank folder (default: a temporary one)")
    demo.add_argument(
        "--model",
        default="smollm2",
        help="the agents' LLM: smollm2 (offline), openai:<model>, litellm:<model>, hf:<dir>, "
        "gguf:<file>",
    )
    demo.add_argument("--embedder", default="sentence-transformers")
    demo.set_defaults(fn=_cmd_demo)
    for name, fn, helptext in [
        ("add", _cmd_add, "store a text as given"),
        ("search", _cmd_search, "search a scope"),
        ("history", _cmd_history, "a memory's history"),
        ("ask", _cmd_ask, "answer a question with the Answer Agent"),
        ("export", _cmd_export, "a scope's memories and history as JSON lines"),
    ]:
        c = sub.add_parser(name, help=helptext)
        c.add_argument("--path", type=Path, required=True, help="bank folder")
        c.add_argument("--embedder", default="sentence-transformers")
        if name != "history":
            for field in ("user_id", "agent_id", "run_id"):
                c.add_argument(f"--{field.replace('_', '-')}", dest=field)
        c.set_defaults(fn=fn)
    sub.choices["add"].add_argument("text")
    sub.choices["add"].add_argument("--timestamp")
    sub.choices["search"].add_argument("query")
    sub.choices["search"].add_argument("--limit", type=int, default=10)
    sub.choices["history"].add_argument("memory_id")
    sub.choices["ask"].add_argument("question")
    sub.choices["ask"].add_argument("--model", default="smollm2")
    from memory_r1.eval.cli import add_eval_commands  # eval locomo / eval report

    add_eval_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memory-r1`` command."""
    args = _parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except MemoryR1Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
