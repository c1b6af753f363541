"""What keeps runs safe and portable, used by every command (and importing nothing else of the
package): locks (`runlock.py`), SIGTERM handling (`preemption.py`), resuming past a damaged checkpoint
(`checkpoints.py`), atomic writes (`io_utils.py`), tf.distribute strategies (`distribute.py`),
TensorFlow's start-up (`tf_startup.py`), where a result was made (`environment.py`) and the one
error type a user sees (`errors.py`)."""
