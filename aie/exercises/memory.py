"""Checkers for the memory lesson (notebooks/04-orchestration/06-memory.ipynb).

Neither checker calls a model: the window is checked against token counts (aie.tokens), the re-ranker
against hand-made hit lists that are not the notebook's test set, so a grade is the same everywhere.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from aie import tokens
from aie.check import Feedback, exercise, hint, passed

# ------------------------------------------------------------------ 1. a window that fits the budget

SYSTEM = {"role": "system", "content": "You are a helpful assistant for a small bookshop."}
_TURNS = [
    ("Do you have the new novel by Han Kang?", "Yes, two copies are on the shelf in the fiction corner."),
    ("Can you keep one for me until Saturday? My name is Daniel.", "Of course, Daniel: it is on hold until Saturday."),
    ("Do you also sell gift cards?", "We do, from 10 to 100 euros, and they never expire."),
    ("What are your opening hours on Sunday?", "On Sundays we open from 11 in the morning to 5 in the afternoon."),
    ("Is there parking nearby?", "There is a public car park two streets away, free for the first hour."),
]


def _conversation(n_turns: int, new_question: str | None) -> list[dict]:
    messages = [dict(SYSTEM)]
    for user, assistant in _TURNS[:n_turns]:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    if new_question:
        messages.append({"role": "user", "content": new_question})
    return messages


def reference_window(messages: list[dict], budget: int) -> list[dict]:
    """The expected answer: the longest suffix that fits, starting with a user message."""
    system, rest = messages[:1], messages[1:]
    need = tokens.count_messages(system + rest[-1:])
    if need > budget:
        raise ValueError(f"need {need} tokens, budget {budget}")
    kept: list[dict] = []
    for message in reversed(rest):
        if tokens.count_messages(system + [message] + kept) > budget:
            break
        kept.insert(0, message)
    while kept and kept[0]["role"] == "assistant":
        kept.pop(0)
    return system + kept


def _cases() -> list[tuple[list[dict], int]]:
    full = _conversation(5, "And can I pay by card?")
    total = tokens.count_messages(full)
    cases = [(full, total + 50), (full, total)]  # everything fits, exactly or with room
    for budget in (60, 75, 90, 110, 130, 160, 200):
        cases.append((full, budget))
    cases.append((_conversation(3, None), 100))  # ends with an assistant reply
    return cases


@exercise("orchestration-memory-ex-window")
def check_fit_window(fn: Callable[[list[dict], int], list[dict]]) -> Feedback:
    """``fit_window(messages, budget)``: system message plus the most recent messages that fit, never starting with a reply."""
    if not callable(fn):
        return hint("pass the function itself, `fit_window`, not the result of calling it.")
    for messages, budget in _cases():
        original = copy.deepcopy(messages)
        want = reference_window(messages, budget)
        got = fn(copy.deepcopy(messages), budget)
        if not isinstance(got, list) or not all(isinstance(m, dict) for m in got):
            return hint(f"return a list of message dicts; got {type(got).__name__}.")
        if not got or got[0] != original[0]:
            return hint("the system message must always be the first message kept: it holds the instructions.")
        n = tokens.count_messages(got)
        if n > budget:
            return hint(f"with a budget of {budget} tokens your window has {n}: count the whole request, system message "
                        "included, with tokens.count_messages before adding a message.")
        if any(m not in original for m in got):
            return hint("return messages from the conversation unchanged; do not edit or invent any.")
        if len(got) > 1 and got[1]["role"] == "assistant":
            return hint(f"with a budget of {budget} the kept part starts with an assistant reply whose question was "
                        "dropped: drop that reply too, so the kept part starts with a user message.")
        positions = [original.index(m) for m in got[1:]]
        if positions != sorted(positions):
            return hint("keep the messages in their original order (oldest first), as the model expects them.")
        if positions and positions[-1] != len(original) - 1 and len(want) > 1:
            return hint("the last message (the newest turn) must be in the window: keep the most recent messages, "
                        "dropping the oldest first.")
        if got != want:
            if len(got) < len(want):
                return hint(f"with a budget of {budget} tokens you kept {len(got) - 1} messages, but {len(want) - 1} fit: "
                            "keep adding older messages while the total stays within the budget.")
            return hint(f"with a budget of {budget} tokens the window should be the system message plus the most recent "
                        f"{len(want) - 1} messages, and it is not.")
    tiny = _conversation(2, "Could you also tell me, in detail, which other novels by the same author you have in stock?")
    need = tokens.count_messages(tiny[:1] + tiny[-1:])
    try:
        got = fn(copy.deepcopy(tiny), need - 5)
    except ValueError as e:
        message = str(e)
        if str(need) not in message or str(need - 5) not in message:
            return hint(f"the error says {message!r}: include how many tokens the system message and the last message "
                        f"need ({need}) and the budget ({need - 5}), so the caller knows by how much to change it.")
        return passed("the window keeps the system message and whole exchanges, stays within the budget and says "
                      "clearly when even the newest message cannot fit.")
    return hint(f"when the system message and the last message need {need} tokens and the budget is {need - 5}, raise "
                f"ValueError instead of returning {len(got) if isinstance(got, list) else got!r} message(s): the new "
                "question would be silently lost.")


# ------------------------------------------------------------------ 2. recency without losing relevance


def _hit(fact: str, similarity: float, turn: int) -> dict:
    return {"fact": fact, "similarity": similarity, "date": "", "turn": turn}


# (hits in similarity order, the fact that must come first, why)
RERANK_CASES: list[tuple[list[dict], str, str]] = [
    ([_hit("Ana lives in Lyon.", 0.62, 1), _hit("Ana moved to Paris.", 0.58, 6), _hit("Ana has a cat.", 0.31, 2)],
     "Ana moved to Paris.", "conflict"),
    ([_hit("Ana is a nurse.", 0.55, 2), _hit("Ana started working as a pilot.", 0.52, 7), _hit("Ana plays chess.", 0.20, 7)],
     "Ana started working as a pilot.", "conflict"),
    ([_hit("Ana drinks coffee every morning.", 0.48, 1), _hit("Ana gave up coffee and drinks tea.", 0.44, 5),
      _hit("Ana runs on Sundays.", 0.22, 3)],
     "Ana gave up coffee and drinks tea.", "conflict"),
    ([_hit("Ana is allergic to shellfish.", 0.71, 1), _hit("Ana bought a bicycle.", 0.41, 8),
      _hit("Ana likes Thai food.", 0.38, 6)],
     "Ana is allergic to shellfish.", "control"),
    ([_hit("Ana's son is called Leo.", 0.66, 1), _hit("Ana is learning Korean.", 0.40, 9), _hit("Ana has a cat.", 0.35, 2)],
     "Ana's son is called Leo.", "control"),
    ([_hit("Ana moved to Paris.", 0.64, 6), _hit("Ana lives in Lyon.", 0.60, 1), _hit("Ana is a nurse.", 0.25, 2)],
     "Ana moved to Paris.", "conflict"),
    ([_hit("Ana has a cat.", 0.50, 3), _hit("Ana likes jazz.", 0.21, 3)], "Ana has a cat.", "control"),
]


@exercise("orchestration-memory-ex-recency")
def check_rerank(fn: Callable[[list[dict]], list[dict]]) -> Feedback:
    """``rerank(hits)``: newer facts win near-ties, clearly more relevant old facts keep first place."""
    if not callable(fn):
        return hint("pass the function itself, `rerank`, not the result of calling it.")
    for hits, want, kind in RERANK_CASES:
        got = fn(copy.deepcopy(hits))
        if not isinstance(got, list) or not all(isinstance(h, dict) for h in got):
            return hint(f"return the list of hit dicts, reordered; got {type(got).__name__}.")
        if sorted(h.get("fact", "") for h in got) != sorted(h["fact"] for h in hits):
            return hint("return every hit exactly once, only reordered: dropping or repeating facts is a different "
                        "decision than ranking them.")
        first = got[0]["fact"]
        if first == want:
            continue
        shown = ", ".join(f"{h['fact']!r} (similarity {h['similarity']}, turn {h['turn']})" for h in hits)
        if kind == "conflict":
            return hint(f"for hits {shown} the newer fact {want!r} should come first: it is nearly as similar and more "
                        "recent, so it probably replaces the old one. Give recency some weight (the turn is in each hit).")
        return hint(f"for hits {shown} the relevant old fact {want!r} should stay first: {first!r} is recent but far less "
                    "similar. Recency should settle near-ties, not override a clear difference in similarity "
                    "(a smaller weight, or a rule that only compares facts within about 0.1 of each other).")
    return passed("newer facts win near-ties and clearly more relevant old facts keep their place.")
