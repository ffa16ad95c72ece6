"""The trace builder (datasets/build/make_traces.py) keeps every trace it made when a long run is interrupted."""

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _builder():
    spec = importlib.util.spec_from_file_location("make_traces", ROOT / "datasets" / "build" / "make_traces.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_run_writes_one_trace_per_request_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "traces.csv"
    assert _builder().main(["--limit", "1", "--out", str(out)]) == 0
    rows = _rows(out)
    assert [r["system"] for r in rows] == ["ask-the-book", "support-agent"]
    assert all(r["spans"].startswith("[") and r["backend"] == "offline" for r in rows)
    assert not Path(str(out) + ".partial").exists()


def test_resume_keeps_finished_traces_and_drops_a_row_cut_off_mid_write(tmp_path):
    out = tmp_path / "traces.csv"
    builder = _builder()
    builder.main(["--limit", "1", "--out", str(out)])
    first = _rows(out)[0]
    first["answer"] = "KEPT FROM THE INTERRUPTED RUN"
    partial = Path(str(out) + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=builder.FIELDS)
        writer.writeheader()
        writer.writerow(first)
        f.write("book-002,ask-the-book,direct,cut off")  # the run was killed while writing this row
    assert builder.main(["--limit", "2", "--resume", "--out", str(out)]) == 0
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["book-001", "book-002", "agent-001", "agent-002"]
    assert rows[0]["answer"] == "KEPT FROM THE INTERRUPTED RUN"  # not traced again
    assert rows[1]["answer"] != "cut off" and rows[1]["generated"]
    assert not partial.exists()
