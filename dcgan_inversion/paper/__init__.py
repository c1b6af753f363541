"""The paper's experiments and their presentation: one function per experiment (`experiments.py`),
the metrics (`metrics.py`), the authors' and Amos's inversion protocols (`protocols.py`,
`protocols/*.yaml`), the curvature analysis (`curvature.py`), figures (`figures.py`) and tables
(`tables.py`), drawn from the results files (`records.py`) by `render.py`."""
