"""Thin entry point: `python figures/figures.py --help` (same as the `dcgan-figures` command)."""
from dcgan_inversion.cli import figures_main

if __name__ == "__main__":
    figures_main()
