"""The usage ledger and the budget cap.

Every call made through ``aie.client()`` is written here (backend, model, tokens,
latency, cost). ``AIE_BUDGET_USD`` is a hard cap for this Python process: a call
whose worst-case cost would pass it is refused before it is sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

import openai

from aie import config, prices


class BudgetExceededError(openai.OpenAIError):
    """A call was refused before it was sent because it could pass AIE_BUDGET_USD."""


@dataclass
class Entry:
    backend: str
    model: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    cost_usd: float | None
    source: str  # "live", "offline" or "cassette"


class Ledger:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._lock = threading.Lock()

    def add(self, entry: Entry) -> None:
        with self._lock:
            self.entries.append(entry)

    def spent(self) -> float:
        return sum(e.cost_usd or 0.0 for e in self.entries)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    def frame(self):
        import pandas as pd

        cols = list(Entry.__dataclass_fields__)
        return pd.DataFrame([asdict(e) for e in self.entries], columns=cols)


LEDGER = Ledger()


def budget() -> float | None:
    """The cap in US dollars (``AIE_BUDGET_USD``); raises ``aie.config.ConfigError`` when it is not a valid amount."""
    return config.budget_usd()


def check_budget(backend: str, model_id: str, body: dict) -> None:
    """Refuse a call whose worst-case cost (prompt + max output tokens) would pass the cap."""
    limit = budget()
    if limit is None:
        return
    from aie import tokens

    if "messages" in body:
        prompt = tokens.count_messages(body["messages"])
        out = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    else:
        inp = body.get("input", "")
        prompt = sum(tokens.count(t) for t in ([inp] if isinstance(inp, str) else inp) if isinstance(t, str))
        out = 0
    estimate = prices.cost(backend, model_id, prompt, out)
    if estimate is None:
        estimate = 0.0
    spent = LEDGER.spent()
    if spent + estimate > limit or (spent >= limit and estimate > 0):
        raise BudgetExceededError(
            f"Budget cap reached: AIE_BUDGET_USD=${limit:.4f}, spent ${spent:.4f} in this session, and this call to "
            f"{model_id} could cost up to ${estimate:.4f} ({prompt} prompt tokens + {out} max output tokens). "
            "It was not sent. Raise AIE_BUDGET_USD, lower max_tokens, or use the offline backend (unset OPENAI_API_KEY)."
        )


def now() -> float:
    return time.perf_counter()
