"""Checkers of step 4's workflows and humans-and-teams lessons (aie.exercises.agents): a right answer passes, a
typical wrong one gets its specific hint. Also the plumbing those lessons use (aie.approval, aie.tally), with its
bad input: an unknown tool name, an approval with no answer, a decision that is not one."""

from __future__ import annotations

import json
import math
from collections import Counter
from types import SimpleNamespace

import pandas as pd
import pytest

from aie.approval import Approval, call_key
from aie.exercises import agents as a
from aie.tally import Tally
from feedback import hints, ok


# ------------------------------------------------------------------ workflows 1: which pattern fits

RIGHT_CHOICES = {"a": "prompt chaining", "b": "routing", "c": "parallelization", "d": "orchestrator-workers",
                 "e": "evaluator-optimizer", "f": "agent"}


def test_choice_right_answer_passes():
    ok(a.check_pattern_choice(RIGHT_CHOICES))
    ok(a.check_pattern_choice(dict(RIGHT_CHOICES, d="Orchestrator workers", e="evaluator_optimizer")))


def test_choice_typical_mistakes_get_their_hints():
    hints(a.check_pattern_choice(...), "placeholder")
    hints(a.check_pattern_choice(["routing"]), "dict")
    hints(a.check_pattern_choice({"a": "prompt chaining"}), "missing", "b")
    hints(a.check_pattern_choice(dict(RIGHT_CHOICES, f="orchestrator-workers")), "f:", "who decides")
    hints(a.check_pattern_choice(dict(RIGHT_CHOICES, d="agent")), "d:")
    hints(a.check_pattern_choice(dict(RIGHT_CHOICES, b="router")), "not one of")


# ------------------------------------------------------------------ workflows 2: the cost table


def summarize(runs):
    out = runs.assign(tokens=runs.input_tokens + runs.output_tokens).groupby("pattern").agg(
        solved=("solved", "sum"), calls=("calls", "sum"), tokens=("tokens", "sum"), rounds=("rounds", "sum"))
    out["tokens_per_solved"] = [t / s if s else float("inf") for t, s in zip(out.tokens, out.solved)]
    return out


def test_summary_right_answer_passes():
    ok(a.check_summary(summarize))


def test_summary_typical_mistakes_get_their_hints():
    hints(a.check_summary(lambda runs: runs.groupby("pattern").mean(numeric_only=True)), "missing", "tokens")

    def means(runs):
        out = summarize(runs)
        out[["solved", "calls"]] = runs.groupby("pattern")[["solved", "calls"]].mean()
        return out
    hints(a.check_summary(means), "sum")

    def input_only(runs):
        out = summarize(runs)
        out["tokens"] = runs.groupby("pattern").input_tokens.sum()
        return out
    hints(a.check_summary(input_only), "output")

    def nan_for_none(runs):
        out = summarize(runs)
        out["tokens_per_solved"] = out.tokens / out.solved.where(out.solved > 0)
        return out
    hints(a.check_summary(nan_for_none), "inf")

    def solved_runs_only(runs):
        out = summarize(runs)
        won = runs[runs.solved].assign(t=lambda r: r.input_tokens + r.output_tokens).groupby("pattern").t.sum()
        out["tokens_per_solved"] = [won.get(p, 0) / s if s else float("inf") for p, s in zip(out.index, out.solved)]
        return out
    hints(a.check_summary(solved_runs_only), "failed runs")
    hints(a.check_summary(summarize(a._runs())), "function itself")


# ------------------------------------------------------------------ workflows 3: a majority vote


def vote(labels):
    counts = Counter(label.strip(" .").lower() for label in labels)
    if not counts:
        return None
    label, n = counts.most_common(1)[0]
    return label if n > len(labels) / 2 else None


def test_vote_right_answer_passes():
    ok(a.check_vote(vote))


def test_vote_typical_mistakes_get_their_hints():
    hints(a.check_vote(lambda labels: max(labels, key=labels.count)), "normalise")
    hints(a.check_vote(lambda labels: Counter(x.strip(" .").lower() for x in labels).most_common(1)[0][0]), "none")

    def half_is_enough(labels):
        counts = Counter(x.strip(" .").lower() for x in labels)
        label, n = counts.most_common(1)[0]
        return label if n >= len(labels) / 2 else None
    hints(a.check_vote(half_is_enough), "tie")


# ------------------------------------------------------------------ humans 1: an approval policy


def policy(name, args):
    if name in {"get_order_status", "search_kb"}:
        return "approve"
    if name == "issue_refund":
        order = a.SHOP_ORDERS.get(args.get("order_id"))
        amount = args.get("amount")
        if order is None or isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount <= order["total"]:
            return "deny"
        return "approve" if amount <= 50 else None
    if name == "send_email":
        to = str(args.get("to", ""))
        if not to.endswith("@mail.example"):
            return "deny"
        text = f"{args.get('subject', '')} {args.get('body', '')}"
        named = [o for o in a.SHOP_ORDERS if o in text]
        return "approve" if named and all(a.SHOP_ORDERS[o]["email"] == to for o in named) else None
    return "deny"


def test_policy_right_answer_passes():
    ok(a.check_approval_policy(policy))


def test_policy_typical_mistakes_get_their_hints():
    hints(a.check_approval_policy(lambda name, args: "approve"), "above $50")
    hints(a.check_approval_policy(lambda name, args: "yes"), "returns 'approve', 'deny' or none")
    hints(a.check_approval_policy(lambda name, args: policy(name, args) if name != "delete_account" else None), "unknown",
          "never approved")

    def crashes(name, args):
        if name == "issue_refund":
            args["amount"]  # KeyError when the model left the amount out
        return policy(name, args)
    hints(a.check_approval_policy(crashes), "raised", "args.get")

    def trusts_strings(name, args):
        if name == "issue_refund" and isinstance(args.get("amount"), str):
            return "approve"
        return policy(name, args)
    hints(a.check_approval_policy(trusts_strings), "string")

    def any_customer(name, args):
        if name == "send_email" and str(args.get("to", "")).endswith("@mail.example"):
            return "approve"
        return policy(name, args)
    hints(a.check_approval_policy(any_customer), "another customer")


# ------------------------------------------------------------------ humans 2: reading a handoff


def handoff(call, workers):
    name = call.get("function", {}).get("name")
    if name != "transfer_to":
        raise ValueError(f"{name!r} is not a handoff (expected transfer_to); the workers are {sorted(workers)}")
    try:
        args = json.loads(call["function"].get("arguments") or "")
    except ValueError:
        raise ValueError(f"the handoff's arguments are not JSON; expected one of {sorted(workers)}") from None
    agent = str(args.get("agent", "")).strip().lower() if isinstance(args, dict) else ""
    if not agent:
        raise ValueError(f"the handoff names no agent; expected one of {sorted(workers)}")
    if agent not in workers:
        raise ValueError(f"the handoff names {agent!r}, which is not a worker; the workers are {sorted(workers)}")
    return agent


def test_handoff_right_answer_passes():
    ok(a.check_handoff(handoff))


def test_handoff_typical_mistakes_get_their_hints():
    hints(a.check_handoff(lambda call, workers: json.loads(call["function"]["arguments"])["agent"]), "strip().lower()")

    def trusting(call, workers):
        return json.loads(call["function"]["arguments"])["agent"].strip().lower()
    hints(a.check_handoff(trusting), "another tool", "raise valueerror")

    def no_workers_listed(call, workers):
        try:
            return handoff(call, workers)
        except ValueError:
            raise ValueError("bad handoff: json agent billing search_kb") from None
    hints(a.check_handoff(no_workers_listed), "list the workers")

    def key_error(call, workers):
        if call["function"]["name"] != "transfer_to":
            raise ValueError(f"search_kb is not transfer_to; workers {sorted(workers)}")
        return handoff(call, workers) if "agent" in call["function"]["arguments"] else {}["agent"]
    hints(a.check_handoff(key_error), "valueerror")


# ------------------------------------------------------------------ plumbing: aie.approval


def test_approval_with_no_answer_is_pending_not_a_yes():
    approver = Approval(show=False)
    assert approver.ask("send_email", {"to": "x@mail.example"}) is None
    assert approver.asked == ['send_email({"to": "x@mail.example"})']
    assert approver.ask("send_email", {"to": "x@mail.example"}) is None  # still nobody: still pending, asked once
    assert len(approver.asked) == 1
    approver.record("send_email", {"to": "x@mail.example"}, "deny")  # the click, later
    assert approver.ask("send_email", {"to": "x@mail.example"}) == "deny"


def test_approval_order_stored_then_policy_then_person():
    approver = Approval(policy=lambda name, args: "approve" if name == "search_kb" else None,
                        decisions={call_key("issue_refund", {"amount": 5}): "deny"}, show=False)
    assert approver.ask("issue_refund", {"amount": 5}) == "deny"
    assert approver.ask("search_kb", {"query": "q"}) == "approve"
    assert approver.ask("issue_refund", {"amount": 6}) is None


def test_approval_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="'approve', 'deny' or None"):
        Approval(policy=lambda name, args: "yes", show=False).ask("send_email", {})
    with pytest.raises(ValueError, match="stored decision"):
        Approval(decisions={"x()": "ok"})
    with pytest.raises(ValueError, match="record"):
        Approval(show=False).record("send_email", {}, "approved")
    with pytest.raises(ValueError, match="tool name"):
        call_key("", {})
    with pytest.raises(TypeError, match="parse the JSON"):
        call_key("send_email", '{"to": "x"}')


def test_approval_shows_buttons_that_store_the_decision():
    pytest.importorskip("ipywidgets")
    approver = Approval()
    assert approver.ask("send_email", {"to": "x@mail.example"}) is None  # displays the buttons; nobody clicks
    approver.record("send_email", {"to": "x@mail.example"}, "approve")
    assert approver.ask("send_email", {"to": "x@mail.example"}) == "approve"


# ------------------------------------------------------------------ plumbing: aie.tally


def completion(inp, out):
    return SimpleNamespace(usage=SimpleNamespace(prompt_tokens=inp, completion_tokens=out))


def test_tally_counts_calls_tokens_and_rounds():
    t = Tally()
    first = completion(100, 10)
    assert t.call(first) is first
    both = t.parallel([completion(50, 5), completion(60, 6)])
    assert len(both) == 2
    assert t.as_dict() == {"calls": 3, "input_tokens": 210, "output_tokens": 21, "rounds": 2}


def test_tally_bad_input_is_refused_clearly():
    t = Tally()
    with pytest.raises(TypeError, match="not its text"):
        t.call("Returns are free.")
    with pytest.raises(ValueError, match="at least one"):
        t.parallel([])
    with pytest.raises(TypeError):
        t.parallel([completion(1, 1), "text"])
    assert t.calls == 0  # a refused round counts nothing
