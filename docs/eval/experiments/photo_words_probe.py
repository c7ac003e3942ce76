"""Probe: photo + words that name no colour ("hoodie", "cotton" beside the photo). Should the query photo's
palette count in their re-ranking, as it does for photo-only queries? (Words naming a colour ask for
another colour, so there it stays out; ``engine/photo_parts.keeps_colour``.) And words that only point at
the photo ("similar") or only set a price ("under 10000", above every luma price): should they be
searched as words, or leave the photo alone (``query_text.understand``)?

luma photo -> product (other views, 534 queries) with the product's category leaf or "cotton" as words,
the tuning bundle (reports/tune_s14/bundle), the engine with the palette for such queries and the
photo alone for pointing or price-only words (on) and without them (off, the fourteenth session's
rules), beside photo only; luma photo + colour word (the words name a colour) must not move.

    .venv/bin/python docs/eval/experiments/photo_words_probe.py [BUNDLE]   (needs ../shared/data; ~3 min)
"""
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
import engine.engine as engine_module
from engine import photo_parts
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config

out = Path("out/probes/photo_words"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(sys.argv[1] if len(sys.argv) > 1 else "reports/tune_s14/bundle")
tasks = {t.name: t for t in datasets.luma_tasks()}
task = tasks["luma photo → product (other views)"]
leaf = {p.id: p.category.rsplit("/", 1)[-1].lower() for p in task.products}
eng, _ = runner.build_engine(task, bundle, cfg, out / "idx")
colour_task = tasks["luma photo + colour word → colour variant"]
colour_eng, _ = runner.build_engine(colour_task, bundle, cfg, out / "idx_colour")
probes = [("photo only", eng, task),
          ("photo + category leaf", eng, replace(task, queries=[replace(q, text=leaf[next(iter(q.relevant))]) for q in task.queries])),
          ("photo + 'cotton'", eng, replace(task, queries=[replace(q, text="cotton") for q in task.queries])),
          ("photo + colour word", colour_eng, colour_task),
          ("photo + 'similar'", eng, replace(task, queries=[replace(q, text="similar") for q in task.queries])),
          ("photo + 'under 10000'", eng, replace(task, queries=[replace(q, text="under 10000") for q in task.queries]))]
keeps, understand = photo_parts.keeps_colour, engine_module.understand


def words_as_before(query):
    """The fourteenth session's reading: the words stay unless a price phrase leaves others."""
    read, u = understand(replace(query, image=None))
    return replace(read, image=query.image), u


for label, rule, reading in (("off", lambda *a: False, words_as_before), ("on", keeps, understand)):
    photo_parts.keeps_colour, engine_module.understand = rule, reading
    for name, e, t in probes:
        s, _ = runner.evaluate(runner.engine_rankings(e, t)[0], t)
        print(f"{label:3s} {name:22s} R@1 {s['R@1']:.3f} R@10 {s['R@10']:.3f} hit@3 {s['hit@3']:.3f} MRR {s['MRR']:.3f}", flush=True)
photo_parts.keeps_colour, engine_module.understand = keeps, understand
