"""A file named with bytes that are not UTF-8 (Latin-1 systems, old archives) is inverted and completed,
and the machine-readable summaries name it exactly; only what is printed uses U+FFFD."""
import json
import os
import shutil

import numpy as np

from conftest import cli_command
from torch_format import dcgan_layers, state_of, write_torch_file


def test_summaries_keep_a_non_utf8_image_name_exactly(tmp_path):
    write_torch_file(tmp_path / "g.pth", state_of(dcgan_layers(np.random.default_rng(0), 8, [8, 4, 3]),
                                                  ["main.0", "main.1", "main.3", "main.4", "main.6"]))
    run = tmp_path / "run"
    assert cli_command("import", tmp_path / "g.pth", "--run", run).returncode == 0
    assert cli_command("generate", "--run", run, "-n", "1").returncode == 0
    photos = tmp_path / "photos"
    photos.mkdir()
    name = os.fsencode(photos) + b"/caf\xe9.png"
    shutil.copyfile(run / "generated" / "generated-000.png", name)
    small = ["--set", "invert.steps=10", "--set", "polish.iterations=1", "--set", "search.screen_starts=1",
             "--set", "completion.iterations=2"]
    for command, folder in (("--image", "images"), ("--complete", "completion/center-ours")):
        result = cli_command("invert", "--run", run, command, photos, "--starts", "1", *small)
        assert result.returncode == 0, result.stderr
        assert "caf\ufffd.png" in result.stdout
        summary = json.loads((run / "results" / folder / "summary.json").read_text())
        assert [os.fsencode(row["file"]) for row in summary["images"]] == [name]
