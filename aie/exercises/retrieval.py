"""Checkers for step 3, context and retrieval (notebooks/03-retrieval).

Each checker runs the learner's function or value on cases of its own and answers with a hint
aimed at the usual mistake. None of them needs the network or a key.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

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


@exercise("retrieval-hand-prompt")
def check_build_prompt(fn: Callable[[str, list], str]) -> Feedback:
    """Context: then one '[id] text' line per document, a blank line, then 'Question: ...'."""
    if (bad := _callable(fn, "build_prompt")):
        return bad
    docs = [("setup-spending", "Set AIE_BUDGET_USD\nto cap   spending."), ("kb-roadmap", "Step 3 is context and retrieval.")]
    q = "How do I cap spending?"
    out = fn(q, docs)
    if not isinstance(out, str):
        return hint(f"return the prompt as one string, not {type(out).__name__}.")
    lines = out.split("\n")
    if not lines[0].strip().startswith("Context:"):
        return hint("start the prompt with a line `Context:` so the model knows where the documents are.")
    for doc_id, text in docs:
        want = f"[{doc_id}] {' '.join(text.split())}"
        if want not in lines:
            if any(ln.startswith(f"[{doc_id}]") for ln in lines):
                return hint(f"document {doc_id!r} must be on one line: collapse its whitespace with ' '.join(text.split()).")
            if doc_id in out and f"[{doc_id}]" not in out:
                return hint("write each id in square brackets, `[id] text`: the model cites what is in the brackets.")
            return hint(f"expected a line `{want}`: each document on its own line, its id in brackets, then its text.")
    if not out.rstrip().endswith(f"Question: {q}"):
        return hint("end the prompt with `Question: ` and the question, after the documents.")
    if f"\n\nQuestion: {q}" not in out:
        return hint("leave one blank line between the last document and the `Question:` line.")
    if fn(q, []) is None:
        return hint("with no documents your function returned None; it should still return a prompt.")
    return passed("ids in brackets let the model cite its sources and let you link each citation back to a page.")


# ---------------------------------------------------------------------------------------- 2. chunking


def _fixed_reference(text: str, size: int, overlap: int) -> list[str]:
    step = size - overlap
    out = []
    for start in range(0, len(text), step):
        out.append(text[start:start + size])
        if start + size >= len(text):
            break
    return out


@exercise("retrieval-chunk-fixed")
def check_fixed_strings(fn: Callable[[str, int, int], list]) -> Feedback:
    """Fixed-size character windows with overlap, as strings."""
    if (bad := _callable(fn, "fixed_strings")):
        return bad
    text = "".join(chr(97 + i % 26) for i in range(1000))  # 1,000 characters, easy to compare
    for size, overlap in [(100, 20), (300, 0), (250, 50), (1000, 100), (64, 63)]:
        got = fn(text, size, overlap)
        want = _fixed_reference(text, size, overlap)
        if not isinstance(got, list) or not all(isinstance(c, str) for c in got):
            return hint("return a list of strings, one per chunk (slice the text: text[start:end]).")
        if got == want:
            continue
        if any(len(c) > size for c in got):
            return hint(f"with size={size} a chunk has {max(map(len, got))} characters; no chunk may be longer than size.")
        if got and not text.endswith(got[-1]):
            return hint(f"with size={size}, overlap={overlap} the last chunk does not reach the end of the text: "
                        "the final characters are lost.")
        if got == _fixed_reference(text, size, 0) and overlap:
            return hint("your chunks do not overlap: step forward by size - overlap characters, not by size.")
        if len(got) > len(want) and got[:len(want)] == want:
            return hint(f"with size={size}, overlap={overlap} you return {len(got) - len(want)} extra chunk(s) at the end "
                        "that are already inside the previous one: stop once a window reaches the end of the text.")
        return hint(f"with size={size}, overlap={overlap} expected {len(want)} chunks starting at "
                    f"0, {size - overlap}, {2 * (size - overlap)}, ...; you returned {len(got)}.")
    return passed("fixed windows are the baseline every other splitter is compared with.")


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


@exercise("retrieval-emb-cosine")
def check_cosine(fn: Callable[[Any, Any], float]) -> Feedback:
    """Cosine similarity for vectors of any length."""
    if (bad := _callable(fn, "my_cosine")):
        return bad
    rng = np.random.default_rng(3)
    cases = [(np.array([3.0, 0.0]), np.array([0.0, 2.0]), 0.0), (np.array([1.0, 1.0]), np.array([2.0, 2.0]), 1.0),
             (np.array([1.0, 0.0]), np.array([-4.0, 0.0]), -1.0)]
    for _ in range(3):
        a, b = rng.normal(size=8) * 5, rng.normal(size=8) * 0.2
        cases.append((a, b, float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))))
    for a, b, want in cases:
        got = fn(a, b)
        if isinstance(got, np.ndarray) and got.shape != ():
            return hint("return one number (a float), not an array: the dot product of two vectors is a scalar.")
        got = float(got)
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        if math.isclose(got, float(a @ b), abs_tol=1e-6):
            return hint("you returned the dot product; divide by the two vectors' lengths (np.linalg.norm) so that "
                        "vectors of any length compare by direction only.")
        if math.isclose(got, 1 - want, abs_tol=1e-6):
            return hint("that is the cosine *distance* (1 - similarity); return the similarity.")
        return hint(f"for a={a.round(2).tolist()} and b={b.round(2).tolist()} the cosine is {want:.4f}, you returned {got:.4f}.")
    return passed("cosine compares directions only, so the length of a vector (a long or short text) does not matter.")


@exercise("retrieval-emb-topk")
def check_top_k(fn: Callable[[Any, Any, int], list]) -> Feedback:
    """Indices of the k most similar rows, best first."""
    if (bad := _callable(fn, "top_k")):
        return bad
    rng = np.random.default_rng(7)
    M = rng.normal(size=(20, 6))
    M /= np.linalg.norm(M, axis=1, keepdims=True)
    q = M[4] + 0.3 * M[11]
    q /= np.linalg.norm(q)
    want = [int(i) for i in np.argsort(-(M @ q), kind="stable")[:5]]
    got = fn(q, M, 5)
    try:
        got = [int(i) for i in got]
    except (TypeError, ValueError):
        return hint("return a list of row indices (ints), e.g. [4, 11, 2, 7, 0].")
    if got == want:
        if [int(i) for i in fn(q, M, 1)] != want[:1]:
            return hint("with k=1 return a list with one index.")
        return passed("embed, multiply, sort: every vector search does this, a vector database just does it faster.")
    if got == [int(i) for i in np.argsort(M @ q, kind="stable")[:5]]:
        return hint("those are the *least* similar rows: sort by descending score (np.argsort(-scores)).")
    if sorted(got) == sorted(want):
        return hint("the right rows, in the wrong order: most similar first.")
    if len(got) != 5:
        return hint(f"asked for k=5, you returned {len(got)} indices.")
    if all(0 <= x <= 1 for x in np.asarray(got, dtype=float)):
        return hint("return the indices of the rows, not their scores.")
    return hint("score every row with matrix @ query, then take the indices of the k largest scores, largest first.")


# ----------------------------------------------------------------------------------- 4. chromadb for real


_FILTER_RECORDS = [  # id, kind, step
    ("a", "page", 1), ("b", "page", 3), ("c", "notebook", 3), ("d", "page", 4), ("e", "notebook", 5), ("f", "page", 2),
]


@exercise("retrieval-chroma-filter")
def check_where_filter(where: Any) -> Feedback:
    """kind == page AND step >= 3."""
    import uuid

    import chromadb
    from chromadb.config import Settings

    if not isinstance(where, dict):
        return hint("a `where` filter is a dictionary, e.g. {\"kind\": \"page\"}.")
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    name = f"check-filter-{uuid.uuid4().hex[:8]}"
    col = client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    try:
        rng = np.random.default_rng(0)
        vecs = rng.normal(size=(len(_FILTER_RECORDS), 8))
        col.add(ids=[r[0] for r in _FILTER_RECORDS], embeddings=vecs.tolist(),
                metadatas=[{"kind": r[1], "step": r[2]} for r in _FILTER_RECORDS])
        try:
            got = set(col.get(where=where)["ids"])
        except Exception as e:  # chromadb rejects a malformed filter
            if len([k for k in where if not k.startswith("$")]) > 1:
                return hint("chromadb wants one condition per dictionary: combine two conditions with "
                            "{\"$and\": [{...}, {...}]}.")
            return hint(f"chromadb rejected the filter ({type(e).__name__}: {str(e)[:160]}). Conditions look like "
                        "{\"field\": value} or {\"field\": {\"$gte\": 3}}, combined with \"$and\".")
    finally:
        client.delete_collection(name)
    want = {r[0] for r in _FILTER_RECORDS if r[1] == "page" and r[2] >= 3}
    if got == want:
        return passed("filters run before the similarity ranking, so a query returns only records that may be returned.")
    if got == {r[0] for r in _FILTER_RECORDS if r[1] == "page" and r[2] > 3}:
        return hint("step 3 itself is missing: 'or more' is $gte, not $gt.")
    if got == {r[0] for r in _FILTER_RECORDS if r[1] == "page" or r[2] >= 3}:
        return hint("that keeps records matching *either* condition; both must hold: use $and, not $or.")
    if got == {r[0] for r in _FILTER_RECORDS if r[2] >= 3}:
        return hint("notebooks are included: add the condition on `kind` as well.")
    if got == {r[0] for r in _FILTER_RECORDS if r[1] == "page"}:
        return hint("every page is included: add the condition on `step` ({\"step\": {\"$gte\": 3}}).")
    return hint(f"your filter keeps {sorted(got)}; the records with kind 'page' and step >= 3 are {sorted(want)}.")


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


@exercise("retrieval-better-rrf")
def check_rrf(fn: Callable[..., list]) -> Feedback:
    """Reciprocal rank fusion with ties broken by id."""
    if (bad := _callable(fn, "fuse")):
        return bad
    cases = [
        [["a", "b", "c"], ["c", "a", "d"]],
        [["x", "y"], ["y", "x"], ["z"]],
        [["p", "q", "r", "s"], ["s", "r"]],
    ]
    for rankings in cases:
        got = fn([list(r) for r in rankings])
        want = _rrf_reference(rankings)
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        got = list(got)
        if got == want:
            continue
        if sorted(got) != sorted(want):
            return hint(f"for {rankings} return every id that appears in any list, once: expected {sorted(want)} in some order.")
        zero_based = {}
        for r in rankings:
            for rank, d in enumerate(r):
                zero_based[d] = zero_based.get(d, 0) + 1 / (60 + rank)
        if got == sorted(zero_based, key=lambda d: (-round(zero_based[d], 12), d)) and got != want:
            return hint("ranks start at 1 for the first item: use enumerate(ranking, start=1).")
        if got == list(reversed(want)):
            return hint("highest fused score first: sort in descending order of score.")
        return hint(f"for {rankings} expected {want}, got {got}. Each list adds 1 / (k + rank) to an id; sort by the "
                    "total, largest first, ties by id.")
    if fn([["a", "b"], ["b", "a"]], k=1) != ["a", "b"]:
        return hint("use the `k` argument instead of a hard-coded 60.")
    return passed("RRF needs no score calibration: it is the default fusion in many search engines' hybrid modes.")


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


@exercise("retrieval-eval-rr")
def check_reciprocal_rank(fn: Callable[[list, set], float]) -> Feedback:
    """1 / rank of the first relevant id, 0 when none."""
    if (bad := _callable(fn, "my_reciprocal_rank")):
        return bad
    cases = [(["a", "b", "c"], {"a"}, 1.0), (["a", "b", "c"], {"c", "b"}, 0.5), (["a", "b", "c", "d"], {"d"}, 0.25),
             (["a", "b"], {"z"}, 0.0), ([], {"a"}, 0.0)]
    for ranked, rel, want in cases:
        got = fn(list(ranked), set(rel))
        if got is None:
            return hint("your function returns None: end it with `return ...` (0.0 when nothing is relevant).")
        if math.isclose(float(got), want, abs_tol=1e-9):
            continue
        if ranked == ["a", "b", "c"] and rel == {"a"} and math.isclose(float(got), 0.0) is False and float(got) > 1:
            return hint("ranks start at 1: the first position gives 1 / 1 = 1.0.")
        if ranked == ["a", "b", "c"] and rel == {"c", "b"} and math.isclose(float(got), 1 / 3):
            return hint("use the *first* relevant id (b at rank 2), not the last one.")
        if ranked == ["a", "b", "c"] and rel == {"a"} and math.isclose(float(got), 0.0):
            return hint("the first relevant id is at rank 1; did you start counting at 0 and divide by it?")
        return hint(f"for ranking {ranked} and relevant {sorted(rel)} the reciprocal rank is {want}, you returned {got}.")
    return passed("averaged over questions this is MRR: it rewards putting the answer first.")


def _ndcg_reference(ranked: list, rel: set, k: int) -> float:
    dcg = sum(1 / math.log2(r + 1) for r, d in enumerate(ranked[:k], start=1) if d in rel)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(rel), k) + 1))
    return dcg / ideal if ideal else 0.0


@exercise("retrieval-eval-ndcg")
def check_ndcg(fn: Callable[[list, set, int], float]) -> Feedback:
    """Binary-relevance nDCG@k."""
    if (bad := _callable(fn, "my_ndcg")):
        return bad
    cases = [(["a", "b", "c", "d", "e"], {"a", "b"}, 5), (["x", "a", "y", "b", "z"], {"a", "b"}, 5),
             (["x", "y", "a"], {"a"}, 2), (["x", "a", "b", "c"], {"a", "b", "c", "q", "r"}, 3), (["a"], set(), 3)]
    for ranked, rel, k in cases:
        got = fn(list(ranked), set(rel), k)
        if got is None:
            return hint("your function returns None: end it with `return ...`.")
        want = _ndcg_reference(ranked, rel, k)
        if math.isclose(float(got), want, abs_tol=1e-6):
            continue
        if not rel:
            return hint("with no relevant id the ideal score is 0: return 0.0 instead of dividing by zero.")
        dcg = sum(1 / math.log2(r + 1) for r, d in enumerate(ranked[:k], start=1) if d in rel)
        if math.isclose(float(got), dcg, abs_tol=1e-6):
            return hint("that is DCG: divide by the ideal DCG (all relevant ids first) to normalise it to 0..1.")
        over_all = sum(1 / math.log2(r + 1) for r, d in enumerate(ranked, start=1) if d in rel)
        if math.isclose(float(got), over_all / max(1e-12, sum(1 / math.log2(r + 1) for r in range(1, min(len(rel), k) + 1))), abs_tol=1e-6):
            return hint("count only the first k results: relevant ids below rank k do not score.")
        wrong_ideal = sum(1 / math.log2(r + 1) for r in range(1, len(rel) + 1))
        if math.isclose(float(got), dcg / wrong_ideal, abs_tol=1e-6):
            return hint("the ideal ranking can place at most k relevant ids: use min(len(relevant_ids), k) in the ideal DCG.")
        if math.isclose(float(got), sum(1 / r for r, d in enumerate(ranked[:k], start=1) if d in rel) /
                        sum(1 / r for r in range(1, min(len(rel), k) + 1)), abs_tol=1e-6):
            return hint("the discount is 1 / log2(rank + 1), not 1 / rank.")
        return hint(f"for ranking {ranked}, relevant {sorted(rel)}, k={k}: expected {want:.4f}, you returned {float(got):.4f}.")
    return passed("nDCG rewards every relevant chunk near the top, not only the first one.")


# ----------------------------------------------------------------------------------------- 7. ask the book


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
