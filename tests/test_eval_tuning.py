"""The tuning scripts' bookkeeping (eval/tune_fusion.py): every tunable value has tasks to be chosen on,
a default, and lands in the right config section."""

import importlib
from pathlib import Path

import pytest

from engine.config import EngineConfig, FusionConfig, RerankConfig
from eval import tune_fusion


@pytest.mark.parametrize("name", sorted(tune_fusion.GRIDS))
def test_every_tunable_value_has_tasks_a_default_and_a_place(name):
    assert tune_fusion.MAIN_METRIC[name], name
    default = tune_fusion.default_of(name)
    section = RerankConfig() if name in tune_fusion.RERANK_FIELDS else FusionConfig()
    assert getattr(section, name) == default
    value = next(w for w in tune_fusion.GRIDS[name] if w != default and w != float("inf"))
    cfg = tune_fusion.config_for(name, value, EngineConfig())
    moved = cfg.rerank if name in tune_fusion.RERANK_FIELDS else cfg.fusion
    assert getattr(moved, name) == value
    assert (cfg.fusion if name in tune_fusion.RERANK_FIELDS else cfg.rerank) == \
        (EngineConfig().fusion if name in tune_fusion.RERANK_FIELDS else EngineConfig().rerank)  # nothing else moved


def test_the_same_shot_is_chosen_on_what_it_can_move():
    tasks = tune_fusion.MAIN_METRIC["w_same_shot"]
    assert tasks["fashion photo → same type + colour"] == "MRR"  # P@10 of a reordered top 10 cannot move
    assert tune_fusion.MAIN_METRIC["same_shot_from"] == tasks
    assert tune_fusion.config_for("w_look", float("inf"), EngineConfig()).fusion.w_visual == 0.0  # looks only


SCRIPTS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "eval").glob("*.py")
                 if "def main(argv" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_eval_script_parses_its_options(script, capsys):
    """``--help`` builds each script's whole parser (exit 0): a flag added twice, as ``--set`` once was to
    the shared tuning options and to tune_fusion's own, fails here instead of at the next tuning run."""
    module = importlib.import_module(f"eval.{script}")
    with pytest.raises(SystemExit) as stop:
        module.main(["--help"])
    assert stop.value.code == 0 and "usage:" in capsys.readouterr().out
