"""Training Amos's DCGAN into a run folder: the two-tape train step, checkpoints, samples, logs (`trainer.py`)."""
