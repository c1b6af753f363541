"""The paper's experiments and their presentation: one function per experiment and the registry
(`experiments.py`), the completion experiment (`completion.py`), the authors' and Amos's inversion
protocols (`protocols.py`; their YAML in `configs/protocols/`), the curvature analysis (`curvature.py`),
figures (`figures.py`, `completion_figure.py`) and tables (`tables.py`), drawn from the results files
(`dcgan_inversion/records.py`; their labels: `labels.py`) by `render.py`."""
