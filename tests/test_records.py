"""Every results file names the generator it was made on, and is reused only on that generator."""
import json

from dcgan_inversion import config as config_lib
from dcgan_inversion import records

PRETRAINED = {"package": "generateme", "version": "0.1.2", "weights_sha256": "98" * 32, "member": "x.pt"}


def _run(tmp_path, imported=None):
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("seed: 0\n")
    (run / "generator.weights.h5").write_bytes(b"weights one")
    if imported is not None:
        (run / "imported.json").write_text(json.dumps(imported))
    return run


def test_results_record_the_generator_and_where_its_weights_came_from(tmp_path):
    run = _run(tmp_path, {"source": "/cache/dcGanGeneratorModel.pt", "sha256": "ab" * 32, "pretrained": PRETRAINED})
    config = config_lib.load_config("demo")
    for results in (run / "results", run / "results" / "authors"):  # a protocol's results are one folder deeper
        record = records.save_results(results, "table1", config, 1.0, {"modes": {}}, z=[0.0])
        generator = json.loads((results / "table1.json").read_text())["generator"]
        assert generator == record["generator"]
        assert generator["weights_file"] == "generator.weights.h5" and len(generator["weights_sha256"]) == 64
        assert generator["source"] == {key: PRETRAINED[key] for key in ("package", "version", "weights_sha256")}
    file_run = _run(tmp_path / "b", {"source": "/home/me/netG_epoch_24.pth", "sha256": "cd" * 32})
    records.save_results(file_run / "results", "noise", config, 1.0, {"modes": {}}, z=[0.0])
    assert json.loads((file_run / "results" / "noise.json").read_text())["generator"]["source"] == {
        "file": "netG_epoch_24.pth", "sha256": "cd" * 32}
    trained = _run(tmp_path / "c")
    records.save_results(trained / "results", "noise", config, 1.0, {"modes": {}}, z=[0.0])
    assert json.loads((trained / "results" / "noise.json").read_text())["generator"]["source"] == "trained in this run"
    damaged = _run(tmp_path / "d")
    (damaged / "imported.json").write_text("{\"source\": ")
    assert records.run_generator(damaged)["source"] == "imported (imported.json unreadable)"
    assert records.run_generator(tmp_path) is None  # not a run
    records.save_results(tmp_path / "loose", "noise", config, 1.0, {"modes": {}}, z=[0.0])  # not in a run
    assert "generator" not in json.loads((tmp_path / "loose" / "noise.json").read_text())


def test_results_are_not_reused_once_the_runs_generator_changed(tmp_path):
    run = _run(tmp_path)
    config = config_lib.load_config("demo")
    records.save_results(run / "results", "table1", config, 1.0, {"modes": {}}, z=[0.0])
    assert records.finished_record(run / "results", "table1", config) is not None
    (run / "generator.weights.h5").write_bytes(b"weights two")  # trained further
    assert records.finished_record(run / "results", "table1", config) is None
