"""Checkers of step 6, cost and the ladder (aie.exercises.cost), and the caches of aie.cache: a right answer
passes, a typical wrong one gets its hint; a damaged or outdated cache directory is rebuilt, never trusted."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from aie import cache, evals
from aie.exercises import cost as ex
from feedback import hints, ok


# ------------------------------------------------------------------ semantic cache threshold

def test_threshold_right_answer_passes():
    ok(ex.check_threshold(ex.threshold_solution()))


def test_threshold_typical_mistakes():
    right = ex.threshold_solution()
    hints(ex.check_threshold({"threshold": ..., "hit_rate": ..., "wrong_rate": ...}), "placeholder")
    hints(ex.check_threshold({**right, "threshold": 0.5}), "above 5%")
    hints(ex.check_threshold({**right, "threshold": 0.95}), "not the lowest")
    hints(ex.check_threshold({**right, "hit_rate": 100 * right["hit_rate"]}), "fractions")
    hints(ex.check_threshold({"threshold": 0.8}), "dict")


# ------------------------------------------------------------------ prompt-caching bill

def test_caching_bill_right_answer_passes():
    ok(ex.check_caching_bill(ex.caching_bill_solution()))
    assert ex.caching_bill_solution()["with"] < ex.caching_bill_solution()["without"]


def test_caching_bill_typical_mistakes():
    right = ex.caching_bill_solution()
    r, b = ex._rates(ex.BILL["model"], ex.BILL["provider"]), ex.BILL
    hints(ex.check_caching_bill({**right, "without": right["without"] * 2}), "3,200")
    all_reads = (b["requests"] * b["shared"] * r["read"]
                 + b["requests"] * (b["fresh"] * r["input"] + b["output"] * r["output"])) / 1e6
    hints(ex.check_caching_bill({**right, "with": all_reads}), "write price")
    writes_at_input = right["with"] - b["writes"] * b["shared"] * (r["write"] - r["input"]) / 1e6
    hints(ex.check_caching_bill({**right, "with": writes_at_input}), "cache write")


# ------------------------------------------------------------------ ladder: choose a rung

def test_rung_right_answer_passes():
    s = ex.ladder_solution()
    ok(ex.check_rung({"rung": s["rung"], "low": s["low"], "yearly_cost": s["yearly_cost"]}))


def test_rung_typical_mistakes():
    s = ex.ladder_solution()
    low1, cost1 = s["rows"][1]
    hints(ex.check_rung({"rung": 1, "low": low1, "yearly_cost": cost1}), "lower end of the interval")
    # rung 3 is the cheapest per call among the rungs that meet the target: forgetting the one-off cost picks it
    low3, cost3 = s["rows"][3]
    hints(ex.check_rung({"rung": 3, "low": low3, "yearly_cost": cost3}), "one-off")
    hints(ex.check_rung({"rung": s["rung"], "low": 0.5, "yearly_cost": s["yearly_cost"]}), "bootstrap")
    hints(ex.check_rung({"rung": 7, "low": 0.9, "yearly_cost": 1}), "rungs are")


def test_ladder_scenario_is_a_real_decision():
    # both rungs 2 and 3 meet the target, and rung 1 does not: the decision rests on the yearly cost
    lows = {r: evals.bootstrap_mean(v, n_resamples=2000, seed=0)[1] for r, v in ex.LADDER_RESULTS.items()}
    assert lows[1] < ex.LADDER_TARGET <= min(lows[2], lows[3])


# ------------------------------------------------------------------ ladder: a metric checked against a person

def key_fact_pass(answer: str, reference: str) -> bool:
    stop = set("a an the and or of to in on for with by is are be it its that this as at from".split())

    def words(s):
        s = re.sub(r"(?<=\d),(?=\d{3})", "", s.lower())
        return {w for w in re.findall(r"[a-z0-9][a-z0-9_.%-]*[a-z0-9%]|[a-z0-9]", s) if w not in stop}

    numbers = lambda s: set(re.findall(r"(?<![\w./:-])\d+(?:\.\d+)?%?(?![\w/.-]*[a-z/])", s))  # noqa: E731
    if re.search(r"don'?t know", answer, re.I):
        return False
    if numbers(reference) and not numbers(reference) <= numbers(answer):
        return False
    ref = words(reference)
    return len(ref & words(answer)) / len(ref) >= 0.4


def test_metric_right_answer_passes():
    ok(ex.check_metric(key_fact_pass))


def test_metric_typical_mistakes():
    hints(ex.check_metric(lambda a, r: True), "declines")
    hints(ex.check_metric(lambda a, r: not re.search(r"don'?t know", a, re.I)), "numbers")
    hints(ex.check_metric("key_fact_pass"), "function")


# ------------------------------------------------------------------ aie.cache

def test_request_key_is_canonical_and_strict():
    a = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    b = {"temperature": 0, "messages": [{"role": "user", "content": "hi"}], "model": "m"}
    assert cache.request_key(a) == cache.request_key(b)
    assert cache.request_key(a) != cache.request_key({**a, "temperature": 0.1})
    with pytest.raises(cache.CacheError, match="non-empty dict"):
        cache.request_key({})
    with pytest.raises(cache.CacheError, match="JSON-serialisable"):
        cache.request_key({"model": object()})


def test_exact_cache_hits_and_survives_reopening(tmp_path):
    c = cache.ExactCache(tmp_path / "c", say=lambda m: None)
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert c.get(req) is None
    c.put(req, "hello")
    assert c.get(req) == "hello"
    assert cache.ExactCache(tmp_path / "c").get(req) == "hello"
    with pytest.raises(cache.CacheError, match="text responses"):
        c.put(req, {"not": "text"})


@pytest.mark.parametrize("meta", ['{"format": "aie-exact-cache", "vers', json.dumps({"format": "aie-exact-cache", "version": 1}),
                                  "[1, 2]", None])
def test_exact_cache_rebuilds_a_corrupt_or_old_directory(tmp_path, meta):
    d = tmp_path / "c"
    c = cache.ExactCache(d, say=lambda m: None)
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    c.put(req, "hello")
    if meta is None:
        (d / "meta.json").unlink()
    else:
        (d / "meta.json").write_text(meta)
    said = []
    reopened = cache.ExactCache(d, say=said.append)
    assert reopened.rebuilt and said and "rebuilt" in said[0]
    assert reopened.get(req) is None and len(reopened) == 0


def test_exact_cache_never_serves_a_swapped_or_damaged_entry(tmp_path):
    c = cache.ExactCache(tmp_path / "c", say=lambda m: None)
    r1 = {"model": "m", "messages": [{"role": "user", "content": "one"}]}
    r2 = {"model": "m", "messages": [{"role": "user", "content": "two"}]}
    c.put(r1, "answer one")
    c.put(r2, "answer two")
    k1, k2 = cache.request_key(r1), cache.request_key(r2)
    (tmp_path / "c" / f"{k1}.json").write_text((tmp_path / "c" / f"{k2}.json").read_text())
    assert c.get(r1) is None
    (tmp_path / "c" / f"{k2}.json").write_text('{"key": "')
    assert c.get(r2) is None
    assert len(c) == 0


def _embed(texts):
    # a stand-in embedding: unit vectors from character counts, enough to test storage and thresholds
    out = np.array([[t.count(ch) + 0.01 for ch in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_semantic_cache_threshold_and_reopen(tmp_path):
    c = cache.SemanticCache(tmp_path / "s", embed=_embed, threshold=0.99, say=lambda m: None)
    c.put("how do i reset my password", "use the reset link")
    assert c.get("how do i reset my password") == "use the reset link"
    assert c.get("what payment methods do you accept") is None
    again = cache.SemanticCache(tmp_path / "s", embed=_embed, threshold=0.99)
    assert len(again) == 1 and again.rebuilt is None
    with pytest.raises(cache.CacheError, match="threshold"):
        cache.SemanticCache(tmp_path / "t", embed=_embed, threshold=1.5)


@pytest.mark.parametrize("damage", ["model", "vectors", "entries"])
def test_semantic_cache_rebuilds_when_damaged_or_from_another_model(tmp_path, damage):
    d = tmp_path / "s"
    c = cache.SemanticCache(d, embed=_embed, threshold=0.9, say=lambda m: None)
    c.put("how do i reset my password", "use the reset link")
    c.put("can i get a refund", "yes, within 30 days")
    if damage == "model":
        meta = json.loads((d / "meta.json").read_text())
        (d / "meta.json").write_text(json.dumps({**meta, "embedding_model": "another-model"}))
    elif damage == "vectors":
        np.save(d / "vectors.npy", np.zeros((1, 26), dtype=np.float32))  # one vector for two entries
    else:
        (d / "entries.json").write_text('[{"question": "x"')
    said = []
    reopened = cache.SemanticCache(d, embed=_embed, threshold=0.9, say=said.append)
    assert reopened.rebuilt and said
    assert len(reopened) == 0 and reopened.get("how do i reset my password") is None
