"""The commands as a user runs them: one clear line on stderr and a non-zero exit on mistakes."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import one_error_line

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_missing_data_folder(tmp_path):
    result = _run("train/train.py", "--config", "celeba", "--run", str(tmp_path / "run"),
                  "--set", f"data.path={tmp_path / 'nope'}")
    assert "data folder not found" in one_error_line(result)
    assert not (tmp_path / "run").exists()


def test_empty_data_folder(tmp_path):
    result = _run("train/train.py", "--config", "celeba", "--run", str(tmp_path / "run"),
                  "--set", f"data.path={tmp_path}")
    assert "no .jpg/.jpeg/.png images" in one_error_line(result)


def test_data_folder_without_a_readable_image(tmp_path):
    """Unreadable files are skipped while training; a folder of nothing else would never yield a batch."""
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "text.png").write_text("not an image")
    result = _run("train/train.py", "--config", "celeba", "--run", str(tmp_path / "run"),
                  "--set", f"data.path={tmp_path}", "--set", "data.holdout=0")
    assert "none of the 2 image files" in one_error_line(result)
    assert not (tmp_path / "run").exists()


def test_bad_config_key(tmp_path):
    result = _run("train/train.py", "--run", str(tmp_path), "--set", "train.stepz=3")
    assert "unknown key 'train.stepz'" in one_error_line(result)


def test_unwritable_run_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _run("train/train.py", "--run", str(blocker / "run"))
    assert "cannot write to" in one_error_line(result)


@pytest.mark.parametrize("script", ["train/train.py", "invert/invert.py", "figures/figures.py"])
def test_entry_points_have_help(script):
    result = _run(script, "--help")
    assert result.returncode == 0 and "--config" in result.stdout


def test_each_commands_help_offers_only_its_own_flags_and_says_the_defaults():
    train, invert, figures = (" ".join(_run(f"{name}/{name}.py", "--help").stdout.split())  # argparse wraps lines
                              for name in ("train", "invert", "figures"))
    assert "--protocol" not in train and "the run's own config.yaml if the run exists" in train
    assert "--distribute" not in figures and "--set" not in figures
    assert "(default: 16 for --image" in invert and "(default: stochastic" in invert and "(default: center)" in invert


@pytest.mark.parametrize("extra, flag", [([], None), (["CONFIG=celeba"], "--config celeba")])
def test_make_passes_a_config_only_when_one_is_given(extra, flag):
    # Without CONFIG an existing run keeps the config it was trained with (a 64 px run stays 64 px).
    dry = subprocess.run(["make", "-n", "invert", "RUN=runs/other", *extra], cwd=ROOT, capture_output=True, text=True)
    (line,) = [" ".join(line.split()) for line in dry.stdout.splitlines() if "invert/invert.py" in line]
    assert line.endswith("--run runs/other") and ((flag in line) if flag else "--config" not in line), line


def test_make_demo_gives_its_args_to_training_and_inversion_but_not_to_the_figures():
    dry = subprocess.run(["make", "-n", "demo", "RUN=runs/other", "ARGS=--set train.steps=3"], cwd=ROOT,
                         capture_output=True, text=True)
    lines = [" ".join(line.split()) for line in dry.stdout.splitlines()]
    assert any("invert/invert.py" in line and line.endswith("--set train.steps=3") for line in lines), dry.stdout
    assert "ARGS=" in dry.stdout  # figures run as their own make with empty ARGS (dcgan-figures takes no --set)


def test_make_demo_imports_the_real_generator_and_train_keeps_the_demo_config(tmp_path):
    """Without CONFIG, make demo imports the CelebA-like DCGAN (generateme) with the face_demo config into its
    run (the default run of every target; PRETRAINED names the other face generator), while make train and
    make demo CONFIG=demo train runs/demo."""
    def dry(*words):
        done = subprocess.run(["make", "-n", *words], cwd=ROOT, capture_output=True, text=True)
        return [" ".join(line.split()) for line in done.stdout.splitlines()]

    run = tmp_path / "face"  # not there yet: the import is what make demo does first
    assert f".venv/bin/dcgan-import --pretrained generateme --config face_demo --run {run}" in dry(
        "demo", f"RUN={run}")
    assert f".venv/bin/dcgan-import --pretrained gan-face-generate --config face_demo --run {run}" in dry(
        "demo", f"RUN={run}", "PRETRAINED=gan-face-generate")
    assert not any("train.py" in line for line in dry("demo", f"RUN={run}"))
    assert any(line.endswith("--run runs/celeba_demo") for line in dry("invert") if "invert.py" in line)
    assert any(line.endswith("--run runs/demo") for line in dry("train") if "train.py" in line)
    assert any("train.py --config demo --run runs/demo" in line for line in dry("demo", "CONFIG=demo"))
    # make bench measures steps to precision on the demo run (not make demo's imported one) unless RUN is given,
    # into runs/bench, beside the committed benchmark (compared, never overwritten unless BENCH_OUT names it)
    assert any(line.endswith("--run runs/demo --out runs/bench --compare docs/results/bench.json")
               for line in dry("bench") if "dcgan_inversion.bench" in line)
    assert any(f"--run {run} --out runs/bench" in line for line in dry("bench", f"RUN={run}")
               if "dcgan_inversion.bench" in line)


@pytest.mark.parametrize("target", ["invert", "generate", "encoder", "complete", "bench"])
def test_no_target_but_demo_train_and_import_makes_a_generator(target, tmp_path):
    """A run without a generator is one line naming it and the commands that make one: nothing trains,
    nothing is created."""
    run = tmp_path / "amos"
    words = ["make", target, f"RUN={run}", "IMAGES=photos/"]
    dry = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
    trains = [line for line in dry.stdout.splitlines() if "train.py" in line and "--encoder" not in line]
    assert not trains and "dcgan-import" not in dry.stdout, dry.stdout  # (make encoder trains an encoder, after)
    done = subprocess.run(words, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and f"error: {run} holds no generator" in done.stderr, done.stderr
    assert not run.exists()


@pytest.mark.parametrize("run, folder", [("runs/demo", "docs/results/"), ("runs/amos", "docs/results/runs/amos/")])
def test_make_publish_puts_another_runs_results_beside_the_demos_and_renders_the_pages(run, folder):
    dry = subprocess.run(["make", "-n", "publish", f"RUN={run}"], cwd=ROOT, capture_output=True, text=True)
    copies = [line for line in dry.stdout.splitlines() if line.strip().startswith("if [ -f") and " cp " in line]
    assert copies and all(f" {folder}; fi" in line for line in copies), dry.stdout  # figures, run files, results
    assert _commands(dry)[-1].endswith("-m dcgan_inversion.pages"), dry.stdout  # the pages show the new results


def test_make_docs_renders_the_pages_and_nothing_else():
    dry = subprocess.run(["make", "-n", "docs"], cwd=ROOT, capture_output=True, text=True)
    assert _commands(dry)[-1].endswith("-m dcgan_inversion.pages") and "cp " not in dry.stdout, dry.stdout


def _commands(dry: subprocess.CompletedProcess) -> list[str]:
    """The commands `make -n` printed, without make's own lines (a make run from make says where it is)."""
    return [line.strip() for line in dry.stdout.splitlines() if line.strip() and not line.startswith("make")]


def test_make_import_needs_a_checkpoint_and_names_the_run():
    dry = subprocess.run(["make", "-n", "import", "CHECKPOINT=ckpt/DCGAN.model-60502", "RUN=runs/amos"], cwd=ROOT,
                         capture_output=True, text=True)
    assert "dcgan-import ckpt/DCGAN.model-60502 --run runs/amos" in dry.stdout
    missing = subprocess.run(["make", "-n", "import"], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode != 0 and "CHECKPOINT is not set" in missing.stderr


def test_make_complete_passes_the_images_and_the_mask():
    dry = subprocess.run(["make", "-n", "complete", "RUN=runs/other", "IMAGES=photos/ me.jpg", "MASK=left",
                          "ARGS=--method amos"], cwd=ROOT, capture_output=True, text=True)
    assert "invert/invert.py --run runs/other --complete photos/ me.jpg --mask left --method amos" in \
        " ".join(dry.stdout.split()), dry.stdout
    missing = subprocess.run(["make", "-n", "complete", "RUN=runs/other"], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode != 0 and "IMAGES is not set" in missing.stderr
