"""An "early signals" log: a small CSV of things seen that hint at a new capability or use case.

Step 6 (mindset) asks the learner to keep studying what models can newly do. A log with a date and a
source for each entry makes that a habit that can be reviewed later. The file is plain CSV so it opens
in any editor; every row is checked on the way in and on the way out, and a bad row is named with its
line number, its column and how to fix it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

COLUMNS = ("date", "source", "capability", "use_case", "note")
URL = re.compile(r"https?://[^\s/]+\.[^\s]+")
MAX_TEXT = 300


class SignalError(ValueError):
    """A signal row that cannot go into the log; the message says which field and how to fix it."""


def check_row(row: dict, where: str = "the row") -> dict:
    """The row with its fields stripped, or :class:`SignalError` naming what is wrong."""
    if not isinstance(row, dict):
        raise SignalError(f"{where} is a {type(row).__name__}; give a dict with the keys {', '.join(COLUMNS)}")
    missing = [c for c in COLUMNS if c not in row]
    extra = [c for c in row if c not in COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unknown {', '.join(map(str, extra))}")
        raise SignalError(f"{where}: {'; '.join(parts)}. The columns are {', '.join(COLUMNS)}")
    clean = {c: ("" if row[c] is None else str(row[c])).strip() for c in COLUMNS}
    try:
        day = dt.date.fromisoformat(clean["date"])
    except ValueError:
        raise SignalError(f"{where}: date {clean['date']!r} is not a date like 2025-06-12 (YYYY-MM-DD)") from None
    if day > dt.date(2100, 1, 1) or day < dt.date(2000, 1, 1):
        raise SignalError(f"{where}: date {clean['date']} is outside 2000-2100; check the year")
    if not URL.fullmatch(clean["source"]):
        raise SignalError(f"{where}: source {clean['source']!r} is not a link; give the http(s) address where you "
                          "saw the signal, so you can check it again later")
    for c in ("capability", "use_case"):
        if not clean[c]:
            raise SignalError(f"{where}: {c} is empty; say in a few words what the model can do ({c})")
    for c in ("capability", "use_case", "note"):
        if len(clean[c]) > MAX_TEXT:
            raise SignalError(f"{where}: {c} has {len(clean[c])} characters; keep it under {MAX_TEXT} (a log, not an essay)")
    return clean


def read_signals(path: str | Path):
    """The log as a DataFrame (``date`` parsed); a bad line raises :class:`SignalError` naming it."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else "str") for c in COLUMNS})
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise SignalError(f"{path.name}: the header is {reader.fieldnames}, expected {list(COLUMNS)}; "
                              "fix the first line or start a new file")
        rows = [check_row(r, f"{path.name} line {i}") for i, r in enumerate(reader, start=2)]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def append_signal(path: str | Path, row: dict) -> dict:
    """Check ``row`` and append it to the log (writing the header for a new file). Returns the row as stored."""
    clean = check_row(row, "the new signal")
    path = Path(path)
    if path.exists():
        read_signals(path)  # refuse to append to a log that is already broken
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(clean)
    return clean
