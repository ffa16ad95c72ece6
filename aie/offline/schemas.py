"""JSON Schema plumbing for structured output: resolve refs, build a minimal valid value, repair.

The extractor fills values from the text; this module is the safety net that makes the
result valid against the schema *every* time (the promise of OpenAI's strict structured
outputs): whatever the extractor could not fill, or filled wrongly, is replaced by the
smallest value the schema accepts.
"""

from __future__ import annotations

import copy
import re
from typing import Any

try:  # Python 3.11+: the regex parser moved
    import re._parser as sre_parse  # type: ignore[import-not-found]
    import re._constants as sre_c  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]


def resolve(schema: Any, root: dict) -> dict:
    """Follow ``$ref`` (local refs only) and merge ``allOf``, returning a plain schema dict."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        target: Any = root
        if ref.startswith("#"):
            for part in [p for p in ref[1:].split("/") if p]:
                target = target[part.replace("~1", "/").replace("~0", "~")]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest}
        seen += 1
    if not isinstance(schema, dict):
        return {} if schema is True or schema is None else {"not": {}}
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for sub in schema["allOf"]:
            sub = resolve(sub, root)
            for k, v in sub.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged["required"] = list(dict.fromkeys(merged.get("required", []) + v))
                else:
                    merged.setdefault(k, v)
        schema = merged
    return schema


def types(schema: dict) -> list[str]:
    """The JSON types a (resolved) schema allows, in a useful order ('null' last)."""
    t = schema.get("type")
    if isinstance(t, str):
        out = [t]
    elif isinstance(t, list):
        out = list(t)
    elif "enum" in schema:
        out = sorted({_json_type(v) for v in schema["enum"]}, key=lambda x: x == "null")
    elif "const" in schema:
        out = [_json_type(schema["const"])]
    elif "properties" in schema:
        out = ["object"]
    elif "items" in schema or "prefixItems" in schema:
        out = ["array"]
    else:
        out = []
    return sorted(out, key=lambda x: x == "null")


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def branches(schema: dict, root: dict) -> list[dict]:
    """The alternatives of anyOf/oneOf (resolved), or the schema itself."""
    alts = schema.get("anyOf") or schema.get("oneOf")
    if not alts:
        return [schema]
    base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    return [resolve({**base, **resolve(a, root)}, root) for a in alts]


def nullable(schema: dict, root: dict) -> bool:
    return any("null" in types(b) for b in branches(schema, root))


def minimal(schema: Any, root: dict, depth: int = 0) -> Any:
    """The smallest value the schema accepts (used when extraction finds nothing or fails validation)."""
    schema = resolve(schema, root)
    if depth > 12:
        return None
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if "enum" in schema and schema["enum"]:
        return copy.deepcopy(schema["enum"][0])
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    alts = schema.get("anyOf") or schema.get("oneOf")
    if alts:
        options = branches(schema, root)
        non_null = [b for b in options if "null" not in types(b)]
        return minimal((non_null or options)[0], root, depth + 1)
    ts = types(schema) or ["string"]
    t = ts[0]
    if t == "object":
        props = schema.get("properties", {})
        req = schema.get("required", [])
        out = {k: minimal(props.get(k, {}), root, depth + 1) for k in req}
        for k in list(props)[: max(0, int(schema.get("minProperties", 0)) - len(out))]:
            out.setdefault(k, minimal(props[k], root, depth + 1))
        return out
    if t == "array":
        n = int(schema.get("minItems", 0))
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        vals = [minimal(prefix[i] if i < len(prefix) else items, root, depth + 1) for i in range(n)]
        if schema.get("uniqueItems") and len(vals) > 1:
            vals = _make_unique(vals, prefix, items, root)
        return vals
    if t in ("integer", "number"):
        return _number_in_range(0, schema, t == "integer")
    if t == "boolean":
        return False
    if t == "null":
        return None
    return minimal_string(schema)


def _make_unique(vals: list, prefix: list, items: Any, root: dict) -> list:
    out = []
    for i, v in enumerate(vals):
        s = resolve(prefix[i] if i < len(prefix) else items, root)
        if isinstance(v, str):
            v = v + str(i) if not s.get("pattern") else v
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            v = _number_in_range(v + i, s, isinstance(v, int))
        out.append(v)
    return out


def _number_in_range(value: float, schema: dict, integer: bool) -> int | float:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = 1 if integer else 0.01
    v = value
    if lo is not None and v < lo:
        v = lo
    if xlo is not None and v <= xlo:
        v = xlo + step
    if hi is not None and v > hi:
        v = hi
    if xhi is not None and v >= xhi:
        v = xhi - step
    mult = schema.get("multipleOf")
    if mult:
        v = mult * round(v / mult)
    if integer:
        import math

        v = int(math.ceil(v)) if (lo is not None or xlo is not None) and v != int(v) else int(v)
    return v


def clamp_number(value: float, schema: dict, integer: bool) -> int | float:
    """Round and clamp an extracted number into the schema's range."""
    return _number_in_range(round(value) if integer else value, schema, integer)


def minimal_string(schema: dict) -> str:
    fmt = schema.get("format")
    by_format = {"date": "1970-01-01", "date-time": "1970-01-01T00:00:00Z", "time": "00:00:00", "email": "unknown@example.com",
                 "uri": "https://example.com", "url": "https://example.com", "uuid": "00000000-0000-0000-0000-000000000000",
                 "hostname": "example.com", "ipv4": "0.0.0.0", "ipv6": "::1", "duration": "P0D"}
    s = by_format.get(fmt, "")
    if schema.get("pattern"):
        s = sample_regex(schema["pattern"])
    n = int(schema.get("minLength", 0))
    if len(s) < n:
        s = s + "x" * (n - len(s)) if not schema.get("pattern") else s
    if schema.get("maxLength") is not None:
        s = s[: int(schema["maxLength"])]
    return s


def fit_string(value: str, schema: dict) -> str:
    """Trim or pad an extracted string to the schema's length limits."""
    mx = schema.get("maxLength")
    if mx is not None and len(value) > mx:
        value = value[: int(mx)].rstrip()
    mn = int(schema.get("minLength", 0))
    if len(value) < mn:
        value = value + "." * (mn - len(value))
    return value


def sample_regex(pattern: str) -> str:
    """A short string matching ``pattern`` (first branch, fewest repeats), built from the parsed regex."""
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - an unparsable pattern gets an empty string; validation will say so
        return ""
    return _emit(parsed)


def _emit(seq) -> str:
    out = []
    for op, av in seq:
        if op == sre_c.LITERAL:
            out.append(chr(av))
        elif op == sre_c.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op == sre_c.ANY:
            out.append("a")
        elif op == sre_c.IN:
            out.append(_emit_in(av))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            out.append(_emit(sub) * lo)
        elif op == sre_c.SUBPATTERN:
            out.append(_emit(av[-1]))
        elif op == sre_c.BRANCH:
            out.append(_emit(av[1][0]))
        elif op in (getattr(sre_c, "ATOMIC_GROUP", None),):
            out.append(_emit(av))
    return "".join(out)


def _emit_in(items) -> str:
    negate = any(op == sre_c.NEGATE for op, _ in items)
    for op, av in items:
        if negate:
            break
        if op == sre_c.LITERAL:
            return chr(av)
        if op == sre_c.RANGE:
            return chr(av[0])
        if op == sre_c.CATEGORY:
            return {sre_c.CATEGORY_DIGIT: "0", sre_c.CATEGORY_SPACE: " ", sre_c.CATEGORY_WORD: "a"}.get(av, "a")
    if negate:
        banned = {chr(av) for op, av in items if op == sre_c.LITERAL}
        return next(c for c in "a0xZ_-" if c not in banned)
    return "a"


def validator(schema: dict):
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def repair(value: Any, schema: dict, max_rounds: int = 50) -> Any:
    """Make ``value`` valid against ``schema``: fix each failing spot with the schema's minimal value."""
    v = validator(schema)
    value = copy.deepcopy(value)
    for _ in range(max_rounds):
        errors = sorted(v.iter_errors(value), key=lambda e: -len(e.absolute_path))
        if not errors:
            return value
        err = errors[0]
        path = list(err.absolute_path)
        if err.validator == "required" and isinstance(_get(value, path), dict):
            obj = _get(value, path)
            props = resolve(err.schema, schema).get("properties", {})
            for key in resolve(err.schema, schema).get("required", []):
                if key not in obj:
                    obj[key] = minimal(props.get(key, {}), schema)
        elif err.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(_get(value, path), dict):
            obj = _get(value, path)
            allowed = set(resolve(err.schema, schema).get("properties", {}))
            pats = list(resolve(err.schema, schema).get("patternProperties", {}))
            for key in list(obj):
                if key not in allowed and not any(re.search(p, key) for p in pats):
                    del obj[key]
        elif err.validator in ("maxItems",) and isinstance(_get(value, path), list):
            del _get(value, path)[int(err.validator_value):]
        elif err.validator == "uniqueItems" and isinstance(_get(value, path), list):
            arr, seen = _get(value, path), []
            arr[:] = [x for x in arr if not (x in seen or seen.append(x))]
        else:
            fixed = minimal(err.schema, schema)
            if not path:
                value = fixed
            else:
                _get(value, path[:-1])[path[-1]] = fixed
    if list(v.iter_errors(value)):
        value = minimal(schema, schema)
    return value


def _get(value: Any, path: list) -> Any:
    for p in path:
        value = value[p]
    return value


def is_valid(value: Any, schema: dict) -> bool:
    return not any(True for _ in validator(schema).iter_errors(value))


def describe(schema: dict, root: dict) -> str:
    """A short natural-language descriptor of a field from its title/description (for similarity)."""
    s = resolve(schema, root)
    return " ".join(x for x in (s.get("title", ""), s.get("description", "")) if x)


def pattern_search(pattern: str, text: str) -> str | None:
    """The first substring of ``text`` that matches ``pattern`` fully (anchors dropped for the search)."""
    core = pattern
    if core.startswith("^"):
        core = core[1:]
    if core.endswith("$") and not core.endswith("\\$"):
        core = core[:-1]
    try:
        for m in re.finditer(core, text):
            if m.group(0) and re.search(pattern, m.group(0)):
                return m.group(0)
    except re.error:
        return None
    return None
