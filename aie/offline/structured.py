"""Structured output: fill a JSON schema with values extracted from the user's text.

Each field is filled by its JSON type and its name/description: numbers by the words
around them ("3 laptops", "aged 42", "$1,200"), booleans by cue words near the field's
name (and negations), enums by literal mention or embedding similarity, dates as ISO,
names, emails, ids and quoted strings by pattern, and free-text fields by the sentence
most similar to the field. :func:`schemas.repair` then guarantees validity, so the answer
always parses and validates, as strict structured outputs do.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from aie import minilm
from aie.offline import entities as E
from aie.offline import schemas as S
from aie.offline.lexicon import (BOOL_FILLER, BOOL_SYNONYMS, COUNTRIES, LANGUAGES, NEGATIVE, NUMBER_CUES, POSITIVE, field_kind, field_words,
                                 polarity_choice, urgency_choice)
from aie.offline.phrases import arithmetic, gist, noun_after_number, search_phrase
from aie.offline.textutil import STOPWORDS, content_stems, name_words, negated_before, sentences, stem, words

MISSING = object()
_QTY = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"


_UNITS = {"minutes", "mins", "hours", "hrs", "days", "weeks", "months", "years", "nights", "people", "persons", "items", "units",
          "times", "km", "miles", "kg"}


def corrected(text: str) -> str:
    """A correction said in passing, applied: 'three lanterns, actually no, make that four' -> 'four lanterns'.

    A group counted from the writer, "me + my 2 kids", is said as its size: "3 of us (me + my kids)".
    """
    text = re.sub(rf"\b{_QTY}(\s+[^,.;!?\n]{{1,40}}?),?\s+(?:(?:actually|sorry|wait|oops|no)[,\s]+)*make (?:that|it)\s+{_QTY}\b",
                  r"\3\2", text, flags=re.I)
    return re.sub(r"\b(me|myself)\s*(?:\+|and|plus|&)\s*(my|our)?\s*(\d{1,2})\s+(kids|children|friends|colleagues|others|people|guests|sons|daughters)\b",
                  lambda m: f"{int(m.group(3)) + 1} of us ({m.group(1)} + {m.group(2) or ''} {m.group(4)})".replace("  ", " "), text, flags=re.I)


# Labels of form lines ("Organisation: Lakeshore Clinic") that name a field by another word.
LABELS = {"company": {"organisation", "organization", "employer", "firm", "business", "company name", "org"},
          "name": {"full name", "contact name", "your name", "name", "from", "sender"}, "phone": {"telephone", "tel", "mobile", "phone number", "cell"},
          "email": {"e-mail", "email address", "mail"}, "origin": {"from", "departure", "departing from", "origin"},
          "destination": {"to", "arrival", "destination", "arriving at"}, "location": {"venue", "place", "where", "location"}}
_LABEL_LINE = re.compile(r"[ \t]*([A-Za-z][A-Za-z -]{0,30}?)[ \t]*(\([^)\n]*\))?[ \t]*:[ \t]*(\S[^\n]*)$", re.M)
_EMPTY = {"not provided", "n/a", "na", "none", "-", "unknown", "not given", "tbd", "no"}


class Extractor:
    """Fills schema values from one text; remembers which spans are used so no value is used twice."""

    def __init__(self, text: str, root: dict, hints: dict | None = None, args_mode: bool = False, number_floor: float | None = None):
        text = corrected(text)
        self.text, self.root, self.hints, self.args_mode = text, root, hints or {}, args_mode
        self.number_floor = number_floor if number_floor is not None else (0.5 if args_mode else -0.6)
        self.sents = sentences(text) or [text]
        self.used: set[tuple[int, int]] = set()
        self.found: set[str] = set()  # keys of the last object whose values came from the text

    # ---------------------------------------------------------------- entry points

    def fill(self, schema: dict, name: str = "", required: bool = True) -> Any:
        """The value for ``schema``; MISSING when nothing was found (the caller decides what to do)."""
        schema = S.resolve(schema, self.root)
        if "const" in schema:
            return schema["const"]
        options = S.branches(schema, self.root)
        if len(options) > 1:
            for opt in options:
                if "null" in S.types(opt):
                    continue
                v = self.fill(opt, name, required)
                if v is not MISSING:
                    return v
            return MISSING
        if "enum" in schema:
            return self.enum(schema, name)
        ts = [t for t in S.types(schema) if t != "null"] or (["string"] if not S.types(schema) else S.types(schema))
        t = ts[0]
        if t == "object":
            return self.obj(schema, name)
        if t == "array":
            return self.array(schema, name)
        if t in ("integer", "number"):
            return self.number(schema, name, t == "integer")
        if t == "boolean":
            return self.boolean(schema, name)
        if t == "string":
            return self.string(schema, name)
        return MISSING

    def obj(self, schema: dict, name: str = "") -> Any:
        props: dict = schema.get("properties") or {}
        req = set(schema.get("required", []))
        out: dict[str, Any] = {}
        numeric = [k for k, s in props.items() if self._is_numeric(s)]
        assigned = self.assign_numbers({k: props[k] for k in numeric}) if numeric else {}
        found = set()
        for key, sub in props.items():
            v = assigned.get(key, MISSING) if key in numeric else self.fill(sub, key, key in req)
            if v is not MISSING:
                found.add(key)
            if v is MISSING and self.args_mode and key in req and _is_free_text(S.resolve(sub, self.root), key):
                v = gist(self.text) or MISSING
            if v is MISSING:
                if self.args_mode and key not in req:
                    continue
                v = None if S.nullable(S.resolve(sub, self.root), self.root) else S.minimal(sub, self.root)
            out[key] = v
        self.found = found
        return out

    # ---------------------------------------------------------------- scalars

    def _is_numeric(self, schema: dict) -> bool:
        s = S.resolve(schema, self.root)
        if "enum" in s or "const" in s:
            return False
        return any(t in ("integer", "number") for opt in S.branches(s, self.root) for t in S.types(opt))

    def _number_score(self, span: E.Span, name: str, schema: dict) -> float:
        fw = {stem(w) for w in field_words(name, schema)}
        left, right = E.context_words(self.text, span)
        ctx = {stem(w) for w in left + right} | {stem(w) for w in right[:1]}
        score = 0.0
        if fw & ctx:
            score += 2.0
        for kind, cues in NUMBER_CUES.items():
            cs = {stem(c) for c in cues}
            if fw & cs:
                if ctx & cs:
                    score += 1.0
                if kind == "money":  # "five days a week" is no salary
                    score += 1.5 if span.kind.startswith("money") else (-2.0 if set(right[:1]) & _UNITS else -0.5)
                if kind == "percent" and span.kind == "percent":
                    score += 1.5
                if kind == "age" and ({"year", "old", "aged", "age"} & set(left + right)):
                    score += 1.5
                if kind == "year" and 1900 <= span.value <= 2100 and span.value == int(span.value):
                    score += 1.0
                if kind == "rating" and ({"star", "stars", "out", "/5", "/10"} & set(right) or "/" in self.text[span.end:span.end + 1]):
                    score += 1.5
                if kind == "duration" and ({"minutes", "mins", "hours", "hrs", "days", "weeks", "nights", "months"} & set(right[:1])):
                    score += 1.5
        if span.kind.startswith("money") and not fw & {stem(c) for c in NUMBER_CUES["money"]}:
            score -= 1.0
        if span.kind == "percent" and not fw & {stem(c) for c in NUMBER_CUES["percent"]}:
            score -= 1.0
        return score

    def assign_numbers(self, fields: dict[str, dict]) -> dict[str, Any]:
        """Give each numeric field its best-scoring number, best pairs first, no number used twice."""
        spans = [s for s in E.numbers(self.text) if self.free(s)]
        scored = []
        for key, sub in fields.items():
            s = S.resolve(sub, self.root)
            opts = [o for o in S.branches(s, self.root) if set(S.types(o)) & {"integer", "number"}]
            o = opts[0] if opts else s
            integer = "integer" in S.types(o)
            for i, sp in enumerate(spans):
                if integer and sp.value != int(sp.value) and not sp.kind.startswith("money"):
                    continue
                if not _in_range(sp.value, o):
                    continue
                scored.append((self._number_score(sp, key, o) - 0.01 * i, key, sp, o, integer))
        out: dict[str, Any] = {}
        taken: set[int] = set()
        for score, key, sp, o, integer in sorted(scored, key=lambda x: -x[0]):
            if key in out or sp.start in taken or score < self.number_floor:
                continue
            if score < 0.5 and sum(1 for x in scored if x[1] == key and x[0] >= 0.5):
                continue
            out[key] = S.clamp_number(sp.value, o, integer)
            taken.add(sp.start)
            self.used.add((sp.start, sp.end))
        return out

    def number(self, schema: dict, name: str, integer: bool) -> Any:
        return self.assign_numbers({name: schema}).get(name, MISSING)

    def boolean(self, schema: dict, name: str) -> Any:
        """True when the field's cue word (or a synonym) occurs un-negated: 'is_urgent' <- 'urgent', 'asap'."""
        terms = [w for w in name_words(name) if w not in BOOL_FILLER] or name_words(name)
        for m in re.finditer(r"^[ \t]*([A-Za-z][A-Za-z -]{0,30}?)[ \t]*[:?][ \t]*(yes|no|y|n|true|false|none)\b", self.text, re.I | re.M):
            if {stem(w) for w in words(m.group(1))} & {stem(t) for t in terms}:  # "Express shipping: no"
                return m.group(2).lower() in ("yes", "y", "true")
        cues: set[str] = set()
        for t in terms:
            cues.add(t)
            for key, syn in BOOL_SYNONYMS.items():
                if stem(t) == stem(key):
                    cues |= syn
        low = self.text.lower()
        hits = []
        for cue in sorted(cues, key=len, reverse=True):
            pat = rf"\b{re.escape(cue)}" if " " in cue or "-" in cue else rf"\b{re.escape(stem(cue))}\w*"
            for m in re.finditer(pat, low):
                hits.append(m.start())
        for t in terms:  # "this role is fully on-site" answers "remote?" with no
            for cue in BOOL_OPPOSITES.get(stem(t), ()):
                m = re.search(rf"\b{re.escape(cue)}\b", low)
                if m and not negated_before(self.text, m.start(), 3):
                    return False
        if not hits:
            return MISSING if self.args_mode else False
        first = min(hits)
        if re.match(r"[^.;:!?]{0,25}?\b(?:isn't|is not|are not|aren't|not)\s+(?:an? )?(?:option|possible|available|offered|allowed)", low[first:]):
            return False  # "remote isn't an option"
        return not negated_before(self.text, first, 5)

    def enum(self, schema: dict, name: str) -> Any:
        """A value named in the text, or by polarity/urgency cues, or the value most similar to a sentence."""
        values = [v for v in schema["enum"] if v is not None]
        if not values:
            return None
        hint = self.hints.get("label")
        if hint is not None and hint in values:
            return hint
        strs = [v for v in values if isinstance(v, str)]
        if len(strs) != len(values):
            num = self.assign_numbers({name: {"type": "number"}}).get(name)
            return num if num in values else MISSING
        low = self.text.lower()
        lit = []
        for v in strs:
            for m in re.finditer(rf"\b{re.escape(v.lower().replace('_', ' '))}\b", low.replace("_", " ")):
                if not negated_before(self.text, m.start(), 3):
                    lit.append((m.start(), v))
        for v in strs:  # "degrees C" is celsius
            for pat in ENUM_ALIASES.get(v.lower(), ()):
                lit += [(m.start(), v) for m in re.finditer(pat, self.text)]
        fw = set(name_words(name)) | set(words(schema.get("description", "")))
        mixed = next((v for v in strs if v.lower() == "mixed"), None)
        if mixed and re.search(r"\bmixed (?:feelings|bag|reviews?|experience)\b|\bmixed\b\W*$", low):
            return mixed
        polar = polarity_choice(strs, self.text) if fw & {"sentiment", "tone", "mood", "polarity", "feeling", "satisfaction", "emotion"} else None
        if polar:
            return polar
        urgency = urgency_choice(strs, self.text) if fw & {"priority", "urgency", "severity", "importance", "level"} else None
        if urgency:
            return urgency
        if lit:
            return sorted(lit)[0][1]
        cued = [(sum(len(re.findall(c, low)) for c in ENUM_CUES.get(v.lower(), ())), v) for v in strs]
        if max(cued)[0] > 0:  # "the spinner goes forever" is a technical ticket
            return max(cued)[1]
        if self.args_mode:
            return MISSING
        cands = [f"{v.replace('_', ' ')}" for v in strs]
        vecs = minilm.embed(self.sents + cands)
        sv, cv = vecs[: len(self.sents)], vecs[len(self.sents):]
        scores = (cv @ sv.T).max(axis=1)
        return strs[int(np.argmax(scores))]

    def string(self, schema: dict, name: str) -> Any:
        hint = self._string_hint(name)
        if hint is not None:
            return S.fit_string(hint, schema)
        kind = field_kind(name, schema)
        labelled = self._labelled(name, kind)
        if labelled is not None:
            return S.fit_string(labelled, schema) if labelled else MISSING
        v = self._string_by_kind(kind, name, schema) if kind else MISSING
        if schema.get("pattern"):
            if isinstance(v, str) and re.search(schema["pattern"], v):
                return v
            m = S.pattern_search(schema["pattern"], self.text)
            return m if m is not None else MISSING
        if v is MISSING and not self.args_mode and kind in (None, "text", "query"):
            v = self._best_sentence(name, schema)
        if isinstance(v, str):
            return S.fit_string(v, schema)
        return v

    # ---------------------------------------------------------------- strings by kind

    def _labelled(self, name: str, kind: str | None) -> str | None:
        """The value of a form line whose label names the field ('Organisation: X' for company); '' when it says none."""
        nw = name_words(name)
        wanted = {" ".join(nw)} | {w for w in nw if len(w) > 2} | set().union(*(LABELS.get(w, set()) for w in nw))
        # "Venue: X" on a line of its own, or after a sentence on the same line ("City: Bergen. Country: Norway.")
        starts = [x.start() for x in re.finditer(r"^|(?<=[.;]\s)", self.text, re.M)]
        for m in (_LABEL_LINE.match(self.text, i) for i in starts):
            if not m or m.group(1).lower().strip() not in wanted:
                continue
            value = re.split(r"[.;]\s+(?=[A-Z][A-Za-z -]{0,30}:)", m.group(3))[0]  # up to the next label
            value = value.strip().rstrip(".")
            if kind in ("person", "org", "location"):
                value = re.split(r"[.;](?:\s|$)", value)[0].strip()  # "Name: Amara Nwosu. Age: 29."
                place = re.match(r"(.+?),\s*(.+)$", value)
                if kind == "location" and place and place.group(2).strip() in COUNTRIES and "country" not in nw:
                    value = place.group(1).strip()  # "City: Osaka, Japan" -> "Osaka" (and Japan stays free for the country)
                if kind == "person":  # "From: Tom\u00e1s Herrera <therrera@verdemar.es>"
                    value = re.sub(r"\s*<[^>]*>|\s*\([^)]*@[^)]*\)", "", value).strip()
                if E.dates(value) or E.emails(value):
                    continue  # "Departure: Friday 15 May" is a date, not a place
            if value.lower() in _EMPTY:
                return ""
            if kind in ("date", "time"):  # "Date: 12 February 2026, doors at 18:30"
                found = (E.dates if kind == "date" else E.times)(value)
                if not found:
                    continue
                value = found[0].value
            if kind == "email" and not E.emails(value) or kind == "phone" and not E.phones(value):
                continue
            if kind == "person" and m.group(2) and re.search(r"last\W+first", m.group(2), re.I) and "," in value:
                last, first = value.split(",", 1)  # "Name (last, first): Hallberg, Viktor"
                value = f"{first.strip()} {last.strip()}"
            self.used.add((m.start(3), m.start(3) + len(value)))
            return value
        return None

    def _string_hint(self, name: str) -> str | None:
        nw = set(name_words(name))
        if "answer" in self.hints and nw & {"answer", "response", "reply", "result", "text"}:
            return self.hints["answer"]
        if "summary" in self.hints and nw & {"summary", "tldr", "abstract", "gist"}:
            return self.hints["summary"]
        if "label" in self.hints and nw & {"label", "category", "class", "classification", "priority", "team", "intent", "topic"}:
            return self.hints["label"]
        return None

    def free(self, span: E.Span) -> bool:
        """Whether a span overlaps no span already used for another field."""
        return all(span.end <= a or span.start >= b for a, b in self.used)

    def _take(self, spans, pick=0) -> Any:
        free = [s for s in spans if self.free(s)]
        if not free:
            return MISSING
        s = free[min(pick, len(free) - 1)]
        self.used.add((s.start, s.end))
        return s.value

    def _string_by_kind(self, kind: str, name: str, schema: dict) -> Any:
        nw = set(name_words(name))
        t = self.text
        if kind == "email":
            return self._take(E.emails(t))
        if kind == "url":
            return self._take(E.urls(t))
        if kind == "phone":
            return self._take(E.phones(t))
        if kind == "date":
            d = self._take(E.dates(t))
            if d is not MISSING and schema.get("format") == "date-time":
                tm = E.times(t)
                return f"{d}T{tm[0].value if tm else '00:00'}:00Z"
            return d
        if kind == "time":
            return self._take(E.times(t))
        if kind == "id":
            v = self._take(E.ids(t))
            if v is MISSING:
                long_nums = [s for s in E.numbers(t) if s.kind == "number" and re.fullmatch(r"\d{4,}", s.text.strip(" ,.;:"))]  # not "1,500"
                v = self._take(long_nums)
                if isinstance(v, float):
                    v = str(int(v))
            return v
        if kind == "currency":
            return self._currency(nw)
        if kind == "language":
            for lang in LANGUAGES:
                m = re.search(rf"\b(?:to|into|in)\s+{lang}\b", t) if nw & {"target", "to"} else re.search(rf"\b{lang}\b", t)
                if m:
                    return lang
            return MISSING
        if kind in ("person", "org", "location"):
            return self._proper(kind, nw)
        if kind == "quote":
            return self._take(E.quoted(t))
        if kind == "title":
            return self._title(nw)
        if kind == "expression":
            return arithmetic(t) or MISSING
        if kind == "query":
            return search_phrase(t) or MISSING
        if kind == "text":
            return self._text_field(name, schema, nw)
        return MISSING

    def _currency(self, nw: set[str]) -> Any:
        """ISO code for a from/to currency field: 'convert 80 pounds to dollars', 'how many dollars is 80 pounds'."""
        t = self.text
        cur = E.currency_mentions(t)
        if not cur:
            return MISSING
        wants_to = bool(nw & {"to", "target", "dest", "destination", "into"})
        wants_from = bool(nw & {"from", "source", "base"})
        amount = next((s for s in E.numbers(t) if s.kind.startswith("money:") and len(s.kind) > 6), None)
        if amount is not None:  # the currency written with the amount is the one converted from
            src = amount.kind.split(":")[1]
            others = [c.value for c in cur if c.value != src]
            if wants_from:
                return src
            if wants_to:  # converting to the currency it is already in is no conversion
                return others[-1] if others else MISSING
        after_to = [c for c in cur if re.search(r"\b(to|into|in)\s*$", t[: c.start].lower()[-6:])]
        if wants_to:
            return (after_to or cur[-1:])[0].value
        if wants_from:
            rest = [c for c in cur if c not in after_to]
            return (rest or cur)[0].value
        return cur[0].value

    def _proper(self, kind: str, nw: set[str]) -> Any:
        """A capitalised name for a person, organisation or place field, chosen by the words before it."""
        t = self.text
        spans = [s for s in E.proper_names(t) if self.free(s)]
        if kind == "person":  # "hey! it's maria gonzalez, I do marketing at ...": a name typed in lower case
            for m in re.finditer(r"\b(?:it's|it is|this is|my name is|name is|name:|call me)\s+([a-z]{2,}(?:\s+[a-z]{2,})?)(?=\s*(?:[,.!;\n]|$|\s+(?:from|here|at)\b))", t, re.I):
                ws = m.group(1).split()
                if not any(w.lower() in STOPWORDS or w.lower() in POSITIVE or w.lower() in NEGATIVE for w in ws) \
                        and not any(x.start < m.end(1) and m.start(1) < x.end for x in spans) and m.group(1).islower():
                    name = " ".join(w.capitalize() for w in ws)
                    spans.append(E.Span(m.start(1), m.end(1), name, name, "name"))
        emails = E.emails(t)
        spans = [s for s in spans if not any(e.start <= s.start < e.end for e in emails)]
        if not spans:
            return MISSING

        def before(s: E.Span, n: int = 4) -> list[str]:
            b = words(t[max(0, s.start - 40): s.start])
            while kind == "location" and len(b) > 1 and b[-1] in ("the", "a", "an", "both", "either"):  # "at the Rooftop Bar": "at"
                b = b[:-1]
            return b[-n:]

        def score(s: E.Span) -> float:
            b = before(s)
            last = b[-1] if b else ""
            sc = 0.0
            if kind == "person":
                if s.kind == "org":
                    sc -= 3
                if re.search(r"(my name is|i am|i'm|this is|name:|name is|dear|hi|hello|regards,?|thanks,?|from|signed|cheers,?|contact|with|for|by|call|ask|to)\s*$",
                             t[max(0, s.start - 20): s.start].lower()):
                    sc += 2
                if last in {"in", "at", "to", "near"} and not nw & {"recipient", "to", "contact"}:
                    sc -= 1.5
                if re.match(r"\s*,\s*[A-Z][a-z]+\b(?!\s+[A-Z])", t[s.end:]) and len(s.text.split()) == 1:
                    sc -= 1.5  # "Osaka, Japan" reads as a place
                sc += 0.5 * (len(s.text.split()) >= 2)
                if re.search(r"[-\u2013\u2014~]\s*$", t[max(0, s.start - 3): s.start]) and s.end >= len(t.rstrip(" .!")) - 1:
                    sc += 2  # a signature: "... Standard shipping is fine. \u2014 Lena Fischer"
                if re.match(r"\s*[(<][^)>\s]*@", t[s.end:]):
                    sc += 2.5  # "Chiara Russo (chiara.russo@fincantieri.it)": a person with her address
            elif kind == "org":
                if re.match(r"\s*[(<][^)>\s]*@", t[s.end:]):
                    sc -= 2  # a name with an address in brackets is a person
                sc += 3 if s.kind == "org" else 0
                if re.match(r"(Head|Director|Manager|VP|Vice|Chief|Senior|Lead|Principal|Engineer|Officer)\b", s.text) or re.search(
                        r"\b(?:Lead|Manager|Director|Officer|Engineer|Specialist|Coordinator|Analyst|Consultant|Designer|Developer|"
                        r"Executive|Assistant|President|Buyer|Recruiter)$", s.text):
                    sc -= 2  # "Head of Partnerships", "Procurement Lead": job titles
                if last in {"at", "for", "from", "with", "join", "joining", "by"}:
                    sc += 1.5
                if re.search(r"(company|employer|bank|store|shop|firm|vendor)\s*$", " ".join(b)):
                    sc += 1
                if re.match(r"\s+(?:is|are)\s+(?:looking|hiring|seeking|recruiting)\b|\s+(?:seeks|wants|hires)\b", t[s.end:]):
                    sc += 2  # "Lumen Analytics is looking for a data engineer"
                if last in {"hi", "hello", "dear", "hey", "thanks", "morning"} and s.kind != "org":
                    sc -= 3  # "Hi Joanna," greets a person
            else:  # location
                if s.kind == "org":
                    sc -= 2
                if s.text.lower() in ("fahrenheit", "celsius", "kelvin"):
                    sc -= 5  # "In Fahrenheit please" names a unit
                want = "from" if nw & {"origin", "from", "departure", "source"} else ("to" if nw & {"destination", "to", "arrival", "dest"} else None)
                if want and (last == want or want == "from" and (last in {"leaving", "departing", "leave", "depart"}
                                                                 or " ".join(b[-2:]) == "out of")):
                    sc += 3
                elif want == "from" and re.match(r"\s+to\s+[A-Z]|\s*(?:\u2192|->|=>)\s*\w", t[s.end:]):
                    sc += 3  # "Singapore to Sydney", "lisbon \u2192 new york"
                elif want == "to" and re.search(r"(?:\u2192|->|=>)\s*$", t[:s.start]):
                    sc += 3
                elif last in {"in", "at", "to", "from", "near", "visit", "visiting", "of", "around", "into", "sa", "en", "em", "nach", "\u00e0"}:
                    sc += 2 if want is None else 0.5
                elif last == "for":  # "a lunch for Grace at Nando's": more often a person than a place
                    sc += 1 if want is None else 0.5
                if re.search(r"^\s*,\s*[A-Z]", t[s.end: s.end + 4]):
                    sc += 0.3
                if re.search(r"\b(Centre|Center|Office|Hall|Library|Park|Street|St|Road|Avenue|Hotel|Airport|Station|Room|Building|Campus|Cafe|Café|Restaurant|Square|Arena|Stadium|Museum|Auditorium|Lobby|Theatre|Theater|Lounge|Canteen|Cafeteria|Terrace|Gallery|Pavilion)(?:\s+[A-Z]?\d{0,4}[A-Z]?)?$", s.text):  # "Conference Room B"
                    sc += 1.5
                if re.match(r"\s+(office|branch|area|region|headquarters|hq|campus|site|store|airport|station)\b", t[s.end:], re.I):
                    sc += 1.5  # "in the Lisbon office"
                if nw & {"country", "state", "region"} and re.search(r"[A-Z][\w-]+,\s*$", t[max(0, s.start - 30): s.start]):
                    sc += 2
                if "country" in nw:
                    sc += 3 if s.text in COUNTRIES else (-3 if s.text.lower() in E.CITIES else -2)
                elif nw & {"city", "town"}:
                    if s.text.lower() in E.CITIES and not self.args_mode:  # ("Tell me about Rome" asks no weather)
                        sc += 1
                    if re.match(r"\.?\s+\w*\s*\d", t[s.end:]):
                        sc -= 1.5  # "Ul. D\u0142uga 5": a street with its number, not the city
                    if s.text in COUNTRIES:
                        sc -= 3  # "the capital of Australia" names no city
                    if re.search(r"\d\w*,\s*$", t[max(0, s.start - 12): s.start]):
                        sc += 1.5  # "..., D\u0142uga 5, Gda\u0144sk": the place after the street
                if re.search(r"(my name is|i am|i'm|dear|regards)\s*$", t[max(0, s.start - 20): s.start].lower()):
                    sc -= 3
                if last in {"weather", "forecast", "temperature", "rain", "snow", "wx"} or re.match(r"\s+(?:weather|forecast|wx)\b", t[s.end:], re.I):
                    sc += 2  # "weather Boston", "forecast Paris tomorrow": a terse request
            return sc

        best = max(spans, key=lambda s: (score(s), -s.start))
        if score(best) < (0.5 if self.args_mode or kind == "location" else -1):
            return MISSING
        self.used.add((best.start, best.end))
        value = best.value
        if kind == "location" and re.search(r"\b(?:at|in|to|from|near)\s+The\s$", t[max(0, best.start - 12): best.start]):
            value = "The " + value  # "at The Crooked Fox": the article is part of the name
        number = re.search(r"\b\d{1,5}[A-Za-z]?\s$", t[max(0, best.start - 7): best.start])
        if kind == "location" and number and re.search(r"\b(?:Street|St|Road|Rd|Avenue|Ave|Lane|Way|Drive|Boulevard|Square|Place|Gasse|Stra\u00dfe|Strasse)$", value):
            value = number.group(0) + value  # "address is 14 Elm Street"
        if kind == "person" and "first" in nw and len(value.split()) > 1:
            return value.split()[0]
        if kind == "person" and "last" in nw and len(value.split()) > 1:
            return value.split()[-1]
        return value

    def _title(self, nw: set[str]) -> Any:
        t = self.text
        q = self._take(E.quoted(t))
        if q is not MISSING:
            return q
        m = re.search(r"\b(?:called|titled|named|entitled|subject(?: line)?:?|re:|regarding|about(?!\s+\d))\s+(?:the\s+)?([^.,;!?\n]{3,60}?)(?=\s+(?:on|at|for|with|to|from|next|this|tomorrow|today|by|is|was|will|starts|begins|and|which|that|in)\b|[.,;!?\n]|$)", t, re.I)
        if m:
            return m.group(1).strip()
        stop = r"(?!(?:on|at|in|for|from|next|this|tomorrow|today|tonight)\b)"  # "Reminder: quarterly all-hands on Tuesday ..."
        m = re.search(rf"\b(?:note|event|meeting|reminder|title)\s*:\s*({stop}[A-Z][\w'&-]*(?:\s+{stop}[A-Z][\w'&-]*){{0,5}})", t, re.I)
        if m:
            return m.group(1).strip()
        m = re.match(r"\s*([A-Z][\w'&-]*(?:\s+[\w'&-]+){0,4}):\s", t)  # "Team offsite: Thursday 12 March, ..."
        if m and "title" in nw and not E.dates(m.group(1)) and not re.fullmatch(
                r"(?:calendar |quick |meeting )?(?:note|notes|reminder|fyi|update|heads up|subject|re|name|date|time|location|from|to|"
                r"booking request|request|order|ticket|message|email|hi|hello|dear|(?:please )?note(?: down| this)?|please (?:add|put|schedule|book))", m.group(1), re.I):
            return m.group(1).strip()
        m = re.search(r"(?:^|[.!?]\s+)((?:[A-Z][\w'&-]*\s+){1,5}[A-Z][\w'&-]*):\s", t)
        if m and not E.dates(m.group(1)) and m.group(1).split()[0].lower() not in {"subject", "re", "name", "date", "time", "location", "note", "from", "to"}:
            return m.group(1).strip()
        m = re.search(r"^(?:please\s+)?(?:put|add|schedule|create|book|set up|pencil in|block out|make)\s+(?:an?\s+|the\s+)?(.{3,60}?)\s+(?:in|on|to|into)\s+(?:my|the|our)\s+(?:calendar|diary|agenda|schedule)\b", t.strip(), re.I)
        if m and not E.dates(m.group(1)):
            return m.group(1).strip()
        m = re.search(r"^(?:please\s+|can you\s+|could you\s+)*(?:remind me (?:to|about)|i need to remember(?: to)?|don't let me forget(?: to)?)\s+(?:my\s+)?(.{3,60}?)(?=\s+(?:on|at|for|next|this|tomorrow|today|tonight|in|every)\b|[.,;!?]|$)", t.strip(), re.I)
        if m and "title" in nw:
            return m.group(1).strip()  # "remind me to call mom on Sunday" -> "call mom"
        m = re.search(r"^(?:(?:hey|hi)\s+\w+,?\s+)?(?:please\s+|can you\s+|could you\s+|let's\s+|let us\s+|we should\s+)*(?:put|add|schedule|create|book|set up|set|arrange|plan|organi[sz]e|pencil in|block out|do|have|hold|grab|throw)(?!\s+[\w'-]+\s+(?:is|are|was|were|will)\b)\s+"
                      r"(?:an?\s+|the\s+|my\s+)?(?:(?:event|entry|appointment)\s+(?:for\s+|called\s+)?)?"
                      r"(.{3,60}?)(?=\s+(?:on|at|for|next|this|tomorrow|today|tonight|from|between|every|in)\b|[.,;!?]|$)", t.strip(), re.I)
        if m and "title" in nw and not E.dates(m.group(1)) and not E.times(m.group(1)):
            return m.group(1).strip()  # "Schedule lunch with Priya on March 3rd" -> "lunch with Priya"
        m = re.search(r"^(?:please\s+)?(?:block(?: out| off)?|book|reserve|keep|hold|save)\b.*?\bfor (?:an?|the|my|our)\s+([^.,;!?]{3,40}?)\s*[.!?]?$", t.strip(), re.I)
        if m and "title" in nw:
            return m.group(1).strip()  # "Block out Friday 3pm for a dentist visit" -> "dentist visit"
        m = re.search(r"(?:\b(?:[Mm]y|[Oo]ur|[Tt]he|[Aa]n?)\s+|^\s*|:\s+)((?:[\w'-]+\s+){0,2}?(?i:" + _EVENT_NOUNS + r")"
                      r"(?:\s+with\s+(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?(?:\s+team)?"
                      r"|(?:(?<=appointment)|(?<=check-up)|(?<=checkup))\s+(?:at|with)\s+(?:the\s+)?(?:vet|dentist|doctor|gp|clinic|hospital|garage|bank|salon|barber|optician|hairdresser|physio))?)\b", t)
        if m and "title" in nw and not E.dates(m.group(1)) and not E.times(m.group(1)):
            return m.group(1).strip()  # "My meeting with Carla got moved" -> "meeting with Carla"; "Board meeting, 9:00, ..."
        m = re.search(r"^\s*([A-Z][\w'&-]*(?:\s+[\w'&-]+){0,3}?)\s+(?:is|are|will be)\s+(?:meeting|happening|on|taking place|scheduled)\b", t)
        if m and "title" in nw and not E.dates(m.group(1)):
            return m.group(1).strip()  # "Book club is meeting on January 22"
        if nw & {"product", "item", "model", "dish", "book", "movie", "plan", "service", "course"}:
            m = re.search(r"\b(?:bought|ordered|purchased|got|received|booked|reviewing|subscribed to|using|my|the|new)\s+(?:an?\s+|the\s+|my\s+|\d+\s+)?([A-Z0-9][\w-]*(?:\s+[A-Z0-9][\w-]*){0,3}|[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})", t)
            if m:
                return m.group(1).strip()
        if nw & {"job", "role", "position"}:
            m = re.search(r"\b(?:as an?|as the|for an?|for the|hiring an?|hiring|role:?|position:?)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,4})", t)
            if m:
                return m.group(1).strip()
        props = [s for s in E.proper_names(t) if self.free(s)]
        if props and nw & {"product", "model", "book", "movie", "event", "project"}:
            self.used.add((props[0].start, props[0].end))
            return props[0].text
        return MISSING

    def _text_field(self, name: str, schema: dict, nw: set[str]) -> Any:
        t = self.text
        if nw & {"message", "body", "content", "text"}:
            m = re.search(r"\b(?:saying|says|say|that says|telling (?:him|her|them)|tell (?:him|her|them)|let (?:him|her|them|(?:my|our|the)\s+\w+|[A-Z]\w+) know(?:\s*\([^)]*\))?(?: that)?|know(?: by (?:e-?mail|message))? that|with the message|message:|body:|text:)\s+:?\s*[\"\u201c]?([^\"\u201d\n]{3,300})", t, re.I)
            m = m or re.search(r"\b(?:letting|to let) (?:him|her|them|everyone|the team) know(?: that)?\s+(.{3,300})"
                               r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*:\s*(.{3,300})|\b(?:ask|asking) (?:him|her|them)\s+(.{3,300})"
                               r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s+(?:that|to say|asking|to ask)\s+(.{3,300})"
                               r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s+((?:wishing|congratulating|thanking|reminding)\s+.{3,300})", t, re.I)
            if m:
                said = next(g for g in m.groups() if g).strip()
                if said.endswith("?") and re.match(r"\s*(?:please\s+)?(?:can|could|would|will)\s+you\b", t, re.I) \
                        and not re.search(r"\bask(?:ing)?\b", m.group(0), re.I):
                    said = said[:-1]  # "Could you let X know that the boiler is broken?": the '?' is the request's
                return said.rstrip(".") if not said.endswith("?") else said
            q = [x for x in E.quoted(t) if self.free(x)]  # a quote already taken as the subject is not the body too
            if q:
                return q[0].value
        if self.args_mode:
            return MISSING
        return self._best_sentence(name, schema)

    def _best_sentence(self, name: str, schema: dict) -> Any:
        desc = " ".join(name_words(name)) + (": " + S.describe(schema, self.root) if S.describe(schema, self.root) else "")
        if len(self.sents) == 1:
            return self.sents[0]
        vecs = minilm.embed([desc] + self.sents)
        sims = vecs[1:] @ vecs[0]
        return self.sents[int(np.argmax(sims))]

    # ---------------------------------------------------------------- arrays

    def array(self, schema: dict, name: str) -> Any:
        items = S.resolve(schema.get("items") or {}, self.root)
        lo, hi = int(schema.get("minItems", 0)), schema.get("maxItems")
        it = [t for t in S.types(items) if t != "null"]
        out: list[Any]
        if name and set(name_words(name)) & {"sources", "citations", "ids", "references", "documents", "docs"} and "sources" in self.hints:
            out = list(self.hints["sources"])
        elif "enum" in items:
            low = self.text.lower()
            out = [v for v in items["enum"] if isinstance(v, str) and re.search(rf"\b{re.escape(v.lower())}\b", low)]
        elif it and it[0] == "object":
            out = self._object_items(items, name)
        elif it and it[0] in ("integer", "number"):
            out = [S.clamp_number(s.value, items, it[0] == "integer") for s in E.numbers(self.text) if _in_range(s.value, items)]
        else:
            kind = field_kind(name, items) or field_kind(name.rstrip("s"), items)
            nw = set(name_words(name))
            if kind == "email" or nw & {"emails"}:
                out = [s.value for s in E.emails(self.text)]
            elif kind == "date" or nw & {"dates"}:
                out = [s.value for s in E.dates(self.text)]
            elif kind == "url" or nw & {"urls", "links"}:
                out = [s.value for s in E.urls(self.text)]
            elif nw & {"attendees", "participants", "people", "names", "authors", "guests", "members", "speakers", "recipients", "invitees", "passengers"}:
                out = [s.value for s in E.proper_names(self.text) if s.kind == "name"]
            else:
                out = self._list_items(name, schema)
        out = [v for v in out if v is not MISSING]
        out = [v for v in out if _item_ok(v, items)]
        seen: list = []  # the same value twice is never what the text meant
        out = [v for v in out if not (v in seen or seen.append(v))]
        if hi is not None:
            out = out[: int(hi)]
        while len(out) < lo:
            out.append(S.minimal(items, self.root))
        if not out and self.args_mode:
            return MISSING
        return out

    def _list_items(self, name: str, schema: dict) -> list[str]:
        """Items of an enumeration ('Python, SQL and Docker') in the sentence most related to the field."""
        lists = []
        segs = []
        for si, s in enumerate(self.sents):
            segs.append((si, s))
            if ";" in s:  # "..., NOK 520000 a year; SQL and Excel needed."
                segs += [(si, x) for x in s.split(";") if x.strip()]
        for si, s in segs:
            s = re.sub(r"(?<=\d),(?=\d)", "", s)
            paren = re.search(r"\(([^()]*,[^()]*)\)", s)  # "a Unity developer (C#, shaders, networking)"
            s = paren.group(1) if paren else s
            body = re.sub(r"^.*?\b(?:including|include|includes|like|such as|are|is|were|was|:|with|need|needs|requires|require|using|knows?|of"
                          r"|looking for|experience (?:in|with)|skilled in|proficient in|fluent in|familiar with)\s+", "", s, count=1)
            body = re.split(r"[.!?]\s*$", body)[0]
            parts = [p.strip(" .;:") for p in re.split(r",\s*(?:and|or)\s+|,|\s+and\s+|\s+or\s+|;|\s+&\s+", body)]
            parts = [re.sub(r"^(?:an?|the|some|also|strong|solid|good|excellent|deep|proven|advanced|basic)\s+", "", p, flags=re.I)
                     for p in parts if p]
            parts = [re.sub(r"\s+(?:(?:is|are)\s+)?(?:required|needed|preferred|essential|a must|a plus|mandatory)$", "", p, flags=re.I) for p in parts]
            if len(parts) >= 2:  # "... a data engineer with Python, SQL and Airflow experience"
                parts[0] = re.sub(r"^.*\b(?:with|in|including|like|such as|using)\s+", "", parts[0], flags=re.I)
                parts[-1] = re.sub(r"\s+(?:experience|skills|knowledge|background|expertise)$", "", parts[-1], flags=re.I)
                tail = re.match(r"^([A-Z][\w+#.-]*)\s+([a-z][a-z ]*)$", parts[-1])
                if tail and all(len(p.split()) == 1 for p in parts[:-1]) and (set(tail.group(2).split()) & (STOPWORDS | {"day", "daily", "week"})):
                    parts[-1] = tail.group(1)  # "C++, ROS and Python every day"
            if len(parts) >= 2 and all(0 < len(p.split()) <= 4 for p in parts):
                lists.append((si, parts))
            bullets = re.match(r"^[-*\u2022]\s+(.*)$", s)
            if bullets:
                lists.append((si, [bullets.group(1).strip()]))
        if not lists:
            return []
        fw = content_stems(" ".join(name_words(name)) + " " + schema.get("description", ""))
        bullet_items = [p[0] for _, p in lists if len(p) == 1]
        if len(bullet_items) >= 2:
            return bullet_items
        lists = [x for x in lists if len(x[1]) >= 2]
        if not lists:
            return []
        scored = [(len(fw & content_stems(self.sents[si])), -sum(bool(re.search(r"\d", p)) for p in parts), len(parts), -si, parts)
                  for si, parts in lists]
        return max(scored, key=lambda x: x[:4])[4]

    def _object_items(self, items: dict, name: str) -> list[Any]:
        """One object per list segment ('2 laptops, 1 monitor and 3 cables'), filled from that segment."""
        segs: list[str] = []
        protected = [(x.start, x.end) for x in (*E.dates(self.text), *E.numbers(self.text), *E.times(self.text))]
        masked = "".join("\x00" if c == "," and any(a <= i < b for a, b in protected) else c for i, c in enumerate(self.text))
        for s in sentences(masked):
            b = re.match(r"^[-*\u2022]\s+(.*)$", s)
            if b:
                segs.append(b.group(1))
                continue
            parts = re.split(r",\s*(?:and|plus)\s+|,|;|\s+and\s+|\s+plus\s+", s)
            segs.extend(p.strip() for p in parts if p.strip())
        segs = [x.replace("\x00", ",") for x in segs]
        segs = [re.sub(r"^(?:items?|products?|articles?|order)\s*:\s*", "", x.strip(), flags=re.I) for x in segs]
        segs = [re.sub(r"^(.*?[A-Za-z].*?)\s+x\s*(\d+)$", r"\2 \1", x) for x in segs]  # "Items: Desk Lamp x2" -> "2 Desk Lamp"
        labelled = re.findall(r"^[ \t]*(?:items?|products?|articles?)[ \t]*\d*[ \t]*:[ \t]*([^,;\n]+?)[ \t]*[,;(]?[ \t]*(?:qty|quantity|x)[ \t]*[:=]?[ \t]*(\d+)\)?[ \t]*$",
                              self.text, re.I | re.M)
        if labelled:  # "Item: Oak bookshelf, qty 1" on lines of a form
            segs = [f"{qty} {product.strip(' ,;')}" for product, qty in labelled]
        props = items.get("properties") or {}
        numeric = [k for k in props if self._is_numeric(props[k])]
        text_keys = [k for k in props if k not in numeric and "string" in S.types(S.resolve(props[k], self.root))
                     and "enum" not in S.resolve(props[k], self.root)]
        out = []
        for seg in segs:
            sub = Extractor(seg, self.root, args_mode=True, number_floor=-0.6)
            obj = sub.obj(items)
            found = {k for k in sub.found if obj.get(k) is not False}
            noun = noun_after_number(seg)
            if noun and text_keys and not (text_keys[0] in found and obj[text_keys[0]].lower() in seg.lower().split('"')[1::2]):
                obj[text_keys[0]] = noun
                found.add(text_keys[0])
            if noun and numeric and not found & set(numeric) and re.match(r"^(?:.*\s)?(?:a|an|one)\s", seg, re.I) \
                    and (not out or re.match(r"^(?:and\s+|plus\s+)?(?:a|an|one)\s", seg, re.I)):  # "and a lamp" is an item; "It's for a wedding" is not
                obj[numeric[0]] = 1
                found.add(numeric[0])
            if len(found) >= min(2, len(props)):
                full = Extractor(seg, self.root).obj(items)
                full.update({k: obj[k] for k in found})
                out.append(full)
        return out


BOOL_OPPOSITES = {
    "remot": ("on-site", "onsite", "in-office", "in office", "in person", "in-person", "office-based"),
}
# Words that point to common ticket categories when the category itself is not named.
ENUM_CUES = {
    "technical": (r"\berror", r"\bcrash", r"\bbug", r"\bexport", r"\bspinner", r"\bfreez", r"\bwon't load", r"\bnot working",
                  r"\bupload", r"\bdownload", r"\bthe app\b", r"\bslow\b"),
    "billing": (r"\bcharged?\b", r"\binvoice", r"\brefund", r"\bpayment", r"\bsubscription", r"\bprice", r"\bbilled"),
    "shipping": (r"\bparcel", r"\bpackage", r"\bdelivery", r"\bcourier", r"\btracking", r"\bshipped", r"\barrived"),
    "account": (r"\bpassword", r"\blog ?in\b", r"\bsign ?in\b", r"\busername", r"\bprofile", r"\b(?:close|delete) my account"),
}
ENUM_ALIASES = {
    "celsius": (r"\u00b0\s?C\b", r"\bdegrees? C\b", r"(?i)\bcentigrade\b", r"\bin C\b"),
    "fahrenheit": (r"\u00b0\s?F\b", r"\bdegrees? F\b", r"\bin F\b"),
}


def free_text(schema: dict, name: str, root: dict) -> bool:
    """Whether a field takes free text (a title, a message body, a query), which the request's gist can fill."""
    return _is_free_text(S.resolve(schema, root), name)


def _is_free_text(schema: dict, name: str) -> bool:
    return S.types(schema)[:1] == ["string"] and not schema.get("pattern") and not schema.get("format") and "enum" not in schema \
        and field_kind(name, schema) in (None, "text", "title", "query")


def _in_range(v: float, schema: dict) -> bool:
    for k, ok in (("minimum", v >= schema.get("minimum", v)), ("maximum", v <= schema.get("maximum", v))):
        if k in schema and not ok:
            return False
    return True


def _item_ok(v: Any, items: dict) -> bool:
    if "enum" in items:
        return v in items["enum"]
    return True


# ---------------------------------------------------------------- public API

def generate(schema: dict, text: str, hints: dict | None = None) -> Any:
    """A value valid against ``schema``, filled from ``text`` (the answer to a json_schema request)."""
    ex = Extractor(text, schema, hints)
    v = ex.fill(schema)
    if v is MISSING:
        v = S.minimal(schema, schema)
    return S.repair(v, schema)


_EVENT_NOUNS = ("meeting|call|appointment|lunch|dinner|breakfast|brunch|interview|session|catch-up|standup|stand-up|sync|review|party|"
                "retro|retrospective|workshop|offsite|off-site|celebration|drinks|picnic|barbecue|bbq|webinar|conference|meetup|"
                "hackathon|kickoff|kick-off|demo|presentation|training|seminar|lecture|concert|screening|check-up|checkup")


def arguments(schema: dict | None, text: str) -> dict:
    """Tool-call arguments: required parameters always, optional ones only when found in ``text``."""
    schema = schema or {"type": "object", "properties": {}}
    ex = Extractor(text, schema, args_mode=True)
    v = ex.obj(S.resolve(schema, schema))
    return S.repair(v, schema) if isinstance(v, dict) else {}
