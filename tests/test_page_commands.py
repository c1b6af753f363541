"""Every command the README and docs/ show, checked as written: a `make` line must dry-run (`make -n`),
and every project command it expands to, like every `dcgan-*` line, must be accepted by that
command's own argument parser, its `--set` overrides by the config schema. A renamed flag, target,
experiment or config key on a page fails here. (test_page_commands_run.py runs them, at tiny size.)"""
import argparse
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from dcgan_inversion import config as config_lib
from dcgan_inversion.bench.report import arguments as bench_arguments
from dcgan_inversion.cli import PARSERS
from dcgan_inversion.cli.common import overrides
from dcgan_inversion.pages.__main__ import arguments as pages_arguments
from dcgan_inversion.user_images.measure import arguments as measure_arguments
from page_commands import ROOT, shown_commands

SCRIPTS = {"train/train.py": "dcgan-train", "invert/invert.py": "dcgan-invert", "figures/figures.py": "dcgan-figures"}
MODULES = {"dcgan_inversion.bench": bench_arguments, "dcgan_inversion.pages": pages_arguments,
           "dcgan_inversion.user_images.measure": measure_arguments}
# What pages may show that is not this project's: fetching Amos's code or the face generator's wheel.
OUTSIDE = {"git", "pip", "unzip", ".venv/bin/pip"}
# What `make -n` prints besides the project's commands: the virtualenv's set-up and the publish step's copies.
HOUSEKEEPING = {"python3", "touch", "mkdir", "cp", "rm", "test", "set", "for", "if", "[", "echo"}


COMMANDS = [(page, words) for page, _, words in shown_commands()]


def parsed(parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace:
    """The command's arguments as its parser reads them; what it rejects fails the test with its message."""
    parser.exit_on_error = False
    try:
        return parser.parse_args(words)
    except (argparse.ArgumentError, SystemExit) as error:
        pytest.fail(f"{shlex.join(words)}: rejected by its parser ({error})")


def check_project_command(words: list[str]) -> None:
    """A dcgan-* command (or the script or module that is the same): its parser and its overrides."""
    name = Path(words[0]).name
    if name == "python" and words[1] == "-m":
        if words[2] in MODULES:
            parsed(MODULES[words[2]](), words[3:])
            return
        assert words[2] in ("pip", "pytest"), f"unknown module {words[2]}"
        return
    if name == "python":
        if words[1] in SCRIPTS:
            name, words = SCRIPTS[words[1]], words[1:]
        else:
            assert (ROOT / words[1]).is_file(), f"{words[1]} does not exist"
            return
    assert name in PARSERS, f"{name}: not a command of this project"
    args = parsed(PARSERS[name](), words[1:])
    if hasattr(args, "overrides"):  # the commands that train or invert
        try:
            config_lib.load_config(args.config or "celeba", overrides(args))
        except config_lib.ConfigError as error:
            pytest.fail(f"{shlex.join(words)}: {error}")


def dry_run(words: list[str]) -> list[list[str]]:
    """The commands `make -n` prints for a make line, without make's own lines."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    result = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        pytest.fail(f"{shlex.join(words)}: {result.stderr.strip()}")
    lines = result.stdout.replace("\\\n", " ").splitlines()
    return [shlex.split(line) for line in lines if line.strip() and not line.startswith("make")]


def test_the_pages_show_commands():
    assert len(COMMANDS) > 30 and {page for page, _ in COMMANDS} >= {"README.md", "your_images.md", "completion.md"}


@pytest.mark.parametrize("page, words", COMMANDS, ids=[f"{page}: {shlex.join(words)}" for page, words in COMMANDS])
def test_a_shown_command_is_accepted_as_written(page, words):
    if words[0] in OUTSIDE or words[0] in HOUSEKEEPING:  # copying a result into place, fetching a repository
        return
    if words[0] == "make":
        for printed in dry_run(words):
            if printed[0] not in HOUSEKEEPING:
                check_project_command(printed)
        return
    check_project_command(words)


@pytest.mark.parametrize("words, rejected", [
    (["make", "invert", "ARGS=--experiment tabel1"], "invalid choice: 'tabel1'"),
    (["dcgan-invert", "--run", "runs/demo", "--set", "polish.restart=3"], "polish.restart"),
    (["make", "nonsense"], "No rule to make target"),
])
def test_a_command_that_rotted_is_caught(words, rejected):
    with pytest.raises(pytest.fail.Exception, match=re.escape(rejected)):
        test_a_shown_command_is_accepted_as_written("test", words)
