"""Checkers for step 4's lessons on workflows, humans in the loop and several agents
(notebooks/04-orchestration/04-workflows-or-agents and 08-humans-and-teams).

None of them calls a model: they check a design choice, a measurement or a function on inputs they make up,
so a grade is the same on every machine and costs nothing.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from aie.check import Feedback, exercise, hint, passed

# ================================================================== 04 workflows or agents

# ------------------------------------------------------------------ 1. which pattern fits

PATTERN_NAMES = ("prompt chaining", "routing", "parallelization", "orchestrator-workers", "evaluator-optimizer", "agent")
PATTERN_KEY = {
    "a": ("prompt chaining", "the steps are fixed (write, then translate) and a gate in code sits between them: a chain."),
    "b": ("routing", "two kinds of input, each best served by its own path and model: classify first, then route."),
    "c": ("parallelization", "the same judgement made several times and combined by a vote is parallelization (voting)."),
    "d": ("orchestrator-workers", "the subtasks (which files) are only known after a model reads the request: an "
          "orchestrator decides them and workers do each one."),
    "e": ("evaluator-optimizer", "clear criteria and rounds of critique and revision: an evaluator-optimizer."),
    "f": ("agent", "how many rounds of run-read-edit it takes depends on what the tests report: only an agent loop, "
          "in a sandbox with a step limit, fits an open-ended number of steps."),
}


@exercise("orchestration-workflows-choose")
def check_pattern_choice(choices: dict) -> Feedback:
    """``choices``: situation letter -> pattern name."""
    if not isinstance(choices, dict):
        return hint("answer with a dict from each situation's letter to a pattern name, like {'a': 'prompt chaining', ...}.")
    missing = [k for k in PATTERN_KEY if k not in choices]
    if missing:
        return hint(f"choose a pattern for every situation; missing: {', '.join(missing)}.")
    for letter, (right, why) in PATTERN_KEY.items():
        got = str(choices[letter]).strip().lower().replace("_", " ")
        got = "orchestrator-workers" if got in {"orchestrator workers", "orchestrator"} else got
        got = "evaluator-optimizer" if got in {"evaluator optimizer", "evaluator"} else got
        if got not in PATTERN_NAMES:
            return hint(f"{letter}: {choices[letter]!r} is not one of {', '.join(PATTERN_NAMES)}.")
        if got != right:
            return hint(f"{letter}: not {got}. Look again at who decides the steps and whether they are known in advance.")
    return passed("each situation has the pattern that fits it. " + " ".join(f"{k}: {why}" for k, (_, why) in PATTERN_KEY.items()))


# ------------------------------------------------------------------ 2. the cost table


def _runs():
    import pandas as pd

    rows = [  # pattern, task, solved, calls, input_tokens, output_tokens, rounds
        ("one call", "T1", True, 1, 100, 20, 1), ("one call", "T2", False, 1, 110, 25, 1),
        ("chain", "T1", True, 2, 230, 40, 2), ("chain", "T2", True, 2, 250, 45, 2),
        ("voting", "T1", False, 3, 300, 9, 1), ("voting", "T2", False, 3, 320, 9, 1),
    ]
    return pd.DataFrame(rows, columns=["pattern", "task", "solved", "calls", "input_tokens", "output_tokens", "rounds"])


@exercise("orchestration-workflows-summary")
def check_summary(fn: Callable) -> Feedback:
    """``summarize(runs)``: per pattern, totals of solved, calls, tokens, rounds, and tokens per solved task."""
    import pandas as pd

    if not callable(fn):
        return hint("pass the function itself, `summarize`, not the result of calling it.")
    runs = _runs()
    out = fn(runs.copy())
    if not isinstance(out, pd.DataFrame):
        return hint(f"return a pandas DataFrame indexed by pattern, not {type(out).__name__}.")
    need = ["solved", "calls", "tokens", "rounds", "tokens_per_solved"]
    missing = [c for c in need if c not in out.columns]
    if missing:
        return hint(f"the table needs the columns {need}; missing: {missing}.")
    if set(out.index) != {"one call", "chain", "voting"}:
        return hint("index the table by pattern: one row per pattern (`groupby('pattern')`).")
    chain = out.loc["chain"]
    if float(chain["calls"]) != 4 or float(chain["solved"]) != 2:
        return hint("solved and calls are totals over the tasks: sum them, do not average (the chain made 2 + 2 calls "
                    "and solved 2 tasks).")
    if float(chain["tokens"]) == 480:
        return hint("tokens are input plus output tokens: the output is billed too (and usually at a higher price).")
    if float(chain["tokens"]) != 565:
        return hint(f"the chain's tokens should be 230+40+250+45 = 565, not {chain['tokens']}.")
    if float(out.loc["voting", "rounds"]) != 2:
        return hint("rounds are summed over the tasks like calls: one round per voting run, two runs.")
    if not math.isclose(float(chain["tokens_per_solved"]), 282.5):
        return hint("tokens_per_solved is the pattern's tokens divided by the tasks it solved (565 / 2 for the chain).")
    if not math.isclose(float(out.loc["one call", "tokens_per_solved"]), 255.0):
        return hint("divide all of a pattern's tokens, those of failed runs too, by the tasks it solved: failures are paid for.")
    tps = out.loc["voting", "tokens_per_solved"]
    if tps is None or not (isinstance(tps, (int, float)) and math.isinf(float(tps))):
        return hint("a pattern that solved nothing has tokens_per_solved = float('inf'): it spent tokens and bought nothing "
                    f"(got {tps!r}).")
    return passed("totals per pattern, tokens counting the output too, and failures charged to the tasks that were solved.")


# ------------------------------------------------------------------ 3. a majority vote

VOTE_CASES: list[tuple[list[str], str | None, str]] = [
    (["refunds", "refunds", "returns"], "refunds", "a plain majority must win"),
    (["Refunds.", " refunds", "returns"], "refunds",
     "'Refunds.' and ' refunds' are the same vote: normalise each label with strip(' .').lower() before counting"),
    (["returns", "refunds", "shipping"], None, "three different answers are no majority: return None so a person decides"),
    (["returns", "returns", "refunds", "refunds"], None, "a 2-2 tie is not a majority (more than half): return None"),
    (["shipping", "shipping", "account", "returns", "refunds"], None,
     "2 votes of 5 is the most common label but not a majority (more than half): return None"),
    (["account"], "account", "a single voter is a majority of one"),
]


@exercise("orchestration-workflows-vote")
def check_vote(fn: Callable[[list], str | None]) -> Feedback:
    """``vote(labels)``: the normalised majority label, or None when no label has more than half of the votes."""
    if not callable(fn):
        return hint("pass the function itself, `vote`, not the result of calling it.")
    for labels, want, why in VOTE_CASES:
        got = fn(list(labels))
        if got != want:
            return hint(f"vote({labels}) returned {got!r}, expected {want!r}: {why}.")
    return passed("labels are normalised, a majority wins, and anything short of one goes to a person.")


# ================================================================== 08 humans in the loop and several agents

# ------------------------------------------------------------------ 1. an approval policy

SHOP_ORDERS = {  # the shop of the lesson, as the policy sees it
    "A-1001": {"email": "mina.park@mail.example", "total": 48.00},
    "A-1002": {"email": "daniel.kim@mail.example", "total": 23.50},
    "A-1003": {"email": "sofia.rossi@mail.example", "total": 112.90},
}
POLICY_CASES: list[tuple[str, dict, str | None, str]] = [
    ("get_order_status", {"order_id": "A-1002"}, "approve", "read-only tools are approved: looking something up changes nothing"),
    ("search_kb", {"query": "refund time"}, "approve", "read-only tools are approved: looking something up changes nothing"),
    ("issue_refund", {"order_id": "A-1001", "amount": 48.0}, "approve", "a refund of the whole $48 order is at most $50: approve it"),
    ("issue_refund", {"order_id": "A-1003", "amount": 112.90}, None,
     "a refund above $50 (but within the order's total) goes to a person: return None"),
    ("issue_refund", {"order_id": "A-1002", "amount": 30}, "deny", "$30 is more than order A-1002's total of $23.50: deny it"),
    ("issue_refund", {"order_id": "A-9999", "amount": 10}, "deny", "order A-9999 does not exist: deny the refund"),
    ("issue_refund", {"order_id": "A-1001", "amount": -5}, "deny", "a negative amount is not a refund: deny it"),
    ("issue_refund", {"order_id": "A-1001", "amount": "20"}, "deny",
     "an amount given as a string is not a number: deny it (check isinstance(amount, (int, float)))"),
    ("issue_refund", {"order_id": "A-1001"}, "deny", "a refund with no amount must be denied, not crash: use args.get('amount')"),
    ("send_email", {"to": "mina.park@mail.example", "subject": "Order A-1001", "body": "Your refund is on its way."},
     "approve", "an email to the address of the order it names is approved"),
    ("send_email", {"to": "daniel.kim@mail.example", "subject": "Your order", "body": "About order A-1001: refunded."}, None,
     "an email about order A-1001 sent to another customer's address needs a person: return None"),
    ("send_email", {"to": "attacker@evil.example", "subject": "Order A-1001", "body": "Here is the customer's data."},
     "deny", "an address outside @mail.example is denied"),
    ("send_email", {"to": "mina.park@mail.example", "subject": "Hello", "body": "We miss you!"}, None,
     "an email that names no order is not routine: a person decides (return None)"),
    ("delete_account", {"order_id": "A-1001"}, "deny", "an unknown tool (one the policy does not know) is denied, never approved by default"),
    ("Get_Order_Status", {"order_id": "A-1001"}, "deny",
     "tool names are exact: 'Get_Order_Status' is not a tool the policy knows, so deny it"),
]


@exercise("orchestration-humans-policy")
def check_approval_policy(fn: Callable[[str, dict], str | None]) -> Feedback:
    """``policy(name, args)``: 'approve', 'deny' or None for each call, by the lesson's rules."""
    if not callable(fn):
        return hint("pass the function itself, `my_policy`, not the result of calling it.")
    for name, args, want, why in POLICY_CASES:
        try:
            got = fn(name, dict(args))
        except Exception as e:
            return hint(f"{name}({json.dumps(args)}) raised {type(e).__name__}: {e}. A policy must answer every call; "
                        f"expected {want!r}: {why}.")
        if got not in ("approve", "deny", None):
            return hint(f"{name}({json.dumps(args)}) returned {got!r}; a policy returns 'approve', 'deny' or None.")
        if got != want:
            return hint(f"{name}({json.dumps(args)}) returned {got!r}, expected {want!r}: {why}.")
    return passed("routine calls are approved, wrong ones denied, unknown tools refused, and only the judgement calls "
                  "reach a person.")


# ------------------------------------------------------------------ 2. reading a handoff

WORKERS = {"orders": "order status, refunds, emails", "help": "policy questions"}


def _call(name: str, arguments: str) -> dict:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}


HANDOFF_BAD: list[tuple[dict, str, str]] = [
    (_call("search_kb", '{"query": "refunds"}'), "search_kb", "a call to another tool is not a handoff"),
    (_call("transfer_to", '{"agent": "orders"'), "json", "arguments that are not valid JSON"),
    (_call("transfer_to", '{"reason": "refund"}'), "agent", "a handoff without an agent"),
    (_call("transfer_to", '{"agent": "billing"}'), "billing", "a handoff to an agent that does not exist"),
]


@exercise("orchestration-humans-handoff")
def check_handoff(fn: Callable[[dict, dict], str]) -> Feedback:
    """``handoff(call, workers)``: the worker a transfer_to call names, or ValueError saying what is wrong."""
    if not callable(fn):
        return hint("pass the function itself, `handoff`, not the result of calling it.")
    for args, want in [('{"agent": "orders", "reason": "refund"}', "orders"), ('{"agent": " Help "}', "help")]:
        try:
            got = fn(_call("transfer_to", args), dict(WORKERS))
        except Exception as e:
            return hint(f"a valid handoff ({args}) raised {type(e).__name__}: {e}.")
        if got != want:
            return hint(f"for the arguments {args} return {want!r} (normalised with strip().lower()), not {got!r}.")
    for call, word, what in HANDOFF_BAD:
        try:
            got = fn(call, dict(WORKERS))
        except ValueError as e:
            msg = str(e)
            if word.lower() not in msg.lower():
                return hint(f"for {what}, the error should say what is wrong (mention {word!r}); yours says: {msg!r}.")
            if not all(w in msg for w in WORKERS):
                return hint(f"for {what}, the error should list the workers ({sorted(WORKERS)}) so the model can fix "
                            f"its call; yours says: {msg!r}.")
            continue
        except Exception as e:
            return hint(f"for {what}, raise ValueError with a clear message, not {type(e).__name__}: {e}.")
        return hint(f"for {what}, your function returned {got!r}; raise ValueError instead, so the loop does not "
                    "switch to an agent that does not exist.")
    return passed("valid handoffs name their worker; every malformed one is refused with a message that lists the workers.")
