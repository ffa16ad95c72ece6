"""JSON mode without a schema: guess the keys from the prompt.

With ``response_format={"type": "json_object"}`` or an instruction such as "output in
JSON", the prompt usually shows a template (``{"name": ..., "age": ...}``) or lists the
keys ("return JSON with the keys name, email and company"); this builds a schema from
either, so the structured extractor can fill it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aie.offline import entities as E
from aie.offline.textutil import name_words

def schema_from_prompt(instructions: str) -> dict | None:
    """For json_object mode: a schema guessed from a JSON template or a list of keys in the instructions."""
    m = re.search(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", instructions, re.S)
    if m:
        try:
            tmpl = json.loads(m.group(0))
            if isinstance(tmpl, dict) and tmpl:
                return _schema_of(tmpl)
        except ValueError:
            keys = re.findall(r"[\"']([A-Za-z_][\w]*)[\"']\s*:", m.group(0))
            if keys:
                return {"type": "object", "properties": {k: {"type": "string"} for k in keys}, "required": keys}
    m = re.search(r"\b(?:keys?|fields?|properties|attributes)\b\s*(?:named|called|:)?\s*((?:[`\"']?[A-Za-z_]\w*[`\"']?(?:\s*(?:,|and|&)\s*)?){1,12})", instructions)
    if m:
        keys = [k for k in re.findall(r"[A-Za-z_]\w*", m.group(1)) if k.lower() not in {"and", "the", "with", "a"}]
        if keys:
            return {"type": "object", "properties": {k: _guess_type(k) for k in keys}, "required": keys}
    return None


def _schema_of(tmpl: Any) -> dict:
    if isinstance(tmpl, dict):
        return {"type": "object", "properties": {k: _schema_of(v) if not isinstance(v, str) else _guess_type(k, v) for k, v in tmpl.items()},
                "required": list(tmpl)}
    if isinstance(tmpl, list):
        return {"type": "array", "items": _schema_of(tmpl[0]) if tmpl else {"type": "string"}}
    if isinstance(tmpl, bool):
        return {"type": "boolean"}
    if isinstance(tmpl, int):
        return {"type": "integer"}
    if isinstance(tmpl, float):
        return {"type": "number"}
    return {"type": "string"}


def _guess_type(key: str, example: str = "") -> dict:
    nw = set(name_words(key))
    if "|" in example and len(example) < 80:
        return {"type": "string", "enum": [x.strip() for x in example.split("|") if x.strip()]}
    if nw & {"count", "quantity", "age", "number", "total", "price", "amount", "year", "rating", "score"} and not nw & {"phone", "order", "id"}:
        return {"type": "number"}
    if nw & {"is", "has"} or example.lower() in {"true", "false", "true|false", "bool", "boolean"}:
        return {"type": "boolean"}
    if nw & {"tags", "items", "skills", "keywords", "list"}:
        return {"type": "array", "items": {"type": "string"}}
    return {"type": "string"}


def entities_object(text: str) -> dict:
    """JSON asked for with no shape at all: the typed values found in the text, listed by kind."""
    found = {
        "names": [s.value for s in E.proper_names(text)],
        "emails": [s.value for s in E.emails(text)],
        "phones": [s.value for s in E.phones(text)],
        "dates": [s.value for s in E.dates(text)],
        "times": [s.value for s in E.times(text)],
        "numbers": [int(s.value) if s.value == int(s.value) else s.value for s in E.numbers(text)],
        "ids": [s.value for s in E.ids(text)],
        "urls": [s.value for s in E.urls(text)],
        "quotes": [s.value for s in E.quoted(text)],
    }
    return {k: v for k, v in found.items() if v}
