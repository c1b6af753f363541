"""`python -m dcgan_inversion.bench` (`make bench`): see report.main."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dcgan_inversion.infra.tf_startup import load_tensorflow  # noqa: E402

load_tensorflow()  # before report imports TensorFlow: its start-up lines filtered by level

from dcgan_inversion.bench.report import main  # noqa: E402

main()
