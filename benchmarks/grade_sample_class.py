"""A sample class for the grader: ``python benchmarks/grade_sample_class.py [OUT_DIR]``.

Writes student copies of two short notebooks, hands in work for 24 students (most right or with the
typical mistakes each exercise's hints name, drawn with a fixed seed, plus hostile and broken
submissions), grades them with ``aie.grade`` and prints the summaries and how long it took. Use it to
see what an instructor gets, and to measure grading speed on a machine.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from aie.grade import Settings, grade, text_table
from aie.notebooks import REPO, SOLUTION_END, SOLUTION_START, write_student_copies

NOTEBOOKS = [REPO / "notebooks" / "00-start" / "getting-started.ipynb", REPO / "notebooks" / "survey" / "02-how-teams-build.ipynb"]

# exercise answer → (share of the class that gets it right, typical wrong answers)
WRONG = {
    "my_messages": (0.85, ['my_messages = [{"role": "user", "content": "How do I reverse a list?"}, '
                           '{"role": "system", "content": "You are a patient Python tutor."}]',
                           'my_messages = [{"role": "user", "content": "How do I reverse a list?"}]']),
    "lever_ranking": (0.5, ['lever_ranking = ["A", "B", "C"]', 'lever_ranking = ["C", "A", "B"]']),
    "my_plan": (0.6, ['my_plan = {"task": "Answer questions", "input": "a question", "output": "an answer", '
                      '"model": "gpt-4.1-mini", "requests_per_day": 300, "input_tokens": 2500, "output_tokens": 200, "usd_per_day": 0.4}',
                      'my_plan = {"task": "Answer questions", "input": "a question", "output": "an answer", "check": "it looks good", '
                      '"model": "gpt-4.1-mini", "requests_per_day": 300, "input_tokens": 2500, "output_tokens": 200, "usd_per_day": 4.0}']),
    "build_verdicts": (0.45, ['build_verdicts = {"A": "supported", "B": "supported", "C": "contradicted"}',
                              'build_verdicts = {"A": "contradicted", "B": "contradicted", "C": "supported"}']),
    "cost_verdicts": (0.55, ['cost_verdicts = {"A": "supported", "B": "supported", "C": "supported", "D": "supported"}',
                             'cost_verdicts = {"A": "supported", "B": "contradicted", "C": "supported", "D": "contradicted"}']),
}
HOSTILE = {
    "loops": "while True:\n    pass",
    "env": "import os\nprint(dict(os.environ))",
    "floods": "print('spam ' * 2_000_000)",
    "raises": "raise RuntimeError('I gave up here')",
}


def solutions(master: Path) -> dict[str, str]:
    nb, found, label = nbformat.read(master, as_version=4), {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith(SOLUTION_START):
            label = cell.source.split()[1]
        elif cell.cell_type == "markdown" and SOLUTION_END in cell.source:
            label = None
        elif label and cell.cell_type == "code":
            found[label] = cell.source
    return found


def without_calls(source: str) -> str:
    """The solution's code without its top-level print(...) and ex.check_...(...) statements (any number of lines)."""
    tree = ast.parse(source)
    keep = [node for node in tree.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                    and ast.unparse(node.value.func).startswith(("print", "ex.check_")))]
    return "\n".join(ast.get_source_segment(source, node) for node in keep)


def fill(copy: Path, rng: random.Random, right: dict[str, str], hostile: str | None) -> nbformat.NotebookNode:
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        for name, (p_right, wrong) in WRONG.items():
            if cell.cell_type == "code" and re.search(rf"^{name} = \.\.\.", cell.source, re.M):
                keep = [line for line in cell.source.splitlines() if line.startswith(("from aie.exercises import", "ex.check_"))]
                code = right[name] if rng.random() < p_right else rng.choice(wrong)
                cell.source = "\n".join(keep[:-1] + [code, keep[-1]])
    if hostile:
        nb.cells.insert(3, new_code_cell(HOSTILE[hostile]))
    return nb


def make_class(folder: Path, n_students: int = 24, seed: int = 7) -> None:
    rng = random.Random(seed)
    copies = {t.stem: t for t, _ in write_student_copies(folder / "_student_copies", [str(p) for p in NOTEBOOKS])}
    sol = {**solutions(NOTEBOOKS[0]), **solutions(NOTEBOOKS[1])}
    right = {"my_messages": sol["start-ex-messages"], "lever_ranking": sol["start-ex-levers"], "my_plan": sol["start-ex-plan"],
             "build_verdicts": sol["survey-build-claims"], "cost_verdicts": sol["survey-build-cost-claims"]}
    right = {k: without_calls(v) for k, v in right.items()}
    subs = folder / "submissions"
    hostile = list(HOSTILE) + [None] * (n_students - len(HOSTILE))
    for i in range(n_students):
        student = f"student{i + 1:02d}"
        for name, copy in copies.items():
            if i == 5 and name == "02-how-teams-build":
                continue  # did not hand it in
            nb = fill(copy, rng, right, hostile[i] if name == "getting-started" else None)
            target = subs / student / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            if i == 6 and name == "02-how-teams-build":  # an old notebook format
                nbformat.write(nbformat.convert(nb, 3), str(target), version=3)
            elif i == 7 and name == "getting-started":  # broken JSON (a truncated upload)
                target.write_text(json.dumps(nb)[:5000])
            elif i == 8 and name == "getting-started":  # a text file renamed
                target.write_text("my answers: 42, 0.86, 14.3\n")
            elif i == 9 and name == "getting-started":  # another course's notebook
                nbformat.write(new_notebook(cells=[new_code_cell("print('week 3: loops')")]), str(target))
            else:
                nbformat.write(nb, str(target))
    (subs / "student99__notes.txt.ipynb").write_text("?")  # flat, no course notebook of that name


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else Path("grade-sample")
    out_dir.mkdir(parents=True, exist_ok=True)
    make_class(out_dir)
    started = time.perf_counter()
    result = grade(out_dir / "submissions", out_dir / "grades.csv", [str(p) for p in NOTEBOOKS],
                   Settings(jobs=2, cell_timeout=20, timeout=180), chart=out_dir / "pass_rates.png")
    took = time.perf_counter() - started
    graded = sum(1 for r in result.rows if r.exercise)
    print(f"\n{len(result.by_student)} students, {graded} student x exercise rows, graded in {took:.0f} s (2 at a time)\n")
    print(text_table(result.by_student, ["student", "passed", "exercises", "score", "not_graded", "problems"]))
    print("\nby exercise (lowest pass rate first)")
    print(text_table(sorted(result.by_exercise, key=lambda e: e["pass_rate"]), ["exercise", "passed", "students", "pass_rate", "top_hint"], 70))
    print("\n" + "\n".join(str(f) for f in result.files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
