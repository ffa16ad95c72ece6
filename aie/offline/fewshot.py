"""Few-shot classification: a weighted nearest-neighbour vote over sentence embeddings.

The labelled examples in the prompt (chat turn pairs, ``Input:``/``Output:`` lines,
``<Example>`` blocks, ``text -> label`` lines) are the model's only knowledge of what each
label means. With no examples it can only compare the input with the label names, or with
the labels' descriptions when the prompt gives them: opaque labels (P1/P2/P3) then score
near chance, described labels do better, and good examples do best. That is the effect
the prompting lesson measures.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

from aie import minilm
from aie.offline import sampling
from aie.offline.prompt import Prompt
from aie.offline.textutil import strip_quotes

TAU_KNN = 0.05  # softmax temperature of the neighbour weights (tuned on the dev half of the benchmark)
TAU_ZERO = 0.05  # softmax temperature of label-name similarities
DESCRIPTION_WEIGHT = 0.3  # share of the vote that described labels keep when examples are present

INPUT_KEYS = (r"input|text|message|ticket|review|email|query|question|sentence|comment|tweet|post|request|customer|"
              r"document|headline|title|feedback|complaint|issue|utterance|description|user")
OUTPUT_KEYS = (r"output|label|category|class|answer|sentiment|priority|intent|topic|classification|result|tag|type|"
               r"department|team|queue|severity|urgency|route|assistant")
_IN = re.compile(rf"^\s*(?:[-*]\s*)?\**(?:{INPUT_KEYS})\**\s*:\s*(.*)$", re.I)
_OUT = re.compile(rf"^\s*(?:[-*]\s*)?\**(?:{OUTPUT_KEYS})\**\s*:\s*(.*)$", re.I)
_INLINE = re.compile(rf"^\s*(?:[-*]\s*)?(?:{INPUT_KEYS})\s*:\s*(.+?)\s+(?:{OUTPUT_KEYS})\s*:\s*(\S.*)$", re.I)
_ARROW = re.compile(r"^\s*(?:[-*]\s*)?(.{3,}?)\s*(?:->|=>|\u2192)\s*([^\n]{1,40})$")
_BLOCK = re.compile(r"<(example|examples|ex|sample)(?:\s*\d+|\s+[^>]*)?>(.*?)</\1(?:\s*\d+)?>", re.I | re.S)
_TAGGED = re.compile(r"<(input|text)>(.*?)</\1>\s*<(output|label|answer)>(.*?)</\3>", re.I | re.S)
_RESERVED = {"input", "output", "text", "label", "context", "question", "answer", "note", "example", "examples",
             "instructions", "task", "format", "rules", "important", "thought", "final answer", "labels", "categories",
             "system", "user", "assistant", "q", "ticket", "review", "email", "query", "document", "source", "sources",
             "subject", "from", "to", "date", "priority", "category", "sentiment", "result", "classification"}
_LIST_TRIGGER = re.compile(
    r"(?:(?P<strong>\bone of(?: the following)?(?: labels| categories| classes| options)?|\beither|\bchoose (?:from|between|among)|\bpick (?:from|one of)"
    r"|\bselect (?:from|one of)|\blabels?(?: are| is)?|\bcategories(?: are)?|\bclasses(?: are)?|\boptions(?: are)?"
    r"|\bclassify (?:it |this |them |each |the \w+ )?(?:as|into)|\blabel (?:it|this|each|them) (?:as|with)|\bcategori[sz]e (?:it |this )?(?:as|into)"
    r"|\bvalid (?:labels|values|answers)(?: are)?)"
    r"|(?P<weak>\b(?:answer|respond|reply|output|return)(?: only)? (?:with|using)))\s*:?\s*", re.I)


@dataclass
class Task:
    labels: list[str]
    query: str
    examples: list[tuple[str, str]] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class Decision:
    label: str
    distribution: dict[str, float]
    trace: str


def _clean_label(s: str) -> str:
    s = strip_quotes(s.strip().rstrip(".,;:!"))
    return strip_quotes(s)


def _split_list(raw: str, strict: bool) -> list[str]:
    raw = re.split(r"[.;\n)]\s|[.;\n)]$|\(|\bonly\b|\bnothing\b|\bdepending\b|\bbased\b|\bwithout\b", raw + " ", maxsplit=1)[0]
    parts = [p for p in re.split(r"\s*(?:,\s*or\s+|,\s*and\s+|,|/|\||\bor\b|\band\b)\s*", raw) if p and p.strip()]
    labels = []
    for p in parts:
        lab = _clean_label(p)
        n = len(lab.split())
        if not lab or n > (2 if strict else 3) or (strict and lab.split()[0].lower() in {"a", "an", "the", "your", "my"}):
            break
        labels.append(lab)
    return labels if len(labels) >= 2 else []


def _explicit_labels(text: str) -> list[str]:
    for m in _LIST_TRIGGER.finditer(text):
        labels = _split_list(text[m.end(): m.end() + 240], strict=bool(m.group("weak")))
        if labels:
            return labels
    m = re.search(r"\(\s*([\w-]+(?:\s*/\s*[\w-]+)+)\s*\)|\b([A-Za-z]\w{0,10}(?:/[A-Za-z]\w{0,10}){2,})\b", text)
    if m:
        return [x.strip() for x in (m.group(1) or m.group(2)).split("/")]
    return []


def _described_labels(text: str) -> dict[str, str]:
    """Lines like '- P1: site down or data loss' (two or more in a row) -> {label: description}."""
    out: dict[str, str] = {}
    for ln in text.split("\n"):
        m = re.match(r"^\s*(?:[-*\u2022]|\d+[.)])?\s*[\"'`*]*([A-Za-z0-9][\w\- ]{0,24}?)[\"'`*]*\s*(?::|\u2014|\u2013| - |=)\s+(\S.{2,})$", ln)
        if m and m.group(1).strip().lower() not in _RESERVED and len(m.group(1).split()) <= 3 and len(m.group(2).split()) <= 30:
            out[m.group(1).strip()] = m.group(2).strip()
        elif out and len(out) < 2 and ln.strip():
            out = {}
    return out if len(out) >= 2 else {}


def _pairs_in(text: str) -> tuple[list[tuple[str, str]], str | None]:
    """Labelled pairs written as key lines or arrows, and a trailing input with no output (the query)."""
    pairs: list[tuple[str, str]] = []
    pending: list[str] | None = None
    for ln in text.split("\n"):
        m = _INLINE.match(ln)
        if m:
            pairs.append((strip_quotes(m.group(1)), _clean_label(m.group(2))))
            pending = None
            continue
        mi, mo = _IN.match(ln), _OUT.match(ln)
        if mi and not (mo and pending is not None):
            pending = [mi.group(1)]
        elif mo and pending is not None:
            out = _clean_label(mo.group(1))
            if out:
                pairs.append((strip_quotes(" ".join(pending)), out))
                pending = None
            else:
                break  # "Output:" left empty: this input is the query
        elif pending is not None and ln.strip():
            pending.append(ln.strip())
        else:
            ma = _ARROW.match(ln)
            if ma and len(ma.group(2).split()) <= 3:
                pairs.append((strip_quotes(ma.group(1)), _clean_label(ma.group(2))))
    query = strip_quotes(" ".join(pending)) if pending else None
    return pairs, query


def _examples(text: str) -> tuple[list[tuple[str, str]], str, str | None]:
    """Examples from <Example> blocks and key lines; returns (pairs, text without them, trailing query)."""
    pairs: list[tuple[str, str]] = []

    def take_block(m: re.Match) -> str:
        body = m.group(2)
        tagged = _TAGGED.findall(body)
        if tagged:
            pairs.extend((strip_quotes(a[1]), _clean_label(a[3])) for a in tagged)
        else:
            pairs.extend(_pairs_in(body)[0])
        return "\n"

    rest = _BLOCK.sub(take_block, text)
    line_pairs, query = _pairs_in(rest)
    if line_pairs:
        pairs.extend(line_pairs)
        kept = [ln for ln in rest.split("\n") if not (_IN.match(ln) or _OUT.match(ln) or _ARROW.match(ln))]
        rest = "\n".join(kept)
    return [(a, b) for a, b in pairs if a and b], rest, query


_INSTRUCTION = re.compile(r"\b(classif|categori[sz]|label|which (category|class|label|team|queue)|answer (with|using)|respond (with|using)"
                          r"|reply (with|using)|one of|output only|only the|no explanation|priority|route|sentiment of)", re.I)


def _query_from(user: str, labels: list[str]) -> str:
    """The text to classify: the user message minus instruction lines ('Classify this ticket: ...' keeps the part after ':')."""
    keep = []
    for ln in user.split("\n"):
        s = re.sub(r"</?[A-Za-z_][\w-]*(?:\s[^<>]*)?>", " ", ln).strip()  # "<ticket>" wraps the text; it is not the text
        if not s:
            continue
        if _INSTRUCTION.search(s) or (labels and sum(bool(re.search(rf"\b{re.escape(lab)}\b", s)) for lab in labels) >= 2):
            q = re.search(r"[\"\u201c]([^\"\u201d]{12,})[\"\u201d]", s)
            after = s.split(":", 1)[1].strip() if ":" in s else ""
            if q:
                keep.append(q.group(1))
            elif len(after.split()) >= 3 and not _INSTRUCTION.search(after):
                keep.append(after)
            continue
        m = _IN.match(s)
        keep.append(m.group(1) if m else s)
    text = strip_quotes(" ".join(keep).strip())
    return text or user.strip()


def detect(p: Prompt) -> Task | None:
    """A classification task if the prompt names a label set or shows labelled examples."""
    sys_pairs, sys_rest, _ = _examples(p.system)
    user_pairs, user_rest, query = _examples(p.user)
    pairs = sys_pairs + user_pairs
    labels = _explicit_labels(sys_rest + "\n" + user_rest)
    descriptions = _described_labels(sys_rest + "\n" + user_rest)
    # chat-turn examples: user turns answered by short assistant turns. In a plain conversation short
    # replies ("Sure!") are not labels, so ask for a label set, a classification cue, or repeated labels.
    turns = p.turns
    chat_pairs = [(t1, _clean_label(t2)) for (r1, t1), (r2, t2) in zip(turns, turns[1:])
                  if r1 == "user" and r2 == "assistant" and 0 < len(t2.split()) <= 4]
    if labels:
        chat_pairs = [(t, lab) for t, lab in chat_pairs if lab in labels]
    repeated = len(chat_pairs) >= 3 and len({lab for _, lab in chat_pairs}) < len(chat_pairs)
    if labels or _INSTRUCTION.search(p.system) or repeated:
        pairs += [(_query_from(t, labels), lab) for t, lab in chat_pairs]
    if descriptions and (not labels or set(labels) <= set(descriptions)):
        labels = labels or list(descriptions)
    labels = list(dict.fromkeys(labels + [b for _, b in pairs]))
    if len(labels) < 2 and not (pairs and len({b for _, b in pairs}) >= 2):
        return None
    if not labels or (len(pairs) < 2 and not _explicit_labels(p.instructions) and not descriptions):
        return None
    q = query or _query_from(user_rest if (user_pairs or sys_pairs) else p.user, labels)
    descriptions = {k: v for k, v in descriptions.items() if k in labels}
    return Task(labels=labels, query=q, examples=pairs, descriptions=descriptions)


def classify(task: Task, temperature: float, rng: random.Random) -> Decision:
    """Vote with the examples (or compare with label names/descriptions) and pick a label."""
    label_texts = [task.descriptions.get(lab, lab) for lab in task.labels]
    texts = [task.query] + [t for t, _ in task.examples] + label_texts
    vecs = minilm.embed(texts)
    q, ex, lab = vecs[0], vecs[1:1 + len(task.examples)], vecs[1 + len(task.examples):]
    zero = sampling.softmax((lab @ q).tolist(), TAU_ZERO)
    if task.examples:
        sims = ex @ q
        w = np.exp((sims - sims.max()) / TAU_KNN)
        votes = {l: 0.0 for l in task.labels}
        for (_, l), wi in zip(task.examples, w):
            votes[l] = votes.get(l, 0.0) + float(wi)
        total = sum(votes.values()) or 1.0
        probs = [votes[l] / total for l in task.labels]
        if task.descriptions:
            probs = [(1 - DESCRIPTION_WEIGHT) * a + DESCRIPTION_WEIGHT * b for a, b in zip(probs, zero)]
        best = int(np.argmax(sims))
        why = (f"The closest labelled example (similarity {sims[best]:.2f}) is '{_short(task.examples[best][0])}' -> "
               f"{task.examples[best][1]}; the weighted vote of all {len(task.examples)} examples gives ")
    else:
        probs = zero
        basis = "descriptions" if task.descriptions else "names"
        why = f"No labelled examples, so I compared the input with the label {basis}; similarity gives "
    dist = dict(zip(task.labels, probs))
    cands = [(l, float(np.log(max(p, 1e-12)))) for l, p in dist.items()]
    label = sampling.pick(cands, temperature, rng)
    why += ", ".join(f"{l} {p:.2f}" for l, p in sorted(dist.items(), key=lambda kv: -kv[1])) + "."
    return Decision(label, dist, why)


def _short(s: str, n: int = 8) -> str:
    ws = s.split()
    return " ".join(ws[:n]) + ("..." if len(ws) > n else "")
