"""The ranking metrics of aie.retrieval agree with the worked example of 03-retrieval/06 and reject bad input."""

import pytest

from aie import retrieval


def test_metrics_on_the_lesson_example():
    example = [False, True, False, True, False]  # relevant at ranks 2 and 4
    assert retrieval.hit_at(example, 1) == 0.0
    assert retrieval.hit_at(example, 5) == 1.0
    assert retrieval.reciprocal_rank(example) == 0.5
    assert round(retrieval.ndcg_at(example, 5, n_relevant=2), 2) == 0.65
    assert retrieval.recall_at(example, 2, n_relevant=2) == 0.5
    assert retrieval.recall_at(example, 5, n_relevant=2) == 1.0


def test_nothing_relevant():
    assert retrieval.reciprocal_rank([False, False]) == 0.0
    assert retrieval.ndcg_at([False, False], 2, n_relevant=1) == 0.0
    assert retrieval.ndcg_at([True], 3, n_relevant=0) == 0.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="k must be"):
        retrieval.hit_at([True], 0)
    with pytest.raises(TypeError, match="list of booleans"):
        retrieval.reciprocal_rank("kb-1")
    with pytest.raises(ValueError, match="n_relevant"):
        retrieval.recall_at([True], 1, n_relevant=0)
