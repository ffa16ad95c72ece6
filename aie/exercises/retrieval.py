"""Checkers for step 3, context and retrieval (notebooks/03-retrieval).

Each checker runs the learner's function or value on cases of its own and answers with a hint
aimed at the usual mistake. None of them needs the network or a key.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from aie.exercises.forms import grade_claims, placeholders
from aie.check import Feedback, exercise, hint, passed

_STOP = set("""a an and are as at be by can do does for from how i in is it its me my of on or so
that the this to was what when where which who why will with you your""".split())


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if w not in _STOP}


def _callable(fn: Any, name: str) -> Feedback | None:
    if not callable(fn):
        return hint(f"pass the function itself (`{name}`, without parentheses), not {type(fn).__name__}.")
    return None


# ------------------------------------------------------------------------------ 1. retrieval by hand


@exercise("retrieval-hand-overlap")
def check_overlap_share(fn: Callable[[str, str], float]) -> Feedback:
    """Share of the question's distinct content words found in the text."""
    if (bad := _callable(fn, "overlap_share")):
        return bad
    cases = [
        ("How do I cap spending?", "Set a budget cap before spending anything.", 1.0),
        ("How do I cap spending?", "Spending is recorded in the ledger.", 0.5),
        ("budget cap cost ledger", "The ledger records cost and the cap is a budget.", 1.0),
        ("budget budget cap", "a budget", 0.5),
        ("the of and", "anything at all", 0.0),
        ("Chroma server port", "Nothing here matches.", 0.0),
    ]
    for q, text, want in cases:
        got = fn(q, text)
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        if not isinstance(got, (int, float)):
            return hint(f"return a number (a share between 0 and 1), not {type(got).__name__}.")
        if abs(float(got) - want) > 1e-6:
            if q == "budget budget cap" and abs(float(got) - 2 / 3) < 1e-6:
                return hint("count *distinct* words: a question that repeats 'budget' still has two content words.")
            if q == "the of and":
                return hint("a question made only of stop words has no content words; return 0.0 instead of dividing by zero.")
            if float(got) > 1:
                return hint(f"for {q!r} and {text!r} you returned {got}; divide the shared count by the number of "
                            "content words in the question, so the share stays between 0 and 1.")
            return hint(f"for {q!r} and {text!r} the share is {want}, you returned {got}. Use content_words() on both "
                        "texts, intersect the sets, and divide by the size of the question's set.")
    return passed("a share does not reward long sections for mentioning many words; it asks how much of the question a text covers.")


# The cases of the diagnosis exercise: (question, k, the sections that answer it as (page id, heading), or None when
# the question does not say what it is about). Written for the course; the verdicts are computed from the pages.
DIAGNOSE_CASES = {
    "A": ("Tell me more.", 3, None),
    "B": ("Which conditions make an agent leak private data?", 3, [("book/kb/security", "The lethal trifecta")]),
    "C": ("Why does my notebook fail with AIE_CASSETTE=strict?", 3,
          [("book/setup", "5. Cassettes: recorded real responses")]),
    "D": ("How can I set a hard cap on spending?", 10, [("book/setup", "4. Spending: the usage ledger and the budget cap")]),
    "E": ("How many people attended the World's Fair?", 3,
          [("notebooks/survey/01-who", "Who comes to the World's Fair"), ("notebooks/survey/01-who", "Summary"),
           ("book/kb/aiewf-2025", "The numbers")]),
    "F": ("What is a cassette?", 3, [("book/setup", "5. Cassettes: recorded real responses")]),
}
DIAGNOSES = ("vague query", "wrong context", "too much text", "fine")
_WHY = {
    "vague query": "the question does not say what it is about: read it without the course in mind. No retriever can pick "
                   "the right section for it; ask the user, or rewrite the query.",
    "wrong context": "read the pasted sections themselves (headings and text): does any of them answer the question?",
    "too much text": "count the tokens of each pasted section (`tokens.count(s.text)`), not only whether the right one is there.",
    "fine": "look again before calling it a failure: is a section that answers among those pasted, and what share of "
            "the pasted tokens is it?",
}


def _keyword_search(question: str, k: int) -> list:
    """The word-overlap retriever of 01-retrieval-by-hand.ipynb (the lesson writes it out; the checker needs its own)."""
    from aie import retrieval

    sections = [s for p in retrieval.load_pages() for s in retrieval.sections(p)]
    scored = [(len(_content_words(question) & _content_words(s.heading + " " + s.text)), i) for i, s in enumerate(sections)]
    return [sections[i] for _, i in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]


def diagnosis(question: str, k: int, answering: list[tuple[str, str]] | None) -> tuple[str, float]:
    """The verdict for one case and the share of the pasted tokens that answers (0 when none does)."""
    from aie import tokens

    if answering is None:
        return "vague query", 0.0
    found = _keyword_search(question, k)
    total = sum(tokens.count(s.text) for s in found)
    useful = sum(tokens.count(s.text) for s in found if (s.page_id, s.heading) in set(answering))
    if useful == 0:
        return "wrong context", 0.0
    share = useful / total
    return ("too much text" if share < 0.1 else "fine"), share


@exercise("retrieval-hand-diagnose")
@placeholders
def check_diagnosis(answer: Any) -> Feedback:
    """A verdict per case: vague query, wrong context, too much text, or fine."""
    truth = {c: diagnosis(*case)[0] for c, case in DIAGNOSE_CASES.items()}
    why = {c: f"{question!r} with k={k}. {_WHY[truth[c]]}" for c, (question, k, _) in DIAGNOSE_CASES.items()}
    success = ("each failure has its own remedy: a vague query needs a better question, the wrong context a "
               "retriever that matches meaning, too much text a smaller k or smaller sections. Case B is the "
               "trap: the right section came first, and the glossary, one section of thousands of tokens, buried it.")
    return grade_claims(answer, truth, why, success, verdicts=DIAGNOSES, item="case")


# ---------------------------------------------------------------------------------------- 2. chunking


def _fixed_reference(text: str, size: int, overlap: int) -> list[str]:
    step = size - overlap
    out = []
    for start in range(0, len(text), step):
        out.append(text[start:start + size])
        if start + size >= len(text):
            break
    return out


# The sentence splitter of 02-chunking.ipynb (the lesson writes it out; the checker needs its own copy).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*`])|\n\s*\n|\n(?=\s*(?:[-*|#]|\d+\.)\s)")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip())) for a, b in spans]


def _fixed_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    step, spans = size - overlap, []
    for start in range(0, len(text), step):
        spans.append((start, min(start + size, len(text))))
        if start + size >= len(text):
            break
    return spans


def sentences_cut(text: str, size: int, overlap: int) -> int:
    """Sentences of ``text`` that no fixed window holds whole."""
    windows = _fixed_spans(text, size, overlap)
    return sum(not any(s <= a and b <= e for s, e in windows) for a, b in _sentence_spans(text))


@exercise("retrieval-chunk-overlap")
@placeholders
def check_overlap_needed(answer: Any) -> Feedback:
    """Security page, 600-character windows: sentences cut at overlap 0, the smallest overlap (multiple of 10) that
    cuts none, and the number of chunks it needs."""
    from aie import retrieval

    keys = {"cut_at_0", "overlap", "n_chunks"}
    if not isinstance(answer, dict) or not keys <= set(answer):
        return hint(f"answer with a dict with the keys {sorted(keys)}.")
    text = next(p for p in retrieval.load_pages() if p.id == "book/kb/security").text
    cut0 = sentences_cut(text, 600, 0)
    overlap = next(o for o in range(0, 600, 10) if sentences_cut(text, 600, o) == 0)
    n = len(_fixed_spans(text, 600, overlap))
    n0 = len(_fixed_spans(text, 600, 0))
    if answer["cut_at_0"] != cut0:
        return hint("count the sentences (`sentence_spans(text)`) that are not inside any single window of "
                    "`fixed_chunks(text, 600, 0)`: a sentence is whole when start <= a and b <= end for some window.")
    if answer["overlap"] != overlap:
        got = answer["overlap"]
        if isinstance(got, int) and 0 <= got < 600 and sentences_cut(text, 600, got) == 0:
            return hint(f"no sentence is cut at {got}, but a smaller multiple of 10 does it too: try them in order.")
        return hint("try overlaps 0, 10, 20, ... and stop at the first one where no sentence is cut.")
    if answer["n_chunks"] != n:
        return hint(f"count the windows of `fixed_chunks(text, 600, {overlap})`.")
    return passed(f"{cut0} of {len(_sentence_spans(text))} sentences are cut without overlap; it takes {overlap} "
                  f"characters of overlap to cut none, and {n} chunks instead of {n0} (+{100 * (n - n0) / n0:.0f}% to "
                  "embed, store and search). Cutting at sentence boundaries gets there without paying for the overlap.")


def _pack_reference(sentences: list[str], max_tokens: int, count) -> list[str]:
    chunks: list[str] = []
    for s in sentences:
        if chunks and count(chunks[-1] + " " + s) <= max_tokens:
            chunks[-1] = chunks[-1] + " " + s
        else:
            chunks.append(s)
    return chunks


@exercise("retrieval-chunk-pack")
def check_pack(fn: Callable[[list, int, Callable], list]) -> Feedback:
    """Greedy sentence packing under a token budget."""
    if (bad := _callable(fn, "pack")):
        return bad

    def count(t: str) -> int:
        return len(t.split())

    sentences = ["One two three.", "Four five.", "Six seven eight nine.", "Ten.",
                 "A very long sentence that has far more than the budget of words in it alone.", "End here."]
    for budget in (5, 6, 9, 40):
        got = fn(list(sentences), budget, count)
        want = _pack_reference(sentences, budget, count)
        if not isinstance(got, list) or not all(isinstance(c, str) for c in got):
            return hint("return a list of strings, one per chunk.")
        if got == want:
            continue
        if " ".join(got).split() != " ".join(sentences).split():
            return hint("every sentence must appear exactly once, in order: some text was lost or repeated.")
        over = [c for c in got if count(c) > budget and c not in sentences]
        if over:
            return hint(f"with max_tokens={budget} the chunk {over[0]!r} has {count(over[0])} tokens: check the size of "
                        "the chunk *with* the next sentence before adding it.")
        if budget == 40 and len(got) > 1:
            return hint("with a budget large enough for everything, all sentences belong in one chunk.")
        return hint(f"with max_tokens={budget} expected {want}, got {got}. Add a sentence to the current chunk when "
                    "count(current + ' ' + sentence) <= max_tokens, otherwise start a new chunk with it.")
    return passed("packing whole sentences under a budget in the model's own tokens: nothing is cut, nothing is truncated.")


# --------------------------------------------------------------------------- 3. embeddings and similarity


# (question, FAQ entry, does the entry answer the question?), written for the course.
FAQ_PAIRS = [
    ("How do I reset my password?", "Forgotten your password? Use the reset link on the sign-in page.", True),
    ("Can I get a refund for a duplicate charge?", "Charged twice? We refund duplicate payments within five days.", True),
    ("How do I export my data?", "Download all your data as CSV from Settings, Export.", True),
    ("Is there a dark mode?", "Switch the app to a dark theme under Appearance.", True),
    ("Why was my card declined?", "Payments fail when the card has expired or the bank blocks it.", True),
    ("How do I delete my account?", "Deleting your account removes all your data permanently.", True),
    ("How do I reset my password?", "You cannot reset the password of a shared team account.", False),
    ("Can I get a refund for a duplicate charge?", "Annual plans are not refunded after thirty days.", False),
    ("How do I export my data?", "Importing data from another tool takes a few minutes.", False),
    ("Is there a dark mode?", "The mobile app supports offline mode.", False),
    ("Why was my card declined?", "Your invoice lists every card payment of the month.", False),
    ("How do I delete my account?", "How do I create an account?", False),
]


def faq_similarities() -> list[float]:
    """Cosine of each FAQ pair with the course's embedding model (unit vectors, so a dot product)."""
    from aie import retrieval

    out = []
    for question, entry, _ in FAQ_PAIRS:
        v = retrieval.embed([question, entry])
        out.append(float(v[0] @ v[1]))
    return out


@exercise("retrieval-emb-threshold")
@placeholders
def check_faq_threshold(answer: Any) -> Feedback:
    """A similarity threshold that never answers with a wrong FAQ entry and misses as few right ones as possible."""
    if not isinstance(answer, dict) or not {"threshold", "wrong_answers", "missed"} <= set(answer):
        return hint("answer with a dict: {'threshold': float, 'wrong_answers': int, 'missed': int}.")
    sims = faq_similarities()
    t = float(answer["threshold"])
    wrong = sum(s >= t and not ok for s, (_, _, ok) in zip(sims, FAQ_PAIRS))
    missed = sum(s < t and ok for s, (_, _, ok) in zip(sims, FAQ_PAIRS))
    if (answer["wrong_answers"], answer["missed"]) != (wrong, missed):
        return hint(f"at threshold {t:g} your counts are not what the pairs give: measure the similarities with "
                    "`retrieval.embed` and count pairs at or above the threshold that should not match (wrong answers) "
                    "and pairs below it that should (missed).")
    if wrong:
        return hint(f"at {t:g} the bot would answer {wrong} question(s) with an entry that does not answer them. Look "
                    "at the highest similarity among the non-matching pairs.")
    best_missed = min(sum(s < u and ok for s, (_, _, ok) in zip(sims, FAQ_PAIRS))
                      for u in sims if not any(s >= u and not ok for s, (_, _, ok) in zip(sims, FAQ_PAIRS)))
    if missed > best_missed:
        return hint(f"no wrong answers, but {missed} right entries are missed: a lower threshold can keep wrong answers "
                    f"at zero and miss only {best_missed}.")
    top_wrong = max(s for s, (_, _, ok) in zip(sims, FAQ_PAIRS) if not ok)
    return passed(f"no wrong answers, {missed} missed: the threshold has to sit above {top_wrong:.3f}, the similarity "
                  "of a question to an entry about the *opposite* action. Similarity measures topic, not whether a "
                  "text answers the question: the bot says 'I don't know' to some answerable questions, and a reranker "
                  "or an evaluation of the answers is the next step.")


# (new question, cached question, may the cached answer be reused?), written for the course. The learner tunes on
# these; the checker judges on CACHE_HELD_OUT, which the learner does not see.
CACHE_PAIRS = [
    ("How do I reset my password?", "I forgot my password, how can I reset it?", True),
    ("How do I cancel my subscription?", "How can I cancel my subscription?", True),
    ("What does error E1042 mean?", "What is the meaning of error E1042?", True),
    ("What does error E1042 mean?", "What does error E2041 mean?", False),
    ("Is the Chroma server on port 8000?", "Is the Chroma server on port 9000?", False),
    ("Can I export my data as CSV?", "Can I import my data from CSV?", False),
    ("How much does the Pro plan cost per month?", "How much does the Team plan cost per month?", False),
    ("How do I reset my password?", "How do I change my email address?", False),
]
CACHE_HELD_OUT = [
    ("What is the monthly price of the Pro plan?", "How much does the Pro plan cost per month?", True),
    ("Where is the invoice for order 5531?", "Where do I find my invoice for order 5531?", True),
    ("What is AIE_BUDGET_USD for?", "What does AIE_BUDGET_USD do?", True),
    ("Why does sync keep failing?", "Why is my sync failing?", True),
    ("How do I reset my password", "How do I reset my password?", True),
    ("Where do I find my invoice for order 5513?", "Where do I find my invoice for order 5531?", False),
    ("Does version 1.3 support SSO?", "Does version 1.2 support SSO?", False),
    ("What was the attendance in 2025?", "What was the attendance in 2024?", False),
    ("What's the weather like today?", "How do I cancel my subscription?", False),
    ("Which Node version do I need?", "Which Python version do I need?", False),
    ("How do I change the language of the app?", "Why is my sync failing?", False),
]


def _similarity(a: str, b: str) -> float:
    from aie import retrieval

    v = retrieval.embed([a, b])
    return float(v[0] @ v[1])


_DIGITS = re.compile(r"\d")


@exercise("retrieval-emb-cache")
def check_cache_hit(fn: Callable[[str, str], bool]) -> Feedback:
    """A semantic cache's reuse rule, judged on held-out pairs: never reuse an answer to another question."""
    if (bad := _callable(fn, "cache_hit")):
        return bad
    results = []
    for new, cached, reuse in CACHE_HELD_OUT:
        got = fn(new, cached)
        if got is None:
            return hint("your function returns None: end it with `return ...` (True to reuse the cached answer).")
        if not isinstance(got, (bool, np.bool_)):
            return hint(f"return True or False, not {type(got).__name__} ({got!r}).")
        results.append((new, cached, reuse, bool(got)))
    wrong_reuse = [r for r in results if r[3] and not r[2]]
    missed = [r for r in results if r[2] and not r[3]]
    if wrong_reuse:
        new, cached, _, _ = wrong_reuse[0]
        sim = _similarity(new, cached)
        if _DIGITS.search(new) and _DIGITS.search(cached):
            return hint(f"{len(wrong_reuse)} wrong reuse(s), e.g. the answer to {cached!r} served for {new!r} "
                        f"(similarity {sim:.3f}). Embeddings barely see numbers and codes: compare them exactly, "
                        "on top of the similarity.")
        return hint(f"{len(wrong_reuse)} wrong reuse(s), e.g. the answer to {cached!r} served for {new!r} "
                    f"(similarity {sim:.3f}). Two questions with the same codes (or none) can still ask different "
                    "things: require a high similarity as well.")
    if missed:
        new, cached, _, _ = missed[0]
        return hint(f"no wrong reuse, but {len(missed)} of {sum(r[2] for r in results)} paraphrases missed, e.g. "
                    f"{new!r} vs {cached!r} (similarity {_similarity(new, cached):.3f}). A cache that never hits saves "
                    "nothing: set the threshold from the similarities of `ex.CACHE_PAIRS`, between the highest pair "
                    "that must not match on meaning and the lowest paraphrase.")
    return passed(f"all {len(results)} held-out pairs right: similarity for the meaning, exact comparison for the codes "
                  "and numbers the embedding blurs. A wrong cached answer is worse than a miss, so the threshold sits "
                  "high; what similarity cannot see (turning a setting on or off) still needs a test of its own.")


# ----------------------------------------------------------------------------------- 4. chromadb for real


# The access-control exercise: records of a shared collection (id, visibility, team, owner), and users who query it.
_ACCESS_RECORDS = [
    ("handbook", "public", "ops", "lee"), ("pricing", "public", "billing", "ana"),
    ("refund-macro", "team", "billing", "ana"), ("chargebacks", "team", "billing", "omar"),
    ("oncall", "team", "ops", "lee"), ("incident-42", "team", "security", "kim"),
    ("ana-notes", "private", "billing", "ana"), ("omar-notes", "private", "billing", "omar"),
    ("lee-notes", "private", "ops", "lee"), ("kim-draft", "private", "security", "kim"),
]
_ACCESS_USERS = [  # held out: the exercise shows other users
    {"name": "omar", "teams": ["billing"]},
    {"name": "lee", "teams": ["ops", "security"]},
    {"name": "ana", "teams": ["billing"]},
    {"name": "zoe", "teams": ["support"]},
]


def may_read(user: dict, record: tuple) -> bool:
    """The policy: public records, team records of the user's teams, private records the user owns."""
    _, visibility, team, owner = record
    return (visibility == "public" or (visibility == "team" and team in user["teams"])
            or (visibility == "private" and owner == user["name"]))


@exercise("retrieval-chroma-access")
def check_access_filter(fn: Callable[[dict], dict]) -> Feedback:
    """``access_filter(user)``: a `where` filter that lets a query see exactly what the policy allows."""
    import uuid

    import chromadb
    from chromadb.config import Settings

    if (bad := _callable(fn, "access_filter")):
        return bad
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    name = f"check-access-{uuid.uuid4().hex[:8]}"
    col = client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    try:
        vecs = np.random.default_rng(0).normal(size=(len(_ACCESS_RECORDS), 8))
        col.add(ids=[r[0] for r in _ACCESS_RECORDS], embeddings=vecs.tolist(),
                metadatas=[{"visibility": r[1], "team": r[2], "owner": r[3]} for r in _ACCESS_RECORDS])
        for user in _ACCESS_USERS:
            where = fn(dict(user, teams=list(user["teams"])))
            if where is None:
                return hint("your function returns None: end it with `return {...}`, a `where` filter.")
            if not isinstance(where, dict):
                return hint(f"return a `where` filter (a dict), not {type(where).__name__}.")
            try:
                # a query, as the application would run it: the filter applies before the ranking
                got = set(col.query(query_embeddings=[vecs[0].tolist()], n_results=len(_ACCESS_RECORDS),
                                    where=where)["ids"][0])
            except Exception as e:  # chromadb rejects a malformed filter
                if len([k for k in where if not k.startswith("$")]) > 1:
                    return hint("chromadb wants one condition per dictionary: combine conditions with "
                                "{\"$and\": [{...}, {...}]} or {\"$or\": [...]}.")
                return hint(f"chromadb rejected your filter for user {user['name']!r} ({type(e).__name__}: "
                            f"{str(e)[:160]}). Conditions look like {{\"field\": value}} or {{\"field\": {{\"$in\": [...]}}}}.")
            want = {r[0] for r in _ACCESS_RECORDS if may_read(user, r)}
            leaked, hidden = sorted(got - want), sorted(want - got)
            if leaked:
                rec = next(r for r in _ACCESS_RECORDS if r[0] == leaked[0])
                return hint(f"a leak: user {user['name']!r} (teams {user['teams']}) can read {leaked}, e.g. "
                            f"{rec[0]!r}, a {rec[1]} record of team {rec[2]!r} owned by {rec[3]!r}. Each kind of "
                            "visibility has its own condition: pair each `visibility` with the field that grants it.")
            if hidden:
                return hint(f"user {user['name']!r} (teams {user['teams']}) cannot find {hidden}, which the policy "
                            "lets them read. Combine the three rules with $or: any one of them grants access.")
    finally:
        client.delete_collection(name)
    return passed("the policy is in the query, so a record a user may not read is never a candidate: it cannot reach "
                  "the prompt, the model or the answer. Filtering the hits afterwards would also cut the top k short.")


@exercise("retrieval-chroma-ids")
def check_stable_id(fn: Callable[[str, int, str], str]) -> Feedback:
    """An id from where the text lives (url, paragraph), not from its content or a counter."""
    if (bad := _callable(fn, "make_id")):
        return bad
    u1, u2 = "https://help.example.com/billing", "https://help.example.com/refunds"
    first = fn(u1, 1, "Invoices are sent monthly.")
    if first is None:
        return hint("your function returns None: end it with `return ...`.")
    if not isinstance(first, str):
        return hint(f"chromadb ids are strings; return a str, not {type(first).__name__}.")
    if fn(u1, 1, "Invoices are sent monthly.") != first:
        return hint("the same paragraph got two different ids in two calls (a random uuid or a counter?): "
                    "re-running the indexing job would then add a duplicate each time.")
    if fn(u1, 1, "Invoices are sent every month, by e-mail.") != first:
        return hint("an edited paragraph gets a new id, so upsert adds it next to the old version instead of replacing "
                    "it: derive the id from where the text lives (url and paragraph), not from the text.")
    if fn(u1, 2, "Invoices are sent monthly.") == first:
        return hint("two paragraphs of the same article share an id, so one would overwrite the other: include the paragraph number.")
    if fn(u2, 1, "Invoices are sent monthly.") == first:
        return hint("paragraph 1 of two different articles share an id: include the url.")
    if fn(u1, 12, "x") == fn(u1 + "1", 2, "x"):
        return hint("two different (url, paragraph) pairs give the same id: put a separator between url and number, e.g. f\"{url}#{paragraph}\".")
    return passed("with ids from location, upsert replaces edits in place, and re-running never duplicates.")


# ----------------------------------------------------------------------------------- 5. better retrieval


def _rrf_reference(rankings: list[list[str]], k: int = 60) -> list[str]:
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            score[doc_id] = score.get(doc_id, 0.0) + 1 / (k + rank)
    return sorted(score, key=lambda d: (-round(score[d], 12), d))


@exercise("retrieval-better-consensus")
@placeholders
def check_consensus(answer: Any) -> Feedback:
    """Two rankings where RRF (k=60) puts first an id that neither ranking puts first."""
    if not isinstance(answer, (list, tuple)) or len(answer) != 2 or not all(isinstance(r, (list, tuple)) for r in answer):
        return hint("answer with two rankings: a list of two lists of ids, e.g. [['a', 'b'], ['c', 'b']].")
    first, second = [list(map(str, r)) for r in answer]
    if not first or not second:
        return hint("both rankings need at least one id.")
    if len(set(first)) != len(first) or len(set(second)) != len(second):
        return hint("an id appears twice in one ranking; a ranking lists each id once.")
    if len(first) > 10 or len(second) > 10:
        return hint("keep each ranking to 10 ids or fewer, as in the lesson.")
    fused = _rrf_reference([first, second])
    top = fused[0]
    if top in (first[0], second[0]):
        return hint(f"RRF puts {top!r} first, and it already tops one of the rankings. A first place is worth "
                    "1/61; what is an id ranked second in *both* lists worth?")
    return passed(f"{top!r} tops the fusion without topping either list: RRF rewards agreement. That is why "
                  "hybrid search surfaces chunks that both retrievers find fairly relevant, and why a retriever "
                  "that is sure of itself cannot win alone.")


@exercise("retrieval-better-tokens")
def check_tokens(fn: Callable[[str], list]) -> Feedback:
    """Lower-case words, identifiers kept whole, stop words dropped."""
    import bm25s

    if (bad := _callable(fn, "my_tokens")):
        return bad
    stop = set(bm25s.stopwords.STOPWORDS_EN)
    cases = {
        "Set AIE_BUDGET_USD before the session": ["set", "aie_budget_usd", "before", "session"],
        "Is gpt-4.1-mini in the table?": ["gpt-4.1-mini", "table"],
        "Port 8000, not 9000.": ["port", "8000", "9000"],
        "e.g. chromadb's HttpClient": ["e.g", "chromadb", "s", "httpclient"],
    }
    for text, want in cases.items():
        want = [w for w in want if w not in stop]
        got = fn(text)
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        got = list(got)
        if got == want:
            continue
        if any(w != w.lower() for w in got):
            return hint("lower-case the text first, so that 'Set' and 'set' are the same token.")
        if "aie_budget_usd" not in got and text.startswith("Set AIE"):
            return hint("AIE_BUDGET_USD was split: allow '_', '.' and '-' between letters and digits inside a token, "
                        r"e.g. re.findall(r'[a-z0-9]+(?:[._-][a-z0-9]+)*', text).")
        if "gpt-4.1-mini" not in got and text.startswith("Is gpt"):
            return hint("gpt-4.1-mini should stay one token: allow '.' and '-' inside a token, but not at its end.")
        if any(w in stop for w in got):
            return hint("drop the stop words (the words in STOP) after lower-casing.")
        return hint(f"for {text!r} expected {want}, got {got}.")
    return passed("what the tokeniser keeps is what BM25 can match: identifiers must survive it whole.")


# ----------------------------------------------------------------------------------- 6. evaluating retrieval


def _rr(flags: list[bool]) -> float:
    return next((1 / r for r, f in enumerate(flags, 1) if f), 0.0)


def _ndcg(flags: list[bool], n_relevant: int, k: int = 5) -> float:
    dcg = sum(1 / math.log2(r + 1) for r, f in enumerate(flags[:k], 1) if f)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


@exercise("retrieval-eval-disagree")
@placeholders
def check_disagree(answer: Any) -> Feedback:
    """Two top-5 relevance lists for one question: A has the higher reciprocal rank, B the higher nDCG@5."""
    if not isinstance(answer, dict) or not {"A", "B", "n_relevant"} <= set(answer):
        return hint("answer with a dict: {'A': 5 booleans, 'B': 5 booleans, 'n_relevant': int}.")
    n = answer["n_relevant"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        return hint("`n_relevant` is the number of relevant chunks in the whole collection: a positive int.")
    flags = {}
    for key in ("A", "B"):
        value = answer[key]
        if not isinstance(value, (list, tuple)) or len(value) != 5 or not all(isinstance(x, bool) for x in value):
            return hint(f"`{key}` is a top-5 ranking written as 5 booleans (True where the chunk is relevant).")
        if sum(value) > n:
            return hint(f"`{key}` has {sum(value)} relevant chunks, more than the {n} that exist: raise `n_relevant`.")
        flags[key] = list(value)
    rr_a, rr_b = _rr(flags["A"]), _rr(flags["B"])
    nd_a, nd_b = _ndcg(flags["A"], n), _ndcg(flags["B"], n)
    if not rr_a > rr_b:
        return hint(f"A needs the higher reciprocal rank (A {rr_a:.2f}, B {rr_b:.2f}): where is A's first relevant chunk?")
    if not nd_b > nd_a:
        return hint(f"B needs the higher nDCG@5 (A {nd_a:.2f}, B {nd_b:.2f}): reciprocal rank only sees the first "
                    "relevant chunk; nDCG counts all of them. Can B have more of them, a little lower?")
    return passed(f"RR: A {rr_a:.2f} > B {rr_b:.2f}; nDCG@5: A {nd_a:.2f} < B {nd_b:.2f}. A one-answer box wants A; a "
                  "model that reads all five chunks, and needs several facts, may be better served by B. Pick the "
                  "metric from how the results are used.")


# Measured in 06-evaluating-retrieval.ipynb (the paired bootstrap cell); tests/test_retrieval.py checks them
# against the notebook's stored output.
HYBRID_MINUS_DENSE_HIT5 = (0.062, -0.021, 0.146)  # mean, 95% interval
METRIC_FOR = {"one_result": {"hit@1"}, "five_to_model": {"hit@5"}}


@exercise("retrieval-eval-choose")
@placeholders
def check_choose(answer: Any) -> Feedback:
    """Which metric decides for a one-result box and for five chunks sent to a model, and whether the data show
    that hybrid beats dense at 5."""
    keys = {"one_result", "five_to_model", "hybrid_beats_dense"}
    if not isinstance(answer, dict) or not keys <= set(answer):
        return hint(f"answer with a dict with the keys {sorted(keys)}.")
    one, five = str(answer["one_result"]), str(answer["five_to_model"])
    if one not in METRIC_FOR["one_result"]:
        if one == "MRR":
            return hint("MRR gives credit for relevant chunks at ranks 2, 3, ...; a box that shows one result gives "
                        "the user nothing from them. Which metric counts only the first result?")
        return hint("one_result: the user sees only the first result. Which column of `table` measures exactly that?")
    if five not in METRIC_FOR["five_to_model"]:
        if five in ("MRR", "nDCG@5"):
            return hint(f"{five} rewards putting the relevant chunk first, but the model reads all five chunks; what "
                        "matters is whether a relevant one is among them.")
        return hint("five_to_model: the model reads the top five chunks. Which column asks 'is an answer among them'?")
    verdict = str(answer["hybrid_beats_dense"]).strip().lower()
    if verdict not in ("yes", "no", "not shown"):
        return hint("hybrid_beats_dense is 'yes', 'no' or 'not shown' (the data cannot tell).")
    mean, low, high = HYBRID_MINUS_DENSE_HIT5
    if verdict != "not shown":
        return hint(f"the paired bootstrap gives {mean:+.3f} with a 95% interval from {low:+.3f} to {high:+.3f}: it "
                    "includes zero. On these questions, a difference of that size could be chance.")
    return passed("hit@1 for one result, hit@5 for five chunks, and 'not shown': hybrid looks better on average, but "
                  "the interval includes zero. More labelled questions, not a bigger bar chart, would settle it.")


RETRIEVAL_DECISIONS = {"adopt", "reject", "need more data"}


@exercise("retrieval-eval-open")
@placeholders
def check_retrieval_experiment(answer: Any) -> Feedback:
    """Open-ended: a retrieval change measured on the labelled questions (the numbers' consistency is verified)."""
    from aie import data
    from aie.exercises.forms import grade_open

    problem = grade_open(answer, {"change": 5, "hypothesis": 8, "metric": 0, "before": 0, "after": 0,
                                  "interval": 0, "n": 0, "decision": 0})
    if problem is not None:
        return problem
    if answer["metric"] not in ("hit@1", "hit@5", "MRR", "nDCG@5"):
        return hint("`metric` is one of the table's columns: 'hit@1', 'hit@5', 'MRR' or 'nDCG@5'.")
    questions = data.load("retrieval_questions")
    n_answerable = int((questions.kind != "unanswerable").sum())
    if answer["n"] != n_answerable:
        return hint(f"`n` is the number of questions you measured on; the labelled set has {n_answerable} answerable "
                    "questions: run the change on all of them.")
    try:
        before, after = float(answer["before"]), float(answer["after"])
        low, high = (float(x) for x in answer["interval"])
    except (TypeError, ValueError):
        return hint("`before` and `after` are numbers, `interval` a pair (low, high) from the paired bootstrap.")
    if not (0 <= before <= 1 and 0 <= after <= 1):
        return hint("scores are means over questions, between 0 and 1.")
    if not low - 1e-9 <= after - before <= high + 1e-9:
        return hint(f"the interval ({low:+.3f}, {high:+.3f}) should contain the measured difference "
                    f"{after - before:+.3f}: compute both from the same per-question scores.")
    decision = str(answer["decision"]).strip().lower()
    if decision not in RETRIEVAL_DECISIONS:
        return hint(f"`decision` is one of {sorted(RETRIEVAL_DECISIONS)}.")
    if decision == "adopt" and low <= 0:
        return hint("the interval includes zero (or worse): the data do not show the change helps. 'need more data', "
                    "or 'reject' if it costs something.")
    if decision == "reject" and low > 0:
        return hint("the whole interval is above zero: the change helped on these questions. Why reject it? If it "
                    "costs too much, say so in the hypothesis and keep the decision honest.")
    return passed("a change, a measurement on every labelled question and a decision that follows from the interval. "
                  "Compare your write-up with the rubric in the solution.")


@exercise("retrieval-ask-links")
def check_link_citations(fn: Callable[[str, dict], str]) -> Feedback:
    """[Sn] -> [Sn](url) for known sources; unknown ones unchanged."""
    if (bad := _callable(fn, "link_citations")):
        return bad
    urls = {"S1": "book/setup.html#troubleshooting", "S2": "book/kb/glossary.html", "S10": "book/intro.html"}
    cases = {
        "Raise the cap [S1].": "Raise the cap [S1](book/setup.html#troubleshooting).",
        "See [S2] and [S1].": "See [S2](book/kb/glossary.html) and [S1](book/setup.html#troubleshooting).",
        "Twice [S1][S1].": "Twice [S1](book/setup.html#troubleshooting)[S1](book/setup.html#troubleshooting).",
        "Invented [S7].": "Invented [S7].",
        "Ten [S10], one [S1].": "Ten [S10](book/intro.html), one [S1](book/setup.html#troubleshooting).",
        "No citation.": "No citation.",
    }
    for answer, want in cases.items():
        got = fn(answer, dict(urls))
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        if got == want:
            continue
        if answer.startswith("Invented"):
            return hint("a citation the sources do not have ([S7]) must stay as it is, not raise an error or become a broken link.")
        if answer.startswith("Ten") and "[S1](book/intro.html)0" in got:
            return hint("[S10] was treated as [S1]: match the whole number inside the brackets, e.g. r'\\[(S\\d+)\\]'.")
        if answer.startswith("Twice"):
            return hint("replace *every* citation, including repeated ones (re.sub replaces all matches).")
        return hint(f"for {answer!r} expected {want!r}, got {got!r}.")
    return passed("citations that link to their page let a reader check the answer, the point of grounding.")


@exercise("retrieval-ask-threshold")
def check_best_threshold(fn: Callable[[list, list, list], float]) -> Feedback:
    """The candidate that maximises accuracy; smallest on ties."""
    if (bad := _callable(fn, "best_threshold")):
        return bad
    cases = [
        ([0.6, 0.55, 0.7, 0.42], [0.3, 0.35, 0.45], [0.3, 0.4, 0.5, 0.6]),
        ([0.5, 0.52, 0.58], [0.2, 0.25], [0.1, 0.3, 0.4, 0.5, 0.6]),
        ([0.4], [0.45], [0.35, 0.42, 0.5]),
    ]
    for pos, neg, cand in cases:
        def right(t):
            return sum(s >= t for s in pos) + sum(s < t for s in neg)
        want = max(cand, key=lambda t: (right(t), -t))
        got = fn(list(pos), list(neg), list(cand))
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        if math.isclose(float(got), want):
            continue
        if got not in cand:
            return hint("return one of the candidate thresholds, not a score or an accuracy.")
        if right(got) == right(want):
            return hint(f"several candidates tie on {pos}, {neg}; return the smallest of them ({want}).")
        if math.isclose(float(got), max(cand, key=lambda t: (sum(s > t for s in pos) + sum(s <= t for s in neg), -t))):
            return hint("answerable scores equal to the threshold count as above it: use >= for answerable, < for unanswerable.")
        return hint(f"for answerable {pos} and unanswerable {neg} the best candidate is {want} "
                    f"({right(want)} of {len(pos) + len(neg)} right); you returned {got} ({right(got)} right).")
    return passed("a threshold chosen on labelled questions, unanswerable ones included, is a decision you can defend.")
