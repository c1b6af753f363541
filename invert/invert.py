"""Thin entry point: `python invert/invert.py --help` (same as the `dcgan-invert` command)."""
from dcgan_inversion.cli import invert_main

if __name__ == "__main__":
    invert_main()
