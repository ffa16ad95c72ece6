"""Command line: ``python -m aie doctor | serve | execute | student | grade | exercises``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aie", description="The course's command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="which backend answers, which models, whether the key works, how to switch")
    p_serve = sub.add_parser("serve", help="serve the offline backend as an OpenAI-compatible HTTP server on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8765)
    p_serve.add_argument("--host", default="127.0.0.1")
    p_exec = sub.add_parser("execute", help="execute notebooks in place with the offline backend")
    p_exec.add_argument("paths", nargs="*")
    p_record = sub.add_parser("record", help="re-record notebooks' cassettes from a real model (the local LLM by default)")
    p_record.add_argument("paths", nargs="*")
    p_real = sub.add_parser("test-real", help="execute notebooks live against the local LLM over HTTP (no cassettes)")
    p_real.add_argument("paths", nargs="*")
    p_student = sub.add_parser("student", help="write student copies of the notebooks with solutions removed")
    p_student.add_argument("--out", default="student")
    p_student.add_argument("paths", nargs="*")
    p_grade = sub.add_parser("grade", help="grade a folder of submitted notebooks with the course's checkers")
    p_grade.add_argument("submissions", help="SUBMISSIONS/<student>/<notebook>.ipynb or SUBMISSIONS/<student>__<notebook>.ipynb")
    p_grade.add_argument("--out", default="grades.csv", help="the student x exercise table (summaries and chart go beside it)")
    p_grade.add_argument("--chart", default=None, help="where to write the pass-rate chart (default: beside --out)")
    p_grade.add_argument("--master", action="append", default=None, help="the instructor's notebooks (default: notebooks/)")
    p_grade.add_argument("--timeout", type=int, default=300, help="seconds for one notebook before it is stopped")
    p_grade.add_argument("--cell-timeout", type=int, default=60, help="seconds for one cell before it is interrupted")
    p_grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time")
    p_ex = sub.add_parser("exercises", help="the table of exercises (id, step, checker, minutes) read from the notebooks")
    p_ex.add_argument("--update", default=None, help="rewrite the table between the markers in this page")
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from aie.doctor import report

        text, ok = report()
        print(text)
        return 0 if ok else 1
    if args.command == "serve":
        from aie.offline.server import serve

        serve(args.host, args.port)
        return 0
    if args.command == "execute":
        from aie.notebooks import execute, find_notebooks

        for nb in find_notebooks(args.paths):
            took = execute(nb)
            print(f"executed {nb} in {took:.1f} s", flush=True)
        return 0
    if args.command == "record":
        from aie.notebooks import record

        start = time.perf_counter()
        done = record(args.paths)
        print(f"recorded {sum(n for _, n, _ in done)} responses for {len(done)} notebooks in {time.perf_counter() - start:.0f} s")
        return 0
    if args.command == "test-real":
        from aie.notebooks import find_notebooks, test_real

        start = time.perf_counter()
        failures = test_real(args.paths)
        total = len(find_notebooks(args.paths))
        print(f"{total - len(failures)} passed, {len(failures)} failed in {time.perf_counter() - start:.0f} s")
        return 1 if failures else 0
    if args.command == "student":
        from aie.notebooks import write_student_copies

        for target, n in write_student_copies(Path(args.out), args.paths):
            print(f"{target}: {n} solution cells removed")
        return 0
    if args.command == "grade":
        from aie.grade import GradeError, Settings, grade, text_table

        settings = Settings(timeout=args.timeout, cell_timeout=min(args.cell_timeout, args.timeout), jobs=args.jobs)
        try:
            result = grade(Path(args.submissions), Path(args.out), args.master, settings, args.chart)
        except GradeError as e:
            print(f"python -m aie grade: {e}", file=sys.stderr)
            return 2
        print("\nby student\n" + text_table(result.by_student, ["student", "passed", "exercises", "score", "not_graded", "problems"]))
        print("\nby exercise (lowest pass rate first)\n" + text_table(
            sorted(result.by_exercise, key=lambda e: e["pass_rate"]), ["exercise", "passed", "students", "pass_rate", "top_hint"]))
        print("\nwrote " + ", ".join(str(f) for f in result.files))
        return 0
    if args.command == "exercises":
        from aie.exercise_map import course_exercises, markdown_table, update_page

        table = markdown_table(course_exercises())
        if args.update:
            update_page(Path(args.update), table)
            print(f"updated the exercise table in {args.update}")
        else:
            print(table)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
