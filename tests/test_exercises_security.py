"""Checkers of the prompt-injection lesson (aie.exercises.security): a right answer passes, a typical wrong one
gets its specific hint."""

from __future__ import annotations

import copy
import re
from email.utils import parseaddr

from aie.exercises import security as s
from feedback import hints, ok


# ------------------------------------------------------------------ 1. allowlist

def allowed_regex(to: str) -> bool:
    to = to.strip()
    match = re.fullmatch(r"(?:[^<>@,\n]*<)?([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+)>?", to)
    if not match or to.endswith(">") != ("<" in to):
        return False
    return match.group(2).lower() == "company.example"


def allowed_parseaddr(to: str) -> bool:
    """Another right answer: parseaddr, then refuse whatever it had to drop or could not make sense of."""
    to = to.strip()
    if not to or any(c in to for c in ",\n\r;"):
        return False
    _, address = parseaddr(to)
    if address.count("@") != 1 or (address != to and not to.endswith(f"<{address}>")):
        return False
    local, domain = address.split("@")
    return bool(local) and domain.lower() == "company.example"


def test_allowlist_right_answers_pass():
    ok(s.check_allowed_send(allowed_regex))
    ok(s.check_allowed_send(allowed_parseaddr))


def test_allowlist_typical_mistakes_get_their_hints():
    hints(s.check_allowed_send(lambda to: "company.example" in to.lower()), "company.example.evil.com", "whole domain")
    hints(s.check_allowed_send(lambda to: to.endswith("@company.example")), "case")
    hints(s.check_allowed_send(lambda to: to.strip().lower().endswith("@company.example")), "display-name")
    hints(s.check_allowed_send(lambda to: parseaddr(to)[1].lower().endswith("company.example")), "evilcompany.example")
    last = lambda to: to.strip().lower().split("<")[-1].rstrip(">").endswith("@company.example")  # noqa: E731
    hints(s.check_allowed_send(last), "two recipients")
    hints(s.check_allowed_send(lambda to: parseaddr(to)[1].lower().split("@")[-1] == "company.example"), "between < and >", "parseaddr")
    hints(s.check_allowed_send(lambda to: "yes"), "bool")
    hints(s.check_allowed_send(lambda to: None), "None", "...")
    hints(s.check_allowed_send(lambda to: False), "company address must be allowed")
    hints(s.check_allowed_send("allowed_send"), "function itself")
    hints(s.check_allowed_send(...), "placeholder")


# ------------------------------------------------------------------ 2. trifecta

def test_trifecta():
    ok(s.check_trifecta({"inbox helper", "browsing agent"}))
    ok(s.check_trifecta(["Browsing agent", " inbox helper "]))
    hints(s.check_trifecta({"browsing agent"}), "not quite", "fetch_url", "way out")
    hints(s.check_trifecta({"inbox helper", "browsing agent", "ticket agent with an allowlist"}), "too many", "cut in code")
    hints(s.check_trifecta({"inbox helper", "browsing agent", "docs answerer"}), "no private data")
    hints(s.check_trifecta({"inbox helper"}), "browsing agent")
    hints(s.check_trifecta({"inbox helper", "browser"}), "unknown", "browser")
    hints(s.check_trifecta("inbox helper"), "set")
    hints(s.check_trifecta(...), "placeholder")


# ------------------------------------------------------------------ 3. closed schema

RIGHT = {"type": "object", "properties": {
    "sentiment": {"type": "string", "enum": ["positive", "mixed", "negative"]},
    "stars": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
    "product_id": {"type": ["string", "null"], "pattern": "^P-[0-9]{4}$"}},
    "required": ["sentiment", "stars", "product_id"], "additionalProperties": False}


def variant(**changes):
    schema = copy.deepcopy(RIGHT)
    for field, sub in changes.items():
        if field in ("required", "additionalProperties"):
            schema[field] = sub
        elif sub is None:
            del schema["properties"][field]
        else:
            schema["properties"][field] = sub
    return schema


def test_closed_schema_right_answer_passes():
    ok(s.check_review_schema(RIGHT))
    anyof = variant(stars={"anyOf": [{"type": "integer", "minimum": 1, "maximum": 5}, {"type": "null"}]})
    ok(s.check_review_schema(anyof))


def test_closed_schema_typical_mistakes_get_their_hints():
    with_summary = variant(summary={"type": "string"})
    with_summary["required"] = [*with_summary["required"], "summary"]
    hints(s.check_review_schema(with_summary), "summary", "free-text")
    hints(s.check_review_schema(variant(product_id={"type": ["string", "null"], "pattern": "P-[0-9]{4}"})), "anchor")
    hints(s.check_review_schema(variant(product_id={"type": ["string", "null"]})), "product_id", "pattern")
    hints(s.check_review_schema(variant(sentiment={"type": "string"})), "sentiment", "enum")
    hints(s.check_review_schema(variant(stars={"type": ["integer", "null"]})), "at least 1")
    hints(s.check_review_schema(variant(stars={"type": ["number", "null"], "minimum": 1, "maximum": 5})), "whole number")
    hints(s.check_review_schema(variant(stars={"type": "integer", "minimum": 1, "maximum": 5})), "null")
    hints(s.check_review_schema(variant(product_id={"type": "string", "pattern": "^P-[0-9]{4}$"})), "product_id", "null")
    hints(s.check_review_schema(variant(additionalProperties=True)), "additionalProperties")
    hints(s.check_review_schema(variant(required=["sentiment"])), "required")
    hints(s.check_review_schema(variant(stars=None)), "stars")
    hints(s.check_review_schema(variant(sentiment={"type": "strng"})), "not a valid JSON schema")
    hints(s.check_review_schema("{}"), "dict")
    hints(s.check_review_schema(...), "placeholder")
