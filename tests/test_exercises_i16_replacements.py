"""The checkers that replaced the last weak exercises (issue 16): a right answer passes and the typical wrong
ones get their hint."""

from __future__ import annotations

import html
import re

import numpy as np

from aie import retrieval
from aie.exercises import prompting as p
from aie.exercises import retrieval as r
from feedback import hints, ok


def _codes(text):
    return sorted(re.findall(r"\d+", text))


def _cache_hit(threshold):
    def hit(new, cached):
        v = retrieval.embed([new, cached])
        return bool(float(v[0] @ v[1]) >= threshold and _codes(new) == _codes(cached))
    return hit


def _similarity_only(new, cached):
    v = retrieval.embed([new, cached])
    return bool(float(v[0] @ v[1]) >= 0.88)


def test_cache_hit():
    ok(r.check_cache_hit(_cache_hit(0.9)))
    hints(r.check_cache_hit(_similarity_only), "numbers and codes")
    hints(r.check_cache_hit(lambda a, b: _codes(a) == _codes(b)), "similarity as well")
    hints(r.check_cache_hit(_cache_hit(0.97)), "paraphrases missed")
    hints(r.check_cache_hit(lambda a, b: None), "returns None")
    hints(r.check_cache_hit(lambda a, b: 0.9), "True or False")


def _access(user):
    return {"$or": [{"visibility": "public"},
                    {"$and": [{"visibility": "team"}, {"team": {"$in": user["teams"]}}]},
                    {"$and": [{"visibility": "private"}, {"owner": user["name"]}]}]}


def test_access_filter():
    ok(r.check_access_filter(_access))
    hints(r.check_access_filter(lambda u: {"$or": [{"visibility": "public"}, {"team": {"$in": u["teams"]}},
                                                   {"owner": u["name"]}]}), "leak")
    hints(r.check_access_filter(lambda u: {"team": {"$in": u["teams"]}}), "leak")
    hints(r.check_access_filter(lambda u: {"$and": [{"visibility": "public"}, {"team": {"$in": u["teams"]}}]}),
          "cannot find", "$or")
    hints(r.check_access_filter(lambda u: {"visibility": "public", "team": {"$in": u["teams"]}}), "one condition")


RIGHT_DIAGNOSIS = {"A": "vague query", "B": "too much text", "C": "fine", "D": "too much text", "E": "wrong context",
                   "F": "fine"}


def test_diagnosis():
    ok(r.check_diagnosis(RIGHT_DIAGNOSIS))
    hints(r.check_diagnosis({**RIGHT_DIAGNOSIS, "B": "fine"}), "case B", "tokens")
    hints(r.check_diagnosis({**RIGHT_DIAGNOSIS, "E": "fine"}), "case E", "answer the question")
    hints(r.check_diagnosis({**RIGHT_DIAGNOSIS, "F": "vague query"}), "case F")
    hints(r.check_diagnosis({**RIGHT_DIAGNOSIS, "A": "bad"}), "one of")
    hints(r.check_diagnosis({"A": "fine"}), "missing")
    hints(r.check_diagnosis({c: ... for c in RIGHT_DIAGNOSIS}), "no answer yet")


def test_diagnosis_verdicts_cover_every_kind():
    verdicts = {r.diagnosis(*case)[0] for case in r.DIAGNOSE_CASES.values()}
    assert verdicts == set(r.DIAGNOSES)


def test_wrap_ticket():
    ok(p.check_wrap_ticket(lambda t: "<ticket>\n" + html.escape(t) + "\n</ticket>"))
    ok(p.check_wrap_ticket(lambda t: "<ticket>\n" + p._TAG.sub(" ", t) + "\n</ticket>"))  # removing tags is a defence too
    hints(p.check_wrap_ticket(lambda t: f"<ticket>\n{t}\n</ticket>"), "writes a tag")
    hints(p.check_wrap_ticket(lambda t: "<ticket>" + t.replace("</ticket>", "").replace("<ticket>", "") + "</ticket>"),
          "any case")
    hints(p.check_wrap_ticket(lambda t: "<ticket>" + re.sub(r"<[^>]*>", "", t) + "</ticket>"), "lost part")
    hints(p.check_wrap_ticket(html.escape), "opening tag")
    hints(p.check_wrap_ticket("<ticket>x</ticket>"), "function itself")


def _choose(query, vectors, labels, k):
    s = np.asarray(vectors) @ np.asarray(query)
    out = []
    for lab in sorted(set(labels)):
        out += [int(i) for i in np.argsort(-s, kind="stable") if labels[i] == lab and s[i] < 0.95][:k // 2]
    return sorted(out, key=lambda i: -s[i])


def test_choose_examples():
    ok(p.check_choose_examples(_choose))
    hints(p.check_choose_examples(lambda q, v, lab, k: [int(i) for i in np.argsort(-(v @ q))[:k]]), "lean to one label")

    def with_input(q, v, lab, k):
        s = v @ q
        out = []
        for label in sorted(set(lab)):
            out += [int(i) for i in np.argsort(-s) if lab[i] == label][:k // 2]
        return sorted(out, key=lambda i: -s[i])
    hints(p.check_choose_examples(with_input), "input itself")

    def first_rows(q, v, lab, k):
        s = v @ q
        return [i for label in sorted(set(lab)) for i in [j for j in range(len(lab)) if lab[j] == label and s[j] < 0.95][:k // 2]]
    hints(p.check_choose_examples(first_rows), "most similar rows")
    hints(p.check_choose_examples(lambda q, v, lab, k: sorted(_choose(q, v, lab, k))), "most similar first")
    hints(p.check_choose_examples(lambda q, v, lab, k: _choose(q, v, lab, k)[:-1]), "different rows")


def _how_many(runs, prompt_tokens, target, stat="min", with_zero=True):
    by_k = runs.groupby("k")["accuracy"].agg(stat)
    meets = [k for k, a in by_k.items() if a >= target and (with_zero or k != 0)]
    return min(meets, key=lambda k: prompt_tokens[k]) if meets else None


def test_how_many_examples():
    ok(p.check_how_many_examples(_how_many))
    hints(p.check_how_many_examples(lambda r, t, x: _how_many(r, t, x, stat="mean")), "mean", "worst measured draw")
    hints(p.check_how_many_examples(lambda r, t, x: _how_many(r, t, x, stat="max")), "best draw", "worst measured draw")
    hints(p.check_how_many_examples(lambda r, t, x: _how_many(r, t, x, with_zero=False)), "zero-shot")

    def most_accurate(runs, prompt_tokens, target):
        worst = runs.groupby("k")["accuracy"].min()
        meets = worst[worst >= target]
        return int(meets.idxmax()) if len(meets) else None
    hints(p.check_how_many_examples(most_accurate), "fewest prompt tokens")

    def strict(runs, prompt_tokens, target):
        worst = runs.groupby("k")["accuracy"].min()
        meets = [k for k, a in worst.items() if a > target]
        return min(meets, key=lambda k: prompt_tokens[k]) if meets else None
    hints(p.check_how_many_examples(strict), ">=")

    def never_none(runs, prompt_tokens, target):
        return _how_many(runs, prompt_tokens, target) or int(runs.groupby("k")["accuracy"].mean().idxmax())
    hints(p.check_how_many_examples(never_none), "return none")

    def zero_as_none(runs, prompt_tokens, target):  # `or None` turns the right k = 0 into None
        return _how_many(runs, prompt_tokens, target) or None
    hints(p.check_how_many_examples(zero_as_none), "return 0, not none")
    hints(p.check_how_many_examples(lambda r, t, x: None), "returned none", "although a setting meets")
    hints(p.check_how_many_examples(lambda r, t, x: "four"), "an int")
    hints(p.check_how_many_examples(lambda r, t, x: 3), "not a k in")
    hints(p.check_how_many_examples(4), "function itself")
