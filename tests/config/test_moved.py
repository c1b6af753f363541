"""moved.py: config files of earlier layouts load as before, with one line saying what moved."""
import pytest
import yaml

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import ConfigError, load_config
from dcgan_inversion.config.moved import moved

EARLIER = {"model": {"latent": "uniform", "latent_box": 4.5},
           "invert": {"steps": 40, "low": -1.0, "high": 1.0},
           "polish": {"method": "broyden_lm", "row_budget": 300.0, "screen_starts": 4, "switch": "stalled",
                      "stall_min_steps": 500, "restarts": 5, "restart_above": 1e-6}}


def test_an_earlier_file_loads_as_its_new_layout_with_one_line(tmp_path, capsys):
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(EARLIER))
    config = load_config(str(path))
    assert config.search == config_lib.SearchConfig(screen_starts=4, switch="stalled", stall_min_steps=500, restarts=5)
    assert config.polish.method == "broyden_lm" and config.polish.row_budget == 300
    assert config.model.latent_box == 1.0 and config.invert.steps == 40  # the uniform box it had, [-1, 1]
    written = tmp_path / "new.yaml"
    config_lib.save_config(config, written)
    assert load_config(str(written)) == config
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0]
    assert "search.*" in lines[0] and "invert.low/high -> model.latent_box" in lines[0]
    load_config(str(path))
    assert capsys.readouterr().err == ""  # once per file and process


def test_an_override_of_a_moved_key_still_acts(capsys):
    config = load_config("celeba", ["polish.screen_starts=2"])
    assert config.search.screen_starts == 2 and config.search.restarts == load_config("celeba").search.restarts
    assert "--set polish.screen_starts=2" in capsys.readouterr().err


def test_the_normal_priors_unused_bounds_are_dropped_and_its_box_kept():
    normal = moved({"model": {"latent": "normal", "latent_box": 3.0}, "invert": {"low": -1.0, "high": 1.0}},
                   "x", announce=False)
    assert normal == {"model": {"latent": "normal", "latent_box": 3.0}, "invert": {}}


def test_an_asymmetric_uniform_box_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="symmetric"):
        moved({"invert": {"low": 0.0, "high": 1.0}}, "old.yaml")


def test_saved_results_are_compared_in_the_new_layout_silently(capsys):
    config = config_lib.from_dict(EARLIER, announce=False)
    assert config_lib.is_same_config(EARLIER, config)
    assert capsys.readouterr().err == ""
