"""Checkers for the getting-started notebook."""

from __future__ import annotations

from aie import prices
from aie.exercises.forms import placeholders
from aie.check import Feedback, exercise, hint, passed

VALID_ROLES = {"system", "developer", "user", "assistant", "tool"}


@exercise("start-messages")
def check_messages(messages) -> Feedback:
    """A system message that sets the assistant's job, then a user message with a question."""
    if not isinstance(messages, list):
        return hint("`messages` must be a list of dictionaries, one per message, e.g. [{'role': 'system', 'content': '...'}, ...].")
    if len(messages) < 2:
        return hint("you need at least two messages: a system message, then a user message.")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m or set(m) - {"role", "content", "name"}:
            return hint(f"message {i} must be a dict with exactly the keys 'role' and 'content'.")
        if m["role"] not in VALID_ROLES:
            return hint(f"message {i} has role {m['role']!r}; roles are {sorted(VALID_ROLES)}.")
        if not isinstance(m["content"], str) or not m["content"].strip():
            return hint(f"message {i} has empty content; write the instruction or the question as text.")
    if messages[0]["role"] not in {"system", "developer"}:
        return hint("the first message should be the system message that tells the model its job.")
    if messages[-1]["role"] != "user":
        return hint("the last message should be the user's question: the model answers the last turn.")
    return passed("a system message sets the job, the user message asks; this is the shape of every chat request.")


def cost_of_workload(model_id: str, requests: int, input_tokens: int, output_tokens: int) -> float:
    """USD for ``requests`` calls with the given tokens each, at genai-prices' OpenAI rates."""
    rates = prices.per_million(model_id, "openai")
    if rates is None:
        raise LookupError(f"no price known for {model_id}")
    return requests * (input_tokens * rates[0] + output_tokens * rates[1]) / 1_000_000


LEVERS = {  # lever -> (model, input tokens, output tokens) per request, against gpt-4.1-mini with 800 in / 200 out
    "A": ("gpt-4.1-mini", 500, 200),  # shorter instructions
    "B": ("gpt-4.1-mini", 800, 100),  # answers capped at 100 tokens
    "C": ("gpt-4.1-nano", 800, 200),  # a smaller model
}


def lever_savings(requests: int = 1000) -> dict[str, float]:
    """USD saved per ``requests`` by each lever, against gpt-4.1-mini with 800 input and 200 output tokens."""
    base = cost_of_workload("gpt-4.1-mini", requests, 800, 200)
    return {k: base - cost_of_workload(*v[:1], requests, *v[1:]) for k, v in LEVERS.items()}


@exercise("start-cost-levers")
@placeholders
def check_cost_levers(answer) -> Feedback:
    """Rank three cost levers by the money they save, biggest saving first."""
    savings = lever_savings()
    right = sorted(savings, key=lambda k: -savings[k])
    if isinstance(answer, str):
        answer = list(answer.replace(",", "").replace(" ", ""))
    if not isinstance(answer, (list, tuple)) or sorted(map(str, answer)) != sorted(LEVERS):
        return hint("answer with the three letters in order, biggest saving first, e.g. ['A', 'B', 'C'].")
    got = [str(x).upper() for x in answer]
    table = ", ".join(f"{k} saves ${savings[k]:.2f}" for k in right)
    if got == right:
        return passed(f"{table} per 1,000 requests. Cutting 100 output tokens saves more than cutting 300 input "
                      "tokens (an output token costs 4x an input token here), and a smaller model beats both: "
                      "if it is good enough, which only an evaluation can tell.")
    if got.index("A") < got.index("B"):
        return hint("compare A and B again: A removes 300 input tokens, B removes 100 output tokens. Look up both "
                    "prices with `prices.per_million('gpt-4.1-mini')`: which token is dearer?")
    return hint("compute the cost of 1,000 requests for each lever with `prices.per_million` and subtract it from "
                "the cost today (800 input, 200 output tokens on gpt-4.1-mini).")


PLAN_FIELDS = {"task": 5, "input": 3, "output": 3, "check": 8}


@exercise("start-plan")
@placeholders
def check_plan(answer) -> Feedback:
    """Open-ended: a project idea with a check and a cost estimate (the estimate is verified)."""
    from aie.exercises.forms import grade_open

    problem = grade_open(answer, {**PLAN_FIELDS, "model": 0, "requests_per_day": 0, "input_tokens": 0,
                                  "output_tokens": 0, "usd_per_day": 0})
    if problem is not None:
        return problem
    try:
        rates = prices.per_million(str(answer["model"]), "openai")
    except Exception:
        rates = None
    if rates is None:
        return hint(f"no OpenAI price is known for {answer['model']!r}: pick a model that `prices.per_million` knows, "
                    "such as 'gpt-4.1-mini' or 'gpt-4.1-nano'.")
    for key in ("requests_per_day", "input_tokens", "output_tokens"):
        if isinstance(answer[key], bool) or not isinstance(answer[key], int) or answer[key] <= 0:
            return hint(f"`{key}` is a positive whole number (your estimate), got {answer[key]!r}.")
    right = cost_of_workload(str(answer["model"]), answer["requests_per_day"], answer["input_tokens"], answer["output_tokens"])
    try:
        value = float(answer["usd_per_day"])
    except (TypeError, ValueError):
        return hint("`usd_per_day` is a number of US dollars, computed from your estimates.")
    if abs(value - right) > 0.01 * right + 1e-9:
        return hint(f"`usd_per_day` does not match your own estimates: {answer['requests_per_day']:,} requests of "
                    f"{answer['input_tokens']:,} input and {answer['output_tokens']:,} output tokens on "
                    f"{answer['model']} cost ${right:,.4f} a day. Recompute it with `prices.per_million`.")
    return passed(f"a plan with a check and a cost of ${right:,.2f} a day. Compare it with the rubric in the solution; "
                  "the checker verifies the arithmetic, not the idea.")
