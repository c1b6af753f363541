"""`python -m dcgan_inversion.bench`: see report.main."""
from dcgan_inversion.bench.report import main

main()
