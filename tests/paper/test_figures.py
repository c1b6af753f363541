"""Figures and tables render from results of a tiny real run (never hand-written numbers)."""
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from dcgan_inversion import config as config_lib
from dcgan_inversion.paper import experiments
from dcgan_inversion import run as rundir
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.paper.drawing import make_figures
from dcgan_inversion.training.trainer import train

from conftest import one_error_line, tiny_config
from readable_figures import capture_figures, unreadable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    config = config_lib.replace(
        tiny_config(), invert={"steps": 10, "steps_per_call": 5},
        polish={"method": "levenberg_marquardt", "iterations": 2},
        experiments={"table1_latents": 3, "noise_latents": 2, "noise_variances": [0.0, 0.01, 0.1],
                     "uniqueness_restarts": 3, "trajectory_targets": 2, "trajectory_snapshots": [0, 5]})
    train(config, run, verbose=False)
    experiments.run_experiments(rundir.load_generator(run), config, rundir.RunPaths(run).results, progress=False)
    return run


def test_every_figure_and_table_renders(finished_run):
    written = make_figures(finished_run)
    names = sorted(path.name for path in written)
    for stem in ("figure1", "figure2", "convergence", "training"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
        with Image.open(finished_run / "figures" / f"{stem}.png") as image:
            assert image.width > 400 and image.height > 200
    table1 = (finished_run / "figures" / "table1.md").read_text()
    assert "paper (100k steps)" in table1 and "| stochastic | ours" in table1 and "0.984" in table1
    table2 = (finished_run / "figures" / "table2.md").read_text()
    assert "random baseline" in table2 and "4.94e-05" in table2
    assert (finished_run / "figures" / "table1.csv").read_text().startswith("clipping,source,")


def test_every_figure_is_readable(finished_run, monkeypatch):
    """No symlog, nothing <= 0 on a log axis, legends outside the data: Figure 2 with its variance 0."""
    figures = capture_figures(monkeypatch)
    make_figures(finished_run)
    assert len(figures) >= 4
    assert [problem for figure in figures for problem in unreadable(figure)] == []


def test_the_readable_check_catches_what_it_forbids(monkeypatch, tmp_path):
    from dcgan_inversion.infra.plotting import plt, save_figure

    figures = capture_figures(monkeypatch)
    figure, (symlog, zero) = plt.subplots(1, 2)
    symlog.plot([0, 1e-3, 1], [1, 2, 3], label="a")
    symlog.set_xscale("symlog", linthresh=1e-3)
    symlog.legend()
    zero.plot([1, 2], [0.0, 1.0])
    zero.set_yscale("log")
    save_figure(figure, tmp_path / "bad")
    assert len(unreadable(figures[0])) == 3


def test_published_results_re_render_the_same_figures(finished_run, tmp_path):
    """make publish's copy of the results (JSON and NPZ, no weights, no logs) re-renders every figure
    but the training one byte for byte as the run itself does (make refigure)."""
    import shutil

    written = make_figures(finished_run)
    published = tmp_path / "published"
    published.mkdir()
    for result in [*(finished_run / "results").glob("*.json"), *(finished_run / "results").glob("*.npz")]:
        shutil.copy(result, published)
    again = make_figures(published, published=True)
    assert sorted(path.name for path in again) == sorted(path.name for path in written if "training" not in path.name)
    for path in again:
        if path.suffix in (".png", ".md", ".csv"):
            assert path.read_bytes() == (finished_run / "figures" / path.name).read_bytes(), path.name
    with pytest.raises(UserError, match="make publish"):
        make_figures(tmp_path / "nothing", published=True)


def test_figure1_has_a_row_per_target_and_mode(finished_run, monkeypatch):
    """Rows: each clip mode's targets; columns: each snapshot of G(z'), then the target, each panel
    the saved image it names."""
    import numpy as np

    from dcgan_inversion.data.images import to_uint8

    figures = capture_figures(monkeypatch)
    make_figures(finished_run, ["figure1"])
    (figure,) = figures
    panels = [axis for axis in figure.axes if axis.images]
    with np.load(finished_run / "results" / "trajectory.npz") as saved:
        snapshots, targets = saved["snapshots"], saved["targets"]
    modes, count = ["none", "standard", "stochastic"], len(targets)
    columns = len(snapshots) + 1
    assert len(panels) == len(modes) * count * columns and count == 2
    for row, (mode, index) in enumerate((mode, index) for mode in modes for index in range(count)):
        shown = [np.asarray(panel.images[0].get_array()) for panel in panels[row * columns:(row + 1) * columns]]
        expected = [to_uint8(snapshots[s, modes.index(mode) * count + index]) for s in range(len(snapshots))]
        for image, wanted in zip(shown, expected + [to_uint8(targets[index])]):
            np.testing.assert_array_equal(image, wanted.squeeze())
        assert panels[row * columns].get_ylabel() == f"{mode} #{index}"
    titles = [panel.get_title() for panel in panels[:columns]]
    assert titles[0] == "initialisation" and titles[-2].endswith("LM iterations") and titles[-1] == "target"


def test_rendering_is_deterministic(finished_run):
    make_figures(finished_run, ["figure2"])
    first = (finished_run / "figures" / "figure2.png").read_bytes()
    make_figures(finished_run, ["figure2"])
    assert (finished_run / "figures" / "figure2.png").read_bytes() == first


def test_missing_results_name_the_make_target(tmp_path):
    with pytest.raises(UserError, match="run `make invert`"):
        make_figures(tmp_path, ["table1"])
    assert not (tmp_path / "figures").exists()
    (tmp_path / "results").mkdir()
    with pytest.raises(UserError, match="table1.json is missing: run `make invert`"):
        make_figures(tmp_path, ["table1"])


def test_malformed_results_are_one_line(finished_run, tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "noise.json").write_text("{ not json")
    result = subprocess.run([sys.executable, "figures/figures.py", "--run", str(tmp_path), "--only", "figure2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "not a valid noise results file" in one_error_line(result)


@pytest.mark.parametrize("damage", ["a list", "wrong shape", "truncated npz", "not utf-8", "emptied json", "emptied npz",
                                    "truncated json"])
def test_damaged_results_files_are_one_clear_error(finished_run, tmp_path, damage):
    import shutil

    results = tmp_path / "results"
    shutil.copytree(finished_run / "results", results)
    if damage == "a list":
        (results / "table1.json").write_text("[1, 2, 3]")
    elif damage == "wrong shape":
        (results / "table1.json").write_text('{"experiment": "table1", "config": {}, "modes": [1]}')
    elif damage in ("truncated npz", "emptied npz"):
        npz = results / "table1.npz"
        npz.write_bytes(npz.read_bytes()[:200] if damage == "truncated npz" else b"")
    elif damage in ("truncated json", "emptied json"):
        record = results / "table1.json"
        record.write_text(record.read_text()[:100] if damage == "truncated json" else "")
    else:
        (results / "table1.json").write_bytes(b"\xff\xfe\x81\x00")
    with pytest.raises(UserError, match=r"table1\.(json is not a valid table1 results file|npz is missing or unreadable)"):
        make_figures(tmp_path, ["convergence" if damage.endswith("npz") else "table1"])  # the curves read the npz


def test_table2_names_the_prior_its_random_baseline_draws():
    from dcgan_inversion.paper.tables import _baseline_vectors

    uniform = {"model": {"z_dim": 100, "latent": "uniform", "latent_box": 4.5}, "invert": {"low": -1.0, "high": 1.0}}
    assert _baseline_vectors(uniform) == "U(-1, 1)^100 vectors (expected 0.0816)"
    normal = {"model": {"z_dim": 100, "latent": "normal", "latent_box": 4.5}, "invert": {"low": -1.0, "high": 1.0}}
    assert _baseline_vectors(normal) == "N(0, 1)^100 vectors kept in [-4.5, 4.5]"
    assert "expected" not in _baseline_vectors({**uniform, "model": {**uniform["model"], "z_dim": 64}})
    paper_draw = {**normal, "experiments": {"latents": "paper_uniform"}}  # a normal-prior generator, the paper's latents
    assert _baseline_vectors(paper_draw) == "U(-1, 1)^100 vectors (expected 0.0816)"
    today = {"model": {"z_dim": 100, "latent": "uniform", "latent_box": 2.0}}  # records in today's layout
    assert _baseline_vectors(today) == "U(-2, 2)^100 vectors"
    assert _baseline_vectors({"model": {"z_dim": 100, "latent": "normal", "latent_box": None}}) == (
        "N(0, 1)^100 vectors kept in [-4.5, 4.5]")


def test_convergence_shows_the_final_shares_after_restarts(monkeypatch, tmp_path):
    """The curves follow the first attempt; a run whose stuck rows were restarted also shows where
    every mode ended, at the whole counted cost (the published 1,000-latent run restarted rows)."""
    import json
    import shutil

    published = ROOT / "docs" / "results" / "runs" / "face_table1_uniform"
    for name in ("table1.json", "table1.npz", "config.yaml"):
        shutil.copy(published / name, tmp_path / name)
    record = json.loads((tmp_path / "table1.json").read_text())
    assert record["restarted_rows"] > 0
    figures = capture_figures(monkeypatch)
    make_figures(tmp_path, ["convergence"], published=True)
    points = [line for line in figures[0].axes[0].lines
              if line.get_marker() == "o" and list(line.get_xdata()) == [record["counted_step_equivalents"]]]
    levels = ("0.01", "0.0001", "1e-08")
    finals = sorted(record["modes"][mode]["final"][level] for mode in record["modes"] for level in levels)
    assert sorted(line.get_ydata()[0] for line in points) == finals


def test_by_default_a_run_gets_the_figures_of_the_results_it_has(finished_run, tmp_path, capsys):
    """A paper-size Table 1 alone (hours) is drawn without the other experiments; none at all is one line."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for name in ("trajectory", "noise", "uniqueness"):
        (run / "results" / f"{name}.json").unlink()
    shutil.rmtree(run / "figures", ignore_errors=True)  # drawn by whichever test ran first on this worker, or not
    written = {path.name for path in make_figures(run)}
    assert {"table1.md", "convergence.png", "training.png"} <= written and "figure1.png" not in written
    assert "skipped figure1" in capsys.readouterr().err
    (run / "results" / "table1.json").unlink()
    with pytest.raises(UserError, match=r"no results in .*: run `make invert` \(dcgan-invert --run .*\) first"):
        make_figures(run)


def test_a_protocols_convergence_shows_the_median_error_where_no_row_reaches_a_level(monkeypatch, tmp_path):
    """A protocol run that brings no row below any level (Amos's Adam on the real face generator's N(0, 1)
    latents, as published) still shows its progress: per mode, the median z error and its quartiles
    on a log axis below the shares, readable."""
    import shutil

    import numpy as np

    published = ROOT / "docs" / "results" / "runs" / "face_paper_prior" / "amos"
    (tmp_path / "amos").mkdir()
    for name in ("table1.json", "table1.npz"):
        shutil.copy(published / name, tmp_path / "amos")
    figures = capture_figures(monkeypatch)
    make_figures(tmp_path, ["convergence"], "amos", published=True)
    (figure,) = figures
    assert unreadable(figure) == []
    shares, errors = figure.axes[:3], figure.axes[3:]
    history = np.load(published / "table1.npz")["history_z_error"]
    rows = history.shape[1] // 3
    for column, axis in enumerate(errors):
        (median,) = [line for line in axis.lines if "median" in line.get_label()]
        assert axis.get_yscale() == "log"
        np.testing.assert_allclose(median.get_ydata(), np.median(history[:, column * rows:(column + 1) * rows], axis=1))
    assert all(max(line.get_ydata().max() for line in axis.lines) == 0 for axis in shares)  # nothing to see up there
