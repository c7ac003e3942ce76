"""One line for a run of latencies, as the serving benches print them (reload, checkpoint, serve_compact)."""

from __future__ import annotations

import numpy as np


def summary(ms: list[float]) -> str:
    """"n=… p50 … ms, p95 … ms, max … ms" of ``ms`` (milliseconds), "none" when empty."""
    if not ms:
        return "none"
    a = np.asarray(ms)
    return f"n={len(a)} p50 {np.percentile(a, 50):.1f} ms, p95 {np.percentile(a, 95):.1f} ms, max {a.max():.1f} ms"
