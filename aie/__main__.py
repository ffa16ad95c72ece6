"""Command line: ``python -m aie doctor | serve | execute | record | test-real | student | grade | exercises``.

A mistake the user can fix (a missing file, a bad port, a setting that cannot work) prints one line
to stderr and exits with status 2. A traceback means a bug in the course, so it appears only then,
or for any error with ``--debug``.
"""

from __future__ import annotations

import argparse
import errno
import sys
import time
from pathlib import Path

from aie.config import ConfigError
from aie.notebooks import CellFailed, NotebookError

USER_MISTAKE = 2  # exit status for a mistake in the command or the environment
FAILED = 1  # exit status when the command ran but what it ran failed (a notebook cell, a doctor check)
BIND_ERRORS = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL}


class UsageError(Exception):
    """A mistake the user can fix; the message says how. ``command`` names the (sub)command it is about."""

    def __init__(self, message: str, command: str | None = None):
        super().__init__(message)
        self.command = command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints the whole usage and exits; one line is clearer
        raise UsageError(f"{message} (see `{self.prog} --help`)", self.prog)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use 1 to 65535, or 0 for any free port") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number: use 1 to 65535, or 0 for any free port")
    return port


def _loopback(text: str) -> str:
    from aie.offline.server import LOOPBACK

    if text not in LOOPBACK:
        raise argparse.ArgumentTypeError(f"{text!r} is not a loopback address: the server has no authentication, so it "
                                         f"listens only on {', '.join(sorted(LOOPBACK))}")
    return text


def build_parser() -> argparse.ArgumentParser:
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of any error (for reporting a bug)")
    parser = _Parser(prog="python -m aie", description="The course's command line.", parents=[debug])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("doctor", parents=[debug], help="which backend answers, which models, whether the key works, how to switch")
    p_serve = sub.add_parser("serve", parents=[debug], help="serve the active in-process backend (offline or local-llm) "
                             "as an OpenAI-compatible HTTP server on 127.0.0.1")
    p_serve.add_argument("--port", type=_port, default=8765, help="0 picks a free port (default 8765)")
    p_serve.add_argument("--host", type=_loopback, default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    p_exec = sub.add_parser("execute", parents=[debug], help="execute notebooks in place with the offline backend")
    p_exec.add_argument("paths", nargs="*")
    p_record = sub.add_parser("record", parents=[debug], help="re-record notebooks' cassettes from a real model (the local LLM by default)")
    p_record.add_argument("paths", nargs="*")
    p_record.add_argument("--keep", action="store_true", help="reuse recordings of unchanged requests (from the current "
                          "cassette and from an interrupted run); send only the rest")
    p_real = sub.add_parser("test-real", parents=[debug], help="execute notebooks live against the local LLM over HTTP (no cassettes)")
    p_real.add_argument("paths", nargs="*")
    p_student = sub.add_parser("student", parents=[debug], help="write student copies of the notebooks with solutions removed")
    p_student.add_argument("--out", default="student")
    p_student.add_argument("paths", nargs="*")
    p_grade = sub.add_parser("grade", parents=[debug], help="grade a folder of submitted notebooks with the course's checkers")
    p_grade.add_argument("submissions", help="SUBMISSIONS/<student>/<notebook>.ipynb or SUBMISSIONS/<student>__<notebook>.ipynb")
    p_grade.add_argument("--out", default="grades.csv", help="the student x exercise table (summaries and chart go beside it)")
    p_grade.add_argument("--chart", default=None, help="where to write the pass-rate chart (default: beside --out)")
    p_grade.add_argument("--master", action="append", default=None, help="the instructor's notebooks (default: notebooks/)")
    p_grade.add_argument("--timeout", type=int, default=300, help="seconds for one notebook before it is stopped")
    p_grade.add_argument("--cell-timeout", type=int, default=60, help="seconds for one cell before it is interrupted")
    p_grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time")
    p_ex = sub.add_parser("exercises", parents=[debug], help="the table of exercises (id, step, checker, minutes) read from the notebooks")
    p_ex.add_argument("--update", default=None, help="rewrite the table between the markers in this page")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    command = parser.prog
    try:
        args = parser.parse_args(argv)
        command = f"{parser.prog} {args.command}"
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except (UsageError, ConfigError, NotebookError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
            FileExistsError, PermissionError) as e:
        if "--debug" in argv:
            raise
        print(f"{getattr(e, 'command', None) or command}: error: {_one_line(e)}", file=sys.stderr)
        return FAILED if isinstance(e, CellFailed) else USER_MISTAKE
    # Anything else is a bug in the course: its traceback is what a bug report needs.


def _one_line(e: Exception) -> str:
    if isinstance(e, OSError) and e.strerror and e.filename:
        return f"{e.filename}: {e.strerror.lower()}"
    return " ".join(str(e).split())


def _run(args: argparse.Namespace) -> int:
    if args.command == "doctor":
        from aie.doctor import report

        text, ok = report()
        print(text)
        return 0 if ok else FAILED
    if args.command == "serve":
        from aie.offline.server import serve

        try:
            serve(args.host, args.port)
        except OSError as e:
            if e.errno not in BIND_ERRORS:
                raise
            raise UsageError(f"cannot listen on {args.host}:{args.port} ({e.strerror}). Pick another port with --port, "
                             "or --port 0 for any free one.") from e
        return 0
    if args.command == "execute":
        from aie.notebooks import execute, find_notebooks

        for nb in _some(find_notebooks(args.paths), args.paths):
            took = execute(nb)
            print(f"executed {nb} in {took:.1f} s", flush=True)
        return 0
    if args.command == "record":
        from aie.notebooks import find_notebooks, record

        _some(find_notebooks(args.paths), args.paths)
        start = time.perf_counter()
        done = record(args.paths, keep=args.keep)
        print(f"recorded {sum(n for _, n, _ in done)} responses for {len(done)} notebooks in {time.perf_counter() - start:.0f} s")
        return 0
    if args.command == "test-real":
        from aie.notebooks import find_notebooks, test_real

        total = len(_some(find_notebooks(args.paths), args.paths))
        start = time.perf_counter()
        failures = test_real(args.paths)
        print(f"{total - len(failures)} passed, {len(failures)} failed in {time.perf_counter() - start:.0f} s")
        return FAILED if failures else 0
    if args.command == "grade":
        from aie.grade import GradeError, Settings, grade, text_table

        settings = Settings(timeout=args.timeout, cell_timeout=min(args.cell_timeout, args.timeout), jobs=args.jobs)
        try:
            result = grade(Path(args.submissions), Path(args.out), args.master, settings, args.chart)
        except GradeError as e:
            raise UsageError(str(e)) from None
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
    if args.command == "student":
        from aie.notebooks import find_notebooks, write_student_copies

        _some(find_notebooks(args.paths), args.paths)
        if Path(args.out).exists() and not Path(args.out).is_dir():
            raise UsageError(f"--out {args.out} is a file: give a folder for the student copies (it is created if missing)")
        for target, n in write_student_copies(Path(args.out), args.paths):
            print(f"{target}: {n} solution cells removed")
        return 0
    raise UsageError(f"unknown command {args.command!r}")


def _some(found: list[Path], paths: list[str]) -> list[Path]:
    if not found:
        raise UsageError(f"no notebooks (.ipynb) under {', '.join(paths) or 'notebooks/'}: give notebook files or folders that hold some")
    return found


if __name__ == "__main__":
    sys.exit(main())
