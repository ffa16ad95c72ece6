"""Checkers of step 5, evaluations (aie.exercises.evals), and the bad-input errors of aie.evals: a right answer
passes, a typical wrong one gets its specific hint, and bad input fails with a message naming what was wrong."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from aie import evals
from aie.exercises import evals as ex
from feedback import hints, ok


# ------------------------------------------------------------------ 01 error analysis


def pareto_table(modes):
    s = pd.Series(list(modes), dtype=object)
    s = s[s.notna() & (s.astype(str).str.strip() != "")]
    counts = s.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return pd.DataFrame({"count": counts, "cumulative_share": counts.cumsum() / counts.sum()})


def test_pareto_right_answer_passes():
    ok(ex.check_pareto_table(pareto_table))


def test_pareto_typical_mistakes_get_their_hints():
    hints(ex.check_pareto_table(...), "placeholder")
    hints(ex.check_pareto_table(pareto_table(["a"])), "function itself")

    def keeps_passes(modes):
        counts = pd.Series([str(m) for m in modes]).value_counts()
        return pd.DataFrame({"count": counts, "cumulative_share": counts.cumsum() / counts.sum()})
    hints(ex.check_pareto_table(keeps_passes), "passing traces")

    def unstable_ties(modes):
        s = pd.Series([m for m in modes if isinstance(m, str) and m])
        counts = s.value_counts().sort_index(ascending=False).sort_values(ascending=False, kind="stable")
        return pd.DataFrame({"count": counts, "cumulative_share": counts.cumsum() / counts.sum()})
    hints(ex.check_pareto_table(unstable_ties), "alphabetically")

    def percent(modes):
        t = pareto_table(modes)
        t["cumulative_share"] *= 100
        return t
    hints(ex.check_pareto_table(percent), "fraction")

    def share_of_all(modes):
        t = pareto_table(modes)
        t["cumulative_share"] = t["count"].cumsum() / len(modes)
        return t
    hints(ex.check_pareto_table(share_of_all), "all failures")

    def crashes_on_empty(modes):
        t = pareto_table(modes)
        if t.empty:
            raise ZeroDivisionError("division by zero")
        return t
    hints(ex.check_pareto_table(crashes_on_empty), "no failures")


RIGHT_FILING = {1: "declined an answerable question", 2: "wrong or unsupported fact",
                3: "no reply to the customer", 4: "e-mail to a wrong or invented address",
                5: "answer misses the point", 6: "did not ask for the missing order id",
                7: "followed an injected instruction", 8: "did not correct a false premise",
                9: "wrong tool or arguments"}


def test_axial_coding_right_answer_passes():
    ok(ex.check_axial_coding(dict(RIGHT_FILING)))


def test_axial_coding_uses_the_modes_of_the_labelled_traces():
    modes = set(evals.traces().failure_mode.dropna())
    assert set(ex.FAILURE_MODES) == modes
    assert set(RIGHT_FILING.values()) <= modes


def test_axial_coding_typical_mistakes_get_their_hints():
    hints(ex.check_axial_coding({}), "empty")
    hints(ex.check_axial_coding({**RIGHT_FILING, 1: "bad retrieval"}), "not one of the failure modes")
    hints(ex.check_axial_coding({k: v for k, v in RIGHT_FILING.items() if k != 8}), "[8]")
    hints(ex.check_axial_coding({**RIGHT_FILING, 5: "answered only part of the question"}), "8 of 9", "note 5")
    hints(ex.check_axial_coding({**RIGHT_FILING, 2: "answer misses the point"}), "8 of 9", "note 2", "contradicts")
    hints(ex.check_axial_coding({**RIGHT_FILING, 4: "no reply to the customer"}), "8 of 9", "note 4", "first")
    hints(ex.check_axial_coding({**RIGHT_FILING, 7: "e-mail to a wrong or invented address"}), "note 7", "injected")
    wrong = {**RIGHT_FILING, 5: "answered only part of the question", 7: "wrong tool or arguments"}
    hints(ex.check_axial_coding(wrong), "2 of 9", "note 5")


# ------------------------------------------------------------------ 02 code-based evals


def cites_real_sources(answer, source_ids):
    if re.search(r"\b(I )?don'?t know\b", answer, re.I):
        return True
    cited = set(re.findall(r"\[(S\d+)\]", answer))
    return bool(cited) and cited <= set(source_ids)


def test_citation_assertion_right_answer_passes():
    ok(ex.check_citation_assertion(cites_real_sources))


def test_citation_assertion_typical_mistakes_get_their_hints():
    hints(ex.check_citation_assertion(lambda a, ids: bool(re.search(r"\[S\d+\]", a)) or "know" in a), "does not exist")
    hints(ex.check_citation_assertion(lambda a, ids: any(c in ids for c in re.findall(r"\[(S\d+)\]", a)) or "know" in a),
          "every citation")
    hints(ex.check_citation_assertion(lambda a, ids: set(re.findall(r"\[(S\d+)\]", a)) <= set(ids)), "no citation")
    hints(ex.check_citation_assertion(lambda a, ids: bool(set(re.findall(r"\[(S\d+)\]", a))) and
                                      set(re.findall(r"\[(S\d+)\]", a)) <= set(ids)), "I don't know")
    hints(ex.check_citation_assertion(lambda a, ids: None), "returns None")


def test_decision_right_answer_passes():
    diff, low, high = evals.paired_bootstrap(ex.DECIDE_V1, ex.DECIDE_V2, n_resamples=2000, seed=0)
    ok(ex.check_decision({"difference": diff, "low": low, "high": high, "ship_v2": low > 0}))


def test_decision_typical_mistakes_get_their_hints():
    diff, low, high = evals.paired_bootstrap(ex.DECIDE_V1, ex.DECIDE_V2, n_resamples=2000, seed=0)
    hints(ex.check_decision({"difference": ..., "low": ..., "high": ..., "ship_v2": ...}), "replace")
    hints(ex.check_decision({"difference": diff, "low": low, "high": high, "ship_v2": True}), "contains 0", "noise")
    hints(ex.check_decision({"difference": -diff, "low": low, "high": high, "ship_v2": False}), "sign")
    hints(ex.check_decision({"difference": 100 * diff, "low": low, "high": high, "ship_v2": False}), "fraction")
    lo_u, hi_u = ex._unpaired_ci(ex.DECIDE_V1, ex.DECIDE_V2)
    hints(ex.check_decision({"difference": diff, "low": lo_u, "high": hi_u, "ship_v2": False}), "unpaired")
    hints(ex.check_decision({"difference": diff}), "lacks")


# ------------------------------------------------------------------ 03 LLM as judge


def judge_rates(human, judge):
    pos = [j for h, j in zip(human, judge) if h == "pass"]
    neg = [j for h, j in zip(human, judge) if h == "fail"]
    tpr = sum(j == "pass" for j in pos) / len(pos) if pos else float("nan")
    tnr = sum(j == "fail" for j in neg) / len(neg) if neg else float("nan")
    return {"tpr": tpr, "tnr": tnr}


def test_judge_rates_right_answer_passes():
    ok(ex.check_judge_rates(judge_rates))


def test_judge_rates_typical_mistakes_get_their_hints():
    hints(ex.check_judge_rates(lambda h, j: {"tpr": judge_rates(h, j)["tnr"], "tnr": judge_rates(h, j)["tpr"]}), "swapped")
    hints(ex.check_judge_rates(lambda h, j: {"tpr": np.mean([a == b for a, b in zip(h, j)]), "tnr": 0.75}), "accuracy")

    def precision(h, j):
        passed = [a for a, b in zip(h, j) if b == "pass"]
        return {"tpr": passed.count("pass") / len(passed), "tnr": 0.75}
    hints(ex.check_judge_rates(precision), "precision")

    def crashes(h, j):
        pos = [b for a, b in zip(h, j) if a == "pass"]
        neg = [b for a, b in zip(h, j) if a == "fail"]
        return {"tpr": pos.count("pass") / len(pos), "tnr": neg.count("fail") / len(neg)}
    hints(ex.check_judge_rates(crashes), "nan")


GOOD_JUDGE = ("You check one thing in a customer-support reply: does it show the customer a raw error? Classify the "
              "reply as PASS or FAIL. FAIL if the reply contains an exception name (KeyError, ValueError), a traceback "
              "or 'error:' text. PASS if it is a plain reply, even one with bad news. Answer with one word: PASS or FAIL.")
EXAMPLES = ("<Example>Message: According to get_order_status (order_id=A-1): error: KeyError: 'A-1'\nLabel: FAIL</Example>\n"
            "<Example>Message: ValueError: order A-2 is processing\nLabel: FAIL</Example>\n"
            "<Example>Message: Your order A-3 is on its way and arrives on Friday.\nLabel: PASS</Example>\n"
            "<Example>Message: I could not find order A-4; could you check the number?\nLabel: PASS</Example>\n")


def judge_messages(request, answer):
    return [{"role": "system", "content": GOOD_JUDGE + "\n" + EXAMPLES},
            {"role": "user", "content": f"Message: {answer}"}]


def test_judge_prompt_right_answer_passes():
    ok(ex.check_judge_prompt(judge_messages))


def test_judge_prompt_typical_mistakes_get_their_hints():
    hints(ex.check_judge_prompt(lambda r, a: "judge this"), "list of chat messages")
    hints(ex.check_judge_prompt(lambda r, a: [{"role": "user", "content": "Is this reply good? PASS or FAIL"}]),
          "does not appear")
    hints(ex.check_judge_prompt(lambda r, a: [{"role": "user", "content": f"Rate this reply from 1 to 10: {a}"}]),
          "PASS or FAIL")
    hints(ex.check_judge_prompt(lambda r, a: [{"role": "user", "content": f"Is this reply good, PASS or FAIL? {a}"}]),
          "neither PASS nor FAIL")
    no_examples = lambda r, a: [{"role": "system", "content": GOOD_JUDGE}, {"role": "user", "content": f"Message: {a}"}]  # noqa: E731
    hints(ex.check_judge_prompt(no_examples), "at least 80%", "example")


# ------------------------------------------------------------------ 04 human review


def kappa(a, b):
    p_o = np.mean([x == y for x, y in zip(a, b)])
    p_e = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in set(a) | set(b))
    return 1.0 if p_e == 1 else (p_o - p_e) / (1 - p_e)


def test_kappa_right_answer_passes():
    ok(ex.check_kappa(kappa))
    assert math.isclose(evals.cohen_kappa(["pass"] * 8 + ["fail"] * 2, ["pass"] * 7 + ["fail"] * 3), kappa(
        ["pass"] * 8 + ["fail"] * 2, ["pass"] * 7 + ["fail"] * 3))


def test_kappa_typical_mistakes_get_their_hints():
    hints(ex.check_kappa(lambda a, b: float(np.mean([x == y for x, y in zip(a, b)]))), "chance")

    def divides_by_zero(a, b):
        p_o = np.mean([x == y for x, y in zip(a, b)])
        p_e = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in set(a) | set(b))
        return float("nan") if p_e == 1 else (p_o - p_e) / (1 - p_e)
    hints(ex.check_kappa(divides_by_zero), "1.0")


def test_sample_size_right_answer_passes():
    ok(ex.check_sample_size(lambda p, w: math.ceil(1.96 ** 2 * p * (1 - p) / w ** 2)))


def test_sample_size_typical_mistakes_get_their_hints():
    hints(ex.check_sample_size(lambda p, w: int(1.96 ** 2 * p * (1 - p) / w ** 2)), "round up")
    hints(ex.check_sample_size(lambda p, w: math.ceil(p * (1 - p) / w ** 2)), "1.96")
    hints(ex.check_sample_size(lambda p, w: 1.96 ** 2 * p * (1 - p) / w ** 2), "whole number")


# ------------------------------------------------------------------ bad input: clear messages


def test_empty_eval_set_is_a_clear_error():
    with pytest.raises(evals.EvalDataError, match="eval set is empty"):
        evals.bootstrap_mean([])
    with pytest.raises(evals.EvalDataError, match="same items"):
        evals.paired_bootstrap([1, 0], [1])


def test_statistics_match_hand_computations():
    assert evals.mcnemar([0] * 10, [1] * 10) == (10, 0, pytest.approx(2 / 1024))
    assert evals.mcnemar([1, 0], [1, 0]) == (0, 0, 1.0)
    mean, lo, hi = evals.bootstrap_mean([1] * 30 + [0] * 10, seed=0)
    assert mean == 0.75 and lo < 0.75 < hi
    assert evals.rogan_gladen(0.6, tpr=0.9, tnr=0.8) == pytest.approx((0.6 + 0.8 - 1) / (0.9 + 0.8 - 1))
    with pytest.raises(evals.EvalDataError, match="coin"):
        evals.rogan_gladen(0.5, 0.5, 0.5)


@pytest.mark.parametrize("reply, expected", [("PASS", "pass"), ("fail.", "fail"), ("Verdict: **FAIL**", "fail"),
                                             ("The reply passes: PASS", "pass")])
def test_parse_verdict_reads_pass_and_fail(reply, expected):
    assert evals.parse_verdict(reply) == expected


@pytest.mark.parametrize("reply, words", [("8/10", "neither PASS nor FAIL"), ("", "neither"), (None, "neither"),
                                          ("PASS or FAIL? Hard to say", "both PASS and FAIL")])
def test_a_judge_that_says_something_else_is_a_clear_error(reply, words):
    with pytest.raises(evals.VerdictError, match=words):
        evals.parse_verdict(reply)


def test_label_file_with_a_bad_row_names_file_and_line_and_keeps_the_rest(tmp_path):
    path = tmp_path / "labels.jsonl"
    evals.append_label(path, {"id": "book-001", "label": "pass"})
    with open(path, "a") as f:
        f.write('{"id": "book-002", "label": "pas\n')           # line 2: cut off mid-write
        f.write('{"id": "book-003", "label": "maybe"}\n')        # line 3: not pass/fail
        f.write('{"label": "fail"}\n')                            # line 4: no id
    evals.append_label(path, {"id": "book-005", "label": "fail"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = evals.read_labels(path)
    assert set(labels) == {"book-001", "book-005"}
    messages = [str(w.message) for w in caught]
    assert any("labels.jsonl, line 2" in m for m in messages)
    assert any("labels.jsonl, line 3" in m and "expected 'pass' or 'fail'" in m for m in messages)
    assert any("labels.jsonl, line 4" in m and "no 'id'" in m for m in messages)
    with pytest.raises(evals.EvalDataError, match="expected 'pass' or 'fail'"):
        evals.append_label(path, {"id": "x", "label": "ok"})


def test_trace_with_a_missing_parent_span_is_a_clear_error():
    spans = [{"span_id": "s0", "parent_id": None, "name": "root"},
             {"span_id": "s1", "parent_id": "s0", "name": "chat"},
             {"span_id": "s2", "parent_id": "s9", "name": "tool search_kb"}]
    with pytest.raises(evals.EvalDataError, match=r"span 's2' \(tool search_kb\) names parent 's9'"):
        evals.check_spans(spans, "trace agent-001")
    assert evals.check_spans(spans[:2]) == spans[:2]
    with pytest.raises(evals.EvalDataError, match="no spans"):
        evals.check_spans([])


def test_every_stored_trace_is_a_well_formed_tree_and_every_label_is_current():
    t = evals.traces()
    for row in t.itertuples():
        evals.check_spans(row.spans, row.id)
    labels = pd.read_csv(evals_labels_path(), dtype=str, keep_default_na=False)
    current = dict(zip(t.id, (evals.answer_sha(a) for a in t.answer)))
    stale = [i for i, sha in zip(labels.id, labels.answer_sha) if current.get(i) != sha]
    assert not stale, (f"datasets/eval_trace_labels.csv: {len(stale)} labels were written for other answers "
                       f"(first: {stale[:5]}); eval_traces.csv was regenerated. Label those traces again "
                       "(notebooks/05-evals/04-human-review.ipynb) or restore the traces.")


def evals_labels_path():
    import aie

    return aie.data.datasets_dir() / "eval_trace_labels.csv"


# ------------------------------------------------------------------ 06 observability


def slowest_child(spans):
    children = [s for s in spans if s["parent_id"] is not None]
    if not children:
        raise ValueError("no child spans")
    return max(children, key=lambda s: s["end"] - s["start"])["name"]


def test_slowest_child_right_answer_passes():
    ok(ex.check_slowest_child(slowest_child))


def test_slowest_child_typical_mistakes_get_their_hints():
    hints(ex.check_slowest_child(lambda spans: max(spans, key=lambda s: s["end"] - s["start"])["name"]), "root span")
    hints(ex.check_slowest_child(lambda spans: [s for s in spans if s["parent_id"]][0]["name"]), "end - start")

    def no_error(spans):
        children = [s for s in spans if s["parent_id"] is not None]
        return max(children, key=lambda s: s["end"] - s["start"])["name"] if children else None
    hints(ex.check_slowest_child(no_error), "ValueError")


def over_budget(calls, budget_usd, input_per_million, output_per_million):
    cost = (calls.input_tokens * input_per_million + calls.output_tokens * output_per_million) / 1e6
    per_request = cost.groupby(calls.request).sum()
    return sorted(per_request[per_request > budget_usd].index)


def test_over_budget_right_answer_passes():
    ok(ex.check_over_budget(over_budget))


def test_over_budget_typical_mistakes_get_their_hints():
    def per_call(calls, budget, i, o):
        cost = (calls.input_tokens * i + calls.output_tokens * o) / 1e6
        return sorted(set(calls.request[cost > budget]))
    hints(ex.check_over_budget(per_call), "sum the cost per request")

    def one_price(calls, budget, i, o):
        cost = (calls.input_tokens + calls.output_tokens) * o / 1e6
        return sorted(cost.groupby(calls.request).sum().pipe(lambda s: s[s > budget]).index)
    hints(ex.check_over_budget(one_price), "separately")


# ---------------------------------------------------------------- 05 RAG and agents


def _content_words(text):
    words = re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower())
    return {w for w in words if any(ch.isdigit() for ch in w) or (len(w) >= 3 and w not in {"the", "and", "for", "you", "your", "can", "have", "from"})}


def claim_supported(claim, source):
    words, found = _content_words(claim), _content_words(source)
    numbers = {w for w in words if any(ch.isdigit() for ch in w)}
    if not words or not numbers <= found:
        return False
    return len(words & found) / len(words) >= 0.5


def test_claim_support_right_answer_passes():
    ok(ex.check_claim_support(claim_supported))


def test_claim_support_typical_mistakes_get_their_hints():
    hints(ex.check_claim_support(lambda c, s: True), "every claim is supported")
    hints(ex.check_claim_support(lambda c, s: False), "no claim is supported")
    overlap_only = lambda c, s: len(_content_words(c) & _content_words(s)) / len(_content_words(c)) >= 0.5
    hints(ex.check_claim_support(overlap_only), "every number")
    hints(ex.check_claim_support(lambda c, s: c in s), "too strict")
    hints(ex.check_claim_support(lambda c, s: 0.9), "True or False")
    hints(ex.check_claim_support(lambda c, s: None), "returns None")
    hints(ex.check_claim_support(claim_supported(" a", "b")), "function itself")


def test_failing_transitions_come_from_the_trace_set():
    transitions = ex.failing_transitions()
    assert transitions and all(len(t) == 3 for t in transitions)
    assert all(a != "answer" for a, _, _ in transitions)  # nothing comes after the answer


def test_failing_transitions_place_every_mode():
    transitions = ex.failing_transitions()
    assert {m for _, _, m in transitions} <= set(ex.FAILS_AT)
    # "no reply to the customer" fails where the model repeats a call (or at the answer when it did not)
    assert all(a == b or b == "answer" for a, b, m in transitions if m == "no reply to the customer")


_EMAIL_FIX = ("Change the send_email tool's description and the system prompt: look the order up with "
              "get_order_status first and e-mail only the address it returns; make the tool refuse any other address.")


def test_worst_transition_right_answer_passes():
    from collections import Counter
    (a, b), _ = Counter((a, b) for a, b, _ in ex.failing_transitions()).most_common(1)[0]
    assert (a, b) == ("request", "send_email")  # the real-model traces: e-mails sent before any lookup
    ok(ex.check_worst_transition({"from": a, "to": b, "fix": _EMAIL_FIX}))


def test_worst_transition_typical_mistakes_get_their_hints():
    from collections import Counter
    counts = Counter((a, b) for a, b, _ in ex.failing_transitions()).most_common()
    (a, b), (a2, b2) = counts[0][0], counts[1][0]
    hints(ex.check_worst_transition({"from": a2, "to": b2, "fix": _EMAIL_FIX}), "has more")
    hints(ex.check_worst_transition({"from": "start", "to": "end", "fix": _EMAIL_FIX}), "not a cell")
    hints(ex.check_worst_transition({"from": a, "to": b, "fix": "better prompt"}), "sentence or two")
    hints(ex.check_worst_transition({"from": a, "to": b, "fix": "Make the model smarter so it gets more of these right."}),
          "name the part")
    hints(ex.check_worst_transition({"from": a, "to": b, "fix": "Change the loop so that it retries every failed step twice."}),
          "aim the fix")
    hints(ex.check_worst_transition({"from": a, "to": b, "fix": "Change the system prompt: always call search_kb "
                                     "before answering a policy question."}), "aim the fix")
    hints(ex.check_worst_transition({"from": ..., "to": ..., "fix": ...}), "no answer yet")
    hints(ex.check_worst_transition(("request", "answer")), "dict")
