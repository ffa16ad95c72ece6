"""The instructor page lists every exercise, and the exercise map the grader uses finds them all."""

from __future__ import annotations

import re

import nbformat

from aie.check import REGISTRY
from aie.exercise_map import course_exercises, markdown_table, table_in
from aie.notebooks import REPO, find_notebooks

PAGE = REPO / "book" / "instructors.md"


def exercise_boxes() -> list[str]:
    """Every `{exercise}` label in the notebooks, found without the exercise map."""
    labels = []
    for path in find_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and ":::{exercise}" in cell.source:
                labels += re.findall(r"^:label:\s*(\S+)", cell.source, re.M)
    return labels


def test_every_exercise_box_is_mapped_to_a_registered_checker():
    exercises = course_exercises()
    assert [e.label for e in exercises] == exercise_boxes()
    assert len({e.label for e in exercises}) == len(exercises), "exercise labels must be unique"
    unregistered = [e.checker for e in exercises if e.checker not in REGISTRY]
    assert not unregistered, f"checkers not in aie.check.REGISTRY: {unregistered}"


def test_the_instructor_page_lists_every_exercise():
    listed = re.findall(r"^\| `([^`]+)` \|", table_in(PAGE), re.M)
    missing = [label for label in exercise_boxes() if label not in listed]
    assert not missing, f"book/instructors.md lacks {missing}: run `python -m aie exercises --update book/instructors.md`"


def test_the_instructor_page_table_is_the_generated_one():
    assert table_in(PAGE) == markdown_table(course_exercises()), (
        "book/instructors.md's exercise table is out of date: run `python -m aie exercises --update book/instructors.md`")
