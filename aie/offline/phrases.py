"""Phrases pulled out of a request: the search query, an arithmetic expression, the object of a verb.

Tool arguments such as ``query``, ``expression`` or an email ``body`` are not typed values
like dates or emails; these helpers cut them out of the request by its wording
("search the web for X" -> "X", "what is 12 times 7" -> "12 * 7").
"""

from __future__ import annotations

import re
from itertools import takewhile

from aie.offline import entities as E
from aie.offline.textutil import NEGATIONS, STOPWORDS

POLITE = r"^(?:(?:hey|hi|hello|ok|okay|so|please|pls|plz|can you|could you|would you|will you|can u|could u|would u|quickly|now|also|then|and|i want you to|i'd like you to|i need you to|help me|go ahead and)\b[\s,]*)*"


def search_phrase(text: str) -> str | None:
    """What to search for: the request minus politeness and the search verb ('search the web for X' -> 'X')."""
    q = E.quoted(text)
    if q:
        return q[0].value
    s = re.sub(POLITE, "", text.strip(), flags=re.I)
    s = re.sub(r"^(?:do an? )?(?:web |online |internet )?(?:search|look up|lookup|google|find(?: out)?|research|browse|check|look for|look into|search up)"
               r"(?: me)?(?: (?:the )?(?:web|internet|online|docs|documentation|knowledge base|kb))?(?: for me)?(?: (?:for|about|on|whether|if))?\s+", "", s, flags=re.I)
    s = re.sub(r"^(?:web\s+)?(?:search|google|look up|lookup|query)\s*:\s*", "", s, flags=re.I)  # "search: best budget laptop"
    s = re.sub(r"[\s.?!,]*(?:(?:can|could) you |please )?(?:look it up|google it|search (?:for )?it|find out|check online|"
               r"search (?:the )?(?:web|internet|online)|look (?:it )?up online)\b.*$", "", s, flags=re.I)
    s = re.sub(r"(?<=[.?!,])\s*(?:search|google|look up)(?: it)?(?:\s+(?:please|pls|plz))?[\s.!]*$", "", s, flags=re.I)  # "...? search please"
    s = re.sub(r"^(?:i (?:need|want|would like|'d like) to know|i wonder|tell me|do you know|(?:i )?(?:need|want) (?:some )?info(?:rmation)? (?:on|about)|(?:i'm|i am|we're|we are) (?:looking|searching) for|(?:i'm |i am )?trying to find)\s+",
               "", s, flags=re.I)
    s = re.sub(r"\s*(?:please|for me|online|on the web|thanks)?[\s.?!]*$", "", s, flags=re.I)
    return s.strip() or None


OPS = [(r"\bmultiplied by\b|\btimes\b|\u00d7", "*"), (r"\bdivided by\b|\bover\b|\u00f7", "/"), (r"\bplus\b", "+"),
        (r"\bminus\b", "-"), (r"\bto the power of\b", "**"), (r"\^", "**")]


def arithmetic(text: str) -> str | None:
    """An arithmetic expression in the text ('what is 12 times 7' -> '12 * 7'; '15% of 80' -> '15 / 100 * 80')."""
    for d in (*E.dates(text), *E.ids(text)):  # "2026-04-10" is a date and "order 99-4412" an id, not subtractions
        text = text.replace(d.text, " ")
    s = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    s = re.sub(r"\bsquare root of\s+([\d.]+)", r"sqrt(\1)", s, flags=re.I)
    s = re.sub(r"[$\u20ac\u00a3](?=\d)", "", s)
    # "an 18% tip on a 64.50 bill", "15 percent of 80"
    s = re.sub(r"([\d.]+)\s*(?:%|percent)\s+(?:[a-z]+\s+){0,2}?(?:of|on)\s+(?:an?\s+|the\s+|my\s+)?(?:[a-z]+\s+of\s+)?([\d.]+)", r"\1 / 100 * \2", s, flags=re.I)
    off = re.search(r"([\d.]*\d)\s*(?:%|percent)\s+off\s+(?:of\s+)?(?:an?\s+|the\s+)?[$\u20ac\u00a3]?([\d.]*\d)", s, re.I)
    if off:  # "12.5% off 80 dollars"
        return f"{off.group(2)} * (1 - {off.group(1)} / 100)"
    # "an 85 dollar dinner, tip at 20 percent": one amount and one rate
    pct = re.findall(r"([\d.]*\d)\s*(?:%|percent)", s, re.I)
    others = [x for x in re.findall(r"(?<![\w.])(\d[\d.]*)(?!\s*(?:%|percent|\d))", s, re.I) if x.rstrip(".")]
    if len(pct) == 1 and len(others) == 1 and re.search(r"\b(?:tip|tax|vat|discount|off|interest|commission|service charge)\b", s, re.I) \
            and not re.search(r"\b(?:of|on)\s+(?:an?\s+|the\s+|my\s+)?[\d.]", s[s.find(pct[0]):], re.I):
        return f"{pct[0]} / 100 * {others[0].rstrip('.')}"
    # "4200 a month, what's that per year": a rate in other units
    per = re.search(r"([\d.]*\d)\s*(?:a|per|each|every)\s+(hour|day|week|month|year)\b.*?\b(?:a|per|each|every|in a|in one)\s+(day|week|month|year)\b"
                    r"|([\d.]*\d)\s*(?:a|per|each|every)\s+(hour|day|week|month|year)\b.*?\b(daily|weekly|monthly|yearly|annually|annual)\b", s, re.I)
    if per:
        amount, unit, target = (per.group(1), per.group(2), per.group(3)) if per.group(1) else (per.group(4), per.group(5), per.group(6))
        target = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year", "annually": "year", "annual": "year"}.get(target.lower(), target.lower())
        days = {"hour": 1 / 8, "day": 1, "week": 7, "month": 365 / 12, "year": 365}
        factor = {("hour", "day"): "8", ("day", "week"): "5", ("week", "year"): "52", ("month", "year"): "12", ("day", "year"): "365",
                  ("year", "month"): "1 / 12", ("year", "week"): "1 / 52", ("week", "month"): "52 / 12", ("month", "week"): "12 / 52",
                  ("hour", "week"): "40", ("hour", "year"): "2080"}.get((unit.lower(), target))
        said = re.search(rf"\b(\d+)\s+{unit.lower()}s?\s+(?:a|per|each|every)\s+{target}\b", s, re.I)  # "5 days a week"
        if said:
            factor = said.group(1)
        if factor and days[unit.lower()] != days[target]:
            times = re.search(rf"\b(?:for|over|in|after)\s+(?:the\s+next\s+)?(\d+)\s+{target}s?\b", s, re.I)  # "... for 3 weeks"
            return f"{amount} * {factor}" + (f" * {times.group(1)}" if times else "")
    # "6.8 litres per 100 km ... 412 km": a rate per N units applied to a distance, weight or count in those units
    rate = re.search(r"([\d.]*\d)\s*([a-z]+)\s+(?:per|every|for each|each)\s+(?:([\d.]*\d)\s*)?([a-z]+)\b", s, re.I)
    if rate and rate.group(4).lower() not in ("hour", "day", "week", "month", "year", "person", "head", "item", "piece", "unit"):
        per_n = rate.group(3) if rate.group(3) and float(rate.group(3)) != 1 else None
        qty = _quantity_in(s, rate.group(4), rate)
        if qty:
            return f"{qty} * {rate.group(1)}" + (f" / {per_n}" if per_n else "")
        qty = _quantity_in(s, rate.group(2), rate)  # "1240 km ... 15 km per litre": how many litres
        if qty and re.search(rf"\bhow (?:many|much) {re.escape(rate.group(4).lower().rstrip('s'))}", s, re.I):
            return f"{qty} / {rate.group(1)}" + (f" * {per_n}" if per_n else "")
    rate = re.search(r"(?:at|@)\s*[$\u20ac\u00a3]?([\d.]*\d)\s*(?:an|per|/|a)\s*(?:hour|hr|h)\b", s, re.I)
    hours = re.search(r"([\d.]*\d)\s*(?:hours?|hrs?)\b", s, re.I)
    if rate and hours:  # "4 night shifts of 12.5 hours each at 38.75 an hour"
        count = re.search(r"(\d+)\s+(?:[a-z]+\s+)?(?:shifts?|days?|sessions?|weeks?|lessons?)\s+(?:of|at|for|,)", s, re.I)
        return (f"{count.group(1)} * " if count else "") + f"{hours.group(1)} * {rate.group(1)}"
    left = re.search(r"\bhow much (?:is|will be|do i have|would i have|will i have|have i got)?\s*(?:left|remaining|left over)\b|\bwhat(?:'s| is) left\b", s, re.I)
    amounts = [a.rstrip(".") for a in re.findall(r"(?<![\w.])\d[\d.]*", s)]
    if left and len(amounts) >= 2:  # "I earn 3150 a month. After rent of 1080 and bills of 265.40, how much is left?"
        return " - ".join(amounts)
    shared = _share(s)
    if shared:
        return shared
    s = _worded(s)
    s = re.sub(r"([\d.]+)\s+squared\b", r"\1 ** 2", s, flags=re.I)
    s = re.sub(r"\b(\d+)\s+(?:[a-z]+\s+){1,2}?(?:at|for|@)\s+([\d.]*\d)\s*(?:each|apiece|a piece|per (?:item|piece|unit|person|head))\b",
               r"\1 * \2", s, flags=re.I)
    s = re.sub(r"([\d.]*\d)\s+(?:every|each|per|a)\s+(day|week|month|year)\b(?:\s+[a-z']+){0,6}?\s+(?:for|over|after|in)\s+(?:the\s+)?(?:next\s+)?(\d+)\s+\2s?\b",
               r"\1 * \3", s, flags=re.I)
    for pat, op in OPS:
        s = re.sub(pat, f" {op} ", s, flags=re.I)
    s = re.sub(r"([-+*/])\s+(?:an?|the|another)\s+(?=\d)", r"\1 ", s)
    s = re.sub(r"(?<=\d)\s*[xX]\s*(?=\d)", " * ", s)
    m = re.findall(r"(?:sqrt\()?\(?\s*-?[\d.]+\)?(?:\s*(?:\*\*|[-+*/])\s*(?:sqrt\()?\(?\s*-?[\d.]+\s*\)?\)?)+|sqrt\([\d.]+\)", s)
    if not m:
        return None
    expr = max(m, key=len).strip()
    expr = re.sub(r"\s*(\*\*|[-+*/])\s*", r" \1 ", expr)
    return re.sub(r"\s+", " ", expr).strip(" .")


_COUNT = r"(\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_SHARE_COUNT = re.compile(rf"\b{_COUNT}\s+(?:ways|of us|people|persons|friends|guys|roommates|flatmates|housemates|colleagues)\b"
                          rf"|\b(?:between|among|amongst|into|by|in)\s+(?:the\s+|us\s+)?{_COUNT}\b(?!\s*(?:%|percent|[a-z]+\s+(?:each|apiece)))", re.I)
_SHARE_CUE = re.compile(r"\b(?:split|splitting|share|sharing|shared|divide|divided|dividing)\b|\bmy (?:share|part|cut)\b|\bper person\b"
                        r"|\beach (?:pay|owe|of us)\b", re.I)


def _quantity_in(s: str, unit: str, rate: re.Match) -> str | None:
    """The first amount in the text given in this unit ('412 km'), outside the rate itself."""
    unit = unit.lower().rstrip("s")
    for m in re.finditer(r"([\d.]*\d)\s*([a-z]+)\b", s, re.I):
        if m.group(2).lower().rstrip("s") == unit and not rate.start() <= m.start() < rate.end():
            return m.group(1)
    return None


def _share(s: str) -> str | None:
    """A total shared by a number of people: '237.60 split four ways', '$182 plus a $46 fee 3 ways' -> '(182 + 46) / 3'."""
    count, cue = _SHARE_COUNT.search(s), _SHARE_CUE.search(s)
    if not (count and cue) or re.search(r"%|\bpercent\b|[*/]\s*\d|\b(?:times|minus|over)\b", s, re.I):
        return None
    if re.match(r"by\b", count.group(0), re.I) and re.match(r"divide", cue.group(0), re.I):
        return None  # "1000 divided by 3 plus 12" is arithmetic, not a bill shared three ways
    n = next(g for g in count.groups() if g)
    amounts = [m.group(0).rstrip(".") for m in re.finditer(r"(?<![\w.])\d[\d.]*", s)
               if not (count.start() <= m.start() < count.end())]
    if not amounts:
        return None
    total = amounts[0] if len(amounts) == 1 else "(" + " + ".join(amounts) + ")"
    return f"{total} / {E.NUMBER_WORDS.get(n.lower(), n)}"


_N = r"(\d[\d.]*)"


def _worded(s: str) -> str:
    """Operations said with words: 'multiply 1250 by 0.08', 'subtract 7 from 20', 'the average of 3, 5 and 10'."""
    rules = [(rf"\bmultiply\s+{_N}\s+(?:by|and|with)\s+{_N}", r"\1 * \2"),
             (rf"\bdivide\s+{_N}\s+by\s+{_N}", r"\1 / \2"),
             (rf"\badd\s+{_N}\s+(?:and|to|plus)\s+{_N}", r"\1 + \2"),
             (rf"\bsubtract\s+{_N}\s+from\s+{_N}", r"\2 - \1"),
             (rf"\btake\s+{_N}\s+(?:away\s+)?from\s+{_N}", r"\2 - \1"),
             (rf"\bsum of\s+{_N}\s+and\s+{_N}", r"\1 + \2"),
             (rf"\bproduct of\s+{_N}\s+and\s+{_N}", r"\1 * \2"),
             (rf"\bdifference between\s+{_N}\s+and\s+{_N}", r"\1 - \2"),
             (rf"\b(?:how many times does|how often does)\s+{_N}\s+go into\s+{_N}", r"\2 / \1")]
    for pat, rep in rules:
        s = re.sub(pat, rep, s, flags=re.I)
    avg = re.search(r"\b(?:average|mean)\s+of\s+((?:\d[\d.]*\s*(?:,\s*(?:and\s+)?|and\s+))+\d[\d.]*)", s, re.I)
    if avg:
        xs = re.findall(r"\d[\d.]*\d|\d", avg.group(1))
        s = s[: avg.start()] + "(" + " + ".join(xs) + f") / {len(xs)}" + s[avg.end():]
    dims = re.search(rf"{_N}\s*(?:[a-z]+\s+)?(?:long|by|x|\u00d7)\s+(?:and\s+)?{_N}\s*(?:[a-z]+\s*)?(?:wide|across)?", s, re.I)
    if dims and re.search(r"\bperimeter\b|\bfence\b|\ball the way around\b", s, re.I):
        s = s[: dims.start()] + f"2 * ({dims.group(1)} + {dims.group(2)})" + s[dims.end():]
    elif dims and re.search(r"\barea\b|\bsquare (?:metres|meters|feet|foot)\b|\bsq\.? ?(?:m|ft)\b", s, re.I):
        s = s[: dims.start()] + f"{dims.group(1)} * {dims.group(2)}" + s[dims.end():]
    return s


def gist(text: str) -> str:
    """The object of a request: 'email the customer list to x@y.com' -> 'the customer list'."""
    s = re.sub(POLITE, "", text.strip(), flags=re.I)
    s = re.sub(r"\s*,?\s*\b(?:with|and)\s+(?:the\s+|a\s+)?subject(?: line)?\s*:?\s*(?:\"[^\"]*\"|\u201c[^\u201d]*\u201d|'[^']*')", "", s, flags=re.I)
    for sp in (*E.emails(s), *E.urls(s)):
        s = s.replace(sp.text, " ")
    s = re.sub(r"\b(?:to|cc)\s+(?=(?:with|and)\b|[,;]|$)", "", s.strip(), flags=re.I)
    s = re.sub(r"^(?:email|send|forward|share|post|publish|upload|tell|write|create|add|make|reply|message|text|notify)\b\s*(?:(?:him|her|them|me|us)\b\s*)?", "", s, flags=re.I)
    s = re.sub(r"\b(?:to|for|at|via|with)\s*(?=[.,;!?]|$)", "", s.strip())
    s = re.sub(r"\s+(?:to|cc)\s*$", "", s.strip(" .,;!?"))
    return re.sub(r"\s+", " ", s).strip(" .,;!?:")


def noun_after_number(seg: str) -> str | None:
    times = re.search(r"\d+\s*x\s+[A-Za-z]", seg)
    if times:  # "placing an order for Tobias: 2 x Wool Blanket": the count is the digit, not "an"
        seg = seg[times.start():]
    m = re.search(r"(?:\d+|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|a dozen|a couple of|a pair of|an?)\b)\s*(?:x\s+)?([A-Za-z][\w'-]*(?:\s+[A-Za-z][\w'-]*){0,3}?)(?=\s+(?:(?:for|at|to|in|on|with|from|by|each|please|per)\b|[$@\u20ac\u00a3])|\s*\n|[,.;!?:()]|$)",
                  seg, re.I)
    if not m:
        return None
    ws = m.group(1).split()
    ws = ws[:1] + list(takewhile(lambda w: not re.search(r"(ed|ing)$", w) or w[0].isupper(), ws[1:]))  # "Oak Serving Board"
    noun = " ".join(ws)  # "2 decanters delivered by ..." -> "decanters"
    return noun if noun and noun.lower().split()[0] not in STOPWORDS | NEGATIONS else None
