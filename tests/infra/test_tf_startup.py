"""tf_startup.py: what TensorFlow logs while it loads is filtered by level, whatever the CPU or GPU."""
import subprocess
import sys

import pytest

from dcgan_inversion.infra.tf_startup import filter_startup_lines, line_level

PRE_INIT = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = ("I0000 00:00:1796123767.116666    2148 port.cc:153] oneDNN custom operations are on. You may see "
          "slightly different numerical results due to floating-point round-off errors from different computation "
          "orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n")
NO_DRIVER = ("I0000 00:00:1796123767.116949    2148 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
             "GPU will not be used.\n")
CPU_GUARD = ("I0000 00:00:1796123767.191855    2148 cpu_feature_guard.cc:227] This TensorFlow binary is optimized "
             "to use available CPU instructions in performance-critical operations.\n",
             "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, "
             "rebuild TensorFlow with the appropriate compiler flags.\n")
CUINIT = ("E0000 00:00:1796123770.890624    2148 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
          "Failed call to cuInit: UNKNOWN ERROR (303)\n")
REAL_ERROR = "E0000 00:00:1796123771.000001    2148 op_kernel.cc:1840] something real went wrong\n"
STARTUP = [PRE_INIT, ONEDNN, NO_DRIVER, *CPU_GUARD, PRE_INIT, ONEDNN, NO_DRIVER, CUINIT, REAL_ERROR]


def test_levels_are_read_from_the_absl_prefix():
    assert [line_level(line) for line in (ONEDNN, PRE_INIT, REAL_ERROR, CPU_GUARD[1])] == [0, 1, 2, None]


def test_at_the_packages_level_only_real_errors_survive_on_a_machine_without_a_driver():
    assert filter_startup_lines(STARTUP, min_level=2, driver=False) == [REAL_ERROR]


def test_with_a_driver_the_cuda_errors_are_real_and_kept():
    assert filter_startup_lines(STARTUP, min_level=2, driver=True) == [CUINIT, REAL_ERROR]


def test_at_level_0_everything_but_the_driverless_probe_errors_is_shown():
    assert filter_startup_lines(STARTUP, min_level=0, driver=False) == [line for line in STARTUP if line != CUINIT]
    assert filter_startup_lines(STARTUP, min_level=3, driver=True) == []


def test_python_lines_after_a_dropped_record_are_kept():
    warning = "/x/site-packages/mod.py:12: DeprecationWarning: old\n"
    assert filter_startup_lines([ONEDNN, warning, "  old()\n"], 2, False) == [warning, "  old()\n"]
    assert filter_startup_lines(["plain line before any record\n", ONEDNN], 2, False) == ["plain line before any record\n"]


def test_loading_tensorflow_shows_no_startup_chatter_but_keeps_a_real_error():
    code = ("import os\n"
            "from dcgan_inversion.infra.tf_startup import load_tensorflow\n"
            "import builtins\n"
            "real_import = builtins.__import__\n"
            "def noisy(name, *args, **kwargs):\n"
            "    if name == 'tensorflow':\n"
            f"        os.write(2, {(ONEDNN + NO_DRIVER + CUINIT + REAL_ERROR).encode()!r})\n"
            "    return real_import(name, *args, **kwargs)\n"
            "builtins.__import__ = noisy\n"
            "load_tensorflow()\n"
            "builtins.__import__ = real_import\n"
            "import tensorflow as tf\n"
            "print(len(tf.config.list_physical_devices('CPU')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert "something real went wrong" in result.stderr  # a real line written while loading is kept
    assert "oneDNN" not in result.stderr and "cuda drivers" not in result.stderr, result.stderr


@pytest.mark.parametrize("module", ["dcgan_inversion.bench", "dcgan_inversion.user_images.measure"])
def test_the_module_commands_start_without_tensorflows_chatter(module):
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr
    assert not any(line_level(line) is not None for line in result.stderr.splitlines()), result.stderr
