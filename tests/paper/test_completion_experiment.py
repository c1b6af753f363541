"""The completion experiment at test size: its record, its verdict on the sweep, its figure and table."""
import json

from conftest import tiny_config
from dcgan_inversion.config import replace
from dcgan_inversion.paper.completion import completion_experiment, pinned_down
from dcgan_inversion.paper.experiments import Experiment
from dcgan_inversion.paper.drawing import make_figures
from readable_figures import capture_figures, unreadable


def test_completion_experiment_records_every_mask_and_renders(tiny_generator, tmp_path, monkeypatch):
    from dcgan_inversion.gan.model import make_discriminator

    config = replace(tiny_config(), invert={"steps": 40}, polish={"method": "layerwise_lm", "iterations": 3},
                     experiments={"modes": ("none", "stochastic")},
                     completion={"masks": ("lowres",), "hidden_fractions": (0.1, 0.6), "latents": 2,
                                 "starts": 1, "real_images": 1, "iterations": 5, "lowres_factor": 8})
    results = tmp_path / "results"
    record = completion_experiment(Experiment(tiny_generator, config, results, progress=False,
                                                discriminator=make_discriminator(config.model)))
    assert [row["mask"] for row in record["masks"]] == ["lowres", "center-10%", "center-60%"]
    lowres = record["masks"][0]
    assert lowres["known_values"] == 2 * 2 * 3 and lowres["jacobian"]["rank_deficient"]  # 12 values < 100 dims
    assert record["masks"][1]["jacobian"]["sigma_min_median"] > 0
    for row in record["masks"]:
        assert set(row["modes"]) == {"none", "stochastic"} and "amos" in row and "real" in row
    assert json.loads((results / "completion.json").read_text())["experiment"] == "completion"
    written = make_figures(tmp_path, ["completion"])
    assert {path.name for path in written} >= {"completion.png", "completion.md"}
    assert "below 1e-8 in every clip mode run: " in (tmp_path / "figures" / "completion.md").read_text()

    # An exact fill reads the PSNR cap, and a singular value can be 0: both marked, neither drawn as data.
    from dcgan_inversion.completion.observe import PSNR_CAP_DB

    record["masks"][2]["jacobian"]["sigma_min_median"] = 0.0
    record["masks"][2]["modes"]["none"]["hidden_psnr_db"] = PSNR_CAP_DB
    (results / "completion.json").write_text(json.dumps(record))
    figures = capture_figures(monkeypatch)
    make_figures(tmp_path, ["completion"])
    assert unreadable(figures[0]) == []
    labels = [text.get_text() for legend in figures[0].legends for text in legend.get_texts()]
    assert any(label.startswith("120 dB cap") for label in labels) and any("σ_min = 0" in label for label in labels)


def test_pinned_down_reads_the_sweep_in_order():
    def row(fraction, share):
        return {"mask": f"center-{round(100 * fraction)}%", "hidden_fraction": fraction,
                "modes": {"stochastic": {"below": [share, share]}}}

    assert pinned_down([row(0.5, 0.5), row(0.1, 1.0), row(0.3, 1.0), row(0.7, 1.0)]) == \
        {"all_recovered_up_to": 0.3, "first_failure_at": 0.5}
    assert pinned_down([row(0.1, 1.0)]) == {"all_recovered_up_to": 0.1, "first_failure_at": None}
    exact_in_one_mode_only = {**row(0.5, 1.0), "modes": {"stochastic": {"below": [1.0, 1.0]},
                                                         "none": {"below": [1.0, 0.9]}}}
    assert pinned_down([row(0.1, 1.0), exact_in_one_mode_only]) == {"all_recovered_up_to": 0.1, "first_failure_at": 0.5}
    amos_centre_missed = {**row(0.25, 0.75), "mask": "center"}
    assert pinned_down([row(0.3, 1.0), amos_centre_missed, {**row(0.1, 0.0), "mask": "grid"}]) == \
        {"all_recovered_up_to": None, "first_failure_at": 0.25}
