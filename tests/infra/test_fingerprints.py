"""One rule for reuse: a results record is reused only by the settings whose fingerprint it carries."""
import json

from dcgan_inversion import config as config_lib
from dcgan_inversion import records
import numpy as np

from dcgan_inversion.infra.fingerprints import ProblemKey, fingerprint


def test_a_record_is_reused_only_under_its_fingerprint(tmp_path):
    config = config_lib.load_config("demo")
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(records.stamped(config, threshold=1e-3)))
    assert json.loads(path.read_text())["fingerprint"] == fingerprint(config)
    assert records.reusable(path, config) is not None
    other = config_lib.replace(config, search={"screen_steps": config.search.screen_steps + 1})
    assert records.reusable(path, other) is None
    assert fingerprint(config_lib.replace(config, search={"screen_bank": 0})) == fingerprint(config)  # opt-in default


def test_a_record_written_before_fingerprints_is_judged_by_its_config(tmp_path):
    config = config_lib.load_config("demo")
    record = records.stamped(config, threshold=1e-3)
    del record["fingerprint"]
    (tmp_path / "old.json").write_text(json.dumps(record))
    assert records.reusable(tmp_path / "old.json", config) is not None


def test_a_problem_key_tells_targets_apart_by_content_not_by_their_last_bits():
    targets = np.random.default_rng(1).uniform(-1, 1, (5, 16, 16, 3)).astype(np.float32)
    key = ProblemKey.of(targets, "settings", np.arange(3))
    assert key.matches(key.saved())
    assert ProblemKey.of(np.nextafter(targets, np.float32(2)), "settings", np.arange(3)).matches(key.saved())
    moved = targets.copy()
    moved[3, 4, 5, 1] += 0.05  # one pixel of one row
    assert not ProblemKey.of(moved, "settings", np.arange(3)).matches(key.saved())
    assert not ProblemKey.of(targets[:4], "settings", np.arange(3)).matches(key.saved())
    assert not ProblemKey.of(targets, "settings", np.arange(4)).matches(key.saved())
    assert not key.matches({"problem": np.array(key.digest)})  # state written before signatures
