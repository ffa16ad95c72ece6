"""Cue words: what kind of value a schema field holds, and which words signal it.

The structured-output extractor reads a field's name and description ("order_id",
"is_urgent", "sentiment") to decide what to look for in the text. The word lists here are
deliberately small and plain, so a learner can read why a field was filled as it was.
"""

from __future__ import annotations

import re

from aie.offline.textutil import NEGATIONS, STOPWORDS, name_words, words

# Cue words per kind of field: a field whose name/description shares a word with a set gets that kind.
KINDS: list[tuple[str, set[str]]] = [
    ("email", {"email", "mail", "e-mail"}),
    ("url", {"url", "link", "website", "homepage", "site", "uri"}),
    ("phone", {"phone", "tel", "telephone", "mobile", "cell"}),
    ("date", {"date", "day", "deadline", "birthday", "dob", "due", "when"}),
    ("time", {"time", "hour", "clock"}),
    ("id", {"id", "sku", "tracking", "ref", "reference", "code", "invoice_number", "order_number", "number"}),
    ("currency", {"currency"}),
    ("language", {"language", "lang", "locale"}),
    ("org", {"company", "organization", "organisation", "employer", "business", "vendor", "supplier", "firm", "brand",
             "org", "merchant", "store", "shop", "bank", "school", "university", "airline", "hotel", "restaurant"}),
    ("location", {"city", "location", "place", "country", "destination", "origin", "address", "where", "venue", "region",
                  "state", "town", "departure", "arrival", "airport", "station", "from_city", "to_city"}),
    ("person", {"name", "person", "customer", "author", "sender", "recipient", "assignee", "owner", "contact", "attendee",
                "user", "manager", "guest", "passenger", "who", "first", "last", "full", "employee", "candidate", "patient",
                "requester", "reviewer", "speaker", "host", "client", "buyer", "organizer", "organiser"}),
    ("quote", {"quote", "quotation", "verbatim"}),
    ("expression", {"expression", "formula", "calculation", "equation", "math", "expr"}),
    ("query", {"query", "q", "search", "keywords", "keyword", "term", "terms", "prompt", "lookup"}),
    ("title", {"title", "subject", "headline", "topic", "event", "product", "item", "meeting", "task", "project", "job",
               "role", "position", "model", "dish", "book", "movie", "plan", "service", "course"}),
    ("text", {"summary", "description", "reason", "issue", "problem", "complaint", "comment", "comments", "notes", "note",
              "message", "body", "content", "feedback", "details", "answer", "text", "explanation", "request", "question",
              "cause", "symptom", "symptoms", "instructions", "response", "reply"}),
]
NUMBER_CUES: dict[str, set[str]] = {
    "money": {"price", "cost", "amount", "total", "salary", "budget", "fee", "paid", "pay", "spend", "revenue", "balance",
              "rent", "income", "wage", "charge", "value", "refund", "deposit", "subtotal", "tip"},
    "people": {"passenger", "guest", "people", "attendee", "participant", "person", "adult", "traveler", "traveller",
               "headcount", "seat", "party", "size", "us", "visitor", "member", "employee", "staff"},
    "age": {"age", "old", "aged", "year"},
    "rating": {"rating", "star", "score", "rate", "rated", "out"},
    "duration": {"minute", "min", "hour", "hr", "day", "week", "month", "duration", "length", "long", "night"},
    "percent": {"percent", "discount", "%", "rate", "percentage", "off"},
    "quantity": {"quantity", "qty", "count", "unit", "piece", "item", "copy", "box", "pack", "bottle", "ticket", "order"},
    "servings": {"serving", "serve", "portion", "people"},
    "year": {"year", "since", "founded", "in"},
}
POSITIVE = set("love loved great excellent amazing fantastic perfect happy good best wonderful awesome superb pleased delighted "
               "recommend brilliant nice fast easy helpful friendly impressed enjoy enjoyed beautiful comfortable reliable "
               "glad satisfied works worked quality smooth".split())
NEGATIVE = set("hate hated terrible awful bad worst poor broken broke disappointed disappointing useless slow rude angry "
               "horrible annoying refund waste unhappy frustrated frustrating faulty defective late never problem issue "
               "cheap flimsy fails failed failing stopped crash crashes crashed wrong missing damaged dirty noisy "
               "unacceptable ridiculous overpriced cracked stiff elsewhere scratched leaked leaking furious livid outraged "
               "appalling pathetic disgusting disgusted".split())
# Complaints said without a negative word ("I'm done with this service").
NEGATIVE_PHRASES = (r"\b(?:i'm|i am|we're|we are) (?:done|finished) with\b|\bfed up\b|\bthe way (?:your|you|the) \w+ treated\b"
                    r"|\bnever again\b|\bwant my money back\b|\blast time i\b|\bnothing (?:at|in|by) (?:my|the) (?:door|doorstep|mailbox|letterbox)\b"
                    r"|\bnever (?:arrived|came|showed up)\b|\bstill (?:hasn't|has not|haven't|have not) (?:arrived|come|shown up)\b|\bplease help\b")
URGENT = {"urgent", "urgently", "asap", "immediately", "emergency", "critical", "now", "blocking", "blocked", "down", "outage", "severe"}
CALM = {"whenever", "rush", "minor", "low", "eventually", "someday", "later"}
BOOL_SYNONYMS = {
    "urgent": {"urgent", "urgently", "asap", "immediately", "emergency", "critical", "right away", "as soon as possible",
               "straight away", "time-sensitive", "time sensitive", "sorted out today", "need this today", "need it today",
               "by tonight", "before tomorrow", "for tomorrow", "by tomorrow", "right now", "fix this now", "fix it now",
               "sort this now", "today please"},
    "remote": {"remote", "remotely", "work from home", "wfh", "from anywhere", "distributed"},

    "refund": {"refund", "money back", "reimburse", "reimbursement"},
    "recommend": {"recommend", "recommended", "should get one", "must-have", "must have", "worth every penny", "worth it", "go buy",
                  "tell a friend to buy", "tell my friends to buy", "buy it again", "would buy again", "buy it",
                  "get one", "get it", "buy them", "tell anyone to buy", "tell everyone to buy", "tell people to buy",
                  "friends to buy", "friends to get", "family to buy", "everyone to get", "told everyone"},
    "vegetarian": {"vegetarian", "veggie", "meat-free", "no meat"},
    "vegan": {"vegan", "plant-based"},
    "express": {"express", "expedited", "overnight", "next-day", "next day", "fastest"},
    "newsletter": {"newsletter", "subscribe", "mailing list"},
    "gift": {"gift", "gift-wrap", "gift wrap", "present"},
    "cancel": {"cancel", "cancellation", "cancelled", "canceled"},
    "return": {"return", "send it back", "send back"},
    "parking": {"parking", "park"},
    "breakfast": {"breakfast"},
    "insurance": {"insurance", "insured", "coverage"},
    "follow": {"follow up", "follow-up", "get back", "call back", "callback", "contact me"},
    "available": {"available", "in stock"},
    "escalate": {"escalate", "manager", "supervisor"},
    "pet": {"pet", "dog", "cat"},
    "wheelchair": {"wheelchair", "accessible", "accessibility"},
}
BOOL_FILLER = {"is", "has", "have", "was", "needs", "need", "wants", "want", "should", "can", "did", "does", "requires",
                "required", "requested", "request", "include", "includes", "included", "with", "allow", "allows", "allowed",
                "flag", "enabled", "option", "would", "will", "shipping", "delivery", "friendly", "ok", "okay", "any", "be"}
COUNTRIES = set("""
Afghanistan Albania Algeria Argentina Armenia Australia Austria Azerbaijan Bangladesh Belarus Belgium Bolivia Bosnia Brazil
Bulgaria Cambodia Cameroon Canada Chile China Colombia Croatia Cuba Cyprus Czechia Denmark Ecuador Egypt England Estonia
Ethiopia Finland France Georgia Germany Ghana Greece Guatemala Hungary Iceland India Indonesia Iran Iraq Ireland Israel Italy
Jamaica Japan Jordan Kazakhstan Kenya Korea Kosovo Latvia Lebanon Lithuania Luxembourg Malaysia Malta Mexico Moldova Mongolia
Montenegro Morocco Nepal Netherlands Nigeria Norway Pakistan Panama Paraguay Peru Philippines Poland Portugal Qatar Romania
Russia Rwanda Scotland Senegal Serbia Singapore Slovakia Slovenia Spain Sweden Switzerland Taiwan Tanzania Thailand Tunisia
Turkey Uganda Ukraine Uruguay Venezuela Vietnam Wales Zambia Zimbabwe USA UK UAE
""".split()) | {"United States", "United Kingdom", "South Africa", "South Korea", "New Zealand", "Saudi Arabia", "Sri Lanka",
                "Costa Rica", "Czech Republic", "United Arab Emirates", "Dominican Republic", "North Macedonia", "Ivory Coast"}
LANGUAGES = ["English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Korean", "Japanese", "Chinese",
             "Mandarin", "Arabic", "Russian", "Hindi", "Polish", "Swedish", "Turkish", "Greek", "Norwegian", "Danish", "Finnish"]


def field_words(name: str, schema: dict) -> set[str]:
    ws = set(name_words(name))
    ws |= {w for w in words(schema.get("title", "") + " " + schema.get("description", "")) if w not in STOPWORDS}
    return ws


def field_kind(name: str, schema: dict) -> str | None:
    fmt = schema.get("format")
    if fmt in ("email", "idn-email"):
        return "email"
    if fmt in ("uri", "url", "iri"):
        return "url"
    if fmt in ("date", "date-time"):
        return "date"
    if fmt == "time":
        return "time"
    nw = set(name_words(name))
    if "_".join(name_words(name)) in {"order_number", "invoice_number", "tracking_number", "account_number", "case_number"}:
        return "id"
    for kind, cues in KINDS:
        if nw & cues and not (kind == "id" and "number" in nw and (nw - {"number"}) & {"phone", "passengers", "guests", "people"}):
            if kind == "id" and nw == {"number"}:
                continue
            if kind == "date" and schema.get("type") in ("integer", "number"):
                continue
            return kind
    dw = field_words(name, schema) - nw
    for kind, cues in KINDS:
        if dw & cues and kind in {"email", "url", "phone", "date", "org", "location", "person"}:
            return kind
    return None


def polarity_choice(values: list[str], text: str) -> str | None:
    score = 0
    toks = re.findall(r"[a-z']+", text.lower())
    pos = neg = 0
    for i, w in enumerate(toks):
        pol = 1 if w in POSITIVE else (-1 if w in NEGATIVE else 0)
        if pol and any(x in NEGATIONS or x.endswith("n't") for x in toks[max(0, i - 3): i]):
            pol = -2 if pol > 0 else 1  # "not happy" is a complaint; "not bad" is mild praise
        score += pol
        pos, neg = pos + (pol > 0), neg + (pol < 0)
    mixed = [v for v in values if v.lower().startswith("mixed")]
    middling = re.search(r"\b3\s*/\s*5\b|\b(?:3|three) stars?\b|\b(?:3|three) out of (?:5|five)\b", text.lower())
    if mixed and (middling or pos and neg and re.search(r"\b(?:but|although|though|however)\b", text.lower())):
        return mixed[0]  # "3/5. Powerful and easy to clean, but loud": praise and complaint together
    for m in re.finditer(r"\b([0-5](?:\.5)?)\s*/\s*5\b|\b([1-5]|one|two|three|four|five) stars?\b", text.lower()):  # "2/5", "four stars"
        g = m.group(1) or m.group(2)
        r = float(g) if g[0].isdigit() else "one two three four five".split().index(g) + 1
        score += 2 if r >= 4 else (-2 if r <= 2 else 0)
    score -= 2 * len(re.findall(NEGATIVE_PHRASES, text.lower()))
    groups = {
        1: [v for v in values if re.match(r"(pos|good|happy|satisf|like|love|great)", v.lower())],
        -1: [v for v in values if re.match(r"(neg|bad|angry|unhappy|dissatisf|frustrat|upset|dislike)", v.lower())],
        0: [v for v in values if re.match(r"(neu|mixed|ok|meh|indifferent|average)", v.lower())],
    }
    key = 1 if score > 0 else (-1 if score < 0 else 0)
    cands = groups[key] or (groups[0] if key else [])
    return cands[0] if cands else None


def urgency_choice(values: list[str], text: str) -> str | None:
    toks = set(re.findall(r"[a-z']+", text.lower()))
    order = {"critical": 4, "urgent": 4, "highest": 4, "p1": 4, "high": 3, "p2": 2, "medium": 2, "normal": 2, "moderate": 2,
             "low": 1, "p3": 1, "lowest": 0, "minor": 1, "major": 3}
    ranked = sorted([v for v in values if v.lower() in order], key=lambda v: order[v.lower()])
    if len(ranked) < 2:
        return None
    if toks & URGENT and not re.search(r"\bnot (urgent|critical)\b", text.lower()):
        return ranked[-1]
    if toks & CALM or re.search(r"\bnot (urgent|critical)|no rush|no hurry|when(ever)? you (get|have) (a )?(chance|time)", text.lower()):
        return ranked[0]
    mids = [v for v in ranked if order[v.lower()] == 2]
    return mids[0] if mids else None
