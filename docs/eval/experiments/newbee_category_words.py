"""Check (fifth session): newbee_zh Chinese name -> photo with and without category words.

MiniLM bundle reports/tune/bundle (fashion-trained), titles hidden, w_text 0. Run from the project root:
python docs/eval/experiments/newbee_category_words.py. Output 2026-11-23 11:10 (2 cores):
  category words False R@10 0.023; True R@10 0.050 (whole Chinese names as substrings), 0.100 (character pairs, kept)."""
from dataclasses import replace
from pathlib import Path
import engine
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("reports/nb_words"), "out/cold/features.db")
bundle = ModelBundle.load("reports/tune/bundle")
task = datasets.newbee_tasks()[0]
eng, _ = runner.build_engine(task, bundle, replace(cfg, fusion=replace(cfg.fusion, w_text=0.0)), Path("reports/nb_words/work"))
for flag in (False, True):
    eng.config = replace(cfg, fusion=replace(cfg.fusion, w_text=0.0), read_categories=flag)
    scores, _ = runner.evaluate(runner.engine_rankings(eng, task)[0], task)
    print("category words", flag, {k: round(v, 3) for k, v in scores.items() if k in ("R@1", "R@10", "MRR")})
