"""Run and transform the course notebooks: execute in place, and write student copies."""

from __future__ import annotations

import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# What every execution gets, so stored outputs are the same on every machine and in CI.
DETERMINISTIC_ENV = {
    "PYTHONHASHSEED": "0",
    "TQDM_MININTERVAL": "1000",
}


class NotebookError(ValueError):
    """A file that is not a usable notebook; the message names it and says what is wrong."""


class CellFailed(NotebookError):
    """A notebook ran, and one of its cells raised."""


def find_notebooks(paths: list[str] | None = None) -> list[Path]:
    """Notebooks under the given files/folders (default: notebooks/), in a stable order."""
    roots = [Path(p) for p in (paths or [str(REPO / "notebooks")])]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(p for p in sorted(root.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts)
        elif not root.exists():
            raise FileNotFoundError(f"{root}: no such file or folder")
        elif root.suffix == ".ipynb":
            found.append(root)
        else:
            raise NotebookError(f"{root}: not a notebook (.ipynb) or a folder of notebooks")
    return found


def read(path: Path):
    """The notebook at ``path``, or :class:`NotebookError` saying why it is not one."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as e:  # NotJSONError is a ValueError
        reason = " ".join(str(e).split())[:200]
        raise NotebookError(f"{path}: not a valid notebook ({reason}). Open it in Jupyter to repair it, or leave it out.") from e


def execute(path: Path, timeout: int = 600) -> float:
    """Execute a notebook top to bottom in its own folder with the offline backend; save it in place.

    Returns the seconds it took. Set AIE_EXECUTE_BACKEND to record against another backend
    (used by ``make record``)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env_backup = dict(os.environ)
    os.environ.update(DETERMINISTIC_ENV)
    real = os.environ.get("AIE_EXECUTE_BACKEND")  # set by `make record`
    if real:
        os.environ["AIE_BACKEND"] = real
    else:  # the offline backend, chosen the way a learner with no key gets it
        for k in ("AIE_BACKEND", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BUDGET_USD", "AIE_RECORD", "AIE_CASSETTE"):
            os.environ.pop(k, None)
    try:
        nb = read(path)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            allow_errors=False,
        )
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as e:
            raise CellFailed(f"{path}: a cell raised {e.ename}: {e.evalue} (open the notebook to see the cell; "
                             "the notebook was not saved)") from e
        took = time.perf_counter() - start
        for cell in nb.cells:
            if cell.get("outputs"):
                cell.outputs = _coalesce_streams(cell.outputs)
        nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
        nbformat.write(nb, path)
        return took
    finally:
        os.environ.clear()
        os.environ.update(env_backup)


def _coalesce_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks into one output: how the kernel flushed them varies by machine."""
    out: list = []
    for o in outputs:
        if o.get("output_type") == "stream" and out and out[-1].get("output_type") == "stream" and out[-1].get("name") == o.get("name"):
            out[-1]["text"] = "".join(out[-1]["text"]) + "".join(o["text"])
        else:
            out.append(o)
    return out


SOLUTION_START = ":::{solution-start}"
SOLUTION_END = ":::{solution-end}"


def strip_solutions(nb) -> int:
    """Remove every cell from a ``{solution-start}`` marker through its ``{solution-end}``; return how many."""
    kept, removed, inside = [], 0, False
    for cell in nb.cells:
        src = cell.source.lstrip()
        if cell.cell_type == "markdown" and src.startswith(SOLUTION_START):
            inside = True
        if inside:
            removed += 1
            if cell.cell_type == "markdown" and SOLUTION_END in cell.source:
                inside = False
            continue
        kept.append(cell)
    if inside:
        raise NotebookError("a {solution-start} has no matching {solution-end}; the student copy would lose cells. "
                            "Close the solution with a {solution-end} cell.")
    nb.cells = kept
    return removed


def write_student_copies(out_dir: Path, paths: list[str] | None = None) -> list[tuple[Path, int]]:
    """Student copies of the notebooks with solutions removed and outputs cleared."""
    import nbformat

    written = []
    for path in find_notebooks(paths):
        nb = read(path)
        try:
            n = strip_solutions(nb)
        except NotebookError as e:
            raise NotebookError(f"{path}: {e}") from None
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        rel = path.resolve().relative_to(REPO) if path.resolve().is_relative_to(REPO) else Path(path.name)
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append((target, n))
    return written
