"""Grade one submitted notebook: ``python -m aie.grade_run SPEC.json`` (started by :mod:`aie.grade`).

It runs in a process of its own, in a scratch folder, with an environment that holds no keys, so a
notebook that hangs, floods its output or kills its kernel costs only its own grade. The student's
cells run top to bottom with errors allowed and a time limit per cell. Then grading cells are
appended and run in the same kernel: each evaluates one exercise's answer expression (read from
the master notebook) and calls that exercise's checker from a fresh import of the checker modules,
so a checker cell that was deleted, rewritten to print "✅", or a checker replaced by the notebook
changes nothing. Each grading cell prints one line that starts with a random token the notebook's
cells never saw; only those lines are read.

The spec (JSON): notebook, exercises (label, module, checker, answer), cell_timeout, output_cap,
max_bytes, token, result (where to write the result JSON), executed (where to save the run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Fresh copies of aie.check and the checker modules, put in sys.modules only while they load, so
# that whatever the notebook did to the imported ones (REGISTRY["x"] = ...) does not reach grading.
SETUP = '''\
def _aie_grader_registry(modules):
    import importlib.util, sys
    names = ["aie.check", *modules]
    saved = {name: sys.modules.get(name) for name in names}
    try:
        for name in names:
            spec = importlib.util.find_spec(name)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        return dict(sys.modules["aie.check"].REGISTRY)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
_aie_grader_checkers = _aie_grader_registry(__MODULES__)
del _aie_grader_registry
'''

CHECK = '''\
def _aie_grade_one():
    import json
    result = {"label": __LABEL__}
    try:
        answer = eval(__ANSWER__, globals())
    except NameError as e:
        result["error"] = "answer `" + __ANSWER__ + f"` is not defined ({e})"
    except Exception as e:
        result["error"] = "evaluating `" + __ANSWER__ + f"` raised {type(e).__name__}: {e}"
    else:
        feedback = _aie_grader_checkers[__CHECKER__](answer)
        result["passed"], result["message"] = bool(feedback.passed), str(feedback.message)
    print(__TOKEN__, json.dumps(result))
_aie_grade_one()
'''


def _fill(template: str, **values: str) -> str:
    """The template with each __NAME__ replaced by a Python literal of its value (never by raw text)."""
    for name, value in values.items():
        template = template.replace(f"__{name}__", repr(value))
    return template


def _load(path: Path, max_bytes: int):
    """The submission as a v4 notebook, or a ValueError that says what the file is instead."""
    import nbformat

    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"not graded: {size:,} bytes, more than the {max_bytes:,} a notebook may have")
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError("not a notebook: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not a notebook: the file is not UTF-8 text (expected Jupyter notebook JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a notebook: invalid JSON at line {e.lineno} column {e.colno} ({e.msg}); expected Jupyter notebook JSON") from None
    if not isinstance(data, dict) or "nbformat" not in data or ("cells" not in data and "worksheets" not in data):
        raise ValueError("not a notebook: the JSON has no 'nbformat' and 'cells'")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:
        raise ValueError(f"not a notebook nbformat can read ({type(e).__name__}: {e})") from None
    return nb


class _Capped:
    """Keeps at most ``cap`` characters of each cell's output (but always the grading lines), and
    notes what it dropped: a notebook that prints megabytes must not fill the grader's memory."""

    def __init__(self, cap: int, token: str):
        self.cap, self.token = cap, token
        self.kept: dict[int, int] = {}
        self.dropped: dict[int, int] = {}

    def allow(self, msg: dict, cell_index: int) -> bool:
        content = msg.get("content", {})
        if msg.get("msg_type") == "stream" and self.token in str(content.get("text", "")):
            return True
        size = len(json.dumps(content, default=str))
        if self.kept.get(cell_index, 0) + size > self.cap:
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
            return False
        self.kept[cell_index] = self.kept.get(cell_index, 0) + size
        return True


def run(spec: dict) -> dict:
    """Execute the notebook, then grade it in its kernel; return {"results": [...], "problems": [...]}."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError
    from nbformat.v4 import new_code_cell, new_output

    path = Path(spec["notebook"])
    try:
        nb = _load(path, spec["max_bytes"])
    except ValueError as e:
        return {"error": str(e), "results": [], "problems": []}
    nb.cells = [c for c in nb.cells if c.cell_type in ("code", "markdown", "raw")]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    first = len(nb.cells)
    modules = sorted({ex["module"] for ex in spec["exercises"]})
    nb.cells.append(new_code_cell(SETUP.replace("__MODULES__", repr(modules)), metadata={"aie_grader": True}))
    for ex in spec["exercises"]:
        nb.cells.append(new_code_cell(_fill(CHECK, LABEL=ex["label"], ANSWER=ex["answer"], CHECKER=ex["checker"], TOKEN=spec["token"]),
                                      metadata={"aie_grader": True}))
    cap = _Capped(spec["output_cap"], spec["token"])

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            return super().output(outs, msg, display_id, cell_index) if cap.allow(msg, cell_index) else None

    timeout = spec["cell_timeout"]
    client = Client(nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                    error_on_timeout={"ename": "Timeout", "evalue": f"the cell was stopped after {timeout} s", "traceback": []},
                    record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    died = None
    try:
        client.execute()
    except DeadKernelError as e:
        died = f"the kernel died while running the notebook ({e}); did a cell call os._exit() or use all the memory?"
    except Exception as e:  # nbclient could not run it at all (a broken cell structure, a kernel that will not start)
        died = f"could not run the notebook: {type(e).__name__}: {e}"

    problems, results = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if index < first:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") in ("KeyboardInterrupt", "Timeout"):
                    problems.append(f"cell {index + 1} was stopped after {timeout} s")
                elif out.get("output_type") == "error":
                    problems.append(f"cell {index + 1} raised {out.get('ename')}: {str(out.get('evalue'))[:200]}")
            if index in cap.dropped:
                problems.append(f"cell {index + 1} printed too much: {cap.dropped[index]:,} characters of output dropped")
                cell.outputs.append(new_output("stream", name="stderr",
                                               text=f"[grader: {cap.dropped[index]:,} characters of output dropped]\n"))
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                results.append({"grader_error": f"{out.get('ename')}: {str(out.get('evalue'))[:300]}", "index": index - first - 1})
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                for line in "".join(out.get("text", "")).splitlines():
                    if line.startswith(spec["token"] + " "):
                        try:
                            results.append(json.loads(line[len(spec["token"]) + 1:]))
                        except json.JSONDecodeError:
                            pass  # a mangled line is no result; the exercise is reported as ungraded
    if died:
        problems.append(died)
    problems = list(dict.fromkeys(problems))  # a stopped cell can report its timeout twice
    nb.cells = nb.cells[:first]
    if spec.get("executed"):
        nbformat.write(nb, spec["executed"])
    return {"results": results, "problems": problems}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    try:
        outcome = run(spec)
    except Exception as e:  # never leave the grader without an answer
        outcome = {"error": f"the grader failed on this notebook: {type(e).__name__}: {e}", "results": [], "problems": []}
    Path(spec["result"]).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
