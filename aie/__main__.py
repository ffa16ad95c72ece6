"""Command line: ``python -m aie doctor | serve | execute | student``."""

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
    return 2


if __name__ == "__main__":
    sys.exit(main())
