"""Checkers for the getting-started notebook."""

from __future__ import annotations

from aie import prices
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


@exercise("start-cost")
def check_cost_per_1000(answer) -> Feedback:
    """Cost in USD of 1,000 requests to gpt-4.1-mini with 800 input and 200 output tokens each."""
    right = cost_of_workload("gpt-4.1-mini", 1000, 800, 200)
    value = float(answer)

    def near(x: float) -> bool:
        return abs(value - x) <= 0.005 * abs(x)

    if near(right):
        return passed(f"${right:.2f} for 1,000 requests. On this model an output token costs 4x an input token.")
    if near(right / 1000):
        return hint("that is the cost of one request; the question asks for 1,000 of them.")
    if near(cost_of_workload("gpt-4.1-mini", 1000, 200, 800)):
        return hint("you swapped the input and output token counts: 800 are input (prompt) tokens, 200 are output.")
    if value > 100 * right:
        return hint("prices are quoted per million tokens: divide the token counts by 1,000,000 before multiplying by the price.")
    return hint("multiply each token count by its price per million tokens, divide by 1,000,000, add input and output, "
                "then multiply by the number of requests.")
