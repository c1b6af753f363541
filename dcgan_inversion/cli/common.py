"""What every command shares: the flags, the run folder and its config, and `guarded`, which turns
a user's mistake into one line and a non-zero exit."""
from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from dcgan_inversion.config import STRATEGIES
from dcgan_inversion.infra.errors import UserError

DEFAULT_CONFIG = "demo"
BROKEN_PIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away


def parser(description: str, computes: bool = True) -> argparse.ArgumentParser:
    """The flags every command shares; `computes`: it trains or inverts (so --set and --distribute apply)."""
    made = argparse.ArgumentParser(description=description)
    made.add_argument("--config", default=None,
                      help=f"a shipped config name (demo, celeba, ...) or a path to a YAML file (default: the "
                           f"run's own config.yaml if the run exists, else {DEFAULT_CONFIG})")
    made.add_argument("--run", type=Path, default=None, help="run directory (default: runs/<config name>)")
    if computes:
        made.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                          help="override one config value; repeatable")
        made.add_argument("--distribute", choices=STRATEGIES, default=None,
                          help="tf.distribute strategy (same as --set distribute.strategy=...); see "
                               "docs/celeba_gpu.md")
    return made


def protocol_argument(made: argparse.ArgumentParser, doing: str) -> None:
    from dcgan_inversion.paper.protocols import available_protocols

    made.add_argument("--protocol", default=None, choices=available_protocols(),
                      help=f"{doing} a named inversion protocol (authors: the paper's gradient descent; amos: Amos's "
                           "Adam; see dcgan_inversion/configs/protocols/) in <run>/results/<protocol>/")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def overrides(args) -> list[str]:
    return args.overrides + ([f"distribute.strategy={args.distribute}"] if args.distribute else [])


def run_dir(args) -> Path:
    return args.run if args.run is not None else Path("runs") / Path(args.config or DEFAULT_CONFIG).stem


def config_name(args) -> str:
    """--config; without it, the config a run already holds (<run>/config.yaml), else the demo's."""
    if args.config:
        return args.config
    saved = run_dir(args) / "config.yaml"
    return str(saved) if saved.is_file() else DEFAULT_CONFIG


def load_args_config(args):
    from dcgan_inversion.config import load_config

    return load_config(config_name(args), overrides(args))


def guarded(function) -> None:
    """Runs `function`, turning user mistakes into one line and a non-zero exit.

    SIGTERM (preemption) makes the loops checkpoint and stop: one line, exit status 143. A reader
    that closed our stdout early (`| head -n 1`) ends the command quietly, as SIGPIPE would.
    """
    from dcgan_inversion.infra import preemption

    try:
        with preemption.watching():
            function()
    except preemption.Preempted as stopped:
        print(f"stopped: {stopped}", file=sys.stderr)
        sys.exit(preemption.EXIT_STATUS)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(BROKEN_PIPE_STATUS)
    except Exception as error:  # noqa: BLE001 - only a full disk is turned into a line; the rest propagates
        if not _disk_full(error):
            raise
        where = f" writing {error.filename}" if getattr(error, "filename", None) else ""
        print(f"error: no space left on the device{where}; the checkpoints and results written before are intact: "
              "free some space and run the same command to resume", file=sys.stderr)
        sys.exit(2)


def _quiet_stdout() -> None:
    """stdout to /dev/null, so the interpreter's flush at exit does not raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing to flush
        pass


def _disk_full(error: BaseException) -> bool:
    """ENOSPC from Python, or from TensorFlow's own file writers (which raise their own error types)."""
    return (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "No space left on device" in str(error)


def fail_if_skipped(skipped: list, done: int, also: str = "") -> None:
    """Exit 1 when some inputs could not be read: the good ones are done; a script still learns
    that some inputs were not."""
    if skipped:
        print(f"error: {len(skipped)} of {len(skipped) + done} inputs skipped (named above{also})", file=sys.stderr)
        sys.exit(1)
