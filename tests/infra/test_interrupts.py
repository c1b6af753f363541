"""Ctrl-C inside a training loop is acted on between steps (preemption.interrupts_at_step_boundaries),
a closed stdout ends a command quietly, and a file name that is not UTF-8 can be shown."""
import os
import signal
import subprocess
import sys

import pytest

from dcgan_inversion.infra import preemption
from dcgan_inversion.infra.text import printable


def test_the_first_ctrl_c_is_recorded_and_the_second_interrupts():
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN under a non-interactive shell's background job
    with preemption.interrupts_at_step_boundaries():
        os.kill(os.getpid(), signal.SIGINT)
        assert preemption.interrupted()  # no KeyboardInterrupt mid-step: the loop acts at its boundary
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert not preemption.interrupted()
    assert signal.getsignal(signal.SIGINT) == before


def test_a_reader_that_goes_away_ends_the_command_quietly():
    code = ("from dcgan_inversion.cli.common import guarded\n"
            "def talk():\n"
            "    for _ in range(100000):\n"
            "        print('line ' * 20)\n"
            "guarded(talk)\n")
    shell = f"{sys.executable} -c \"$CODE\" | head -n 1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "CODE": code})
    assert result.stdout.startswith("line ")
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr
    assert result.returncode == 141


def test_a_file_name_that_is_not_utf8_is_shown_with_a_replacement_character():
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: a lone surrogate in Python
    shown = printable(name)
    assert shown == "caf\ufffd.png" and shown.encode("utf-8")
