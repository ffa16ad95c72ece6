"""Checkers of the memory lesson (aie.exercises.memory) and the store's input checks (aie.memory): a right
answer passes, typical wrong ones get their hint, bad facts get a clear error."""

from __future__ import annotations

import pytest

from aie import memory, tokens
from aie.exercises import memory as m
from feedback import hints, ok


def window_naive(messages, budget):
    system, rest = messages[:1], messages[1:]
    kept = []
    for message in reversed(rest):
        if tokens.count_messages(system + [message] + kept) > budget:
            break
        kept.insert(0, message)
    return system + kept


def test_window_right_answer_passes():
    ok(m.check_fit_window(m.reference_window))


def test_window_typical_mistakes_get_their_hints():
    hints(m.check_fit_window(...), "placeholder")
    hints(m.check_fit_window(window_naive), "assistant reply")
    hints(m.check_fit_window(lambda msgs, budget: msgs), "budget")
    hints(m.check_fit_window(lambda msgs, budget: msgs[1:]), "system message")

    def too_short(msgs, budget):
        return m.reference_window(msgs, budget)[:1] + m.reference_window(msgs, budget)[3:]
    hints(m.check_fit_window(too_short), "fit")

    def no_error(msgs, budget):
        try:
            return m.reference_window(msgs, budget)
        except ValueError:
            return msgs[:1]
    hints(m.check_fit_window(no_error), "raise ValueError")

    def vague_error(msgs, budget):
        try:
            return m.reference_window(msgs, budget)
        except ValueError:
            raise ValueError("does not fit") from None
    hints(m.check_fit_window(vague_error), "tokens")


def rerank_weight(weight):
    def rerank(hits):
        latest = max(h["turn"] for h in hits)
        return sorted(hits, key=lambda h: -(h["similarity"] + weight * h["turn"] / latest))
    return rerank


def test_rerank_right_answers_pass():
    ok(m.check_rerank(rerank_weight(0.15)))

    def near_ties(hits):  # a different design: the newest fact within 0.1 of the best comes first
        best = hits[0]["similarity"]
        close = [h for h in hits if best - h["similarity"] <= 0.1]
        first = max(close, key=lambda h: h["turn"])
        return [first] + [h for h in hits if h is not first]
    ok(m.check_rerank(near_ties))


def test_rerank_typical_mistakes_get_their_hints():
    hints(m.check_rerank(lambda hits: hits), "recency")
    hints(m.check_rerank(rerank_weight(0.5)), "relevant old fact")
    hints(m.check_rerank(lambda hits: sorted(hits, key=lambda h: -h["turn"])), "relevant old fact")
    hints(m.check_rerank(lambda hits: hits[:1]), "every hit")


def test_check_fact_accepts_a_sentence_and_strips_it():
    assert memory.check_fact("  Mina lives in Seoul. ") == "Mina lives in Seoul."


@pytest.mark.parametrize("fact, words", [
    ("", ["empty"]), ("   \n", ["empty"]), (None, ["string"]), (42, ["string"]),
    ("word " * 80, ["tokens", "limit", "Split"]),
])
def test_check_fact_refuses_bad_facts_clearly(fact, words):
    with pytest.raises(memory.FactError) as e:
        memory.check_fact(fact)
    for w in words:
        assert w in str(e.value)


def test_check_facts_stops_the_whole_batch():
    with pytest.raises(memory.FactError, match="fact 1: .*Nothing in this batch was stored"):
        memory.check_facts(["Mina lives in Seoul.", ""])
    with pytest.raises(memory.FactError, match="list of facts"):
        memory.check_facts("Mina lives in Seoul.")


def test_files_containing_and_compact(tmp_path):
    (tmp_path / "a.txt").write_text("Mina lives in Seoul.")
    (tmp_path / "b.txt").write_text("Tom lives in Daejeon.")
    assert memory.files_containing(tmp_path, "Seoul") == ["a.txt"]
    with pytest.raises(FileNotFoundError, match="PersistentClient"):
        memory.compact(tmp_path)
