"""The one checker pattern every exercise uses.

A checker is a plain function registered with :func:`exercise`. It takes the
learner's answer and returns :class:`Feedback`: passed, or a specific hint that
says what is wrong. Notebooks show the feedback; ``python -m aie grade`` and the
tests call the same functions, so what a learner sees is what an instructor grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

REGISTRY: dict[str, Callable[[Any], "Feedback"]] = {}


@dataclass(frozen=True)
class Feedback:
    passed: bool
    message: str
    exercise: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✅ Correct" if self.passed else "❌ Not yet"
        where = f" [{self.exercise}]" if self.exercise else ""
        return f"{mark}{where}: {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return ("**✅ Correct**: " if self.passed else "**❌ Not yet**: ") + self.message


def passed(message: str = "well done.") -> Feedback:
    return Feedback(True, message)


def hint(message: str) -> Feedback:
    return Feedback(False, message)


def exercise(exercise_id: str) -> Callable[[Callable[[Any], Feedback]], Callable[[Any], Feedback]]:
    """Register a checker under a stable id (used by grading and the tests)."""

    def register(fn: Callable[[Any], Feedback]) -> Callable[[Any], Feedback]:
        if exercise_id in REGISTRY:
            raise ValueError(f"exercise id {exercise_id!r} is registered twice")

        def wrapped(answer: Any) -> Feedback:
            if answer is None or answer is ...:
                return Feedback(False, "no answer yet: replace the `...` placeholder with your answer and run the cell again.", exercise_id)
            try:
                fb = fn(answer)
            except Exception as e:  # a malformed answer gets a hint, not a traceback
                return Feedback(False, f"your answer could not be checked ({type(e).__name__}: {e}). Check its type and shape against the exercise text.", exercise_id)
            return Feedback(fb.passed, fb.message, exercise_id)

        wrapped.__name__ = fn.__name__
        wrapped.__doc__ = fn.__doc__
        wrapped.exercise_id = exercise_id  # type: ignore[attr-defined]
        REGISTRY[exercise_id] = wrapped
        return wrapped

    return register


def close(a: float, b: float, tol: float = 0.01) -> bool:
    """True when two numbers agree within ``tol`` (absolute); for answers read off data."""
    return abs(float(a) - float(b)) <= tol
