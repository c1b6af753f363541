"""`make bench` (`python -m dcgan_inversion.bench`): the inversion loops (`loops.py`), memory,
strategies and training (`resources.py`), the input pipeline (`input.py`) and the polish methods
(`polish.py`) measured side by side; `report.py` writes bench.json and bench.md; `quick.py` the
--quick sizes that check it runs."""
