"""How a ``Summary`` is shown: markdown tables and two PNG plots (matplotlib's Agg canvas).

matplotlib is imported only when plots are drawn, and never through pyplot: a ``Figure`` on
a ``FigureCanvasAgg`` needs no backend switch and leaves no global state behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory_r1._lazy import require
from memory_r1.eval._records import QuestionRecord

if TYPE_CHECKING:
    from memory_r1.eval.report import Group, Latency, Summary, SystemSummary

__all__ = ["CATEGORY_PLOT", "LATENCY_PLOT", "markdown", "write_plots"]

CATEGORY_PLOT = "category_scores.png"
LATENCY_PLOT = "latency_cdf.png"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _judge(group: Group) -> str:
    if group.judge_mean is None:
        return "-"
    return f"{100 * group.judge_mean:.1f} ± {100 * (group.judge_std or 0.0):.1f}"


def _secs(lat: Latency) -> str:
    if lat.p50 is None or lat.p95 is None:
        return "-"
    return f"{lat.p50:.2f} / {lat.p95:.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _categories(summary: Summary) -> list[int]:
    return sorted({c for s in summary.systems.values() for c in s.categories})


def _asked(summary: Summary, category: int | None) -> int:
    def count(s: SystemSummary) -> int:
        g = s.overall if category is None else s.categories.get(category)
        return 0 if g is None else g.n + g.n_skipped

    return max((count(s) for s in summary.systems.values()), default=0)


def _table(
    summary: Summary, cell: Callable[[Group], str], extra: Sequence[tuple[str, Callable[..., str]]]
) -> list[str]:
    cats = _categories(summary)
    head = [f"{summary.category_labels[c]} (cat {c}, n={_asked(summary, c)})" for c in cats]
    head.append(f"overall (n={_asked(summary, None)})")
    head += [name for name, _ in extra]
    lines = ["| system | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for s in summary.systems.values():
        cells = [cell(s.categories[c]) if c in s.categories else "-" for c in cats]
        cells.append(cell(s.overall))
        cells += [fn(s) for _, fn in extra]
        lines.append(f"| {s.system} | " + " | ".join(cells) + " |")
    return lines


def _header(summary: Summary) -> list[str]:
    m = summary.manifest
    excluded = "included" if summary.include_adversarial else "excluded"
    lines = ["# LoCoMo evaluation", ""]
    if m is None:
        return [*lines, f"Category 5 (adversarial) {excluded}.", ""]
    c = m.config
    models = m.models
    judge = f"`{models.get('judge')}` ({c.judge_runs} run(s))" if models.get("judge") else "none"
    official = "the official file" if m.data_official else "NOT the official file"
    return [
        *lines,
        f"- split `{c.split}`: {', '.join(m.sample_ids)}; category 5 (adversarial) {excluded}",
        f"- category labels: `{summary.label_map}` map (results are stored by category number)",
        f"- models: manager/extractor `{models.get('llm')}`, answer `{models.get('answer_llm')}`, "
        f"embedder `{models.get('embedder')}`; judge {judge}",
        f"- top-k {c.agents.answer_k} memories per speaker, distillation "
        f"{'on' if c.agents.distill else 'off'}, prompts `{m.prompts_hash}`",
        f"- data `{m.data_source}` sha256 `{m.data_sha256[:16]}…` ({official})",
        f"- memory-r1 {m.versions.get('memory-r1', '?')}, python {m.versions.get('python', '?')}",
        "",
    ]


def _cost(s: SystemSummary) -> str:
    ing = s.ingestion
    return " | ".join(
        [
            s.system,
            str(s.overall.n),
            str(s.overall.n_skipped),
            str(s.overall.n_errors),
            _secs(s.latency["search"]),
            _secs(s.latency["answer"]),
            _secs(s.latency["total"]),
            _num(s.tokens_per_query, 0),
            _num(s.calls_per_query, 2),
            _num(ing.calls_per_turn, 2),
            f"{ing.seconds:.0f} s / {ing.turns} turns",
        ]
    )


def markdown(summary: Summary) -> str:
    """The report: scores per category and overall for every system, then cost and latency."""
    em = ("overall EM", lambda s: _pct(s.overall.exact_match))
    cost_head = (
        "| system | answered | skipped | errors | search p50/p95 s | answer p50/p95 s "
        "| total p50/p95 s | tokens/query | LLM calls/query | ingest LLM calls/turn "
        "| ingest time |"
    )
    lines = [
        *_header(summary),
        "## F1 (mem0) / BLEU-1 / J, ×100",
        "",
        "J is the LLM judge's accuracy, mean ± std over judge runs.",
        "",
        *_table(summary, lambda g: f"{_pct(g.f1_mem0)} / {_pct(g.bleu1)} / {_judge(g)}", ()),
        "",
        "## F1 (LoCoMo's per-category rules), ×100",
        "",
        *_table(summary, lambda g: _pct(g.f1_locomo), (em,)),
        "",
        "## Evidence recall (share of gold evidence turns shown to the answer model), ×100",
        "",
        *_table(summary, lambda g: _pct(g.evidence_recall), ()),
        "",
        "## Cost and latency (answered questions; seconds)",
        "",
        cost_head,
        "|---" * 11 + "|",
        *[f"| {_cost(s)} |" for s in summary.systems.values()],
        "",
        "Skipped questions (full-context over its budget) are left out of that system's "
        "scores; questions without a parseable answer (errors) score 0.",
        "",
    ]
    return "\n".join(lines)


def _metrics(summary: Summary) -> list[tuple[str, Callable[[Group], float | None]]]:
    shown: list[tuple[str, Callable[[Group], float | None]]] = [
        ("F1 (mem0)", lambda g: g.f1_mem0),
        ("BLEU-1", lambda g: g.bleu1),
    ]
    if any(s.overall.judge_mean is not None for s in summary.systems.values()):
        shown.append(("J (LLM judge)", lambda g: g.judge_mean))
    return shown


def _bars(fig: Any, summary: Summary) -> None:
    cats = _categories(summary)
    names = [f"{summary.category_labels[c]}\n(cat {c})" for c in cats] + ["overall"]
    metrics = _metrics(summary)
    width = 0.8 / max(len(summary.systems), 1)
    for m, (title, value) in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), m + 1)
        for i, s in enumerate(summary.systems.values()):
            groups = [s.categories.get(c) for c in cats] + [s.overall]
            heights = [100 * (value(g) or 0.0) if g else 0.0 for g in groups]
            xs = [x + i * width for x in range(len(groups))]
            ax.bar(xs, heights, width=width, label=s.system)
        ax.set_xticks([x + width * (len(summary.systems) - 1) / 2 for x in range(len(names))])
        ax.set_xticklabels(names, fontsize=8)
        ax.set_title(title)
        ax.set_ylim(0, 100)
    fig.axes[0].set_ylabel("score ×100")
    if summary.systems:
        fig.axes[-1].legend(fontsize=8)


def _cdf(fig: Any, records: Sequence[QuestionRecord], systems: Sequence[str]) -> None:
    finished = [r for r in records if r.skipped is None and r.error is None]
    for k, kind in enumerate(("search", "answer", "total")):
        ax = fig.add_subplot(1, 3, k + 1)
        for name in systems:
            values = sorted(getattr(r, f"{kind}_s") for r in finished if r.system == name)
            if values:
                ys = [(i + 1) / len(values) for i in range(len(values))]
                ax.step(values, ys, where="post", label=name)
        ax.set_title(f"{kind} latency")
        ax.set_xlabel("seconds")
        ax.set_ylim(0, 1.02)
    fig.axes[0].set_ylabel("share of questions")
    if finished:
        fig.axes[-1].legend(fontsize=8)


def write_plots(summary: Summary, records: Sequence[QuestionRecord], folder: Path) -> list[Path]:
    """Draw ``category_scores.png`` and ``latency_cdf.png`` into ``folder``; return their paths.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    figure_cls = require("matplotlib.figure", "eval").Figure
    canvas_cls = require("matplotlib.backends.backend_agg", "eval").FigureCanvasAgg
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    drawings: list[tuple[str, Callable[[Any], None]]] = [
        (CATEGORY_PLOT, lambda fig: _bars(fig, summary)),
        (LATENCY_PLOT, lambda fig: _cdf(fig, records, list(summary.systems))),
    ]
    for name, draw in drawings:
        fig = figure_cls(figsize=(15, 4.5), layout="constrained")
        canvas_cls(fig)
        draw(fig)
        fig.savefig(folder / name, dpi=100)
        paths.append(folder / name)
    return paths
