"""Two answer shapes shared by the exercises that ask for judgement rather than a number.

*Claims*: the learner marks each claim ``"supported"``, ``"contradicted"`` or ``"cannot tell"``; the
checker computes each verdict from the course tables and explains the first one that is wrong, so a
learner learns which trap (the base, percentage points, nested answers) caught them.

*Open-ended*: a dict of named free-text fields. A checker can verify the shape (every field there,
long enough to say something, a measurement actually run), never the quality of the idea: that is for
the rubric in the solution dropdown and for a human reader.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from aie.check import Feedback, hint, passed

VERDICTS = ("supported", "contradicted", "cannot tell")


def unanswered(answer: Any) -> bool:
    """True for the learner cell as handed out: ``[...]``, or a dict whose values are all ``...`` or ``[...]``."""
    def blank(v: Any) -> bool:
        return v is ... or (isinstance(v, (list, tuple)) and list(v) == [...])
    if isinstance(answer, dict):
        return bool(answer) and all(blank(v) or (isinstance(v, str) and k == "model") for k, v in answer.items())
    return blank(answer)


def placeholders(fn: Callable[[Any], Feedback]) -> Callable[[Any], Feedback]:
    """Answer the untouched learner cell with "no answer yet" rather than a complaint about its shape."""
    @functools.wraps(fn)
    def checked(answer: Any) -> Feedback:
        if unanswered(answer):
            return hint("no answer yet: replace each `...` with your answer and run the cell again.")
        return fn(answer)
    return checked


def grade_claims(answer: Any, truth: dict[str, str], why: dict[str, str], success: str, *,
                 verdicts: tuple[str, ...] = VERDICTS, item: str = "claim") -> Feedback:
    """Compare ``{"A": verdict, ...}`` with ``truth``; ``why[letter]`` explains a wrong verdict.

    ``verdicts`` and ``item`` let other judgement exercises (a diagnosis per case) share the same shape."""
    if not isinstance(answer, dict):
        return hint(f"answer with a dict from {item} letter to verdict, e.g. "
                    f"{{'A': '{verdicts[0]}', 'B': '{verdicts[-1]}'}}.")
    missing = [k for k in truth if k not in answer]
    if missing:
        return hint(f"give a verdict for every {item}: missing {missing}.")
    extra = [k for k in answer if k not in truth]
    if extra:
        return hint(f"there is no {item} {extra}; the {item}s are {sorted(truth)}.")
    if all(answer[k] is ... for k in truth):
        return hint("no answer yet: replace each `...` with a verdict and run the cell again.")
    for letter in truth:
        verdict = answer[letter]
        if verdict is ...:
            return hint(f"{item} {letter} still holds `...`: give it a verdict.")
        if not isinstance(verdict, str) or verdict.strip().lower() not in verdicts:
            return hint(f"{item} {letter}: a verdict is one of {list(verdicts)}, got {verdict!r}.")
    wrong = [k for k in truth if answer[k].strip().lower() != truth[k]]
    if wrong:
        first = wrong[0]
        return hint(f"{len(wrong)} of {len(truth)} verdicts are not right yet. {item.capitalize()} {first}: {why[first]}")
    return passed(success)


def words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def grade_open(answer: Any, fields: dict[str, int], placeholder_words: set[str] | None = None) -> Feedback | None:
    """Check that ``answer`` is a dict with every field in ``fields`` holding at least that many words.

    Returns a hint, or None when the shape is right (the caller then checks what it can verify).
    """
    if not isinstance(answer, dict):
        return hint(f"answer with a dict with the keys {sorted(fields)}.")
    missing = [k for k in fields if k not in answer]
    if missing:
        return hint(f"the answer needs the keys {missing} too.")
    if all(answer[k] is ... for k in fields):
        return hint("no answer yet: replace each `...` with your own text and run the cell again.")
    for key, minimum in fields.items():
        if answer[key] is ... or (isinstance(answer[key], (list, tuple)) and ... in answer[key]):
            return hint(f"`{key}` still holds `...`: fill it in.")
        if minimum and words(answer[key]) < minimum:
            return hint(f"`{key}` should be a sentence or more ({minimum}+ words) saying what you mean; "
                        f"got {answer[key]!r}.")
        text = answer[key].strip().lower() if isinstance(answer[key], str) else ""
        if placeholder_words and text in placeholder_words:
            return hint(f"`{key}` still holds the placeholder; write your own.")
    return None
