"""Grounded answers and summaries: quote the best-matching sentences of the given context.

Documents are found in the prompt in the usual shapes (``[doc1] ...`` lines,
``<document id="x">`` tags, ``Document 2:`` headers, a ``Context:`` section, or a pasted
text followed by a question). The answer is extractive: the sentences most similar to the
question (embedding cosine plus word overlap), each followed by its document id in
brackets. Nothing from a document that did not match is used, and when no sentence
passes the threshold the model says it does not know instead of guessing.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

import numpy as np

from aie import minilm
from aie.offline import sampling
from aie.offline.textutil import STOPWORDS, sentences, stem, strip_quotes, truncate_words, words

ABSTAIN = "I don't know based on the provided context."
THRESHOLD = 0.6  # minimum score of the best sentence to answer (chosen on the dev half: benchmarks/tune_grounding.py)
MARGIN = 0.15  # a second sentence of the same document is quoted when it scores within this of the best one
CROSS_MARGIN = 0.05  # ... and one from another document only when it scores within this
LEXICAL_WEIGHT = 0.35  # weight of the (idf-weighted) share of question words the sentence contains
TYPE_WEIGHT = 0.2  # bonus for a sentence holding the kind of value the question asks for (a time for "when")
ENTITY_PENALTY = 0.3  # a name the question mentions ("Oslo") that the sentence's document never mentions
_QWORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "does", "do", "did", "is", "are", "can",
           "could", "should", "would", "will", "many", "much", "long", "tell", "explain", "describe", "according", "context",
           "document", "documents", "provided", "based", "say", "says"}


@dataclass
class Doc:
    id: str | None
    text: str


@dataclass
class Context:
    docs: list[Doc] = field(default_factory=list)
    question: str = ""
    system_rest: str = ""  # the system text without the documents (its instructions)
    user_rest: str = ""  # the user text without the documents


_TAG = re.compile(r"<(document|doc|source|chunk|passage|context|article|page|search_result|result)\b([^>]*)>(.*?)</\1\s*>", re.I | re.S)
_ATTR = re.compile(r"\b(id|name|index|source|title|key|doc_id)\s*=\s*[\"']?([^\"'>\s]+)", re.I)
_BRACKET = re.compile(r"^\s*(?:[-*]\s*)?\[([^\]\n]{1,40})\]\s*:?\s*(.*)$")
_HEADER = re.compile(r"^\s*(?:#+\s*)?(?:document|doc|source|passage|chunk|excerpt|snippet|result)\s*#?\s*([\w.-]+)\s*(?:\(([^)]*)\))?\s*[:)\]\-\u2014]\s*(.*)$", re.I)
_QUESTION = re.compile(r"^\s*(?:question|q|query|user question|customer question)\s*:\s*(.+)$", re.I | re.M)
_CONTEXT = re.compile(r"^\s*(?:context|background|documents?|sources?|knowledge base|retrieved (?:documents|context|chunks)|reference(?:s| text)?|passages?|excerpts?)\s*:?\s*$"
                      r"|^\s*(?:context|background)\s*:\s*(?=\S)", re.I | re.M)


def _tag_docs(text: str) -> tuple[list[Doc], str]:
    docs: list[Doc] = []

    def take(m: re.Match) -> str:
        attrs = dict((k.lower(), v) for k, v in _ATTR.findall(m.group(2)))
        body = m.group(3)
        inner_src = re.search(r"<(source|id|title)>(.*?)</\1>", body, re.S | re.I)
        inner_txt = re.search(r"<(document_content|content|text)>(.*?)</\1>", body, re.S | re.I)
        did = attrs.get("id") or attrs.get("doc_id") or (inner_src.group(2).strip() if inner_src else None) or attrs.get("name") \
            or attrs.get("source") or attrs.get("index") or attrs.get("key") or attrs.get("title")
        content = inner_txt.group(2) if inner_txt else re.sub(r"<(source|id|title)>.*?</\1>", "", body, flags=re.S | re.I)
        if m.group(1).lower() == "context" and _TAG.search(content):
            inner, _ = _tag_docs(content)
            docs.extend(inner)
        else:
            docs.append(Doc(did, content.strip()))
        return "\n"

    rest = _TAG.sub(take, text)
    return [d for d in docs if d.text], rest


def _line_docs(text: str) -> tuple[list[Doc], str]:
    docs: list[Doc] = []
    rest: list[str] = []
    current: Doc | None = None
    for ln in text.split("\n"):
        mb, mh = _BRACKET.match(ln), _HEADER.match(ln)
        if mb and not re.fullmatch(r"\s*x?\s*", mb.group(1)):
            current = Doc(mb.group(1).strip(), mb.group(2).strip())
            docs.append(current)
        elif mh:
            current = Doc(mh.group(1).strip(), mh.group(3).strip())
            docs.append(current)
        elif current is not None and ln.strip() and not _QUESTION.match(ln):
            current.text = (current.text + "\n" + ln.strip()).strip()
        else:
            if not ln.strip() or _QUESTION.match(ln):
                current = None
            rest.append(ln)
    return [d for d in docs if d.text], "\n".join(rest)


def find_context(system: str, user: str) -> Context:
    """The documents and the question in a prompt (documents may sit in the system or the user message)."""
    ctx = Context()
    rests = []
    for part in (system, user):
        docs, rest = _tag_docs(part)
        more, rest = _line_docs(rest)
        ctx.docs += docs + more
        rests.append(rest)
    sys_rest, user_rest = rests
    ctx.system_rest, ctx.user_rest = sys_rest.strip(), user_rest.strip()
    q = _QUESTION.search(user_rest) or _QUESTION.search(sys_rest)
    if not ctx.docs:
        for part_i, part in enumerate((sys_rest, user_rest)):
            m = _CONTEXT.search(part)
            if m:
                body = part[m.end():]
                body = re.split(r"^\s*(?:question|q|query|answer|instructions?)\s*:", body, maxsplit=1, flags=re.I | re.M)[0]
                paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
                ctx.docs += [Doc(None, p) for p in paras]
                if part_i == 1:
                    user_rest = part[: m.start()] + part[m.end() + len(body):]
                    ctx.user_rest = user_rest.strip()
                else:
                    ctx.system_rest = (part[: m.start()] + part[m.end() + len(body):]).strip()
    if q:
        ctx.question = strip_quotes(q.group(1).strip())
    else:
        lines = [ln for ln in user_rest.split("\n") if ln.strip() and not _instruction_line(ln)]
        ctx.question = " ".join(lines).strip() or _last_question(user)
    if not ctx.docs and user:
        # a pasted text followed by a question: the text is the context
        sents = sentences(user)
        qs = [s for s in sents if s.rstrip().endswith("?")]
        if len(sents) >= 4 and qs and sents[-1] in qs:
            body = [s for s in sents if s not in qs]
            ctx.docs = [Doc(None, " ".join(body))]
            ctx.question = qs[-1]
    return ctx


def _instruction_line(ln: str) -> bool:
    return bool(re.search(r"\b(answer|respond|reply|use|using|cite|citing|only|based on|according to|if the|don't know|do not know|context|sources?|documents?)\b", ln, re.I)
                and not ln.rstrip().endswith("?"))


def _last_question(text: str) -> str:
    qs = [s for s in sentences(text) if s.rstrip().endswith("?")]
    return qs[-1] if qs else text.strip()


# ---------------------------------------------------------------- answering

@dataclass
class Answer:
    text: str
    cited: list[str]
    abstained: bool
    trace: str


def _qterms(question: str) -> list[str]:
    return [stem(w) for w in words(question) if w not in STOPWORDS and w not in _QWORDS and len(w) > 1]


_ANSWER_TYPES = [
    (r"\b(phone|telephone|call|number to call)\b", ("phone",)),
    (r"\be-?mail address\b", ("email",)),
    (r"\b(how (many|long|old|far|big|often)|percent|percentage|discount)\b", ("number",)),
    (r"\b(how much|cost|costs|price|fee|charge)\b", ("money", "free")),
    (r"\b(when|what time|hours|opening|open|what day|date|deadline)\b", ("time", "date")),
    (r"\b(website|url|link)\b", ("url",)),
]


def _expected_types(question: str) -> set[str]:
    return {k for pat, kinds in _ANSWER_TYPES if re.search(pat, question, re.I) for k in kinds}


def _has_type(sentence: str, kinds: set[str]) -> bool:
    from aie.offline import entities as E

    if "free" in kinds and re.search(r"\b(free|no charge|at no cost)\b", sentence, re.I):
        return True
    if "money" in kinds and any(n.kind.startswith("money") or n.kind == "percent" for n in E.numbers(sentence)):
        return True
    finders = {"phone": E.phones, "email": E.emails, "number": E.numbers, "time": E.times, "date": E.dates, "url": E.urls}
    return any(finders[k](sentence) for k in kinds if k in finders)


def _names(question: str) -> list[str]:
    """Capitalised words inside the question (not its first word): names the answer must be about."""
    toks = re.findall(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w-]+", question.strip())
    return [t for t in toks if t.lower() not in STOPWORDS and t != "I"]


def rank(question: str, docs: list[Doc]) -> list[tuple[float, int, str]]:
    """(score, doc index, sentence) for every sentence of every document, best first."""
    items = [(i, s) for i, d in enumerate(docs) for s in sentences(d.text)]
    if not items:
        return []
    vecs = minilm.embed([question] + [s for _, s in items])
    cos = vecs[1:] @ vecs[0]
    q = _qterms(question)
    sent_stems = [{stem(w) for w in words(s)} for _, s in items]
    n = len(items)
    idf = {t: math.log(1 + n / (1 + sum(t in ss for ss in sent_stems))) for t in set(q)}
    total = sum(idf.values()) or 1.0
    kinds = _expected_types(question)
    counted = re.search(r"\bhow many (\w+)", question, re.I)  # "how many days": the sentence must count days
    names = _names(question)
    out = []
    for k, ((i, s), ss) in enumerate(zip(items, sent_stems)):
        cover = sum(idf[t] for t in set(q) if t in ss) / total
        typed = TYPE_WEIGHT if kinds and _has_type(s, kinds) and (not counted or stem(counted.group(1).lower()) in ss) else 0.0
        missing = [n for n in names if n.lower() not in docs[i].text.lower()]
        out.append((float(cos[k]) + LEXICAL_WEIGHT * cover + typed - ENTITY_PENALTY * bool(missing), i, s))
    return sorted(out, key=lambda x: -x[0])


def answer(ctx: Context, temperature: float = 0.0, rng: random.Random | None = None, abstain: str | None = None,
           max_sentences: int = 2) -> Answer:
    """Extractive answer with citations, or the abstention phrase when nothing matches well enough."""
    ranked = rank(ctx.question, ctx.docs)
    phrase = abstain or ABSTAIN
    if not ranked or ranked[0][0] < THRESHOLD:
        best = f"{ranked[0][0]:.2f}" if ranked else "none"
        return Answer(phrase, [], True, f"No sentence in the context matches the question well enough (best score {best}, threshold {THRESHOLD}).")
    top = ranked[0][0]
    near = [r for r in ranked if r[0] >= max(THRESHOLD, top - CROSS_MARGIN)]
    lead = near[0]
    if temperature > 0 and len(near) > 1:
        lead = sampling.pick([(r, r[0]) for r in near], temperature, rng or random.Random(0), sharpness=20)
    close = [r for r in ranked if r is not lead and r[0] >= max(THRESHOLD, top - (MARGIN if r[1] == lead[1] else CROSS_MARGIN))]
    chosen = [lead] + close[: max_sentences - 1]
    order = {s: k for k, (_, _, s) in enumerate((r for r in ranked))}
    chosen.sort(key=lambda r: (r[1], order[r[2]]))
    parts, cited = [], []
    for _, i, s in chosen:
        did = ctx.docs[i].id
        s = s.strip()
        s = s if s.endswith((".", "!", "?")) else s + "."
        parts.append(f"{s} [{did}]" if did else s)
        if did and did not in cited:
            cited.append(did)
    trace = (f"The best-matching sentence scores {top:.2f}" + (f" in [{ctx.docs[lead[1]].id}]" if ctx.docs[lead[1]].id else "")
             + f"; I quote the {len(chosen)} sentence(s) above the threshold {THRESHOLD} and within {MARGIN} of the best"
             + f" ({CROSS_MARGIN} for another document).")
    return Answer(" ".join(parts), cited, False, trace)


# ---------------------------------------------------------------- summaries

def summarize(text: str, n_sentences: int | None = None, word_limit: int | None = None) -> tuple[str, list[str], str]:
    """Extractive summary: the most central sentences, in their original order, within the length asked for.

    Returns (summary, chosen sentences, trace).
    """
    sents = [s for s in sentences(text) if len(s.split()) >= 3] or sentences(text)
    if not sents:
        return "", [], "There was no text to summarise."
    if n_sentences is None:
        n_sentences = 1 if word_limit and word_limit < 30 else max(1, min(3, round(len(sents) * 0.25)))
    vecs = minilm.embed(sents)
    centroid = vecs.mean(axis=0)
    centrality = vecs @ centroid
    centrality[0] += 0.06  # the opening sentence often states the topic
    order = list(np.argsort(-centrality))
    chosen: list[int] = []
    for i in order:
        if len(chosen) >= n_sentences:
            break
        if word_limit and chosen and sum(len(sents[j].split()) for j in chosen) + len(sents[i].split()) > word_limit:
            continue
        chosen.append(int(i))
    chosen.sort()
    picked = [sents[i] for i in chosen]
    out = " ".join(picked)
    if word_limit:
        out = truncate_words(out, word_limit)
    trace = f"I kept the {len(picked)} most central of {len(sents)} sentences (similarity to the text's mean embedding)."
    return out, picked, trace
