"""Plumbing for step 5, evaluations (notebooks/05-evals/).

The ideas (the assertions, the judge prompt, the formulas) are written out in the notebooks; this module
holds what several lessons and the tests share, with clear errors for bad input:

* :func:`traces`: the course's traces joined with their hand labels (stale labels dropped, and said so);
* :func:`bootstrap_mean`, :func:`paired_bootstrap`, :func:`mcnemar`: uncertainty of a pass rate and of a
  difference between two prompts; :func:`cohen_kappa` for agreement between two labellers;
* :func:`parse_verdict`: a judge's reply read as PASS or FAIL, or :class:`VerdictError`;
* :func:`read_labels`, :func:`append_label`: a JSONL label file read line by line (a bad line is named and
  skipped, the others kept);
* :func:`load_baseline`: the stored pass rates a regression test compares with.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np


class EvalDataError(ValueError):
    """Input an evaluation cannot use: the message names the file (or object) and what was expected."""


class VerdictError(EvalDataError):
    """A judge replied with something other than PASS or FAIL."""


# ---------------------------------------------------------------- the course's traces


def answer_sha(answer: str) -> str:
    """The first 12 hex digits of the SHA-256 of an answer: what a label was written for."""
    return hashlib.sha256(answer.encode("utf-8")).hexdigest()[:12]


def traces(labelled_only: bool = False):
    """``eval_traces`` with its spans parsed (column ``spans`` holds lists) and the labels of ``eval_trace_labels``.

    A label whose ``answer_sha`` no longer matches its trace's answer (the traces were regenerated with
    another model) is dropped with a warning that says how many and how to re-label.
    """
    import aie

    t = aie.data.load("eval_traces")
    labels = aie.data.load("eval_trace_labels").set_index("id")
    t["spans"] = [json.loads(s) for s in t.spans]
    t["answer"] = t.answer.fillna("")  # an empty reply is an answer too (the agent sometimes sends one)
    current = {tid: answer_sha(a) for tid, a in zip(t.id, t.answer)}
    fresh = [tid for tid in labels.index if current.get(tid) == labels.at[tid, "answer_sha"]]
    stale = len(labels) - len(fresh)
    if stale:
        warnings.warn(f"datasets/eval_trace_labels.csv: {stale} of {len(labels)} labels were written for other answers "
                      "(eval_traces.csv was regenerated) and are left out; label those traces again "
                      "(notebooks/05-evals/04-human-review.ipynb).", stacklevel=2)
    labels = labels.loc[fresh, ["label", "failure_mode", "note"]]
    t = t.join(labels, on="id")
    if labelled_only:
        t = t[t.label.notna()].reset_index(drop=True)
    return t


def check_spans(spans: Sequence[dict], where: str = "trace") -> list[dict]:
    """Check that every span has an id and that its parent (if any) is in the trace; return the spans.

    Raises :class:`EvalDataError` naming the span and its missing parent: a tree with a hole cannot be
    drawn or timed.
    """
    if not spans:
        raise EvalDataError(f"{where}: no spans; a trace needs at least its root span")
    ids = set()
    for i, s in enumerate(spans):
        if "span_id" not in s:
            raise EvalDataError(f"{where}: span {i} has no 'span_id'")
        ids.add(s["span_id"])
    roots = [s for s in spans if s.get("parent_id") is None]
    if len(roots) != 1:
        raise EvalDataError(f"{where}: expected exactly one root span (parent_id None), found {len(roots)}")
    for s in spans:
        parent = s.get("parent_id")
        if parent is not None and parent not in ids:
            raise EvalDataError(f"{where}: span {s['span_id']!r} ({s.get('name', '?')}) names parent {parent!r}, "
                                "which is not in the trace (was it dropped by the exporter or sampled out?)")
    return list(spans)


# ---------------------------------------------------------------- statistics


def _as_binary(values: Iterable[Any], name: str) -> np.ndarray:
    arr = np.asarray([bool(v) for v in values], dtype=float)
    if arr.size == 0:
        raise EvalDataError(f"{name}: the eval set is empty; a pass rate needs at least one result")
    return arr


def bootstrap_mean(values: Iterable[Any], n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """The mean of 0/1 results and a percentile-bootstrap confidence interval: ``(mean, low, high)``."""
    x = _as_binary(values, "bootstrap_mean")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_bootstrap(a: Iterable[Any], b: Iterable[Any], n_resamples: int = 2000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Difference of pass rates ``b - a`` on the same items, with a paired bootstrap CI: ``(diff, low, high)``."""
    xa, xb = _as_binary(a, "paired_bootstrap (a)"), _as_binary(b, "paired_bootstrap (b)")
    if len(xa) != len(xb):
        raise EvalDataError(f"paired_bootstrap: a has {len(xa)} results and b has {len(xb)}; a paired comparison "
                            "needs both prompts run on the same items, in the same order")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(xa), size=(n_resamples, len(xa)))
    diffs = xb[idx].mean(axis=1) - xa[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return float(xb.mean() - xa.mean()), float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1 - alpha))


def mcnemar(a: Iterable[Any], b: Iterable[Any]) -> tuple[int, int, float]:
    """Exact McNemar test on paired 0/1 results: ``(b_only, a_only, p)``.

    Only the discordant items count: those that pass with one prompt and fail with the other. Under
    "no difference" each is equally likely to go either way, so the p-value is a two-sided binomial test.
    """
    xa, xb = _as_binary(a, "mcnemar (a)"), _as_binary(b, "mcnemar (b)")
    if len(xa) != len(xb):
        raise EvalDataError(f"mcnemar: a has {len(xa)} results and b has {len(xb)}; it needs paired results")
    b_only = int(((xb == 1) & (xa == 0)).sum())
    a_only = int(((xa == 1) & (xb == 0)).sum())
    n = b_only + a_only
    if n == 0:
        return b_only, a_only, 1.0
    k = min(b_only, a_only)
    p = 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return b_only, a_only, min(1.0, p)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa between two labellers' labels of the same items: (p_o - p_e) / (1 - p_e)."""
    if len(a) != len(b):
        raise EvalDataError(f"cohen_kappa: {len(a)} labels against {len(b)}; both labellers must label the same items")
    if len(a) == 0:
        raise EvalDataError("cohen_kappa: no labels to compare")
    cats = sorted(set(a) | set(b), key=str)
    p_o = float(np.mean([x == y for x, y in zip(a, b)]))
    p_e = sum((list(a).count(c) / len(a)) * (list(b).count(c) / len(b)) for c in cats)
    return 1.0 if p_e == 1 else (p_o - p_e) / (1 - p_e)


def rogan_gladen(observed: float, tpr: float, tnr: float) -> float:
    """The true pass rate behind a judge's observed pass rate: (observed + TNR - 1) / (TPR + TNR - 1), clipped to [0, 1]."""
    denom = tpr + tnr - 1
    if denom <= 0:
        raise EvalDataError(f"rogan_gladen: TPR + TNR - 1 = {denom:.2f}; a judge no better than a coin cannot be corrected")
    return float(min(1.0, max(0.0, (observed + tnr - 1) / denom)))


# ---------------------------------------------------------------- a judge's verdict

_VERDICT = re.compile(r"\b(PASS|FAIL)\b", re.I)


def parse_verdict(reply: str | None) -> str:
    """``"pass"`` or ``"fail"`` from a judge's reply; :class:`VerdictError` when it says neither or both."""
    text = (reply or "").strip()
    found = {m.group(1).lower() for m in _VERDICT.finditer(text)}
    if len(found) == 1:
        return found.pop()
    shown = text if len(text) <= 80 else text[:77] + "..."
    what = "both PASS and FAIL" if len(found) == 2 else "neither PASS nor FAIL"
    raise VerdictError(f"the judge replied {shown!r}, which contains {what}; expected exactly one verdict. "
                       "Count it as unparsed (not as a pass), and tighten the judge prompt's answer format.")


# ---------------------------------------------------------------- label files (JSONL)

LABELS = ("pass", "fail")


def read_labels(path: str | Path) -> dict[str, dict]:
    """Labels from a JSONL file, one ``{"id": ..., "label": "pass"|"fail", ...}`` per line; later lines win.

    A line that is not valid JSON, or lacks an id or a pass/fail label, is skipped with a warning that
    names the file and the line number; every good line is kept. A missing file is an empty set of labels.
    """
    path = Path(path)
    if not path.exists():
        return {}
    labels: dict[str, dict] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("expected a JSON object")
            if not row.get("id"):
                raise ValueError("no 'id'")
            if row.get("label") not in LABELS:
                raise ValueError(f"'label' is {row.get('label')!r}, expected 'pass' or 'fail'")
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            warnings.warn(f"{path.name}, line {n}: skipped ({e}); the other labels are kept", stacklevel=2)
            continue
        labels[row["id"]] = row
    return labels


def append_label(path: str | Path, row: dict) -> None:
    """Append one label as a JSON line and flush it to disk at once, so a crash loses nothing."""
    import os

    if row.get("label") not in LABELS:
        raise EvalDataError(f"label {row.get('label')!r} for {row.get('id')!r}: expected 'pass' or 'fail'")
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------- regression baselines


def load_baseline(path: str | Path) -> dict[str, float]:
    """Stored pass rates, ``{"suite name": rate}``, from a JSON file; clear errors when missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"{path}: baseline file not found. Create it from a run you trust, e.g. "
                            "json.dump({'suite': 0.80}, open(path, 'w')), and commit it.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise EvalDataError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); expected an "
                            "object mapping each suite name to its baseline pass rate, like {\"citations\": 0.8}") from None
    if not isinstance(data, dict) or not data:
        raise EvalDataError(f"{path}: expected a non-empty JSON object mapping suite names to pass rates, got {type(data).__name__}")
    for name, rate in data.items():
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise EvalDataError(f"{path}: the baseline of {name!r} is {rate!r}; expected a pass rate between 0 and 1")
    return {k: float(v) for k, v in data.items()}
