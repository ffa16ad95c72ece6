"""The offline model: a small deterministic algorithm over MiniLM sentence embeddings.

It is not a language model. (Stub: the issue "An offline model that makes each lesson's
effect real" replaces this with the full behaviour.)
"""

from __future__ import annotations

import random

NOTICE = ("I am the course's offline model, not an LLM: with no context to quote from I cannot answer that. "
          "Set OPENAI_API_KEY, OPENAI_BASE_URL or AIE_BACKEND=local-llm to talk to a real model.")


def complete(request: dict, rng: random.Random) -> dict:
    """Answer one validated chat-completions request: {content, tool_calls, finish_reason}."""
    return {"content": NOTICE, "tool_calls": None, "finish_reason": "stop"}
