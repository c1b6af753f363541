"""The benchmark runs and writes its report; its numbers are printed, never asserted."""
import json
from pathlib import Path

import pytest

from dcgan_inversion.bench import report as bench


def test_quick_benchmark_writes_json_and_markdown(tmp_path):
    """A full run measures afresh and keeps what it does not measure that carries its own date: the starts
    and recovery comparisons per run, and the polish sections when it has no run to measure them on."""
    committed = json.loads((Path(__file__).resolve().parents[2] / "docs" / "results" / "bench.json").read_text())
    kept = {key: committed[key] for key in ("starts_by_run", "recovery_by_run", "steps_to_precision", "polish_date")}
    (tmp_path / "bench.json").write_text(json.dumps({**kept, "per_step": [], "date": "2000-01-01"}))
    bench.main(["--quick", "--batches", "2", "--min-seconds", "0.01", "--out", str(tmp_path),
                "--run", str(tmp_path / "no-run")])
    report = json.loads((tmp_path / "bench.json").read_text())
    assert {key: report[key] for key in kept} == kept and report["date"] != "2000-01-01"
    assert "Recovery of generated latents on the run `runs/face`" in (tmp_path / "bench.md").read_text()
    entry = report["per_step"][0]
    assert entry["batch"] == 2 and entry["engine_ms"] > 0 and "eager_ms" in entry
    assert "| demo 32px gf32 | 2 |" in (tmp_path / "bench.md").read_text()
    loaders = report["input_pipeline"]
    assert all(loaders[f"{name}_per_s"] > 0 for name in ("pillow", "native", "cache"))
    assert "| decoded cache (data.cache: a folder), later epochs and runs |" in (tmp_path / "bench.md").read_text()
    bench.main(["--quick", "--polish-only", "--out", str(tmp_path), "--run", str(tmp_path / "no-run")])
    updated = json.loads((tmp_path / "bench.json").read_text())
    assert updated["per_step"] == report["per_step"] and "polish_date" in updated
    for record in (report["environment"], updated["polish_environment"]):  # what measured it, as every result
        assert record["lock_sha256"] and record["cpu"] and record["tensorflow"]


def test_polish_methods_side_by_side(tiny_generator):
    from conftest import tiny_config

    from dcgan_inversion.bench import polish as bench_polish

    config = tiny_config(invert={"steps": 60, "steps_per_call": 20, "learning_rate": 0.05},
                         polish={"method": "layerwise_lm", "iterations": 2},
                         search={"switch": "stalled", "stall_window": 10, "stall_improvement": 0.05})
    runs = bench_polish.compare_methods(tiny_generator, config, 2, print)
    assert list(runs) == ["autodiff_lm_20", "levenberg_marquardt", "layerwise_lm"]
    assert [run["method"] for run in runs.values()] == ["levenberg_marquardt", "levenberg_marquardt", "layerwise_lm"]
    report = runs["layerwise_lm"]
    assert report["first_order_step_equivalents"] <= report["first_order_steps"] == 60
    assert set(report["modes"]) == set(config.experiments.modes)
    noise = {name: {"rows": 3, "polish_seconds_per_row": 0.5, "polish_iterations": 2, "step_equivalents": 9.0,
                    "mean_z_error": [0.1, 0.2, 0.3], "mean_pixel_error_vs_noisy": [0.1, 0.2, 0.3]} for name in runs}
    text = bench.markdown({"date": "d", "machine": "m", "tensorflow": "t", "per_step": [], "steps_to_precision": runs,
                           "untrained_64px_precision": runs, "noise_64px": noise,
                           "polish_memory": {"layerwise_lm": {"32": 500.0, "256": 510.0}}})
    assert "| layerwise_lm | stochastic |" in text and "| autodiff_lm_20 | none |" in text
    assert "celeba settings, `layerwise_lm`" in text and "| autodiff_lm_20 | 3 | 0.50 |" in text
    assert "`layerwise_lm` 32 rows 500, 256 rows 510" in text


def test_an_unwritable_report_folder_is_refused_before_measuring(tmp_path, capsys):
    import pytest

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--quick", "--out", str(blocker / "out")])
    assert stopped.value.code == 2 and "cannot write to" in capsys.readouterr().err


def test_steps_to_precision_on_another_model_than_the_demos_is_one_line(tmp_path, tiny):
    from dcgan_inversion import config as config_lib
    from dcgan_inversion.bench import polish as bench_polish
    from dcgan_inversion.infra.errors import UserError

    (tmp_path / "run").mkdir()
    config_lib.save_config(tiny, tmp_path / "run" / "config.yaml")  # a 16 px run, not the demo config's 32 px
    with pytest.raises(UserError, match="holds a 16 px amos one: make bench RUN=runs/demo"):
        bench_polish.demo_methods(tmp_path / "run", 2, print)


def test_starts_are_kept_per_run(tmp_path, monkeypatch):
    """--starts-only on a second run adds its table beside the first's; a report from before
    starts were kept per run loses its old section."""
    from dcgan_inversion.bench import starts as bench_starts

    def measured(run_dir, latents, log, resize=None):
        entry = {"counted_step_equivalents": 100.0 if "64" in str(run_dir) else 50.0, "timed_step_equivalents": 1.0,
                 "first_order_steps_per_row": 1.0, "polish_iterations_per_row": 1.0, "wall_seconds": 1.0,
                 "below_1e-8": {"stochastic": 1.0}}
        return {"run": str(run_dir), "image_size": 64 if "64" in str(run_dir) else 32, "latents_per_mode": latents,
                "encoder": {"steps": 1, "batch_size": 1, "seconds_this_call": 1.0, "training_step_equivalents": 1,
                            "held_out_z_error_median": 0.1},
                "methods": {"random start (default)": entry}, "winner": "random start (default)", "break_even_rows": None}

    monkeypatch.setattr(bench_starts, "compare_starts", measured)
    committed = json.loads((Path(__file__).resolve().parents[2] / "docs" / "results" / "bench.json").read_text())
    committed.pop("starts_by_run", None)
    (tmp_path / "bench.json").write_text(json.dumps({**committed, "starts": {}, "starts_date": "2026-01-01"}))
    for run in ("demo", "face64"):
        bench.main(["--starts-only", "--run", str(tmp_path / run), "--out", str(tmp_path)])
    report = json.loads((tmp_path / "bench.json").read_text())
    assert list(report["starts_by_run"]) == ["demo", "face64"] and "starts" not in report
    assert all(entry["environment"]["lock_sha256"] for entry in report["starts_by_run"].values())
    text = (tmp_path / "bench.md").read_text()
    assert "the run `demo` (32 px" in text and "the run `face64` (64 px" in text


def test_recovery_side_by_side_counts_every_attempt(tiny_generator):
    """Every setting, both latent draws, per mode; the screen's and the restarts' cost are in the row's total."""
    from conftest import tiny_config

    from dcgan_inversion.bench import recovery as bench_recovery

    sections = dict(invert={"steps": 30, "steps_per_call": 10, "learning_rate": 0.05},
                    polish={"method": "levenberg_marquardt", "iterations": 1},
                    search={"switch": "stalled", "stall_window": 10, "stall_min_steps": 20, "restarts": 1,
                            "screen_starts": 2, "screen_steps": 5})
    uniform = tiny_config(**sections)
    assert list(bench_recovery.recovery_report(tiny_generator, uniform, 1, print, shipped=uniform)) == ["paper_uniform"]
    shipped = tiny_config(model={"latent": "normal"}, **sections)  # a second draw: the generator's own prior
    report = bench_recovery.recovery_report(tiny_generator, shipped, 2, print, shipped=shipped)
    assert list(report) == ["paper_uniform", "prior"]
    for by_method in report.values():
        assert list(by_method) == ["early switch", "long first-order phase", "screened starts, early switch",
                                   "screened starts, long phase, polish budget",
                                   "nearest of a bank, long phase, polish budget"]
        early, long, screened, ours, banked = by_method.values()
        assert early["restarted_rows"] == 0 and ours["restarted_rows"] > 0  # one polish iteration leaves rows stuck
        assert early["screen_step_equivalents_per_row"] == long["screen_step_equivalents_per_row"] == 0
        assert ours["screen_step_equivalents_per_row"] == 2 * 5  # the config's two candidates, five steps each
        assert screened["screen_step_equivalents_per_row"] == 4 * 25  # the benchmark's own screen
        assert banked["screen_step_equivalents_per_row"] == bench_recovery.NEAREST_OF_A_BANK["search"]["screen_bank"] / 2
        for entry in (long, screened, ours, banked):
            assert entry["counted_step_equivalents"] == pytest.approx(
                entry["screen_step_equivalents_per_row"] + entry["first_order_steps_per_row"]
                + entry["polish_step_equivalents_per_row"] + entry["restart_step_equivalents_per_row"], abs=0.2)
        assert set(ours["modes"]) == set(shipped.experiments.modes)
    only = bench_recovery.recovery_report(tiny_generator, shipped, 1, print, shipped=shipped,
                                          only_methods=["early switch"], only_draws=["prior"])
    assert list(only) == ["prior"] and list(only["prior"]) == ["early switch"]
    text = "\n".join(bench_recovery.markdown({"run": "runs/x", "generator": "16 px", "date": "d",
                                              "latents_per_mode": 2, "draws": report}))
    assert "| U(-1, 1), box [-1, 1] | screened starts, early switch |" in text and "| the generator's prior | early switch |" in text


def test_a_partial_recovery_measurement_joins_the_runs_at_as_many_latents():
    from dcgan_inversion.bench import recovery as bench_recovery

    def report(latents, draws):
        return {"run": "runs/face", "latents_per_mode": latents, "date": "d", "draws": draws}

    reports = {"face": report(16, {"prior": {"early switch": {"x": 1}}})}
    assert bench_recovery.report_name("face", 16, reports) == "face"
    assert bench_recovery.report_name("face", 64, reports) == "face (64 latents)"
    assert bench_recovery.report_name("other", 64, reports) == "other"
    joined = bench_recovery.merged(reports["face"], report(16, {"prior": {"screen": {"x": 2}},
                                                                "paper_uniform": {"screen": {"x": 3}}}))
    assert joined["draws"] == {"prior": {"early switch": {"x": 1}, "screen": {"x": 2}},
                               "paper_uniform": {"screen": {"x": 3}}}
    assert reports["face"]["draws"] == {"prior": {"early switch": {"x": 1}}}  # the earlier report is not changed


def test_the_encoder_start_replaces_the_start_screen():
    from dcgan_inversion import config as config_lib
    from dcgan_inversion.bench.starts import start_variants

    variants = start_variants(config_lib.load_config("celeba"))
    assert variants["random start (default)"].search.screen_starts > 1
    for name in ("encoder start", "encoder start, polish at once"):
        assert variants[name].invert.start == "encoder" and variants[name].search.screen_starts == 1
    assert variants["encoder start, polish at once"].invert.steps == 1


def test_quick_sizes_cut_steps_but_keep_what_tells_the_settings_apart():
    from dcgan_inversion import config as config_lib
    from dcgan_inversion.bench import recovery as bench_recovery
    from dcgan_inversion.bench.quick import at_quick_size

    for name, method in bench_recovery.methods(config_lib.load_config("face_demo")).items():
        quick = at_quick_size(method)
        assert quick.invert.steps <= 10 and quick.polish.iterations <= 2, name
        for option in ("restarts", "stall_min_steps", "screen_bank"):
            assert (getattr(quick.search, option) > 0) == (getattr(method.search, option) > 0), (name, option)
        assert (quick.search.screen_starts > 1) == (method.search.screen_starts > 1), name
