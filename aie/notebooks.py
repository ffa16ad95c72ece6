"""Run and transform the course notebooks: execute in place, and write student copies."""

from __future__ import annotations

import contextlib
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


PROVIDER_VARS = ("AIE_BACKEND", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BUDGET_USD", "AIE_RECORD", "AIE_CASSETTE",
                 "AIE_CASSETTE_FILE", "AIE_CHAT_MODEL", "AIE_SMALL_MODEL", "AIE_EMBEDDING_MODEL", "AIE_TIMEOUT",
                 "AIE_CASSETTE_REUSE")


def execute(path: Path, timeout: int | None = 600, env: dict[str, str] | None = None, save: bool = True) -> float:
    """Execute a notebook top to bottom in its own folder and (by default) save it in place.

    With no ``env`` it runs as a learner with no key does: the offline backend, replaying the
    folder's cassettes. ``env`` sets the provider variables instead (``record`` and ``test_real`` use
    this). Returns the seconds it took."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env_backup = dict(os.environ)
    os.environ.update(DETERMINISTIC_ENV)
    keep_strict = os.environ.get("AIE_CASSETTE") if env is None else None  # `make test` replays strictly
    for k in PROVIDER_VARS:
        os.environ.pop(k, None)
    if keep_strict:
        os.environ["AIE_CASSETTE"] = keep_strict
    os.environ.update(env or {})
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
        if save:
            nbformat.write(nb, path)
        return took
    finally:
        os.environ.clear()
        os.environ.update(env_backup)


def cassette_path(notebook: Path) -> Path:
    return notebook.with_name(notebook.stem + ".cassette.jsonl")


def record(paths: list[str] | None = None, log=print, keep: bool = False) -> list[tuple[Path, int, float]]:
    """Re-record each notebook's cassette from a real model: (notebook, recordings, seconds) per notebook.

    With OPENAI_API_KEY or OPENAI_BASE_URL set, that provider answers; otherwise the local LLM, served
    over HTTP by ``python -m aie serve`` exactly as :func:`test_real` runs it. The new cassette is
    written beside the old one and replaces it only when the notebook ran to the end, so a failed
    recording loses nothing, and the other notebooks are still recorded. A notebook that makes no chat
    call gets no cassette. What a failed run recorded is kept as ``.cassette.jsonl.partial``; with
    ``keep``, a run sends only the requests that neither that file nor the current cassette answers (for
    a notebook that failed late, or whose requests changed in one place)."""
    from aie import cassette as cas, config

    done, failed = [], []

    def run(env: dict[str, str]) -> None:
        for nb in find_notebooks(paths):
            target = cassette_path(nb)
            fresh = target.with_name(target.name + ".new")
            partial = target.with_name(target.name + ".partial")
            fresh.unlink(missing_ok=True)
            run_env = dict(env, AIE_RECORD="1", AIE_CASSETTE_FILE=str(fresh.resolve()))
            if keep:
                run_env["AIE_CASSETTE_REUSE"] = os.pathsep.join(str(p.resolve()) for p in (target, partial) if p.exists())
            try:
                took = execute(nb, timeout=None, env=run_env, save=False)
            except CellFailed as e:  # keep the old cassette and what this run recorded; go on with the next notebook
                if fresh.exists():
                    os.replace(fresh, partial)
                log(f"FAILED {nb}: {' '.join(str(e).split())[:300]}", flush=True)
                failed.append((nb, str(e)))
                continue
            partial.unlink(missing_ok=True)
            n = len(cas.load([fresh])) if fresh.exists() else 0
            if n:
                os.replace(fresh, target)
            else:
                fresh.unlink(missing_ok=True)
                target.unlink(missing_ok=True)
            log(f"recorded {nb}: {n} responses in {took:.0f} s", flush=True)
            done.append((nb, n, took))

    if config.backend() in {"openai", "compatible"}:
        run({k: os.environ[k] for k in PROVIDER_VARS if os.environ.get(k) and not k.startswith("AIE_CASSETTE") and k != "AIE_RECORD"})
    else:
        with local_server() as env:
            run(env)
    if failed:
        raise CellFailed(f"{len(failed)} notebook(s) failed while recording and kept their old cassettes: "
                         + "; ".join(str(nb) for nb, _ in failed))
    return done


def test_real(paths: list[str] | None = None, log=print) -> list[tuple[Path, str]]:
    """Execute each notebook live against the local LLM served over HTTP (``python -m aie serve``).

    Cassettes are off and outputs are neither compared nor saved: this checks that the course's code
    runs against a real OpenAI-compatible server. Returns (notebook, error) for each failure."""
    failures = []
    with local_server() as env:
        for nb in find_notebooks(paths):
            try:
                took = execute(nb, timeout=None, env=env, save=False)
                log(f"ok     {nb} ({took:.0f} s)", flush=True)
            except Exception as e:  # a cell raised: report it and go on with the next notebook
                lines = str(e).strip().splitlines()
                msg = f"{type(e).__name__}: {' | '.join(lines[-3:])[:400]}"
                log(f"FAILED {nb}: {msg}", flush=True)
                failures.append((nb, msg))
    return failures


def start_server(backend: str, port: int = 0, seconds: float = 180):
    """``python -m aie serve`` with ``backend`` on 127.0.0.1 in a subprocess, provider keys left out of its
    environment; returns ``(process, base_url)`` once it answers, or stops it and raises with its log."""
    import subprocess
    import sys
    import tempfile

    from aie.retrieval import free_port

    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS}
    env["AIE_BACKEND"] = backend
    log_file = tempfile.NamedTemporaryFile("w+", prefix="aie-serve-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "aie", "serve", "--port", str(port)], env=env,
                               stdout=log_file, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for(base, process, log_file.name, seconds=seconds)
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    return process, base


@contextlib.contextmanager
def local_server(port: int = 0):
    """Serve the local LLM on 127.0.0.1 in a subprocess; yield the variables that point a notebook at it."""
    from aie import localllm

    localllm.generator()  # fail here, with the install hint, rather than inside the first notebook
    server, base = start_server("local-llm", port)
    try:
        model_id = localllm.selected().id
        yield {"OPENAI_BASE_URL": base, "OPENAI_API_KEY": "not-needed", "AIE_CHAT_MODEL": model_id,
               "AIE_SMALL_MODEL": model_id, "AIE_EMBEDDING_MODEL": "aie-offline-minilm", "AIE_TIMEOUT": "900"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(base: str, server, log_path: str, seconds: float = 180) -> None:
    import httpx2 as httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`python -m aie serve` exited early: {Path(log_path).read_text()[-2000:]}")
        try:
            if httpx.get(base + "/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the local server at {base} did not answer within {seconds:.0f} s")


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
