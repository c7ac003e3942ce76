"""Does glossing the head word "Tank" as "tank top" help luma names from photos alone (issue 7)? Runs
luma_names_breakdown.py with the query encoder's head word so glossed (thirty-second session; output beside).

    .venv/bin/python docs/eval/experiments/tank_gloss_probe.py reports/full_s27/bundle
"""
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine.query_encoding as qe  # noqa: E402

_head = qe.head_word
GLOSS = {"tank": "tank top"}
qe.head_word = lambda text, is_colour=None: (lambda w: GLOSS.get(w.lower(), w) if w else w)(_head(text, is_colour))
sys.argv = [str(Path(__file__).with_name("luma_names_breakdown.py"))] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
