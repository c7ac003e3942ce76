"""How much of a report is the draw: the same report trained from several seeds, and the spread.

``python -m eval run --seeds 0 1 2 ...`` writes one full report per seed (``<out>/seed-<s>/``: the
shared space's initialisation and batches, and the vocabulary's k-means, from that seed; the held-out
split stays fixed) and ``<out>/seeds.md``: for every task and method the mean and the range [min, max]
over the seeds of each main metric, so a figure near a target can be read against how far another
training seed moves it. Built from the per-seed ``results.json`` files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

METRICS = ("R@1", "R@10", "P@10", "hit@3", "MRR")


def spread(results: list[dict]) -> dict[tuple[str, str], dict[str, tuple[float, float, float]]]:
    """(task, method) -> metric -> (mean, min, max) over the runs that have that row."""
    values: dict[tuple[str, str], dict[str, list[float]]] = {}
    for result in results:
        for o in result["outcomes"]:
            row = values.setdefault((o["task"], o["method"]), {m: [] for m in METRICS})
            for m in METRICS:
                if m in o["scores"]:
                    row[m].append(float(o["scores"][m]))
    return {key: {m: (float(np.mean(v)), float(np.min(v)), float(np.max(v))) for m, v in row.items() if v}
            for key, row in values.items()}


def markdown(results: list[dict], seeds: list[int], header: str = "") -> str:
    lines = [header or "# Shopsight evaluation over training seeds", "",
             f"Seeds {', '.join(map(str, seeds))}: each cell is the mean and [min, max] over the seeds.", ""]
    rows = spread(results)
    for task in dict.fromkeys(t for t, _ in rows):
        lines += [f"### {task}", "", "| method | " + " | ".join(METRICS) + " |",
                  "|---|" + "---|" * len(METRICS)]
        for (t, method), cells in rows.items():
            if t == task:
                lines.append(f"| {method} | " + " | ".join(
                    f"{cells[m][0]:.3f} [{cells[m][1]:.3f}, {cells[m][2]:.3f}]" if m in cells else "" for m in METRICS) + " |")
        lines.append("")
    return "\n".join(lines)


def write(folder: Path, seeds: list[int], header: str = "") -> Path:
    """``folder``/seeds.md from ``folder``/seed-<s>/results.json for each seed."""
    results = [json.loads((folder / f"seed-{s}" / "results.json").read_text()) for s in seeds]
    path = folder / "seeds.md"
    path.write_text(markdown(results, seeds, header), encoding="utf-8")
    return path
