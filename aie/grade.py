"""Grade a class: ``python -m aie grade SUBMISSIONS/ --out grades.csv``.

Layout of SUBMISSIONS (both may be mixed):

- ``SUBMISSIONS/<student>/<notebook>.ipynb`` (any depth below the student's folder, so a student can
  hand in the whole ``student/notebooks/...`` tree that ``python -m aie student`` wrote);
- ``SUBMISSIONS/<student>__<notebook>.ipynb`` (a flat folder, as an LMS download often is).

A submission is matched to the instructor's notebook of the same name (``getting-started.ipynb``;
case and "-Copy1" or " (1)" suffixes are ignored). Every submission runs in its own process (see
:mod:`aie.grade_run`) in a scratch copy of its notebook's folder (``prompts/``, cassettes), with the
offline backend and no keys in its environment, and is graded by the course's own checkers
(``aie.check.REGISTRY``) called on the answers in its kernel. Nothing a student hands in can stop the
run: each student × exercise gets a row that says passed, the hint, or why it could not be graded.
"""

from __future__ import annotations

import collections
import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from aie.exercise_map import Exercise, course_exercises
from aie.notebooks import DETERMINISTIC_ENV

# The only variables a graded notebook's process sees: no provider keys, no AIE_* settings, nothing
# else from the instructor's shell. (A student's code can still read files the instructor can read:
# grade untrusted work in an account or container with nothing secret in it.)
KEEP_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
            "TEMP", "TMP", "SYSTEMROOT", "VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")
NOT_GRADED_NOTEBOOK = ""  # the exercise column of a row about a file that is no course notebook
COPY_SUFFIX = re.compile(r"(-Copy\d+| \(\d+\)|_copy\d*)$", re.I)
STUDENT_SEPARATOR = "__"
UNKNOWN_STUDENT = "(unknown)"


class GradeError(Exception):
    """A mistake in how the grader was called (a missing folder, no submissions): one line for the user."""


@dataclass(frozen=True)
class Settings:
    timeout: int = 300  # seconds for one notebook, everything included; then its process is killed
    cell_timeout: int = 60  # seconds for one cell (and one check); then the kernel is interrupted
    output_cap: int = 100_000  # characters of output kept per cell
    max_bytes: int = 20_000_000  # a bigger "notebook" is not run
    jobs: int = 1  # notebooks graded at the same time


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    notebook: str  # the course notebook's name, or "" when the file matches none
    problem: str = ""  # why it is not graded, when it is not


@dataclass
class Row:
    student: str
    notebook: str
    exercise: str
    checker: str
    passed: bool
    hint: str  # the checker's feedback when the answer did not pass
    error: str  # why the exercise could not be graded at all
    notes: str  # what else went wrong in the notebook (cells that raised, output dropped)


# --- finding the submissions --------------------------------------------------------------------

def _course_name(stem: str, known: set[str]) -> str:
    """The course notebook a file name stands for ("Getting-Started-Copy1" → "getting-started"), or ""."""
    stem = COPY_SUFFIX.sub("", stem.strip()).lower()
    return next((name for name in known if name.lower() == stem), "")


def _unknown(known: set[str]) -> str:
    names = sorted(known)
    examples = ", ".join(f"{n}.ipynb" for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return f"not a notebook of this course (expected the name of one: {examples})"


def find_submissions(folder: Path, known: set[str]) -> list[Submission]:
    """Every submitted notebook under ``folder``, with its student and its course notebook."""
    folder = Path(folder)
    if not folder.exists():
        raise GradeError(f"{folder}: no such folder (expected {folder}/<student>/<notebook>.ipynb)")
    if not folder.is_dir():
        raise GradeError(f"{folder}: not a folder (expected a folder of submissions, {folder}/<student>/<notebook>.ipynb)")
    found: list[Submission] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "__MACOSX")):
            continue
        if entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb") if p.is_file()
                               and not any(part.startswith(".") for part in p.relative_to(entry).parts))
            if not notebooks:
                others = sorted(p.name for p in entry.rglob("*") if p.is_file())[:3]
                found.append(Submission(entry.name, entry, "", f"no .ipynb file in {entry.name}/"
                                        + (f" (found {', '.join(others)})" if others else " (the folder is empty)")))
            for path in notebooks:
                name = _course_name(path.stem, known)
                found.append(Submission(entry.name, path, name, "" if name else
                                        f"{path.relative_to(folder)}: {_unknown(known)}"))
        elif entry.suffix == ".ipynb":
            student, sep, stem = entry.stem.partition(STUDENT_SEPARATOR)
            if not sep or not student:
                found.append(Submission(UNKNOWN_STUDENT, entry, "", f"{entry.name}: whose is it? Name it <student>__<notebook>.ipynb "
                                        "or put it in a folder named after the student"))
                continue
            name = _course_name(stem, known)
            found.append(Submission(student, entry, name, "" if name else
                                    f"{entry.name}: {_unknown(known)}"))
    seen: dict[tuple[str, str], Path] = {}
    for i, sub in enumerate(found):
        if sub.notebook and not sub.problem:
            key = (sub.student, sub.notebook)
            if key in seen:
                found[i] = Submission(sub.student, sub.path, sub.notebook,
                                      f"{sub.path.relative_to(folder)}: a second copy of {sub.notebook} (graded: {seen[key].relative_to(folder)})")
            else:
                seen[key] = sub.path
    return found


# --- grading one submission ---------------------------------------------------------------------

def grading_env() -> dict[str, str]:
    """The environment of a graded notebook: a short allowlist, the course package first on the path."""
    import aie

    env = {k: v for k, v in os.environ.items() if k in KEEP_ENV or k.startswith("LC_")}
    package_root = str(Path(aie.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
    env.update(DETERMINISTIC_ENV)
    return env


def _kill_tree(pid: int) -> None:
    """Kill a process and everything it started (its kernel runs in a session of its own)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def run_notebook(sub: Submission, master_folder: Path, exercises: list[Exercise], settings: Settings,
                 executed: Path | None = None) -> dict:
    """Run one submission in its own process and scratch folder; the worker's outcome, or why there is none."""
    with tempfile.TemporaryDirectory(prefix="aie-grade-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(master_folder, work, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", ".chroma"))
        notebook = work / f"{sub.notebook}.ipynb"
        shutil.copyfile(sub.path, notebook)
        spec = {"notebook": str(notebook), "cell_timeout": settings.cell_timeout, "output_cap": settings.output_cap,
                "max_bytes": settings.max_bytes, "token": "AIE-GRADE-" + secrets.token_hex(16),
                "result": str(Path(tmp) / "result.json"), "executed": str(Path(tmp) / "executed.ipynb"),
                "exercises": [{"label": e.label, "module": e.module, "checker": e.checker, "answer": e.answer} for e in exercises]}
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        log = Path(tmp) / "log.txt"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "aie.grade_run", str(Path(tmp) / "spec.json")], cwd=work,
                                    env=grading_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                proc.wait(timeout=settings.timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc.pid)
                proc.wait()
                return {"error": f"timed out: the notebook ran for more than {settings.timeout} s and was stopped", "results": [], "problems": []}
        result = Path(spec["result"])
        if not result.exists():
            tail = log.read_bytes()[-500:].decode("utf-8", "replace").strip().splitlines()
            return {"error": f"the grader's process ended without a result (exit {proc.returncode}): {tail[-1] if tail else 'no output'}",
                    "results": [], "problems": []}
        outcome = json.loads(result.read_text())
        if executed is not None and Path(spec["executed"]).exists():
            executed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spec["executed"], executed)
        return outcome


def rows_for(sub: Submission, exercises: list[Exercise], outcome: dict) -> list[Row]:
    """One row per exercise of the notebook, from the worker's outcome."""
    notes = "; ".join(outcome.get("problems", []))[:500]
    by_label = {r["label"]: r for r in outcome.get("results", []) if "label" in r}
    grader_errors = {r["index"]: r["grader_error"] for r in outcome.get("results", []) if "grader_error" in r}
    rows = []
    for i, ex in enumerate(exercises):
        row = Row(sub.student, sub.notebook, ex.label, ex.checker, False, "", "", notes)
        result = by_label.get(ex.label)
        if outcome.get("error"):
            row.error = outcome["error"]
        elif result and "passed" in result:
            row.passed = result["passed"]
            row.hint = "" if row.passed else result["message"]
        elif result:
            row.error = result["error"]
        elif i in grader_errors or -1 in grader_errors:
            error = grader_errors.get(i) or grader_errors[-1]
            row.error = ("the check was stopped: checking the answer took longer than the cell time limit" if error.startswith(("Timeout", "KeyboardInterrupt"))
                         else f"checking the answer raised {error}")
        else:
            row.error = "no result from the grading cells (see notes)"
        rows.append(row)
    return rows


# --- grading a class ------------------------------------------------------------------------------

@dataclass
class Grades:
    rows: list[Row]
    by_student: list[dict]
    by_exercise: list[dict]
    files: list[Path]


def summarise(rows: list[Row], exercises: list[Exercise]) -> tuple[list[dict], list[dict]]:
    """Per student (score) and per exercise (pass rate and the most frequent hint: what to re-teach)."""
    graded = [r for r in rows if r.exercise]
    students = sorted({r.student for r in rows})
    by_student = []
    for s in students:
        mine = [r for r in graded if r.student == s]
        n_passed = sum(r.passed for r in mine)
        by_student.append({"student": s, "passed": n_passed, "exercises": len(mine),
                           "score": round(100 * n_passed / len(mine), 1) if mine else 0.0,
                           "not_graded": sum(bool(r.error) for r in mine),
                           "problems": sum(1 for r in rows if r.student == s and not r.exercise)})
    by_exercise = []
    for ex in exercises:
        mine = [r for r in graded if r.exercise == ex.label]
        if not mine:
            continue
        hints = collections.Counter(r.hint for r in mine if r.hint)
        n_passed = sum(r.passed for r in mine)
        by_exercise.append({"exercise": ex.label, "notebook": ex.notebook_name, "passed": n_passed, "students": len(mine),
                            "pass_rate": round(100 * n_passed / len(mine), 1), "not_graded": sum(bool(r.error) for r in mine),
                            "top_hint": hints.most_common(1)[0][0] if hints else ""})
    return by_student, by_exercise


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def pass_rate_chart(by_exercise: list[dict], path: Path, source: str, n_students: int) -> Path:
    """Bar chart of pass rates, lowest first: the top bars are what to re-teach."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aie import plot

    plot.style()
    data = sorted(by_exercise, key=lambda e: (e["pass_rate"], e["exercise"]), reverse=True)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.35 * max(len(data), 1)))
    colours = ["#C44E52" if e["pass_rate"] < 50 else "#E07B39" if e["pass_rate"] < 80 else "#5AA469" for e in data]
    ax.barh([e["exercise"] for e in data], [e["pass_rate"] for e in data], color=colours)
    for y, e in enumerate(data):
        ax.text(min(e["pass_rate"], 100) + 1, y, f"{e['passed']}/{e['students']}", va="center", fontsize=8)
    ax.set_xlim(0, 110)
    plot.percent_axis(ax, "x")
    ax.set_title("Students whose answer passed, per exercise (re-teach from the top)")
    plot.caption(ax, source, f"{n_students} students")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def grade(submissions: Path, out: Path, masters: list[str] | None = None, settings: Settings = Settings(),
          chart: Path | None = None, log=print) -> Grades:
    """Grade every submission under ``submissions``; write the rows to ``out`` and the summaries beside it.

    Files: ``out`` (student × exercise), ``<stem>_by_student.csv``, ``<stem>_by_exercise.csv``,
    ``<stem>_pass_rates.png`` (or ``chart``) and ``<stem>_executed/<student>/<notebook>.ipynb``
    (each run as the grader saw it, to read when a grade is disputed)."""
    try:
        exercises = course_exercises(masters)
    except (FileNotFoundError, ValueError) as e:
        raise GradeError(str(e)) from None
    by_notebook: dict[str, list[Exercise]] = collections.defaultdict(list)
    master_folder: dict[str, Path] = {}
    for ex in exercises:
        by_notebook[ex.notebook_name].append(ex)
    from aie.notebooks import find_notebooks

    for nb in find_notebooks(masters):
        master_folder[nb.stem] = nb.parent
        by_notebook.setdefault(nb.stem, [])
    subs = find_submissions(Path(submissions), set(master_folder))
    if not subs:
        raise GradeError(f"{submissions}: no submissions (expected {submissions}/<student>/<notebook>.ipynb "
                         f"or {submissions}/<student>{STUDENT_SEPARATOR}<notebook>.ipynb)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    executed_dir = out.with_name(out.stem + "_executed")
    shutil.rmtree(executed_dir, ignore_errors=True)

    to_run = [s for s in subs if s.notebook and not s.problem]
    assigned = [nb for nb in master_folder if any(s.notebook == nb for s in to_run)]
    students = sorted({s.student for s in subs})

    def one(sub: Submission) -> list[Row]:
        started = time.perf_counter()
        outcome = run_notebook(sub, master_folder[sub.notebook], by_notebook[sub.notebook], settings,
                               executed_dir / sub.student / f"{sub.notebook}.ipynb")
        rows = rows_for(sub, by_notebook[sub.notebook], outcome)
        status = outcome.get("error") or f"{sum(r.passed for r in rows)}/{len(rows)} passed"
        log(f"  {sub.student:<16} {sub.notebook:<32} {status} ({time.perf_counter() - started:.0f} s)")
        return rows

    log(f"grading {len(to_run)} notebooks of {len(students)} students ({settings.jobs} at a time)")
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        graded = list(pool.map(one, to_run))

    rows: list[Row] = [r for rs in graded for r in rs]
    for sub in subs:
        if sub.problem:
            rows.append(Row(sub.student, sub.notebook or sub.path.name, NOT_GRADED_NOTEBOOK, "", False, "", sub.problem, ""))
    handed_in = {(s.student, s.notebook) for s in to_run}
    for student in students:
        for nb in assigned if student != UNKNOWN_STUDENT else []:
            if (student, nb) not in handed_in:
                rows += [Row(student, nb, ex.label, ex.checker, False, "", "not submitted", "") for ex in by_notebook[nb]]
    order = {ex.label: i for i, ex in enumerate(exercises)}
    rows.sort(key=lambda r: (r.student, r.notebook, order.get(r.exercise, -1)))

    assigned_exercises = [ex for ex in exercises if ex.notebook_name in assigned]
    by_student, by_exercise = summarise(rows, assigned_exercises)
    files = [out, out.with_name(out.stem + "_by_student.csv"), out.with_name(out.stem + "_by_exercise.csv")]
    _write_csv(files[0], [asdict(r) for r in rows], [f.name for f in fields(Row)])
    _write_csv(files[1], by_student, ["student", "passed", "exercises", "score", "not_graded", "problems"])
    _write_csv(files[2], by_exercise, ["exercise", "notebook", "passed", "students", "pass_rate", "not_graded", "top_hint"])
    if by_exercise:
        files.append(pass_rate_chart(by_exercise, Path(chart) if chart else out.with_name(out.stem + "_pass_rates.png"),
                                     f"python -m aie grade {Path(submissions).name}/", len(students)))
    return Grades(rows, by_student, by_exercise, files)


def text_table(rows: list[dict], columns: list[str], width: int = 60) -> str:
    """A plain aligned table for the terminal."""
    cells = [[str(r.get(c, ""))[:width] for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
