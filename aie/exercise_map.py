"""Where each exercise lives, read from the instructor's notebooks.

The grader and the instructor page need to know, for every exercise: its id (the ``:label:`` of its
``{exercise}`` box), its notebook, the checker that grades it and the expression the learner cell
passes to that checker (``ex.check_fill(fill)`` → ``fill``). All of it is already in the notebooks,
so it is read from them rather than kept in a second list that could drift.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from aie.notebooks import REPO, SOLUTION_START, find_notebooks

LABEL = re.compile(r":::\{exercise\}[^\n]*\n(?:[^\n]*\n)*?:label:\s*(\S+)")
MINUTES_FUNCTION = 15  # the learner writes a function
MINUTES_VALUE = 10  # the learner computes or writes one value
MINUTES_OPEN = 30  # an open-ended exercise ("**Open-ended.**" in its box): design, run, write up
OPEN_MARK = "**Open-ended.**"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a master notebook, and how to grade it."""

    label: str  # the id learners see, e.g. "prompting-registry-ex-fill"
    notebook: str  # the notebook's path in the repository, e.g. "notebooks/02-prompting/05-prompt-management.ipynb"
    module: str  # the module that holds the checker, e.g. "aie.exercises.prompting"
    function: str  # the checker's name in that module, e.g. "check_fill"
    checker: str  # the checker's id in aie.check.REGISTRY
    answer: str  # the expression the learner cell passes to the checker
    minutes: int  # estimated time for a learner

    @property
    def step(self) -> str:
        """The roadmap step from the notebook's folder: "01-models" → "1 models", "survey" → "survey"."""
        folder = Path(self.notebook).parent.name
        number, _, name = folder.partition("-")
        return f"{int(number)} {name}" if number.isdigit() and name else folder

    @property
    def notebook_name(self) -> str:
        return Path(self.notebook).stem


def _code(source: str) -> ast.Module | None:
    """A code cell as Python, with IPython's ``!shell`` and ``%magic`` lines blanked; None if it is not Python."""
    lines = ["" if line.lstrip().startswith(("!", "%")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _exercise_modules(tree: ast.Module) -> dict[str, str]:
    """Names bound to an ``aie.exercises`` module: ``from aie.exercises import survey as ex`` → {"ex": "aie.exercises.survey"}."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "aie.exercises":
            for alias in node.names:
                found[alias.asname or alias.name] = f"aie.exercises.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aie.exercises.") and alias.asname:
                    found[alias.asname] = alias.name
    return found


def _checker_call(tree: ast.Module, modules: dict[str, str]) -> tuple[str, str, str] | None:
    """The first ``<alias>.check_xxx(<answer>)`` call: (module, function, answer expression)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                and node.func.value.id in modules and node.func.attr.startswith("check_") and len(node.args) == 1):
            return modules[node.func.value.id], node.func.attr, ast.unparse(node.args[0])
    return None


def exercises_in(path: Path) -> list[Exercise]:
    """The exercises of one master notebook, in order. Raises ValueError naming the notebook and the
    exercise when an ``{exercise}`` box is not followed by a learner cell that calls a checker."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    rel = str(path.resolve().relative_to(REPO)) if path.resolve().is_relative_to(REPO) else path.name
    modules: dict[str, str] = {}
    found: list[Exercise] = []
    pending: str | None = None
    open_ended = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if pending and cell.source.lstrip().startswith(SOLUTION_START):
                raise ValueError(f"{path}: exercise {pending!r} has no learner cell calling a checker before its solution")
            labels = LABEL.findall(cell.source)
            if labels:
                pending = labels[-1]
                open_ended = OPEN_MARK in cell.source
            continue
        if cell.cell_type != "code" or (tree := _code(cell.source)) is None:
            continue
        modules.update(_exercise_modules(tree))
        if pending and (call := _checker_call(tree, modules)):
            module, function, answer = call
            checker = getattr(importlib.import_module(module), function).exercise_id
            defines_function = any(isinstance(n, ast.FunctionDef) for n in tree.body)
            minutes = MINUTES_OPEN if open_ended else MINUTES_FUNCTION if defines_function else MINUTES_VALUE
            found.append(Exercise(pending, rel, module, function, checker, answer, minutes))
            pending = None
    if pending:
        raise ValueError(f"{path}: exercise {pending!r} has no learner cell calling a checker")
    return found


def course_exercises(paths: list[str] | None = None) -> list[Exercise]:
    """Every exercise in the master notebooks (default: the repository's notebooks/)."""
    return [ex for nb in find_notebooks(paths) for ex in exercises_in(nb)]


def markdown_table(exercises: list[Exercise]) -> str:
    """The instructor page's table: one row per exercise."""
    rows = ["| exercise id | step | notebook | checker | answer | minutes |", "|---|---|---|---|---|---|"]
    for ex in exercises:
        rows.append(f"| `{ex.label}` | {ex.step} | `{ex.notebook_name}` | `{ex.checker}` | `{ex.answer}` | {ex.minutes} |")
    return "\n".join(rows)


TABLE_START = "<!-- exercise table: generated by `python -m aie exercises --update book/instructors.md` -->"
TABLE_END = "<!-- end of exercise table -->"


def table_in(page: Path) -> str:
    """The exercise table stored in a page, between its markers."""
    text = Path(page).read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError(f"{page}: no exercise table markers ({TABLE_START} ... {TABLE_END})")
    return text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()


def update_page(page: Path, table: str) -> None:
    """Replace the table between the markers (the page's other text is left alone)."""
    text = Path(page).read_text(encoding="utf-8")
    table_in(page)  # the markers must be there
    before, rest = text.split(TABLE_START, 1)
    after = rest.split(TABLE_END, 1)[1]
    Path(page).write_text(f"{before}{TABLE_START}\n\n{table}\n\n{TABLE_END}{after}", encoding="utf-8")
