"""Prices per token, read offline from the ``genai-prices`` package's bundled data.

One place for prices: the usage ledger, the budget cap and the cost lessons all ask here.
"""

from __future__ import annotations

from functools import lru_cache

SOURCE = "genai-prices 0.2.3 bundled price data (pydantic/genai-prices, package released 2026-11), read offline"
FREE_BACKENDS = {"offline", "local-llm", "cassette"}


@lru_cache(maxsize=256)
def per_million(model_id: str, provider: str | None = "openai") -> tuple[float, float] | None:
    """(input, output) USD per million tokens for ``model_id``, or None if genai-prices does not know it."""
    from genai_prices import Usage, calc_price

    try:
        calc = calc_price(Usage(input_tokens=1_000_000, output_tokens=0), model_id, provider_id=provider)
        calc_out = calc_price(Usage(input_tokens=0, output_tokens=1_000_000), model_id, provider_id=provider)
    except LookupError:
        if provider is not None:
            return per_million(model_id, None)
        return None
    return float(calc.total_price), float(calc_out.total_price)


def cost(backend: str, model_id: str, input_tokens: int, output_tokens: int) -> float | None:
    """USD for one call; 0 on the offline and local backends; None when the price is unknown."""
    if backend in FREE_BACKENDS:
        return 0.0
    rates = per_million(model_id, "openai" if backend == "openai" else None)
    if rates is None:
        return None
    return (input_tokens * rates[0] + output_tokens * rates[1]) / 1_000_000
