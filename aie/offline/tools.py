"""Tool calling: choose tools by similarity to the request, fill their arguments, read their results.

A tool is described by its name, description and parameter names; the request (or each
clause of it: "weather in Paris and email Bob") is compared with those descriptions by
embedding similarity plus shared words. Below a threshold nothing is called (chit-chat).
Arguments come from :func:`structured.arguments` by their JSON-schema types. When results
come back, the answer restates them in plain language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from aie import minilm
from aie.offline import entities as E
from aie.offline import lexicon, phrases, structured
from aie.offline.textutil import content_stems, name_words, sentences, stem, truncate_words

THRESHOLD = 0.28  # below this best score, a request is not a tool request (tuned on dev: chit-chat <= 0.23, tools >= 0.32)
LEXICAL_WEIGHT = 0.06  # score per content word shared by the request and the tool's name/description
OWN_MARGIN = 0.15  # a clause's own fillable tool wins over one filled from the rest of the request when scoring within this
INHERIT_WORDS = 4  # a clause this short with no tool of its own ("... and London") repeats the previous tool


@dataclass
class Call:
    name: str
    arguments: dict
    score: float = 0.0

    def key(self) -> tuple[str, str]:
        return self.name, json.dumps(self.arguments, sort_keys=True)


def tool_text(fn: dict) -> str:
    params = (fn.get("parameters") or {}).get("properties") or {}
    bits = [" ".join(name_words(fn["name"])) + ":", fn.get("description", "")]
    bits += [" ".join(name_words(k)) + (f" ({v.get('description')})" if isinstance(v, dict) and v.get("description") else "")
             for k, v in params.items()]
    return " ".join(b for b in bits if b).strip()


_GENERIC = {"get", "set", "tool", "function", "current", "information", "info", "given", "specified", "user", "return", "returns",
            "top", "result", "one", "another", "new"}
# Words that ask for the same kind of action: a request using one matches a tool described with another.
SYNONYMS = [
    {"search", "look", "lookup", "find", "google", "browse", "research", "web", "internet", "online",
     "suchen", "such", "buscar", "busca", "busque", "chercher", "cherche", "cercare", "cerca", "procurar", "procura", "zoeken", "hanapin"},
    {"email", "mail", "send", "message", "forward", "inbox", "recipient", "notify", "inform"},
    {"weather", "forecast", "rain", "temperature", "sunny", "snow", "wind", "jacket", "umbrella", "cold", "hot", "warm", "degrees",
     "coat", "sweater", "jumper", "sunscreen", "layers", "chilly", "freezing", "temp", "sunglasses", "gloves", "scarf", "raincoat",
     "humid", "humidity", "storm", "stormy", "wx",
     "wetter", "tiempo", "clima", "m\u00e9t\u00e9o", "meteo", "tempo", "panahon", "umulan", "lluvia", "regen", "pluie"},
    {"calculate", "compute", "evaluate", "arithmetic", "math", "calculator", "expression", "times", "plus", "minus", "divided",
     "multiplied", "squared", "percent", "sum", "product", "total", "each", "split", "saved", "multiply", "divide", "add",
     "subtract", "average", "area", "perimeter", "share"},
    {"calendar", "event", "meeting", "schedule", "appointment", "book", "reminder", "remind", "agenda",
     "calendario", "kalender", "calendrier", "termin", "cita"},
    {"convert", "conversion", "exchange", "currency", "rate", "worth"},
    {"order", "package", "parcel", "shipping", "shipped", "delivery", "tracking", "track", "status", "arrive", "arrived"},
    {"translate", "translation", "language"},
    {"delete", "remove", "erase"},
    {"file", "document", "read", "open"},
]
_SYN = [{stem(w) for w in g} for g in SYNONYMS]
# Phrases that name an action without its usual word: "let my landlord know (x@y.com) that ..." asks to notify.
_PHRASES = [(re.compile(r"\blet\s+(?:\w+\s+){0,3}know\b|\bdrop\s+(?:\w+\s+){0,2}(?:a line|a note)\b|\bgive\s+\w+\s+a heads[- ]up\b", re.I), "notify"),
            (re.compile(r"\b(?:what's it|what is it|how's it|how is it)\s+(?:like|looking)\s+outside\b|\boutside\s+(?:right )?now\b", re.I), "weather"),
            (re.compile(r"\b(?:need|want|get|find|any)\s+(?:some\s+|more\s+)?info(?:rmation)?\s+(?:on|about|regarding)\b", re.I), "search"),
            (re.compile(r"\bwork out\b|\b(?:come|comes|add) (?:to|up)\b", re.I), "calculate"),
            # things people look up rather than ask a model to know: places to eat or stay, fares, reviews, opening hours
            (re.compile(r"\b(?:restaurants?|caf[e\u00e9]s?|bars|hotels?|hostels?|flights?|fares|tickets|reviews?|recipes?|museums?|gyms?|"
                        r"things to do|opening hours|places to (?:eat|stay|visit))\b", re.I), "search")]
VERB_WEIGHT = 0.15  # bonus when the request's opening verb names the tool's action ("look up ...", "convert ...")
ARG_WEIGHT = 0.25  # bonus when the request holds typed values for the tool's required arguments (an email, an id, a date...)
_TYPED = {"email", "url", "phone", "date", "time", "id", "currency", "location", "person", "org", "expression", "language"}
_WEAK = {"location", "person", "org", "language"}
_RELATIVE = {"today", "tomorrow", "yesterday"}


def _expand(stems: set[str]) -> set[str]:
    out = set(stems)
    for g in _SYN:
        if stems & g:
            out |= g
    return out


def _tool_stems(fn: dict) -> tuple[set[str], set[str]]:
    name = content_stems(" ".join(name_words(fn["name"]))) - _GENERIC
    return name, (content_stems(fn.get("description", "")) - _GENERIC) | name


def _opening_verb(text: str) -> set[str]:
    """The stem of the request's first word after politeness ('Can you look up ...' -> {'look'})."""
    first = re.findall(r"[a-z]+", re.sub(phrases.POLITE, "", text.strip(), flags=re.I).lower())[:1]
    return {stem(first[0])} if first else set()


def argument_fit(text: str, fn: dict) -> float:
    """Share of the tool's typed required arguments (emails, ids, dates, numbers...) that the text supplies."""
    schema = fn.get("parameters") or {}
    props = schema.get("properties") or {}
    weights: dict[str, float] = {}
    for k in schema.get("required") or list(props):
        sub = props.get(k) or {}
        kind = lexicon.field_kind(k, sub)
        if kind in _TYPED or sub.get("type") in ("integer", "number"):
            # any capitalised place or name fits a "city", and "tomorrow" is said in passing: weaker evidence
            weak = kind in _WEAK or (kind == "date" and not any(d.text.lower() not in _RELATIVE for d in E.dates(text)))
            weights[k] = 0.5 if weak else 1.0
    if not weights:
        return 0.0
    ex = structured.Extractor(text, schema, args_mode=True)
    ex.obj(schema)
    return sum(w for k, w in weights.items() if k in ex.found) / len(weights)


def fillable(fn: dict, *texts: str) -> bool:
    """Whether the texts supply every required argument that free text cannot stand in for.

    A model does not call ``send_email`` without an address or ``get_weather`` without a place:
    "what does the CC field in an email mean?" is a question, not a request to send anything.
    """
    schema = fn.get("parameters") or {}
    props = schema.get("properties") or {}
    need = [k for k in schema.get("required") or [] if not structured.free_text(props.get(k) or {}, k, schema)]
    if not need:
        return True
    for text in texts:
        ex = structured.Extractor(text, schema, args_mode=True)
        ex.obj(schema)
        need = [k for k in need if k not in ex.found]
        if not need:
            return True
    return False


def score_tools(texts: list[str], tools: list[dict]) -> np.ndarray:
    """Score matrix (texts x tools): cosine similarity, plus shared (or synonymous) words, plus argument fit."""
    vecs = minilm.embed(list(texts) + [tool_text(t) for t in tools])
    tv, fv = vecs[: len(texts)], vecs[len(texts):]
    sims = tv @ fv.T
    for i, text in enumerate(texts):
        said = {stem(w) for pat, w in _PHRASES if pat.search(text)}  # a phrase that names the action counts as its verb
        st = _expand(content_stems(text) | said)
        verb = _expand(_opening_verb(text) | said)
        for j, fn in enumerate(tools):
            name, desc = _tool_stems(fn)
            sims[i, j] += LEXICAL_WEIGHT * (min(3, len(st & desc)) + 2 * min(1, len(st & name)))
            sims[i, j] += VERB_WEIGHT * bool(verb & desc)
            sims[i, j] += ARG_WEIGHT * argument_fit(text, fn)
    return sims


def clauses(text: str) -> list[str]:
    """Split a request into the parts that may each ask for a tool."""
    # "$182 plus a $46 fee": arithmetic, not a second request
    text = re.sub(r"(\d[\d.,]*(?:\s+[a-z]+){0,2})\s+plus\s+(?=(?:an?\s+|the\s+)?[$\u20ac\u00a3]?\d)", "\\1 \u2295 ", text.strip())
    text = re.sub(r"\b(Dr|Mr|Mrs|Ms|Mx|St|Prof|Jr|Sr|Mt|No|vs|etc)\.(?=\s)", "\\1\u2024", text)  # "Dr. Haddad" ends no sentence
    text = re.sub(r"\b(\w+)\s+and\s+I\b", "\\1 \u2227 I", text)  # "My sister and I are flying": one subject
    # "89 euro per night and we stay 4 nights, what is the total": one calculation told in two steps
    text = re.sub(r"(\d[^.?!]*?)\s+and\s+(?=(?:we|i|you|they|he|she)\s+\w+\s+[^.?!,]*?\d)", "\\1 \u2227 ", text, flags=re.I)
    parts = re.split(r"(?:[.;?!]\s+|\s+than\s+(?=(?:in|at|for)\s+[A-Z])|,?\s+\b(?:and then|then|and also|also|after that|plus|et aussi|y tambi\u00e9n|und auch|e tamb\u00e9m|e anche)\b\s+|,?\s+\b(?:and|or)\b\s+)", text.strip())
    out: list[str] = []
    for p in (p.strip(" ,.").replace("\u2295", "plus").replace("\u2024", ".").replace("\u2227", "and") for p in parts if p and len(p.strip(" ,.")) > 1):
        if out and _CONTINUES.match(p):  # "email bob@x.com and tell him ...": one action, not two
            out[-1] += " and " + p
        else:
            out.append(p)
    return out


_CONTINUES = re.compile(r"^(?:tell|ask|let|inform|notify|remind)\s+(?:him|her|them)\b|^(?:say|saying|mention|asking|telling|letting|reminding)\b", re.I)


def choose(request: str, tools: list[dict], tool_choice, parallel: bool = True, threshold: float = THRESHOLD) -> list[Call]:
    """The tool calls for ``request`` (empty for no tool), honouring ``tool_choice``."""
    if not tools or tool_choice == "none" or not request.strip():
        return []
    forced = None
    if isinstance(tool_choice, dict):
        forced = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
    by_name = {t["name"]: t for t in tools}
    if forced in by_name:
        return [Call(forced, structured.arguments(by_name[forced].get("parameters"), request), 1.0)]
    if _only_context(request, tools, threshold) or _remark(request):
        return []
    parts = clauses(request)
    texts = [request] + (parts if len(parts) > 1 else [])
    sims = score_tools(texts, tools)
    calls: list[Call] = []
    if len(parts) > 1 and parallel:
        prev: Call | None = None
        prev_part = ""
        for i, part in enumerate(parts, start=1):
            said = part  # the clause as written (``part`` may become "weather in London" for "and London")
            if _STATEMENT.match(part) and not _ASKING.search(part) and not part.rstrip().endswith("?") and i < len(parts):
                continue  # "I'm heading to Prague next Tuesday. Any idea if it'll rain?": the story, not a request
            j = _best(sims[i], tools, threshold, part, request)
            own = _best(sims[i], tools, threshold, part)  # a tool this clause can fill by itself, unless it fits much worse
            if own is not None and j is not None and own != j and sims[i, own] >= sims[i, j] - OWN_MARGIN:
                j = own
            if j is not None:
                call = Call(tools[j]["name"], _args(tools[j], part, request), float(sims[i, j]))
            elif prev is not None and len(part.split()) <= INHERIT_WORDS and not re.match(r"\w+ing\b|\w+\s+(?:it|that|this|them)\b", part, re.I):
                # ("add it pls" confirms the previous request; it is not that request again with "add it pls" as its title)
                # ("Trying to decide." is a remark, not "weather in Trying")
                # "weather in Paris and London": read "London" as "weather in London"
                analogue = _substitute(prev_part, prev.arguments, part)
                if analogue is None or not fillable(by_name[prev.name], analogue):
                    # "... in Phoenix? fahrenheit pls": an option for the previous call, not a new one
                    prev.arguments.update({k: v for k, v in structured.arguments(by_name[prev.name].get("parameters"), part).items()
                                           if k not in prev.arguments and _appears(v, part)})
                    continue
                call = Call(prev.name, _args(by_name[prev.name], analogue, analogue), prev.score)
                part = analogue
            else:
                continue
            if prev is not None and call.name == prev.name and _free_only(by_name[call.name]) and not _asks_anew(said):
                # "find reviews of the Fairphone 5? Thinking about switching.": context, not a second search;
                # "search for what that code means and how to fix it": one search
                if re.match(r"(?:how|what|why|where|when|which|who|whether|if)\b", said, re.I):
                    for k, v in prev.arguments.items():
                        if isinstance(v, str) and v and k in (by_name[call.name].get("parameters") or {}).get("required", []):
                            prev.arguments[k] = f"{v} and {said.strip(' ?!.')}"
                            break
                continue
            if prev is not None and call.name == prev.name and not fillable(by_name[call.name], part):
                # "... on 2026-03-26 at 9:45. stick it in my calendar": the same event, said again
                prev.arguments.update({k: v for k, v in call.arguments.items() if k not in prev.arguments and _appears(v, part)})
                continue
            same = next((c for c in calls if c.name == call.name and _compatible(c.arguments, call.arguments)), None)
            if same is not None:  # "rain in Seattle? ... in fahrenheit": one call with both arguments
                same.arguments = {**call.arguments, **same.arguments}
            else:
                calls.append(call)
            prev, prev_part = call, part
    if len(calls) >= 2:
        calls = [c for c in calls if not _restates(c, calls, by_name)] or calls
        calls = [c for c in calls if not (_empty(c, by_name) and any(o.name == c.name and not _empty(o, by_name) for o in calls))]
    if len(calls) >= 2:
        return [_contextual(c, request) for c in calls]
    if len(calls) <= 1 and re.search(r"\b(?:both|each of (?:them|these|those)|all (?:three|four))\b", request, re.I):
        several = _each_place(request, tools, sims[0], threshold)  # "between Lisbon and Porto ... the weather in both cities"
        if several:
            return several
    if _ADVICE.search(request) and not _SEARCH_ASK.search(request):
        free = [t for t in tools if _free_only(t)]  # "how do people usually recover from that?" wants advice, not a search
        if free and all(c.name in {t["name"] for t in free} for c in calls):
            tools_left = [t for t in tools if t not in free]
            if not tools_left:
                return []
            keep = [k for k, t in enumerate(tools) if t not in free]
            sims = sims[:, keep]
            tools = tools_left
            calls = []
    j = _best(sims[0], tools, threshold, request)
    if j is None and len(calls) == 1:  # "any ramen places near here? find some online": one clause asks for it
        j = next(k for k, t in enumerate(tools) if t["name"] == calls[0].name)
    if j is None and tool_choice == "required":
        j = int(np.argmax(sims[0]))
    if j is not None:
        return [_contextual(Call(tools[j]["name"], _args(tools[j], request, request), float(sims[0, j])), request)]
    return []


_STATEMENT = re.compile(r"^(?:i'm|i am|i was|i've|i have|my|our|we're|we are|we were|we've|the|she|he|they|it|it's|this|that|there"
                        r"|(?:i|we)\s+(?:live|work|lived|worked|just|already|usually|always|often|went|got|had|moved|came|love|like|hate))\b"
                        r"|^(?:hi|hey|hello)?[!,.\s]*(?:my|our)\s+\w+\s+and\s+i\s+(?:are|were|will|have)\b", re.I)
# Questions that ask for advice or an opinion: answered from what the model knows, not by searching.
_ADVICE = re.compile(r"\b(?:how (?:do|did|would|should|can|could) (?:people|you|i|we|one)|what (?:should|would) (?:i|you|we)|any (?:tips|advice)|"
                     r"is it (?:rude|ok|okay|normal|weird|bad)|should i)\b", re.I)
_SEARCH_ASK = re.compile(r"\b(?:search|look (?:up|for|into)|lookup|google|find|research|browse|online|on the web|sources?|links?)\b", re.I)
_ASKING = re.compile(r"\?|\b(?:need|want|would like|'d like|please|wondering|let me know|tell me|looking for|trying to find|searching for)\b", re.I)


def _only_context(request: str, tools: list[dict], threshold: float) -> bool:
    """Whether the tool words are only in the story around the request, not in what it asks.

    "I'm writing a story where the heroine checks the weather in Prague. Can you suggest a name for her?"
    asks for a name. A short ask ("Can you check?") leans on its context and does not count.
    """
    said = [s.strip() for s in re.split(r"(?<=[.!?])\s+", request.strip()) if s.strip()]
    statements = [s for s in said if _STATEMENT.match(s) and not _ASKING.search(s)]
    asks = [s for s in said if s not in statements]
    if not statements or not asks or any(len(content_stems(a)) < 3 or re.search(r"\b(?:there|it|that|this)\b", a, re.I) for a in asks):
        return False  # a short ask, or one that points back ("how bad is it there?"), leans on its context
    sims = score_tools(asks, tools)
    return all(_best(row, tools, threshold, a, request) is None for row, a in zip(sims, asks))


def _empty(call: Call, by_name: dict) -> bool:
    """A call whose required values are all blank: the clause named the tool's topic but gave it nothing."""
    need = (by_name[call.name].get("parameters") or {}).get("required") or []
    return bool(need) and all(call.arguments.get(k) in ("", None, 0, [], {}) for k in need)


def _restates(call: Call, calls: list[Call], by_name: dict) -> bool:
    """A search whose words all belong to another call's topic: "find out where the parcel is" next to an order lookup."""
    if not _free_only(by_name[call.name]):
        return False
    said = {w for v in call.arguments.values() if isinstance(v, str) for w in content_stems(v)} - {"find", "out", "where", "what", "when"}
    for other in calls:
        if other is not call and not _free_only(by_name[other.name]):
            name, desc = _tool_stems(by_name[other.name])
            if said and said <= _expand(name | desc):
                return True
    return False


def _each_place(request: str, tools: list[dict], row: np.ndarray, threshold: float) -> list[Call]:
    """One call per place named in the request, for a tool whose one required argument is a place."""
    for j in np.argsort(-row):
        if row[j] < threshold:
            return []
        schema = tools[j].get("parameters") or {}
        need = schema.get("required") or []
        if len(need) == 1 and lexicon.field_kind(need[0], (schema.get("properties") or {}).get(need[0]) or {}) == "location":
            places = [s.value for s in E.proper_names(request) if s.value.lower() in E.CITIES or s.value in lexicon.COUNTRIES]
            places = list(dict.fromkeys(places))
            if len(places) >= 2:
                return [Call(tools[j]["name"], {**_args(tools[j], request, request), need[0]: p}, float(row[j])) for p in places]
            return []
    return []


def _remark(request: str) -> bool:
    """A remark that asks for nothing: "It rained all day yesterday in Paris, so annoying."

    A past time or only statements ("My sister lives in Toronto, she says it's freezing there."), no question or
    request word, and nothing to act on (no address, id or amount): "My order #4411 was due yesterday" still
    leads to a lookup.
    """
    said = [s for s in re.split(r"(?<=[.!?])\s+|,\s+(?=\w+\s)", request.strip()) if s.strip()]
    past = re.search(r"\b(?:yesterday|last (?:night|week|weekend|month|year)|earlier today|this morning)\b", request, re.I)
    if _ASKING.search(request) or not (past or all(_STATEMENT.match(s.strip()) for s in said)):
        return False
    if _asks_anew(request) or E.emails(request) or E.ids(request) or E.currency_mentions(request):
        return False
    return True


def _free_only(fn: dict) -> bool:
    """Whether every required argument of the tool is free text (a query, a message): any clause can fill it."""
    schema = fn.get("parameters") or {}
    need = schema.get("required") or []
    return bool(need) and all(structured.free_text((schema.get("properties") or {}).get(k) or {}, k, schema) for k in need)


def _asks_anew(part: str) -> bool:
    """Whether a clause is a request of its own ('also look up X', 'find hotels in Rome'), not a fragment."""
    first = re.findall(r"[a-z]+", re.sub(phrases.POLITE, "", part.strip(), flags=re.I).lower())[:1]
    return bool(first) and first[0] in _REQUEST_VERBS


_REQUEST_VERBS = set("""search find look google check get show tell give send email mail book schedule add create put set
convert calculate compute work figure track locate research browse lookup fetch list""".split())


def _contextual(call: Call, request: str) -> Call:
    for k, v in call.arguments.items():
        if k in ("query", "q", "search_query") and isinstance(v, str):
            call.arguments[k] = _with_context(v, request)
    return call


def _with_context(query: str, request: str) -> str:
    """A query that says 'that code' or 'it' gets the names and codes it points to from the rest of the request."""
    if not re.search(r"\b(?:that|this|it|these|those|them|there)\b", query, re.I):
        return query
    codes = re.findall(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]{2,10}\b", request)
    names = [s.text for s in E.proper_names(request)]
    extra = [w for w in dict.fromkeys(names + codes) if w.lower() not in query.lower()]
    return " ".join(extra[:3] + [query]) if extra else query


def _best(row: np.ndarray, tools: list[dict], threshold: float, *texts: str) -> int | None:
    """The best-scoring tool above the threshold whose required arguments the text can fill."""
    for j in np.argsort(-row):
        if row[j] < threshold:
            return None
        if fillable(tools[j], *texts):
            return int(j)
    return None


def _compatible(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in a.keys() & b.keys())


def _substitute(prev_part: str, prev_args: dict, part: str) -> str | None:
    """The previous clause with its argument value swapped for this clause's words, or None."""
    new = part.strip(" ?!.,")
    for v in prev_args.values():
        if isinstance(v, str) and v and v.lower() in prev_part.lower():
            at = prev_part.lower().index(v.lower())
            return prev_part[:at] + new + prev_part[at + len(v):]
    return None


def _args(fn: dict, part: str, whole: str) -> dict:
    """Arguments from the clause; a required argument missing there is looked for in the whole request."""
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    args = structured.arguments(schema, part)
    if part != whole:
        full = structured.arguments(schema, whole)
        for k in schema.get("required") or []:
            if k in full and (k not in args or args[k] in ("", None) or not _said(args[k], part)):
                if _appears(full[k], whole):
                    args[k] = full[k]
    return args


def _said(value, text: str) -> bool:
    """Whether the text gives this value, written as is or as what it stands for ('yen' for JPY, 'tomorrow' for a date)."""
    if _appears(value, text):
        return True
    spans = (*E.currency_mentions(text), *E.dates(text), *E.times(text), *E.proper_names(text))
    return any(s.value == value for s in spans)


def _appears(value, text: str) -> bool:
    if isinstance(value, str):
        return bool(value) and value.lower() in text.lower()
    return value not in (None, "", [], {})


# ---------------------------------------------------------------- answering from results

def render_result(content: str, question: str = "") -> str:
    """A tool result as a short readable phrase: JSON fields as 'key: value', text by its most relevant sentences."""
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_scalar(v)}" for k, v in data.items()) or "nothing"
    if isinstance(data, list):
        return ", ".join(_scalar(v) for v in data[:10]) + (" ..." if len(data) > 10 else "") if data else "no results"
    if data is not None:
        return _scalar(data)
    sents = sentences(content)
    if len(content.split()) <= 60 or len(sents) <= 2:
        return content.strip()
    if question:
        vecs = minilm.embed([question] + sents)
        order = np.argsort(-(vecs[1:] @ vecs[0]))[:2]
        return " ".join(sents[i] for i in sorted(order))
    return truncate_words(" ".join(sents[:2]), 60)


def _scalar(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_scalar(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return ", ".join(_scalar(x) for x in v)
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def answer_from_results(results, question: str) -> str:
    """Plain-language answer that restates each tool result (the last step of an agent loop)."""
    lines = []
    for r in results:
        args = ", ".join(f"{k}={_scalar(v)}" for k, v in (r.arguments or {}).items())
        head = f"According to {r.name}" + (f" ({args})" if args else "")
        lines.append(f"{head}: {render_result(r.content, question)}")
    return "\n".join(lines)
