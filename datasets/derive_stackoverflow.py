"""Derive one tidy long table from the Stack Overflow Developer Survey AI sections, 2023-2026.

Input: the published aggregate JSON in ``raw/stackoverflow/<year>/ai.json`` (see the README there for
its source, licence and quirks). Output: ``stackoverflow_ai.csv``, one row per (year, question,
cohort, series, response) with its count, percentage and bases.

    python datasets/derive_stackoverflow.py          # write stackoverflow_ai.csv
    python datasets/derive_stackoverflow.py --check  # fail if the committed CSV differs from a fresh derivation

What the derivation does, and nothing more:

* flattens the 2023-2025 schema (``datasets`` per cohort; ``bar``, ``stacked_bar`` and ``scatter``
  rows) and the different 2026 schema (``meta.slices`` and flat ``data`` rows) into the same columns;
* converts fractions (0-1) to percentages (0-100), keeping the source's rounding (2 decimals);
* fixes the 2023 key swap: there ``AIAcc`` holds the benefits question and ``AIBen`` the trust question,
  so the 2023 rows are filed under the ids whose wording they carry in 2024-2025 (``source_key`` keeps
  the original key);
* strips HTML and entities from question and response text; harmonises two cohort labels
  ("Professionals" -> "Professional Developers"; 2026 "1-5 years" -> "Work experience 1-5 years");
* puts response modes that the source stores as extra datasets ("Currently Using", "Used", "Want to
  use", ...) in ``series``, not ``cohort``;
* records the base of each percentage (``base``): the cohort's n for ordinary questions, the row's own
  total for Likert grids, empty where the source does not publish it;
* drops 2026 ``AIWork_Current``, an exact copy of the "Currently use AI ..." rows of 2026 ``AIWork``
  (checked here before it is dropped);
* flags every 2026 row ``preliminary`` (the 2026 file may be work in progress).

It checks every percentage against its count and base, and stops if one does not match.
Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw" / "stackoverflow"
OUT = HERE / "stackoverflow_ai.csv"
YEARS = (2023, 2024, 2025, 2026)
PRELIMINARY_YEARS = {2026}

COLUMNS = [
    "year", "question_id", "question", "cohort", "series", "response",
    "count", "percent", "n", "base", "preliminary", "source_key", "note",
]

# 2023 only: the keys of these two questions are swapped relative to their wording.
SWAPPED_2023 = {"AIAcc": "AIBen", "AIBen": "AIAcc"}

COHORT_LABELS = {"Professionals": "Professional Developers"}
COHORTS = {
    "All Respondents", "Professional Developers", "Professionals", "Learning to Code", "Other Coders",
    "Early Career Devs", "Mid Career Devs", "Experienced Devs", "Professional AI Users", "Learning AI Users",
}
AGE_BAND = re.compile(r"^\d{2}-\d{2} years old$")

TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Plain text: no HTML tags or entities, single spaces, no trailing required-field asterisk."""
    text = html.unescape(TAG.sub(" ", text))
    text = SPACE.sub(" ", text).strip()
    text = re.sub(r" ([,.;:?!])", r"\1", text)
    return re.sub(r"\s*\*$", "", text)


def pct(fraction: float) -> float:
    """A source fraction (4 decimals) as a percentage with 2 decimals."""
    return round(fraction * 100, 2)


def _row(year, qid, question, cohort, series, response, count, percent, n, base, key, note=""):
    return {
        "year": year, "question_id": qid, "question": question, "cohort": cohort,
        "series": series or "", "response": clean(response), "count": int(count),
        "percent": percent, "n": int(n), "base": "" if base is None else int(base),
        "preliminary": "true" if year in PRELIMINARY_YEARS else "false",
        "source_key": key, "note": note,
    }


def _cohort_or_series(name: str) -> tuple[str, str]:
    """Split a 2023-2025 dataset name into (cohort, series): response modes are series."""
    if name in COHORTS or AGE_BAND.match(name):
        return COHORT_LABELS.get(name, name), ""
    return "All Respondents", name


def rows_2023_2025(year: int, data: dict) -> list[dict]:
    out = []
    for key, q in data.items():
        qid = SWAPPED_2023.get(key, key) if year == 2023 else key
        question = clean(q["question"])
        for dkey, ds in q["datasets"].items():
            cohort, series = _cohort_or_series(ds.get("name", "All Respondents"))
            n = ds["total_respondents"]
            src = f"{key}/{dkey}"
            kind = ds["plot_type"]
            if kind == "bar":
                note, base = "", n
                if year == 2023 and key == "AIAcc":
                    base = sum(r["frequency"] for r in ds["data"])
                    note = "percent is a share of all selections (the source's choice), not of respondents"
                elif year == 2023 and key == "AIBen":
                    base = sum(r["frequency"] for r in ds["data"])
                    note = (f"the source's n ({n:,}) is smaller than the sum of the counts ({base:,}); "
                            "its percentages are of that sum (base)")
                elif year == 2023 and key == "AITool":
                    base = None
                    note = "source percentages use a denominator of about 37,711, not the stated n of 37,726"
                elif year == 2024 and key == "AIOpen":
                    note = "topics mentioned in open-text answers, coded by Stack Overflow"
                for r in ds["data"]:
                    out.append(_row(year, qid, question, cohort, series, r["response"], r["frequency"],
                                    pct(r["percent"]), n, base, src, note))
            elif kind == "stacked_bar":
                note = "Likert grid: percent is of respondents who rated this item (base)"
                meta = ds["plot_metadata"]
                for r in ds["data"]:
                    if isinstance(meta, list):  # 2024-2025: arrays aligned with the scale labels
                        cells = list(zip(meta, r["frequency"], r["percent"]))
                    else:  # 2023: frequency1..5 / percent1..5, labels and display order in plot_metadata
                        keys = sorted((k for k in meta if k.startswith("frequency")), key=lambda k: meta[k]["index"])
                        cells = [(meta[k]["label"], r[k], r[k.replace("frequency", "percent")]) for k in keys]
                    base = sum(c[1] for c in cells)
                    for label, freq, frac in cells:
                        out.append(_row(year, qid, question, cohort, label, r["response"], freq, pct(frac),
                                        n, base, src, note))
            elif kind == "scatter":  # 2025 AI_Workflow_Sent: y is a whole percent of the row's total
                note = "percent is rounded to a whole number by the source; mean sentiment (x) not kept"
                for r in ds["data"]:
                    out.append(_row(year, qid, question, "All Respondents", ds["name"], r["response"],
                                    r["frequency"], float(r["y"]), n, r["total"], src, note))
            else:
                raise ValueError(f"{year} {src}: unknown plot_type {kind!r}")
    return out


def rows_2026(data: dict) -> list[dict]:
    year = 2026
    current = {(r["response"], r["count"], r["pct"]) for r in data["AIWork_Current"]["data"]}
    work_now = {(r["response"], r["count"], r["pct"]) for r in data["AIWork"]["data"]
                if r["series"] == "Currently use AI or AI agents for this"}
    if current != work_now:
        raise ValueError("2026 AIWork_Current is no longer a copy of AIWork: keep it in the table")
    out = []
    for key, q in data.items():
        if key == "AIWork_Current":
            continue
        meta = q["meta"]
        question = clean(meta["question"])
        slices = meta["slices"]
        # Grid rows: percent is of the row's respondents. Where the row's counts add up to that base
        # (one answer per row) the base is known; otherwise (several answers per row) it is not published.
        row_totals: dict[tuple, int] = {}
        for r in q["data"]:
            if r["series"] is not None:
                k = (r["slice"], r["response"])
                row_totals[k] = row_totals.get(k, 0) + r["count"]
        for r in q["data"]:
            if r.get("sq_value") not in (None, r["response"]):
                raise ValueError(f"2026 {key}: sq_value {r['sq_value']!r} differs from response {r['response']!r}")
            sl = slices[r["slice"]]
            if sl["slice_type"] == "aiseries":
                cohort, series = "All Respondents", sl["slice_value"]
            elif sl["slice_type"] == "workexp":
                cohort, series = f"Work experience {sl['slice_value']}", r["series"]
            else:
                cohort, series = sl["slice_value"], r["series"]
            note, base = "", sl["n"]
            if r["series"] is not None:
                total = row_totals[(r["slice"], r["response"])]
                if abs(r["count"] / total - r["pct"]) <= 0.00005:
                    base, note = total, "grid: percent is of respondents who answered this row (base)"
                else:
                    base, note = None, "grid: percent is of respondents who answered this row; that base is not published"
            out.append(_row(year, key, question, cohort, series, r["response"], r["count"], pct(r["pct"]),
                            sl["n"], base, f"{key}/slice{r['slice']}", note))
    return out


def derive() -> list[dict]:
    """All rows, in the order of the source files."""
    rows: list[dict] = []
    for year in YEARS:
        data = json.loads((RAW / str(year) / "ai.json").read_text(encoding="utf-8"))
        rows.extend(rows_2026(data) if year == 2026 else rows_2023_2025(year, data))
    check(rows)
    return rows


def check(rows: list[dict]) -> None:
    """Every percentage must follow from its count and base (within the source's rounding)."""
    seen = set()
    for r in rows:
        k = (r["year"], r["question_id"], r["cohort"], r["series"], r["response"])
        if k in seen:
            raise ValueError(f"duplicate row {k}")
        seen.add(k)
        if r["base"] == "":
            continue
        tol = 0.5 if "whole number" in r["note"] else 0.0051
        expected = 100 * r["count"] / r["base"]
        if abs(expected - r["percent"]) > tol:
            raise ValueError(f"percent {r['percent']} != 100 * {r['count']} / {r['base']} in {k}")


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    text = to_csv(derive())
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.name} differs from a fresh derivation: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{OUT.name} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.name}: {text.count(chr(10)) - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
