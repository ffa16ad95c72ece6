"""A tally of what one run of a workflow costs: model calls, tokens and sequential rounds.

Comparing workflows needs the same three numbers for each run. Tokens come from each reply's ``usage``
(what a provider bills); latency is counted as *rounds*, the number of model round trips that had to
happen one after the other, because wall-clock seconds change from run to run and from machine to machine
while the rounds do not. Calls that a workflow sends together (in parallel) count as one round.
"""

from __future__ import annotations

from typing import Any


class Tally:
    """Counts calls, input and output tokens, and sequential rounds for one run."""

    def __init__(self) -> None:
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.rounds = 0

    def call(self, completion: Any) -> Any:
        """Count one call that was waited for on its own (one round); return the completion."""
        return self.parallel([completion])[0]

    def parallel(self, completions: list) -> list:
        """Count calls that were sent together as one round (their waits overlap); return them as a list."""
        completions = list(completions)
        if not completions:
            raise ValueError("Tally.parallel() needs at least one completion: pass the replies of the calls made together.")
        for c in completions:
            usage = getattr(c, "usage", None)
            if usage is None or getattr(usage, "prompt_tokens", None) is None:
                raise TypeError(f"a Tally counts chat completions (with .usage), got {type(c).__name__}: pass the "
                                "object that client.chat.completions.create(...) returned, not its text.")
        for c in completions:
            self.calls += 1
            self.input_tokens += c.usage.prompt_tokens
            self.output_tokens += c.usage.completion_tokens or 0
        self.rounds += 1
        return completions

    def as_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "rounds": self.rounds}

    def __repr__(self) -> str:
        return (f"Tally(calls={self.calls}, input_tokens={self.input_tokens}, output_tokens={self.output_tokens}, "
                f"rounds={self.rounds})")
