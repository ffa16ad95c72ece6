"""Small text helpers shared by the offline model: message text, sentences, words, stems.

Plain regular expressions on purpose: the offline model must stay fast (a few ms per
request) and predictable, and every rule here is easy to read and to test.
"""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset("""
a an the and or but if then else of to in on at by for with from into onto about as is are was were be been being
am do does did doing have has had having i me my mine we us our you your yours he him his she her it its they them
their this that these those there here what which who whom whose when where why how all any both each few more most
other some such no nor not only own same so than too very can could will would shall should may might must just
please pls kindly also up down out over under again further once s t d ll m o re ve y let lets let's get give
tell show me want need like would could know make use using via per
""".split())

NEGATIONS = frozenset("not no never without none nothing neither nor n't dont don't doesn't didn't isn't aren't wasn't "
                      "weren't won't cannot can't couldn't shouldn't wouldn't haven't hasn't".split())

_ABBREV = r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bvs\.)(?<!\bNo\.)(?<!\bSt\.)"
_SENT_END = re.compile(_ABBREV + r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def message_text(message: dict) -> str:
    """The text of a chat message whose content is a string or a list of parts."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and p.get("type") in {"text", "input_text"}:
                parts.append(str(p.get("text", "")))
        return "\n".join(parts)
    return str(content)


def sentences(text: str) -> list[str]:
    """Split text into sentences (and bullet or numbered lines) without losing any words."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)", text):
        block = block.strip()
        if not block:
            continue
        lines = block.split("\n")
        merged: list[str] = []
        for raw in lines:  # soft-wrapped lines join; lines that end a sentence, and list items, stay apart
            ln = raw.strip()
            if not ln:
                continue
            prev_item = bool(merged) and re.match(r"([-*\u2022]|\d+[.)])\s", merged[-1]) and not raw[:1].isspace()
            if (merged and not prev_item and not re.search(r"[.!?:;]\s*$", merged[-1])
                    and not re.match(r"([-*\u2022]|\d+[.)])\s", ln)
                    and not re.match(r"[A-Z][\w ]{0,30}:\s", ln)):  # a form's "Label: value" lines stay apart
                merged[-1] += " " + ln
            else:
                merged.append(ln)
        for ln in merged:
            for s in _SENT_END.split(ln):
                s = s.strip()
                if s:
                    out.append(s)
    return out


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, apostrophes)."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix stripper: enough to match 'refunds'/'refund', 'shipping'/'shipped'/'ship'."""
    w = word.lower()
    for suf in ("ations", "ation", "ingly", "ings", "ing", "edly", "ies", "ied", "ed", "es", "ly", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            if suf in ("ies", "ied"):
                w += "y"
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # shipp -> ship
        w = w[:-1]
    return w


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stopwords, no single letters)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1}


def name_words(identifier: str) -> list[str]:
    """Split a field or tool name: 'order_id' -> ['order', 'id'], 'isUrgent' -> ['is', 'urgent']."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", identifier)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", s) if w]


def strip_quotes(s: str) -> str:
    s = s.strip()
    while len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`*":
        s = s[1:-1].strip()
    for a, b in (("\u201c", "\u201d"), ("\u2018", "\u2019"), ("<", ">"), ("(", ")")):
        if s.startswith(a) and s.endswith(b):
            s = s[1:-1].strip()
    return s


def truncate_words(text: str, limit: int) -> str:
    """At most ``limit`` whitespace-separated words, keeping line breaks; marks a cut with an ellipsis."""
    if len(text.split()) <= limit:
        return text
    out, left = [], limit
    for line in text.split("\n"):
        ws = line.split()
        if left <= 0:
            break
        if len(ws) <= left:
            out.append(line)
            left -= len(ws)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        cut = " ".join(ws[:left]).rstrip(",;:")
        out.append(lead + (cut if cut.endswith((".", "!", "?")) else cut + "\u2026"))
        left = 0
    return "\n".join(out)


def negated_before(text: str, start: int, window: int = 4) -> bool:
    """Whether one of the ``window`` words before position ``start`` negates what follows."""
    before = re.findall(r"[a-z']+", text[:start].lower())[-window:]
    # a clause boundary resets negation: "no problem, I want a refund"
    clause = re.split(r"[,;.!?]|\bbut\b", text[:start].lower())[-1]
    tail = set(re.findall(r"[a-z']+", clause)) & set(before)
    return any(w in NEGATIONS or w.endswith("n't") for w in tail)
