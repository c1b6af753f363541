"""The notebook tour, executed on make demo's run and committed with its outputs (`make notebook`).

A reader on the repository page sees the tour's pictures and numbers without running it. The
executed notebook records a digest of its code cells (`metadata.executed_sources_sha256`), so a test
can tell when a cell was edited after the outputs were made (stale) or when outputs are missing.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour.ipynb"
PROGRESS_BAR = "\u2501"  # the heavy line Keras's progress bar draws


def sources_digest(notebook) -> str:
    """sha256 of the code cells' sources, in order."""
    code = [("".join(cell.source) if isinstance(cell.source, list) else cell.source)
            for cell in notebook.cells if cell.cell_type == "code"]
    return hashlib.sha256("\n".join(code).encode()).hexdigest()


def execute(path: Path = TOUR, timeout: int = 3600) -> None:
    """Runs every cell (in the notebook's folder, on its default run) and writes it back with its outputs."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    tidy(notebook)
    notebook.metadata["executed_sources_sha256"] = sources_digest(notebook)
    nbformat.write(notebook, path)
    print(f"executed {path} and wrote it with its outputs")


def tidy(notebook) -> None:
    """What a reader should see of the streams: each phase's title and the results, without the
    progress bars' redraws (every redraw was captured) and TensorFlow's start-up log lines; the
    remaining stream outputs of a cell joined."""
    from dcgan_inversion.infra.tf_startup import line_level

    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.get("output_type") == "stream":
                lines = [line.rsplit("\r", 1)[-1] for line in output.text.split("\n")]
                lines = [line for line in lines if line.strip() and PROGRESS_BAR not in line
                         and line_level(line) is None and "absl::InitializeLog" not in line
                         and not line.startswith("To enable the following instructions")]
                if not lines:
                    continue
                output.text = "\n".join(lines) + "\n"
                previous = kept[-1] if kept else None
                if previous is not None and previous.get("output_type") == "stream" and previous.name == output.name:
                    previous.text += output.text
                    continue
            kept.append(output)
        cell.outputs = kept


if __name__ == "__main__":
    execute(Path(sys.argv[1]) if len(sys.argv) > 1 else TOUR)
