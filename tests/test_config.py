"""Typed configuration at the edges: JSON files and ``section.key=value`` settings."""

import json
from pathlib import Path

import pytest

from engine.config import EngineConfig, load_config, with_settings
from engine.errors import UnknownComponentError


def test_settings_reach_nested_fields_with_their_types():
    cfg = with_settings(EngineConfig(), ["fusion.misfit_power=3", "read_colours=false",
                                         "rerank.local_query_scales=[0.5, 0.25]", "cluster=local:2"])
    assert cfg.fusion.misfit_power == 3.0 and isinstance(cfg.fusion.misfit_power, float)
    assert cfg.read_colours is False
    assert cfg.rerank.local_query_scales == (0.5, 0.25)
    assert cfg.cluster == "local:2"
    assert cfg.fusion.w_look == EngineConfig().fusion.w_look  # the rest left alone


@pytest.mark.parametrize("setting, words", [
    ("fusion.misfit_powr=3", "misfit_power"),  # the valid keys are listed
    ("fusion=3", "section.key=value"),
    ("read_colours=1", "true or false"),
    ("batch_size=2.5", "expected int"),
    ("batch_size=true", "expected int"),
    ("fusion.w_look=high", "expected float"),
    ("read_prices.x=1", "no keys"),
    ("fusion.w_look", "section.key=value"),
])
def test_a_bad_setting_is_refused_naming_it(setting, words):
    with pytest.raises(ValueError) as err:
        with_settings(EngineConfig(), [setting])
    assert words in str(err.value)


def test_json_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"fusion": {"w_look": 2, "w_nonsense": 1}}))
    with pytest.raises(UnknownComponentError) as err:
        load_config(path)
    assert "w_nonsense" in str(err.value) and "w_look" in str(err.value)


def test_eval_refuses_a_bad_setting_before_any_work(capsys):
    from eval.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(["run", "--out", "unused", "--set", "fusion.nope=1"])
    assert stop.value.code == 2
    assert "--set" in capsys.readouterr().err
    assert not Path("unused").exists()
