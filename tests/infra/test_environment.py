"""environment.py: every results JSON says on which machine and with which lock file it was made."""
import hashlib
import re

from dcgan_inversion.infra.environment import LOCK_FILE, environment


def test_the_record_names_the_cpu_the_versions_and_the_lock_file():
    record = environment()
    assert re.search(r", \d+ cores$", record["cpu"])
    assert record["tensorflow"] and record["keras"] and record["numpy"] and record["python"]
    assert record["lock_sha256"] == hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:16]
    assert record["device"] == (record["gpu"] if record["gpu"] != "none" else record["cpu"])


def test_the_lock_file_pins_what_the_package_needs():
    pins = dict(line.split("==") for line in LOCK_FILE.read_text().splitlines() if "==" in line and not line.startswith("#"))
    for name in ("tensorflow", "keras", "numpy", "pillow", "matplotlib", "PyYAML", "scikit-image", "tensorboard"):
        assert name in pins, name
