"""Choosing among scored candidates: argmax at temperature 0, seeded sampling above it.

The offline model scores a handful of candidates (labels, sentences) instead of tokens.
A softmax over those scores gives probabilities; ``temperature`` sharpens or flattens
them exactly as it does for an LLM's next-token distribution, and ``logprobs`` reports them.
"""

from __future__ import annotations

import math
import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def softmax(scores: Sequence[float], temperature: float = 1.0) -> list[float]:
    if not scores:
        return []
    t = max(temperature, 1e-6)
    top = max(scores)
    exps = [math.exp((s - top) / t) for s in scores]
    z = sum(exps)
    return [e / z for e in exps]


def pick(candidates: Sequence[tuple[T, float]], temperature: float, rng: random.Random, sharpness: float = 1.0) -> T:
    """Argmax when ``temperature`` is 0; otherwise sample from softmax(scores * sharpness / temperature).

    Ties at temperature 0 go to the first candidate, so the answer never depends on ``rng``.
    """
    if not candidates:
        raise ValueError("no candidates to pick from")
    if temperature <= 0 or len(candidates) == 1:
        best = max(range(len(candidates)), key=lambda i: (candidates[i][1], -i))
        return candidates[best][0]
    probs = softmax([s * sharpness for _, s in candidates], temperature)
    r, acc = rng.random(), 0.0
    for (item, _), p in zip(candidates, probs):
        acc += p
        if r < acc:
            return item
    return candidates[-1][0]


def logprobs_object(chosen: str, distribution: dict[str, float], top: int) -> dict:
    """OpenAI's ``choice.logprobs`` shape for a one-token answer (the label), from label probabilities."""
    def entry(tok: str, p: float) -> dict:
        return {"token": tok, "logprob": round(math.log(max(p, 1e-12)), 6), "bytes": list(tok.encode("utf-8"))}

    ranked = sorted(distribution.items(), key=lambda kv: -kv[1])[:max(top, 0)]
    item = entry(chosen, distribution.get(chosen, 1e-12))
    item["top_logprobs"] = [entry(t, p) for t, p in ranked]
    return {"content": [item], "refusal": None}
