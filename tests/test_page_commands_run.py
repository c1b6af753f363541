"""Every command the README and docs/ show, run as written, at tiny size, in a copy of the project.

The commands come from the pages' bash blocks (test_page_commands checks each one's flags without
running it). They are grouped by the run they work on; a group runs in page order (the README, then
docs/ by name), as a reader following the pages would, in a folder of its own that holds what the
pages presume a reader has: a face photo `me.jpg`, a `photos/` folder, a mask, Amos's repository's
`checkpoint/` folder, a PyTorch `netG_epoch_24.pth`, a CelebA-shaped folder where a page names
/data/celeba or /shared/celeba, and the demo run trained (at test size) where a page works on it.

What makes a command tiny is appended, never edited in: the `--set` sizes of TINY after a command's
own (the last one wins), `--quick` after the benchmark's flags. Not run: fetching code (git, pip)
and `make test` (this suite). The real face generator's commands need its wheel (pip, or the cache):
where it cannot be fetched, their groups are skipped, saying why. A repeated command is run again
(a page's recipes each start with the import they need, which must then do nothing).
"""
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from page_commands import ROOT, shown_commands

NOT_RUN = {"git", "pip", ".venv/bin/pip"}  # fetching code; `make test` is this suite
# Test sizes, appended to every command that trains or inverts: fewer steps, latents and starts, never
# fewer conditions (every clip mode, noise level, mask and hidden fraction is still run, as the pages
# rendered from the published results read them all).
TINY = ["train.steps=2", "train.batch_size=8", "train.sample_every=1", "train.log_every=1",
        "invert.steps=10", "invert.steps_per_call=5", "polish.iterations=1", "search.restarts=1",
        "search.stall_min_steps=5", "search.screen_starts=2", "search.screen_steps=2",
        "experiments.table1_latents=2", "experiments.noise_latents=1",
        "experiments.noise_steps=10", "experiments.uniqueness_images=1", "experiments.uniqueness_restarts=2",
        "experiments.trajectory_targets=1", "experiments.trajectory_steps=10",
        "completion.latents=1", "completion.real_images=1", "completion.starts=1", "completion.iterations=4",
        "completion.out_interval=2", "completion.hmc_steps=2",
        "encoder.steps=4", "encoder.batch_size=8", "encoder.checkpoint_every=2", "encoder.log_every=1"]
TINY_ARGS = [word for setting in TINY for word in ("--set", setting)]
SIZED_TARGETS = {"invert", "complete", "train", "demo", "encoder"}  # make targets whose ARGS take --set
SIZED_COMMANDS = {"dcgan-invert", "dcgan-train"}


def make_variables(words: list[str]) -> tuple[list[str], dict]:
    """A make line's targets and its VAR=value assignments."""
    targets = [word for word in words[1:] if "=" not in word]
    return targets, dict(word.split("=", 1) for word in words[1:] if "=" in word)


def run_of(words: list[str]) -> str | None:
    """The run folder a command works on (None: the published results, or no run)."""
    name = Path(words[0]).name
    if name == "make":
        targets, variables = make_variables(words)
        if not set(targets) & {"demo", "train", "encoder", "invert", "complete", "figures", "publish", "import",
                               "generate", "bench"}:
            return None
        if "RUN" in variables:
            return variables["RUN"]
        if "CONFIG" in variables:
            return f"runs/{variables['CONFIG']}"
        return "runs/demo" if "bench" in targets else "runs/celeba_demo"  # the Makefile's defaults
    if "--run" in words:
        return words[words.index("--run") + 1]
    if name == "python" and "dcgan_inversion.user_images.measure" in words:
        return "runs/demo"
    if name == "cp":
        return next((word for word in words[1:] if word.startswith("runs/")), None)
    return None


def chains() -> dict[str, list[tuple[dict, list[str]]]]:
    """The shown commands grouped by run, in page order. A run `cp -r` makes joins its source's group;
    `make refigure` and the published-figure commands form the group `docs`."""
    grouped, joined = {}, {}
    for _, env, words in shown_commands():
        if words[0] in NOT_RUN or words[:2] == ["make", "test"]:
            continue
        run = run_of(words) or "docs"
        run = "/".join(run.split("/")[:2]) if run.startswith("runs/") else run
        key = joined.get(run, run)
        if words[:2] == ["cp", "-r"]:
            joined[words[3]] = key
        grouped.setdefault(key, []).append((env, words))
    return grouped


CHAINS = chains()


def at_tiny_size(words: list[str]) -> list[str]:
    """The command with test sizes appended after its own arguments."""
    name = Path(words[0]).name
    if name == "make":
        targets, variables = make_variables(words)
        extra = TINY_ARGS if set(targets) & SIZED_TARGETS else ["--quick"] if "bench" in targets else []
        if not extra:
            return words
        kept = [word for word in words if not word.startswith("ARGS=")]
        return kept + ["ARGS=" + " ".join(filter(None, [variables.get("ARGS", ""), shlex.join(extra)]))]
    return words + TINY_ARGS if name in SIZED_COMMANDS else words


def write_inputs(folder: Path, words_seen: str) -> None:
    """What the pages presume a reader has at hand, in the project copy `folder`."""
    from skimage import data

    from amos_checkpoint import amos_variables, write_checkpoint
    from dcgan_inversion.data.celeba_like import make_folder
    from torch_format import discriminator_state, generator_state, write_torch_file

    Image.fromarray(data.astronaut()).save(folder / "me.jpg")
    (folder / "photos").mkdir()
    Image.fromarray(data.astronaut()[:256, 128:384]).save(folder / "photos" / "astronaut.png")
    Image.fromarray(data.chelsea()).save(folder / "photos" / "chelsea.jpg")
    checkpoint = folder / "dcgan-completion.tensorflow" / "checkpoint"  # Amos's names and layout, at 16 px
    checkpoint.mkdir(parents=True)
    write_checkpoint(checkpoint / "DCGAN.model-60502", amos_variables(16, 4, 4))
    mask = np.full((16, 16), 255, dtype=np.uint8)  # a mask is drawn at the model's size
    mask[:, :8] = 0
    Image.fromarray(mask).save(folder / "mask.png")
    rng = np.random.default_rng(0)
    write_torch_file(folder / "netG_epoch_24.pth", generator_state(rng, 100, 4, 3, 16), folder="netG_epoch_24")
    write_torch_file(folder / "netD_epoch_24.pth", discriminator_state(rng, 4, 3, 16), folder="netD_epoch_24")
    for root in ("/data/", "/shared/"):
        if f"{root}celeba/img_align_celeba" in words_seen:
            make_folder(folder / root.strip("/") / "celeba" / "img_align_celeba", 24)


def project_copy(folder: Path) -> Path:
    """A copy of the project a command may write into: its own docs/ and runs/, the code linked, and
    the interpreter running this suite as the Makefile's virtualenv (the stamp newer than the files
    it depends on), so the pages' `make` and `.venv/bin/...` commands run what pytest runs."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Makefile", "setup.py", "constraints.txt", "constraints-test.txt"):
        shutil.copy2(ROOT / name, folder / name)
    for name in ("dcgan_inversion", "train", "invert", "figures", "examples"):
        (folder / name).symlink_to(ROOT / name)
    this_interpreter_as_venv(folder / ".venv")
    shutil.copytree(ROOT / "docs", folder / "docs")
    return folder


def this_interpreter_as_venv(venv: Path) -> None:
    """`.venv/bin/python` and `.venv/bin/dcgan-*` that run this interpreter and its console scripts
    (wherever the package is installed: the repository's .venv, another venv, conda)."""
    import sys

    bin_dir = venv / "bin"
    bin_dir.mkdir(parents=True)
    scripts = Path(sys.executable).parent
    wrappers = {"python": f'exec "{sys.executable}" "$@"', "python3": f'exec "{sys.executable}" "$@"'}
    for name in ("train", "invert", "figures", "generate", "import"):
        script = scripts / f"dcgan-{name}"
        wrappers[f"dcgan-{name}"] = (f'exec "{script}" "$@"' if script.exists() else
                                     f'exec "{sys.executable}" -c "from dcgan_inversion.cli import {name}_main; '
                                     f'{name}_main()" "$@"')
    for name, line in wrappers.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    (venv / ".installed").touch()


def localised(words: list[str], env: dict, folder: Path) -> tuple[list[str], dict]:
    """Absolute paths a page names (/data/..., /shared/...) inside the project copy; a cluster of
    other machines (TF_CONFIG) as a cluster of one worker on this one."""
    words = [re.sub(r"^([^/]*=)?/(data|shared)/", lambda m: f"{m.group(1) or ''}{folder}/{m.group(2)}/", word)
             for word in words]  # a path, or a setting's value (data.path=/data/...); not tests/data/
    env = dict(env)
    if "TF_CONFIG" in env:
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": ["localhost:23456"]}, "task": {"type": "worker", "index": 0}})
    return words, env


def train_demo_run(folder: Path) -> None:
    """The demo run a reader of the pages has trained (`make train`), at test size."""
    command = [".venv/bin/dcgan-train", "--config", "demo", "--run", "runs/demo", *TINY_ARGS]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600, env=command_env({}))
    assert result.returncode == 0, result.stderr[-3000:]


def command_env(extra: dict) -> dict:
    """This process's environment without an enclosing make's variables, TensorFlow's logs quiet."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def skip_without_the_face_generator(run: str) -> None:
    """A group that imports a pretrained generator (PRETRAINED=NAME, or make demo's generateme) needs its wheel."""
    from dcgan_inversion.infra.errors import UserError
    from dcgan_inversion.pretrained import CELEBA_DCGAN, PRETRAINED, fetch

    lines = [make_variables(words) for _, words in CHAINS[run] if Path(words[0]).name == "make"]
    named = {variables.get("PRETRAINED") for _, variables in lines} - {None}
    wanted = [PRETRAINED[name] for name in named if name in PRETRAINED]
    if any("demo" in targets and "PRETRAINED" not in variables and "CONFIG" not in variables
           for targets, variables in lines):
        wanted.append(CELEBA_DCGAN)
    for generator in wanted:
        try:
            fetch(generator, quiet=True)
        except UserError as error:
            pytest.skip(f"the real generator {generator.name} cannot be fetched here: {error}")


def run_chain(run: str, tmp_path: Path) -> None:
    commands = CHAINS[run]
    skip_without_the_face_generator(run)
    folder = project_copy(tmp_path / "project")
    write_inputs(folder, " ".join(" ".join(words) for _, words in commands))
    if run == "runs/demo":
        train_demo_run(folder)
    for env, words in commands:
        words, env = localised(at_tiny_size(words), env, folder)
        result = subprocess.run(words, cwd=folder, capture_output=True, text=True, timeout=900, env=command_env(env))
        assert result.returncode == 0 or pages_refused_tiny_results(words, result), \
            f"{shlex.join(words)}: exit {result.returncode}\n{result.stderr[-3000:]}"


def pages_refused_tiny_results(words: list[str], result) -> bool:
    """A page's prose is written about the published results; tiny ones may not fit it (no latent
    recovered where the text names the last share that recovers all). A command that renders the
    pages then says so in one line, after its results were copied, and writes no page."""
    from conftest import project_lines

    errors = [line for line in project_lines(result.stderr) if line.startswith("error: ")]
    return (words[:2] in (["make", "publish"], ["make", "docs"], ["make", "refigure"]) and result.returncode == 2
            and "Traceback" not in result.stderr and len(errors) == 1
            and "the results it reads do not fit its text" in errors[0])


def test_every_shown_command_is_in_a_group_that_runs():
    shown = [words for _, _, words in shown_commands() if words[0] not in NOT_RUN and words[:2] != ["make", "test"]]
    grouped = [words for commands in CHAINS.values() for _, words in commands]
    assert sorted(map(shlex.join, grouped)) == sorted(map(shlex.join, shown))
    assert {"runs/demo", "runs/celeba_demo", "runs/face_demo", "runs/amos", "runs/celeba", "docs"} | QUICK_GROUPS \
        <= set(CHAINS)


# Every `make test` runs these groups (a PyTorch import, multi-worker training, a whole `make demo`
# CONFIG=demo: about a minute together); `make test ARGS="-m slow"` runs the others (about 15 minutes on 2 cores).
QUICK_GROUPS = {"runs/mine", "/shared/runs/celeba", "runs/demo_cpu"}


@pytest.mark.parametrize("run", [pytest.param(run, marks=() if run in QUICK_GROUPS else pytest.mark.slow)
                                 for run in sorted(CHAINS)])
def test_the_commands_shown_for_a_run_run_as_written(run, tmp_path):
    run_chain(run, tmp_path)
