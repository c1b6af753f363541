"""tf_startup.py: TensorFlow's CUDA probe lines are dropped on machines without a driver, others kept."""
import subprocess
import sys

import pytest

from dcgan_inversion.tf_startup import PROBE_LINES, has_nvidia_driver


@pytest.mark.skipif(has_nvidia_driver(), reason="on a GPU machine nothing is filtered")
def test_loading_tensorflow_leaves_no_probe_lines_but_keeps_other_stderr():
    code = ("import os, sys\n"
            "from dcgan_inversion.tf_startup import load_tensorflow\n"
            "import builtins\n"
            "real_import = builtins.__import__\n"
            "def noisy(name, *args, **kwargs):\n"
            "    if name == 'tensorflow':\n"
            "        os.write(2, b'E0000 something real went wrong\\n')\n"
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
    assert "E0000 something real went wrong" in result.stderr  # a real line written while loading is kept
    assert not any(probe in result.stderr for probe in PROBE_LINES), result.stderr
