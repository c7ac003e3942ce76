"""Reports: a Markdown table per task and PNG plots (recall@k curves, latency histograms)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .metrics import paired_bootstrap
from .runner import Outcome

COLUMNS = ("R@1", "R@10", "P@10", "hit@3", "MRR", "mAP", "nDCG@10")
COMPARED = ("R@1", "R@10", "P@10", "MRR")  # columns whose differences against "ours" get an interval


def markdown(outcomes: list[Outcome], header: str = "", versus: dict | None = None) -> str:
    """A table per task, each followed by its ``differences`` (``versus``: task -> ``comparisons``
    already computed; else they are computed here)."""
    lines = [header] if header else []
    tasks = list(dict.fromkeys(o.task for o in outcomes))
    for task in tasks:
        lines += ["", f"### {task}", "", "| method | " + " | ".join(COLUMNS) + " | p50 ms | p99 ms |",
                  "|---|" + "---|" * (len(COLUMNS) + 2)]
        for o in (o for o in outcomes if o.task == task):
            lat = (f"{np.percentile(o.latencies_ms, 50):.1f} | {np.percentile(o.latencies_ms, 99):.1f}"
                   if o.latencies_ms else "– | –")
            lines.append(f"| {o.method} | " + " | ".join(f"{o.scores[c]:.3f}" for c in COLUMNS) + f" | {lat} |")
        lines += stage_line([o for o in outcomes if o.task == task])
        lines += differences([o for o in outcomes if o.task == task], table=versus.get(task) if versus else None)
    return "\n".join(lines) + "\n"


def stage_p50(outcome: Outcome) -> dict[str, float]:
    """The median ms of each search stage of ``outcome``'s queries (over those that had the stage)."""
    return {stage: float(np.percentile(ms, 50)) for stage, ms in outcome.stages_ms.items() if ms}


def stage_line(outcomes: list[Outcome]) -> list[str]:
    """Markdown: where the first timed method's search time goes, and what the latency columns mean."""
    timed = next((o for o in outcomes if o.stages_ms), None)
    if timed is None:
        return []
    parts = ", ".join(f"{stage} {ms:.1f}" for stage, ms in stage_p50(timed).items())
    return ["", f"Latency is timed for {timed.method} alone (every variant after it reuses its encoding of "
            f"each query); its p50 ms by stage: {parts}."]


def comparisons(outcomes: list[Outcome], reference: str = "ours") -> dict[str, dict[str, tuple[float, float, float]]]:
    """Per other method of one task: metric -> (mean of reference minus it per query, 95 % paired-bootstrap
    interval low, high) over the same queries. Empty when the outcomes carry no per-query values."""
    ours = next((o for o in outcomes if o.method == reference and o.per_query), None)
    if ours is None:
        return {}
    return {o.method: {c: paired_bootstrap(ours.per_query[c], o.per_query[c]) for c in COMPARED}
            for o in outcomes if o is not ours and o.per_query}


def differences(outcomes: list[Outcome], reference: str = "ours", table: dict | None = None) -> list[str]:
    """Markdown rows of ``comparisons`` (``table``, when already computed); ** marks a difference whose
    interval excludes 0 (the query sample supports it)."""
    table = comparisons(outcomes, reference) if table is None else table
    if not table:
        return []
    n = len(next(o for o in outcomes if o.method == reference).per_query[COMPARED[0]])
    lines = ["", f"{reference} minus each method on the same {n} queries, 95 % paired-bootstrap interval "
             "(** : the interval excludes 0):", "",
             "| method | " + " | ".join(f"Δ{c}" for c in COMPARED) + " |", "|---|" + "---|" * len(COMPARED)]
    for method, by_metric in table.items():
        cells = []
        for mean, lo, hi in by_metric.values():
            mark = "**" if lo > 0 or hi < 0 else ""
            cells.append(f"{mark}{mean:+.3f}{mark} [{lo:+.3f}, {hi:+.3f}]")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def plots(outcomes: list[Outcome], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(o.task for o in outcomes))
    cols = min(3, len(tasks))
    rows = int(np.ceil(len(tasks) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        for o in (o for o in outcomes if o.task == task):
            ax.plot(range(1, 21), o.recall_curve, marker=".", label=o.method)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("k")
        ax.set_ylabel("hit@k")
        ax.set_ylim(0, 1)
        ax.grid(alpha=.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.tight_layout()
    curves = folder / "recall_at_k.png"
    fig.savefig(curves, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for o in (o for o in outcomes if o.method == "ours" and o.latencies_ms):
        ax.hist(o.latencies_ms, bins=40, alpha=.5, label=o.task[:40])
    ax.set_xlabel("engine latency per query (ms)")
    ax.set_ylabel("queries")
    ax.legend(fontsize=7)
    fig.tight_layout()
    hist = folder / "latency_hist.png"
    fig.savefig(hist, dpi=110)
    plt.close(fig)
    return [curves, hist]


def save_json(folder: str | Path, name: str, data) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``folder``/``name`` (the folder is created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def stage_table(seconds: dict[str, float]) -> str:
    """Markdown: where the run's wall time went, stage by stage in run order, with the stages' sum."""
    lines = ["### Time by stage", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {s:.1f} |" for stage, s in seconds.items()]
    lines += [f"| (sum of the stages) | {sum(seconds.values()):.1f} |", ""]
    return "\n".join(lines)


def write(outcomes: list[Outcome], folder: Path, header: str, extra: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    versus = {task: comparisons([o for o in outcomes if o.task == task]) for task in dict.fromkeys(o.task for o in outcomes)}
    text = markdown(outcomes, header, versus)  # the bootstrap runs once for report.md and results.json
    images = plots(outcomes, folder)
    text += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in images) + "\n"
    if extra.get("seconds"):
        text += "\n" + stage_table(extra["seconds"])
    (folder / "report.md").write_text(text, encoding="utf-8")
    (folder / "results.json").write_text(json.dumps(
        {"outcomes": [{"task": o.task, "method": o.method, "scores": o.scores,
                       "latency_p50_ms": float(np.percentile(o.latencies_ms, 50)) if o.latencies_ms else None,
                       **({"stages_p50_ms": stage_p50(o)} if o.stages_ms else {}),
                       "ours_minus_this": versus[o.task].get(o.method)}
                      for o in outcomes], **extra}, indent=2, ensure_ascii=False))
    return folder / "report.md"
