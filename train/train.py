"""Thin entry point: `python train/train.py --help` (same as the `dcgan-train` command)."""
from dcgan_inversion.cli import train_main

if __name__ == "__main__":
    train_main()
