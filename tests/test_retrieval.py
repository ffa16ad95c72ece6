"""Step 3 plumbing (aie.retrieval) and its exercise checkers (aie.exercises.retrieval).

Bad input gets a clear message; the embedding cache is used and is safe; indexing is idempotent;
persisted collections reopen in a new process; the Chroma server helper starts, stops and explains
when nothing is running; the labelled questions point at sections that exist; every checker passes a
right answer and gives its hint to a typical wrong one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from aie import minilm, retrieval

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own embedding cache folder."""
    monkeypatch.setenv("AIE_CACHE_DIR", str(tmp_path / "cache"))
    yield
    retrieval.embedding_cache().close()


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("query", ["", "   ", "\n\t "])
def test_empty_query_is_refused(query):
    with pytest.raises(retrieval.EmptyQueryError, match="empty"):
        retrieval.check_query(query)


@pytest.mark.parametrize("query", [None, 42, b"bytes", ["a list"]])
def test_non_text_query_is_refused(query):
    with pytest.raises(TypeError, match="must be text"):
        retrieval.check_query(query)


def test_query_is_stripped():
    assert retrieval.check_query("  budget cap \n") == "budget cap"


def test_non_text_documents_are_refused_with_their_position():
    with pytest.raises(TypeError, match="document 1 is int"):
        retrieval.embed(["fine", 3])
    with pytest.raises(TypeError, match="not a single string"):
        retrieval.embed("one string")
    with pytest.raises(ValueError, match="document 0 is empty"):
        retrieval.embed(["  "])


def test_too_long_document_is_refused_not_truncated():
    long_text = "retrieval " * 400
    assert minilm.count_tokens(long_text) > minilm.MAX_TOKENS
    with pytest.raises(retrieval.DocumentTooLongError, match=r"reads at most 256.*silently ignored.*split_to_fit"):
        retrieval.embed(["short", long_text])


def test_split_to_fit_keeps_every_word_within_the_window():
    page = next(p for p in retrieval.load_pages() if p.id == "book/kb/glossary")
    pieces = retrieval.split_to_fit(page.text, max_tokens=120, prefix="Glossary\n")
    assert all(minilm.count_tokens(p) <= 120 for p in pieces)
    assert all(p.startswith("Glossary\n") for p in pieces)
    assert " ".join(p[len("Glossary\n"):] for p in pieces).split() == page.text.split()


def test_split_to_fit_cuts_a_single_huge_word_run():
    text = " ".join(f"w{i}" for i in range(2000))  # one "sentence" far over the window
    pieces = retrieval.split_to_fit(text, max_tokens=64)
    assert len(pieces) > 1 and all(minilm.count_tokens(p) <= 64 for p in pieces)
    assert " ".join(pieces).split() == text.split()


@pytest.mark.parametrize("name, problem", [
    ("ab", "2 characters"), ("x" * 513, "513 characters"), ("my notes", "contains ' '"), ("-abc", "start and end"),
    ("abc-", "start and end"), ("a..b", "two consecutive periods"), ("10.0.0.1", "IP address"), (7, "must be a string"),
])
def test_bad_collection_names(name, problem):
    with pytest.raises(retrieval.CollectionNameError, match=re.escape(problem)):
        retrieval.check_collection_name(name)


@pytest.mark.parametrize("text", ["ab", "my notes!", "..", "10.0.0.1", "-x-", "a" * 600, "Über Café", ""])
def test_safe_collection_name_is_accepted_by_chromadb(text):
    name = retrieval.safe_collection_name(text)
    retrieval.check_collection_name(name)
    client = retrieval.ephemeral_client()
    client.get_or_create_collection(name)
    client.delete_collection(name)


def test_chromadb_rejects_what_check_collection_name_rejects():
    from chromadb.errors import InvalidArgumentError

    client = retrieval.ephemeral_client()
    for name in ["ab", "my notes", "a..b", "10.0.0.1"]:
        with pytest.raises(InvalidArgumentError):
            client.get_or_create_collection(name)
    with pytest.raises(retrieval.CollectionNameError, match="A valid name: 'my-notes'"):
        retrieval.course_collection(client, "my notes")


# --------------------------------------------------------------------------------------- the cache


def test_embed_matches_the_course_embedding_function():
    from aie.embeddings import CourseEmbedding

    texts = ["A budget cap refuses a call.", "Chunks should be about one thing."]
    ours = retrieval.embed(texts)
    theirs = np.array(CourseEmbedding()(texts))
    assert ours.shape == (2, minilm.DIMENSIONS)
    assert np.allclose(ours, theirs, atol=1e-5)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-4)


def test_disk_cache_is_used_on_the_second_call(monkeypatch):
    texts = ["first text for the cache", "second text for the cache", "first text for the cache"]
    first = retrieval.embed(texts)
    assert len(retrieval.embedding_cache()) == 2  # duplicates are stored once

    def boom(_texts):
        raise AssertionError("the model was called although every text is cached")

    monkeypatch.setattr(minilm, "embed", boom)
    second = retrieval.embed(texts)
    assert np.array_equal(first, second)


def test_disk_cache_survives_a_new_process(tmp_path):
    code = "from aie import retrieval; retrieval.embed(['persisted text']); print(len(retrieval.embedding_cache()))"
    env = {**__import__("os").environ, "AIE_CACHE_DIR": str(tmp_path / "shared")}
    out1 = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    out2 = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out1.strip() == out2.strip() == "1"


def test_corrupt_cache_file_is_not_fatal(tmp_path, monkeypatch):
    folder = tmp_path / "broken"
    monkeypatch.setenv("AIE_CACHE_DIR", str(folder))
    path = retrieval.cache_dir()
    path.mkdir(parents=True)
    (path / retrieval.embedding_cache().path.name).write_bytes(b"this is not a sqlite file" * 100)
    retrieval._CACHE = None
    with pytest.warns(RuntimeWarning, match="not usable"):
        vec = retrieval.embed(["still works"])
    assert vec.shape == (1, minilm.DIMENSIONS)


def test_malformed_cached_vector_is_recomputed():
    retrieval.embed(["a text"])
    cache = retrieval.embedding_cache()
    key = retrieval.EmbeddingCache.key("a text")
    cache._conn.execute("UPDATE vectors SET vec = ? WHERE key = ?", (b"short", key))
    cache._conn.commit()
    again = retrieval.embed(["a text"])
    assert np.allclose(again[0], minilm.embed(["a text"])[0], atol=1e-6)


def test_progress_bar_is_the_same_cold_and_warm(capsys):
    retrieval.embed(["one", "two"], progress="bar")
    cold = capsys.readouterr().err.split("\r")[-1]
    retrieval.embed(["one", "two"], progress="bar")
    warm = capsys.readouterr().err.split("\r")[-1]
    assert cold == warm and "2/2" in warm


# ------------------------------------------------------------------------------------- corpus and chunks


def test_snapshot_pages_have_ids_urls_and_text():
    pages = retrieval.load_pages()
    assert len(pages) >= 10
    assert len({p.id for p in pages}) == len(pages)
    for p in pages:
        assert p.url == p.id + ".html" and p.text.strip() and p.kind in {"page", "notebook"}
        assert "{term}" not in p.text and ":::{" not in p.text


def test_clean_markdown_reduces_myst():
    raw = textwrap.dedent("""\
        # Title
        (label)=
        See {term}`RAG <Retrieval-augmented generation (RAG)>` and [the roadmap](roadmap.md) or <https://example.com>.
        <!-- a comment -->
        :::{exercise}
        :label: x-1
        Do the thing.
        :::
        ```{mermaid}
        graph TD; A-->B
        ```
        Keep `<Example>` tags in code.
        """)
    text = retrieval.clean_markdown(raw)
    assert "See RAG and the roadmap or https://example.com." in text
    assert "Do the thing." in text and "graph TD" not in text and ":label:" not in text
    assert "comment" not in text and "(label)=" not in text and "`<Example>`" in text


def test_sections_have_the_anchors_the_site_uses():
    page = next(p for p in retrieval.load_pages() if p.id == "book/setup")
    secs = retrieval.sections(page)
    assert secs[0].anchor == "" and secs[0].url == "book/setup.html"
    by_heading = {s.heading: s for s in secs}
    assert by_heading["3. Binder and Colab"].anchor == "binder-and-colab"  # docutils drops leading digits
    for s in secs:
        assert page.text[s.start:s.end] == s.text


def test_chunks_fit_the_model_and_have_stable_unique_ids():
    pages = retrieval.load_pages()
    a, b = retrieval.chunk_pages(pages), retrieval.chunk_pages(pages)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)
    assert max(minilm.count_tokens(c.text) for c in a) <= 160
    assert {"page", "title", "section", "url", "kind", "position"} <= set(a[0].metadata)


def test_live_pages_read_the_toc(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("# A page\n\nSome text.\n\n## Part\n\nMore.\n")
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["# A notebook\n", "Words."], "metadata": {}},
        {"cell_type": "code", "source": "print('code is not indexed')", "metadata": {}, "outputs": []}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/a\nchapters:\n  - file: nb\n  - file: missing\n")
    pages = retrieval.read_live_pages(tmp_path)
    assert [(p.id, p.kind, p.title) for p in pages] == [("book/a", "page", "A page"), ("nb", "notebook", "A notebook")]
    assert "code is not indexed" not in pages[1].text


def test_labelled_questions_point_at_existing_sections():
    from aie import data

    q = data.load("retrieval_questions")
    sections = {(s.page_id, s.heading) for p in retrieval.load_pages() for s in retrieval.sections(p)}
    for row in q.itertuples():
        if row.kind == "unanswerable":
            assert not isinstance(row.page, str) and not isinstance(row.section, str), row.id
            continue
        assert (row.page, row.section) in sections, f"{row.id}: no section {row.page} > {row.section}"
        if isinstance(row.also, str):
            for ref in row.also.split(";"):
                page, heading = ref.strip().split("#", 1)
                assert (page, heading) in sections, f"{row.id}: no section {ref}"
    assert (q.kind == "unanswerable").sum() >= 5 and (q.kind != "unanswerable").sum() >= 40


def test_snapshot_matches_the_toc_pages_it_lists():
    """Every snapshot page still exists as a file (a refresh is due when this fails)."""
    for p in retrieval.load_pages():
        assert (ROOT / p.path).is_file(), f"{p.path} is in the snapshot but not in the repository"


# -------------------------------------------------------------------------------------- search pieces


def test_bm25_keeps_identifiers_and_breaks_ties_by_id():
    index = retrieval.BM25Index(["set AIE_BUDGET_USD now", "budget talk", "same words", "same words"],
                                ["d1", "d2", "d4", "d3"])
    assert [h.id for h in index.search("AIE_BUDGET_USD", 5)] == ["d1"]
    assert [h.id for h in index.search("same words", 5)] == ["d3", "d4"]
    assert index.search("unknownword", 5) == []
    with pytest.raises(retrieval.EmptyQueryError):
        index.search(" ", 5)


def test_rrf():
    fused = retrieval.rrf([["a", "b", "c"], ["c", "a", "d"]])
    assert [h.id for h in fused] == ["a", "c", "b", "d"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62, abs=1e-6)
    assert [h.id for h in retrieval.rrf([["x"], ["y"]])] == ["x", "y"]  # a tie, broken by id


# ----------------------------------------------------------------------------------------- chromadb


def _chunks(n: int = 6) -> list[retrieval.Chunk]:
    return [retrieval.Chunk(f"doc/{i}", f"Document number {i} talks about topic {i % 3}.", {"i": i, "kind": "page"})
            for i in range(n)]


def test_upsert_is_idempotent_and_prunes_stale_ids():
    col = retrieval.course_collection(retrieval.ephemeral_client(), "idempotent-test")
    chunks = _chunks()
    assert retrieval.upsert_chunks(col, chunks) == {"upserted": 6, "deleted": 0}
    retrieval.upsert_chunks(col, chunks)
    assert col.count() == 6
    edited = [retrieval.Chunk("doc/0", "Edited text about budgets.", {"i": 0, "kind": "page"})] + chunks[1:4]
    assert retrieval.upsert_chunks(col, edited, prune=True) == {"upserted": 4, "deleted": 2}
    assert col.count() == 4
    assert col.get(ids=["doc/0"])["documents"] == ["Edited text about budgets."]
    with pytest.raises(ValueError, match="repeated: doc/1"):
        retrieval.upsert_chunks(col, chunks[:2] + chunks[1:2])


def test_add_documents_splits_long_documents_without_loss():
    col = retrieval.course_collection(retrieval.ephemeral_client(), "split-test")
    long_text = "\n\n".join(f"Paragraph {i} explains retrieval step {i} in some detail." * 3 for i in range(40))
    ids = retrieval.add_documents(col, ["short", "long"], ["A short note.", long_text], [{"k": 1}, {"k": 2}])
    assert ids[0] == "short" and all(i.startswith("long:") for i in ids[1:]) and len(ids) > 3
    parts = col.get(where={"parent": "long"})
    assert len(parts["ids"]) == len(ids) - 1
    assert " ".join(d for _, d in sorted(zip(parts["ids"], parts["documents"]), key=lambda t: int(t[0].split(":")[1]))
                    ).split() == long_text.split()
    retrieval.add_documents(col, ["short", "long"], ["A short note.", long_text], [{"k": 1}, {"k": 2}])
    assert col.count() == len(ids)  # again: nothing duplicated
    with pytest.raises(TypeError, match="document 'x' is NoneType"):
        retrieval.add_documents(col, ["x"], [None])
    with pytest.raises(ValueError, match="ids must be unique"):
        retrieval.add_documents(col, ["a", "a"], ["one", "two"])


def test_dense_search_validates_and_orders():
    col = retrieval.course_collection(retrieval.ephemeral_client(), "search-test")
    retrieval.upsert_chunks(col, _chunks())
    hits = retrieval.dense_search(col, "topic 1", 3)
    assert len(hits) == 3 and hits == sorted(hits, key=lambda h: (-h.score, h.id))
    assert all(-1 <= h.score <= 1 for h in hits)
    assert all(h.metadata["kind"] == "page" for h in retrieval.dense_search(col, "topic", 2, where={"i": {"$gte": 4}}))
    with pytest.raises(retrieval.EmptyQueryError):
        retrieval.dense_search(col, "  ")


def test_hybrid_retriever():
    chunks = _chunks(9)
    col = retrieval.course_collection(retrieval.ephemeral_client(), "hybrid-test")
    retrieval.upsert_chunks(col, chunks)
    r = retrieval.HybridRetriever(col, chunks)
    hits = r.hybrid("Document number 7", 3)
    assert hits[0].id == "doc/7" and hits[0].text and hits[0].metadata["i"] == 7


_PERSIST = """
import sys, chromadb
{imports}
client = chromadb.PersistentClient(path=sys.argv[1])
{body}
"""


def _run(code: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=180)


def test_reopen_persisted_collection_after_registration(tmp_path):
    write = _PERSIST.format(imports="from aie import retrieval", body=(
        "col = retrieval.course_collection(client, 'notes')\n"
        "retrieval.upsert_chunks(col, [retrieval.Chunk('a', 'The budget cap stops spending.'), "
        "retrieval.Chunk('b', 'Chunks fit the window.')])\nprint(col.count())"))
    assert _run(write, tmp_path).stdout.strip() == "2"
    assert _run(write, tmp_path).stdout.strip() == "2"  # re-running does not duplicate
    unregistered = _PERSIST.format(imports="", body=(
        "col = client.get_collection('notes')\nprint(col.query(query_texts=['money'], n_results=1)['ids'])"))
    out = _run(unregistered, tmp_path)
    assert out.returncode != 0 and "aie-minilm not found" in out.stderr
    helper = _PERSIST.format(imports="from aie import retrieval", body=(
        "col = retrieval.open_collection(client, 'notes')\n"
        "print(col.count(), retrieval.dense_search(col, 'money and spending', 1)[0].id)"))
    assert _run(helper, tmp_path).stdout.strip() == "2 a"


def test_open_collection_names_an_unregistered_function(tmp_path):
    define = textwrap.dedent("""
        from chromadb.utils.embedding_functions import register_embedding_function
        from aie.embeddings import CourseEmbedding
        @register_embedding_function
        class Other(CourseEmbedding):
            @staticmethod
            def name(): return "someone-elses-function"
            @staticmethod
            def build_from_config(config): return Other()
        """)
    write = _PERSIST.format(imports=define, body="client.get_or_create_collection('other', embedding_function=Other()).add(ids=['x'], documents=['text'])")
    assert _run(write, tmp_path).returncode == 0
    reopen = _PERSIST.format(imports="from aie import retrieval", body=(
        "try:\n    retrieval.open_collection(client, 'other')\n"
        "except retrieval.EmbeddingFunctionNotRegisteredError as e:\n    print(e)"))
    out = _run(reopen, tmp_path).stdout
    assert "'someone-elses-function', which is not registered" in out and "before reopening" in out
    missing = _PERSIST.format(imports="from aie import retrieval", body=(
        "try:\n    retrieval.open_collection(client, 'nope')\nexcept KeyError as e:\n    print(e)"))
    assert "existing collections: other" in _run(missing, tmp_path).stdout


# ---------------------------------------------------------------------------------------- the server


def test_connect_when_no_server_runs():
    port = retrieval.free_port()
    with pytest.raises(retrieval.ServerNotRunningError, match=rf"no Chroma server answers at http://127.0.0.1:{port}.*chroma run"):
        retrieval.connect("127.0.0.1", port)


def test_server_starts_serves_and_stops(tmp_path):
    server = retrieval.ChromaServer(tmp_path / "db")
    with pytest.raises(retrieval.ServerNotRunningError, match="not running"):
        server.client()
    with server:
        assert server.running and retrieval.heartbeat(server.host, server.port)
        col = retrieval.course_collection(server.client(), "served")
        retrieval.upsert_chunks(col, _chunks())
        retrieval.upsert_chunks(col, _chunks())
        assert col.count() == 6
        port = server.port
    assert not server.running and not retrieval.heartbeat("127.0.0.1", port)
    with retrieval.ChromaServer(tmp_path / "db") as again:  # the data outlives the server
        assert again.client().get_collection("served").count() == 6


def test_server_start_failure_shows_the_log(tmp_path):
    import socket

    with socket.socket() as busy:  # something that holds the port but is not a Chroma server
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = retrieval.ChromaServer(tmp_path / "db", port=port, startup_timeout=60)
        with pytest.raises((RuntimeError, TimeoutError), match="Its log ends"):
            server.start()
        assert not server.running


# ----------------------------------------------------------------------------------------- checkers


from aie.exercises import retrieval as ex  # noqa: E402

_STOP = ex._STOP


def _content(text):
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if w not in _STOP}


def _fixed(text, size, overlap):
    return ex._fixed_reference(text, size, overlap)


def _rrf(rankings, k=60):
    return ex._rrf_reference(rankings, k)


def _n_answerable():
    from aie import data

    q = data.load("retrieval_questions")
    return int((q.kind != "unanswerable").sum())


EXPERIMENT = {"change": "Fuse the top 30 candidates of each retriever instead of 10.",
              "hypothesis": "Chunks ranked 11th to 30th by one retriever can enter the fusion; costs a longer list.",
              "metric": "hit@5", "before": 0.979, "after": 0.979, "interval": (0.0, 0.0), "n": _n_answerable(),
              "decision": "need more data"}
CHOICE = {"one_result": "hit@1", "five_to_model": "hit@5", "hybrid_beats_dense": "not shown"}

RIGHT_AND_WRONG = [
    (ex.check_overlap_needed, {"cut_at_0": 16, "overlap": 260, "n_chunks": 29},
     {"cut_at_0": 16, "overlap": 300, "n_chunks": 29}, "smaller multiple of 10"),
    (ex.check_overlap_needed, {"cut_at_0": 16, "overlap": 260, "n_chunks": 29},
     {"cut_at_0": 79, "overlap": 260, "n_chunks": 29}, "not inside any single window"),
    (ex.check_overlap_needed, {"cut_at_0": 16, "overlap": 260, "n_chunks": 29},
     {"cut_at_0": 16, "overlap": 260, "n_chunks": 17}, "count the windows"),
    (ex.check_faq_threshold, {"threshold": 0.585, "wrong_answers": 0, "missed": 2},
     {"threshold": 0.43, "wrong_answers": 2, "missed": 0}, "does not answer them"),
    (ex.check_faq_threshold, {"threshold": 0.585, "wrong_answers": 0, "missed": 2},
     {"threshold": 0.75, "wrong_answers": 0, "missed": 5}, "a lower threshold"),
    (ex.check_faq_threshold, {"threshold": 0.585, "wrong_answers": 0, "missed": 2},
     {"threshold": 0.585, "wrong_answers": 0, "missed": 0}, "your counts"),
    (ex.check_consensus, [["a", "x", "b"], ["c", "x", "d"]], [["a", "b"], ["a", "c"]], "tops one of the rankings"),
    (ex.check_consensus, [["a", "x", "b"], ["c", "x", "d"]], [["a", "a"], ["b"]], "appears twice"),
    (ex.check_disagree, {"A": [True, False, False, False, False], "B": [False, True, True, True, False], "n_relevant": 3},
     {"A": [False, True, True, True, False], "B": [True, False, False, False, False], "n_relevant": 3}, "higher reciprocal"),
    (ex.check_disagree, {"A": [True, False, False, False, False], "B": [False, True, True, True, False], "n_relevant": 3},
     {"A": [True, False, False, False, False], "B": [False, True, False, False, False], "n_relevant": 1}, "higher nDCG@5"),
    (ex.check_disagree, {"A": [True, False, False, False, False], "B": [False, True, True, True, False], "n_relevant": 3},
     {"A": [True, False, False, False, False], "B": [False, True, True, True, False], "n_relevant": 2}, "raise `n_relevant`"),
    (ex.check_choose, CHOICE, {**CHOICE, "one_result": "MRR"}, "ranks 2, 3"),
    (ex.check_choose, CHOICE, {**CHOICE, "five_to_model": "nDCG@5"}, "reads all five"),
    (ex.check_choose, CHOICE, {**CHOICE, "hybrid_beats_dense": "yes"}, "includes zero"),
    (ex.check_retrieval_experiment, EXPERIMENT, {**EXPERIMENT, "decision": "adopt"}, "interval includes zero"),
    (ex.check_retrieval_experiment, EXPERIMENT, {**EXPERIMENT, "n": 10}, "answerable"),
    (ex.check_retrieval_experiment, EXPERIMENT, {**EXPERIMENT, "after": 0.9, "interval": (0.01, 0.2)}, "should contain"),
    (ex.check_retrieval_experiment, EXPERIMENT, {**EXPERIMENT, "metric": "recall"}, "columns"),
    (ex.check_retrieval_experiment, EXPERIMENT, {**EXPERIMENT, "hypothesis": "better"}, "8+ words"),
    (ex.check_overlap_share,
     lambda q, t: len(_content(q) & _content(t)) / len(_content(q)) if _content(q) else 0.0,
     lambda q, t: len(_content(q) & _content(t)) / len(_content(q)) if _content(q) else None, "returns None"),
    (ex.check_overlap_share,
     lambda q, t: len(_content(q) & _content(t)) / len(_content(q)) if _content(q) else 0.0,
     lambda q, t: len(_content(q) & _content(t)) / max(1, len(q.split())) if _content(q) else 0.0, "share is"),
    (ex.check_pack, ex._pack_reference, lambda sents, m, c: [" ".join(sents)], "has"),
    (ex.check_stable_id, lambda u, p, t: f"{u}#{p}", lambda u, p, t: f"{u}#{p}#{hash(t)}", "edited paragraph"),
    (ex.check_tokens, lambda t: [w for w in re.findall(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", t.lower()) if w not in __import__("bm25s").stopwords.STOPWORDS_EN],
     lambda t: [w for w in re.findall(r"[a-z0-9]+", t.lower()) if w not in __import__("bm25s").stopwords.STOPWORDS_EN], "split"),
    (ex.check_link_citations,
     lambda a, u: re.sub(r"\[(S\d+)\]", lambda m: f"[{m.group(1)}]({u[m.group(1)]})" if m.group(1) in u else m.group(0), a),
     lambda a, u: re.sub(r"\[(S\d+)\]", lambda m: f"[{m.group(1)}]({u[m.group(1)]})", a) if "[S7]" not in a else a.replace("[S7]", "[S7]()"),
     "[S7]"),
    (ex.check_best_threshold,
     lambda p, n, c: max(c, key=lambda t: (sum(s >= t for s in p) + sum(s < t for s in n), -t)),
     lambda p, n, c: max(c, key=lambda t: (sum(s >= t for s in p) + sum(s < t for s in n), t)), "smallest"),
]


@pytest.mark.parametrize("checker, right, wrong, hint_part", RIGHT_AND_WRONG,
                         ids=[f"{c[0].exercise_id}-{i}" for i, c in enumerate(RIGHT_AND_WRONG)])
def test_checker_passes_right_and_hints_wrong(checker, right, wrong, hint_part):
    ok = checker(right)
    assert ok.passed, ok.message
    bad = checker(wrong)
    assert not bad.passed and hint_part in bad.message, bad.message


NEW_DICT_ANSWERS = {"retrieval-chunk-overlap", "retrieval-emb-threshold", "retrieval-eval-disagree",
                    "retrieval-eval-choose", "retrieval-eval-open"}


def test_checkers_handle_the_placeholder():
    for checker in {c[0] for c in RIGHT_AND_WRONG}:
        fb = checker(...)
        assert not fb.passed and "placeholder" in fb.message
        if checker.exercise_id in NEW_DICT_ANSWERS:
            blank = {k: ... for k in next(c[1] for c in RIGHT_AND_WRONG if c[0] is checker)}
            assert "no answer yet" in checker(blank).message, checker.exercise_id


def test_retrieval_measurements_match_the_notebook():
    """The bootstrap interval the choose checker uses is the one the notebook printed."""
    import json as _json

    nb = _json.loads((ROOT / "notebooks" / "03-retrieval" / "06-evaluating-retrieval.ipynb").read_text(encoding="utf-8"))
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    mean, low, high = ex.HYBRID_MINUS_DENSE_HIT5
    assert f"hybrid (RRF) minus dense, hit@5: {mean:+.3f} (95% interval {low:+.3f} to {high:+.3f})" in printed


def test_every_checker_is_used_in_a_notebook():
    ids = {c[0].exercise_id for c in RIGHT_AND_WRONG}
    text = "".join(p.read_text() for p in (ROOT / "notebooks" / "03-retrieval").glob("*.ipynb"))
    for name in ids:
        fn = next(c[0] for c in RIGHT_AND_WRONG if c[0].exercise_id == name)
        assert f"ex.{fn.__name__}(" in text, f"{name} ({fn.__name__}) is not called in notebooks/03-retrieval"


def test_the_course_collection_gives_the_same_results_on_every_run():
    """One HNSW insertion thread (the same graph every build) and a wide search list (practically exact):
    with chromadb's defaults a busy machine now and then misses a true top-ten chunk, and a lesson's
    sources, and so its recorded prompts, would change from run to run."""
    client = retrieval.ephemeral_client()
    asked = {}
    create = client.get_or_create_collection

    def spy(name, **kw):
        asked.update(kw.get("configuration") or {})
        return create(name, **kw)

    client.get_or_create_collection = spy
    col = retrieval.course_collection(client, "stable-test")
    assert asked["hnsw"]["num_threads"] == 1  # chromadb applies it but does not echo it in configuration_json
    hnsw = col.configuration_json["hnsw"]
    assert (hnsw["space"], hnsw["ef_search"]) == ("cosine", 500)
