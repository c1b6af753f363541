"""The benchmark runs and writes its report; its numbers are printed, never asserted."""
import json

from dcgan_inversion.bench import report as bench


def test_quick_benchmark_writes_json_and_markdown(tmp_path):
    bench.main(["--quick", "--batches", "2", "--min-seconds", "0.01", "--out", str(tmp_path),
                "--run", str(tmp_path / "no-run")])
    report = json.loads((tmp_path / "bench.json").read_text())
    entry = report["per_step"][0]
    assert entry["batch"] == 2 and entry["engine_ms"] > 0 and "eager_ms" in entry
    assert "| demo 32px gf32 | 2 |" in (tmp_path / "bench.md").read_text()
    loaders = report["input_pipeline"]
    assert all(loaders[f"{name}_per_s"] > 0 for name in ("pillow", "native", "cache"))
    assert "| decoded cache (data.cache: a folder), later epochs and runs |" in (tmp_path / "bench.md").read_text()
    bench.main(["--quick", "--polish-only", "--out", str(tmp_path), "--run", str(tmp_path / "no-run")])
    updated = json.loads((tmp_path / "bench.json").read_text())
    assert updated["per_step"] == report["per_step"] and "polish_date" in updated


def test_polish_methods_side_by_side(tiny_generator):
    from conftest import tiny_config

    from dcgan_inversion.bench import polish as bench_polish

    config = tiny_config(invert={"steps": 60, "steps_per_call": 20, "learning_rate": 0.05},
                         polish={"method": "layerwise_lm", "iterations": 2, "switch": "stalled",
                                 "stall_window": 10, "stall_improvement": 0.05})
    runs = bench_polish.compare_methods(tiny_generator, config, 2, print)
    assert list(runs) == ["previous", "levenberg_marquardt", "layerwise_lm"]
    assert [run["method"] for run in runs.values()] == ["levenberg_marquardt", "levenberg_marquardt", "layerwise_lm"]
    report = runs["layerwise_lm"]
    assert report["first_order_step_equivalents"] <= report["first_order_steps"] == 60
    assert set(report["modes"]) == set(config.experiments.modes)
    noise = {name: {"rows": 3, "polish_seconds_per_row": 0.5, "polish_iterations": 2, "step_equivalents": 9.0,
                    "mean_z_error": [0.1, 0.2, 0.3], "mean_pixel_error_vs_noisy": [0.1, 0.2, 0.3]} for name in runs}
    text = bench.markdown({"date": "d", "machine": "m", "tensorflow": "t", "per_step": [], "steps_to_precision": runs,
                           "untrained_64px_precision": runs, "noise_64px": noise,
                           "polish_memory": {"layerwise_lm": {"32": 500.0, "256": 510.0}}})
    assert "| layerwise_lm | stochastic |" in text and "| previous | none |" in text
    assert "celeba settings, `layerwise_lm`" in text and "| previous | 3 | 0.50 |" in text
    assert "`layerwise_lm` 32 rows 500, 256 rows 510" in text


def test_an_unwritable_report_folder_is_refused_before_measuring(tmp_path, capsys):
    import pytest

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--quick", "--out", str(blocker / "out")])
    assert stopped.value.code == 2 and "cannot write to" in capsys.readouterr().err
