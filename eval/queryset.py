"""The labelled query-set format (JSONL), so a shop can evaluate on its own judgements.

One JSON object per line:
    {"id": "q1", "text": "red hoodie", "image": "photos/q1.jpg", "filters": {"max_price": 80},
     "relevant": {"MH01": 2, "MH02": 1}}
``image`` is a path relative to the file; ``relevant`` is a list of product ids (grade 1) or an
object id -> grade (graded relevance for nDCG). ``text``/``image`` may be absent but not both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import RowError


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    relevant: dict[str, float]
    text: str | None = None
    image: str | None = None  # absolute path once loaded
    filters: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"id": self.id, "relevant": self.relevant}
        for key in ("text", "image"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.filters:
            out["filters"] = self.filters
        return out


def read_queries(path: str | Path) -> list[LabelledQuery]:
    path = Path(path)
    out = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RowError(line_no, "json", exc.msg) from None
        out.append(_parse(raw, line_no, path.parent))
    return out


def _parse(raw: dict, line: int, root: Path) -> LabelledQuery:
    if not isinstance(raw, dict) or "id" not in raw:
        raise RowError(line, "id", "missing id")
    rel = raw.get("relevant")
    if isinstance(rel, list):
        rel = {str(r): 1.0 for r in rel}
    if not isinstance(rel, dict) or not rel:
        raise RowError(line, "relevant", "a non-empty list of ids or object id -> grade")
    if not raw.get("text") and not raw.get("image"):
        raise RowError(line, "text", "a query needs text, image or both")
    image = str((root / raw["image"]).resolve()) if raw.get("image") else None
    return LabelledQuery(str(raw["id"]), {str(k): float(v) for k, v in rel.items()}, raw.get("text"), image,
                         raw.get("filters", {}))


def write_queries(path: str | Path, queries: list[LabelledQuery]) -> None:
    with open(path, "w", encoding="utf-8") as fp:
        for q in queries:
            fp.write(json.dumps(q.as_dict(), ensure_ascii=False) + "\n")
