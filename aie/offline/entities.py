"""Typed spans found in text: numbers, money, dates, times, emails, URLs, phones, ids, names, quotes.

Each finder returns :class:`Span` objects with their character offsets, so the
structured-output and tool-argument fillers can tell which words surround a value
("3 laptops", "aged 42", "$1,200") and never use the same span for two fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

TODAY = date(2026, 1, 1)  # the offline backend's fixed "now" (api.CREATED): dates without a year use it

MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
# Month names in Spanish, French, German, Portuguese and Italian: "el 14 de enero", "le 3 mars", "am 5. Februar"
FOREIGN_MONTHS = {m: i % 12 + 1 for i, m in enumerate(
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
    "janvier f\u00e9vrier mars avril mai juin juillet ao\u00fbt septembre octobre novembre d\u00e9cembre "
    "januar februar m\u00e4rz april mai juni juli august september oktober november dezember "
    "janeiro fevereiro mar\u00e7o abril maio junho julho agosto setembro outubro novembro dezembro "
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split())}
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                     "hundred": 100, "a dozen": 12, "dozen": 12, "a couple of": 2, "a pair of": 2, "single": 1, "a single": 1})
CURRENCIES = {
    "btc": "BTC", "bitcoin": "BTC", "bitcoins": "BTC",
    "usd": "USD", "dollar": "USD", "dollars": "USD", "$": "USD", "us dollars": "USD", "bucks": "USD",
    "eur": "EUR", "euro": "EUR", "euros": "EUR", "\u20ac": "EUR",
    "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "quid": "GBP", "\u00a3": "GBP",
    "jpy": "JPY", "yen": "JPY", "\u00a5": "JPY", "chf": "CHF", "swiss francs": "CHF", "franc": "CHF", "francs": "CHF",
    "cad": "CAD", "canadian dollars": "CAD", "canadian dollar": "CAD", "aud": "AUD", "australian dollars": "AUD",
    "australian dollar": "AUD", "aussie dollars": "AUD", "us dollar": "USD", "japanese yen": "JPY", "swiss franc": "CHF",
    "british pounds": "GBP", "indian rupees": "INR", "nzd": "NZD", "new zealand dollars": "NZD", "hkd": "HKD",
    "hong kong dollars": "HKD", "sgd": "SGD", "singapore dollars": "SGD", "inr": "INR", "rupees": "INR",
    "krw": "KRW", "won": "KRW", "cny": "CNY", "yuan": "CNY", "rmb": "CNY", "mxn": "MXN", "pesos": "MXN",
    "sek": "SEK", "kronor": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN", "zloty": "PLN", "z\u0142oty": "PLN", "z\u0142": "PLN", "brl": "BRL", "reais": "BRL",
}
# Currencies by the names people use for them: a country's adjective before the plural name, or a name of its own.
_NAMED = {
    "USD": "us bucks|american dollars|us$", "EUR": "eurozone euros", "GBP": "pounds sterling|british pound|uk pounds|sterling pounds",
    "EGP": "egyptian pounds|egyptian pound", "JPY": "japanese yen", "KRW": "korean won|south korean won",
    "CNY": "chinese yuan|renminbi", "INR": "indian rupee", "PKR": "pakistani rupees|pakistani rupee",
    "LKR": "sri lankan rupees", "NPR": "nepalese rupees", "MXN": "mexican pesos|mexican peso|peso",
    "ARS": "argentine pesos|argentinian pesos", "CLP": "chilean pesos", "COP": "colombian pesos", "PHP": "philippine pesos",
    "BRL": "brazilian reais|brazilian real|brazilian reals", "SEK": "swedish kronor|swedish krona|swedish crowns",
    "NOK": "norwegian kroner|norwegian krone|norwegian crowns", "DKK": "danish kroner|danish krone|danish crowns",
    "ISK": "icelandic kronur|icelandic krona", "CZK": "czech koruna|czech crowns|koruna", "HUF": "hungarian forint|forint|forints",
    "RON": "romanian lei|romanian leu", "BGN": "bulgarian lev|leva", "TRY": "turkish lira|turkish liras|lira|liras",
    "ZAR": "south african rand|rand", "NGN": "nigerian naira|naira", "KES": "kenyan shillings|kenyan shilling",
    "UGX": "ugandan shillings", "TZS": "tanzanian shillings", "GHS": "ghanaian cedis|cedis", "MAD": "moroccan dirhams|moroccan dirham",
    "AED": "uae dirhams|emirati dirhams|dirhams|dirham", "SAR": "saudi riyals|saudi riyal|riyals", "QAR": "qatari riyals",
    "ILS": "israeli shekels|shekels|shekel", "RUB": "russian roubles|russian rubles|roubles|rubles", "UAH": "ukrainian hryvnia|hryvnia",
    "THB": "thai baht|baht", "VND": "vietnamese dong", "IDR": "indonesian rupiah|rupiah", "MYR": "malaysian ringgit|ringgit",
    "TWD": "taiwan dollars|taiwanese dollars|new taiwan dollars", "HKD": "hk dollars", "SGD": "singaporean dollars",
    "NZD": "kiwi dollars|nz dollars", "CAD": "canadian bucks|loonies", "AUD": "australian bucks|aussie bucks",
    "CHF": "swiss franc", "PLN": "polish zloty|polish zlotys|zlotys"
}
for _code, _names in _NAMED.items():
    for _name in filter(None, _names.split("|")):
        CURRENCIES.setdefault(_name, _code)
for _code in ("PKR", "LKR", "ARS", "CLP", "COP", "PHP", "ISK", "CZK", "HUF", "RON", "BGN", "TRY", "ZAR", "NGN", "KES", "UGX",
              "TZS", "GHS", "MAD", "AED", "SAR", "QAR", "ILS", "RUB", "UAH", "THB", "VND", "IDR", "MYR", "TWD", "EGP"):
    CURRENCIES.setdefault(_code.lower(), _code)
COMMON_CAPS = {
    "i", "the", "a", "an", "hi", "hello", "hey", "dear", "thanks", "thank", "please", "my", "our", "we", "it", "this",
    "that", "yes", "no", "ok", "okay", "can", "could", "would", "will", "what", "when", "where", "who", "how", "why",
    "is", "are", "do", "does", "also", "and", "but", "so", "if", "then", "there", "here", "they", "he", "she", "you",
    "your", "regards", "best", "cheers", "sincerely", "order", "ticket", "re", "fwd", "subject", "note", "urgent",
    "asap", "today", "tomorrow", "yesterday", "tonight", "next", "last", "send", "email", "book", "schedule", "find",
    "search", "look", "get", "check", "convert", "set", "create", "add", "remind", "tell", "show", "what's", "i'm",
    "i'd", "i've", "let", "let's", "just", "still", "after", "before", "since", "for", "from", "to", "in", "on", "at",
    "with", "by", "of", "as", "not", "ignore", "json", "output", "input", "extract", "return", "name", "ceo", "cto",
    "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "llc", "corp", "gmbh", "mon", "tue", "wed", "thu", "fri", "sat",
    "sun", "usd", "eur", "gbp", "api", "we're", "we've", "we'll", "you're", "they're", "it's", "here's", "there's", "i'll", "faq", "id", "ps", "p.s", "fyi", "all", "none", "some", "any", "each", "every",
    "name's", "it's", "that's", "he's", "she's",
}
# Verbs and other words that often open a sentence with a capital letter ("Met Priya Raman", "Join Fjord Robotics").
OPENERS = set("""
met meet meeting join joined joining contact contacted call called calling ask asked visit visited see saw seen send sent
book booked add added order ordered bought buy invite invited hire hired hiring reach reached talk talked spoke speak tell
told welcome welcomed congrats congratulations happy great sorry attn attention via per about regarding reminder note new
please kindly forward forwarded cc bcc from signed submitted received reply replied update updated ping pinged introduce
introducing describe explain summarise summarize translate meet-up lunch dinner thanks thank cheers hello hey hi dear greetings good morning afternoon evening profile
customer client user guest passenger candidate lead contact name employee manager director
""".split())
ORG_SUFFIX = r"(?:Inc\.?|Ltd\.?|LLC|Corp\.?|Corporation|GmbH|AG|SA|AS|ASA|AB|Oy|Oyj|BV|NV|SpA|Srl|PLC|plc|Pty|Co\.|Company|Group|Labs|Systems|Technologies|Bank|University|Works|Clinic|Partners|Associates|Consulting|Solutions|Studios?|Capital|Logistics|Industries|Holdings|Agency|Foundation|Institute|Hospital|College|Ventures|Architects|Pharmaceuticals|Motors|Airlines|Foods|Services|Trust)"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    value: Any
    kind: str


def _num(s: str) -> float:
    return float(s.replace(",", "").replace("\u2009", ""))


_PEOPLE = (r"\b(?:my|our)\s+(?:partner|wife|husband|friend|colleague|boss|son|daughter|mum|mom|dad|sister|brother|girlfriend|boyfriend|fianc\u00e9e?)\s+and\s+(?:I|me|myself)\b"
           r"|\b(?:me|I|myself)\s+(?:and|plus|\+)\s+(?:my\s+)?(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:colleagues|friends|others|kids|children|people|co-?workers|guests|teammates|family members)\b")


@lru_cache(maxsize=512)
def numbers(text: str) -> tuple[Span, ...]:
    """Numbers with their kind: money (with currency), percent, plain; words like 'two' and 'a dozen' too."""
    out: list[Span] = []
    taken = [(s.start, s.end) for s in (*dates(text), *times(text), *phones(text), *emails(text), *urls(text), *ids(text))]

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    money = re.compile(r"(?P<cur>[$\u20ac\u00a3\u00a5])\s?(?P<n>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<mult>k|m|million|thousand)\b)?"
                       r"|(?P<n2>\d[\d,]*(?:\.\d+)?)\s?(?P<mult2>k|m|million|thousand)?\s?(?P<cur2>" + "|".join(sorted((re.escape(k) for k in CURRENCIES if re.fullmatch(r"[a-z ]+", k)), key=len, reverse=True)) + r")\b",
                       re.I)
    for m in money.finditer(text):
        if not free(m.start(), m.end()):
            continue
        n = _num(m.group("n") or m.group("n2"))
        mult = (m.group("mult") or m.group("mult2") or "").lower()
        n *= {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(mult, 1)
        cur = CURRENCIES.get((m.group("cur") or m.group("cur2") or "").lower(), "")
        out.append(Span(m.start(), m.end(), m.group(0), n, "money:" + cur))
        taken.append((m.start(), m.end()))
    for m in re.finditer(r"(?<![\w.#-])(-?\d[\d,]*(?:\.\d+)?)(\s?(?:%|percent\b))?(\s?k\b)?(?![\w-]*\d)(?![A-Z]\b)", text):  # "Room 4B" holds no number
        if not free(m.start(), m.end()):
            continue
        raw = m.group(1)
        if re.fullmatch(r"\d{1,3}(,\d{3})+|\d+(\.\d+)?|-\d+(\.\d+)?", raw) is None:
            raw = raw.split(",")[0]
        n = _num(raw) * (1000 if m.group(3) else 1)
        out.append(Span(m.start(), m.end(), m.group(0), n, "percent" if m.group(2) else "number"))
        taken.append((m.start(), m.end()))
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    for m in re.finditer(r"\b(" + "|".join(tens) + r")[- ](one|two|three|four|five|six|seven|eight|nine)\b", text, re.I):
        if free(m.start(), m.end()):  # "thirty-five"
            out.append(Span(m.start(), m.end(), m.group(0), float(NUMBER_WORDS[m.group(1).lower()] + NUMBER_WORDS[m.group(2).lower()]), "word"))
            taken.append((m.start(), m.end()))
    for m in re.finditer(_PEOPLE, text, re.I):  # "my partner and I" is two people, "me and two colleagues" three
        if free(m.start(), m.end()):
            k = m.group("n")
            n = 2 if k is None else 1 + (int(k) if k.isdigit() else NUMBER_WORDS.get(k.lower(), 1))
            out.append(Span(m.start(), m.end(), m.group(0), float(n), "people"))
            taken.append((m.start(), m.end()))
    for w, n in sorted(NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        for m in re.finditer(rf"\b{w}\b", text, re.I):
            if free(m.start(), m.end()) and not (w in {"one", "single"} and re.match(r"\s+(of|more|another|thing|day)\b", text[m.end():], re.I)):
                out.append(Span(m.start(), m.end(), m.group(0), float(n), "word"))
                taken.append((m.start(), m.end()))
    return tuple(sorted(out, key=lambda s: s.start))


def _valid(y: int, mo: int, d: int) -> str | None:
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None


# Well-known cities, so that "weather in montreal" or "Boston weather?" (a capitalised sentence opener,
# usually just a word) is still read as a place. Names that are also common words ("Nice", "Reading",
# "Split") count only when capitalised and not at the start of a sentence, like any other name.
CITIES = {c.lower(): c for c in """
Amsterdam Athens Atlanta Auckland Austin Baghdad Baltimore Bangalore Bangkok Barcelona Beijing Beirut Belfast Belgrade Bergen
Berlin Bern Bilbao Birmingham Bogota Bologna Bordeaux Boston Bratislava Brisbane Bristol Brussels Bucharest Budapest Cairo
Calgary Cardiff Casablanca Chicago Cologne Copenhagen Cork Dallas Delhi Denver Detroit Dhaka Doha Dresden Dubai Dublin
Dubrovnik Dusseldorf Edinburgh Florence Frankfurt Geneva Genoa Glasgow Gothenburg Granada Graz Hamburg Hanoi Havana Helsinki
Honolulu Houston Innsbruck Istanbul Jakarta Jerusalem Johannesburg Karachi Kathmandu Kiev Kyiv Krakow Kyoto Lagos Lahore
Leeds Leipzig Lima Lisbon Liverpool Ljubljana London Lyon Madrid Malmo Manchester Manila Marrakech Marseille Melbourne Miami
Milan Minneapolis Montreal Moscow Mumbai Munich Nairobi Nantes Naples Nashville Oslo Ottawa Oxford Palermo Paris Perth
Philadelphia Phoenix Pittsburgh Porto Prague Reykjavik Riga Rome Rotterdam Salzburg Santiago Sarajevo Seattle Seoul Seville
Shanghai Sofia Stockholm Stuttgart Sydney Taipei Tallinn Tbilisi Tehran Tokyo Toronto Toulouse Trondheim Turin Uppsala
Valencia Vancouver Venice Vienna Vilnius Warsaw Wellington Winnipeg Zagreb Zurich Osaka Cambridge Brighton Marbella Malaga
Heidelberg Nuremberg Antwerp Ghent Bruges Utrecht Eindhoven Aarhus Odense Tampere Turku Lausanne Basel Lucerne Verona Pisa
Bari Catania Split Nice Reading Bath Mobile
Sapporo Fukuoka Nagoya Kobe Yokohama Hiroshima Nara Busan Incheon Daegu Shenzhen Guangzhou Chengdu Wuhan Hangzhou Nanjing Xiamen
Macau Singapore Penang Phuket Bali Denpasar Cebu Kolkata Chennai Hyderabad Pune Jaipur Goa Kochi Colombo Kabul
Islamabad Muscat Riyadh Jeddah Amman Manama Ankara Izmir Antalya Baku Yerevan Almaty Tashkent Accra Abuja Dakar
Kampala Kigali Zanzibar Mombasa Durban Pretoria Windhoek Lusaka Harare Tunis Algiers Rabat Fez Tangier Luxor
Alexandria Quito Medellin Cartagena Cali Caracas Montevideo Asuncion Cusco Valparaiso Cordoba Rosario Mendoza Guadalajara
Monterrey Cancun Tijuana Oaxaca Kingston Nassau Anchorage Seattle Portland Sacramento Oakland Tucson Albuquerque
Dallas Orlando Tampa Charlotte Raleigh Richmond Cleveland Cincinnati Columbus Indianapolis Milwaukee Memphis Louisville
Omaha Boise Edmonton Halifax Victoria Regina Saskatoon Canberra Adelaide Hobart Darwin Cairns Christchurch Queenstown
Hamilton Tauranga Nuuk Tromso Stavanger Aalborg Espoo Oulu Linkoping Lund Orebro Vasteras Umea Kiruna Gdansk Wroclaw Poznan
Lodz Katowice Brno Ostrava Kosice Debrecen Cluj Timisoara Iasi Varna Plovdiv Thessaloniki Heraklion Patras Skopje Tirana Podgorica
Lviv Odesa Kharkiv Dnipro Minsk Chisinau Kaunas Tartu Turku Innsbruck Linz Klagenfurt Bern Lugano Zermatt Davos Hanover
Bremen Dortmund Essen Bonn Mannheim Karlsruhe Freiburg Augsburg Regensburg Wurzburg Munster Kiel Rostock Lubeck Aachen Leeds
Sheffield Newcastle Nottingham Leicester Southampton Portsmouth Plymouth Exeter Norwich York Aberdeen Dundee Inverness Swansea
Galway Limerick Derry Lille Strasbourg Montpellier Rennes Grenoble Dijon Reims Tours Avignon Cannes Biarritz Ajaccio Seville Malaga
Zaragoza Palma Alicante Murcia Cadiz Ibiza Tenerife Santander Salamanca Coimbra Braga Faro Funchal Trieste Padua Bergamo
Parma Modena Siena Perugia Lecce Cagliari Sorrento Amalfi Luxembourg Monaco Valletta Nicosia Limassol Larnaca
K\u00f6ln Koln M\u00fcnchen Munchen Wien Praha Roma Milano Firenze Venezia Napoli Torino Lisboa Sevilla Gen\u00e8ve Geneve
Warszawa Krak\u00f3w Bruxelles G\u00f6teborg Goteborg K\u00f8benhavn Kobenhavn Z\u00fcrich Malm\u00f6 Bogot\u00e1 Medell\u00edn Montr\u00e9al
""".split()} | {c.lower(): c for c in ("Chiang Mai", "Addis Ababa", "Dar es Salaam", "San Juan", "Kansas City", "Panama City",
                                      "Kuwait City", "Novi Sad", "San Jose", "San Antonio", "Santa Fe", "St Louis", "Saint Petersburg",
                                      "Guatemala City", "Santo Domingo", "La Paz", "Port Louis", "Siem Reap", "Phnom Penh", "Hoi An", "Da Nang",
                                      "Iloilo", "Cebu City", "Davao", "Manila", "Luang Prabang", "Kota Kinabalu",
                                      "New York", "Los Angeles", "San Francisco", "San Diego", "Las Vegas", "New Orleans",
                                      "Mexico City", "Hong Kong", "Buenos Aires", "Rio de Janeiro", "Sao Paulo", "Tel Aviv",
                                      "Cape Town", "Kuala Lumpur", "Ho Chi Minh City", "Washington DC", "St Petersburg",
                                      "Salt Lake City", "Abu Dhabi", "Quebec City", "Palma de Mallorca")}
_MULTIWORD_CITY = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in sorted((c for c in CITIES if " " in c), key=len, reverse=True)) + r")\b", re.I)
_WORDLIKE_CITIES = {"split", "nice", "reading", "bath", "mobile", "phoenix", "cork", "perth", "tours", "victoria", "hamilton", "darwin",
                    "regina", "columbus", "orlando", "charlotte", "richmond", "kingston", "santander", "cali", "alexandria",
                    "florence", "sofia", "lima", "york", "nassau", "panama", "graz", "lund", "bonn"}


@lru_cache(maxsize=512)
def dates(text: str) -> tuple[Span, ...]:
    """Calendar dates in common formats, as ISO strings (relative words like 'tomorrow' use the fixed TODAY)."""
    out: list[Span] = []
    mon = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
    pats = [
        (r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b", "ymd"),
        (r"\b(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})\b", "ymd"),
        (r"\b(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})\b", "mdy"),
        (r"\b(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})\b", "ymd"),
        (rf"\b{mon}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?![:.]\d)(?:,?\s+(?P<y>\d{{4}}))?\b", "name"),  # not "Jan 09:45"
        (rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{mon}(?:,?\s+(?P<y>\d{{4}}))?\b", "name"),
    ]
    for pat, how in pats:
        for m in re.finditer(pat, text, re.I):
            if any(not (m.end() <= s.start or m.start() >= s.end) for s in out):
                continue
            g = m.groupdict()
            y = int(g["y"]) if g.get("y") else TODAY.year
            mo = MONTHS[g["mon"].lower().rstrip(".")[:4] if g["mon"].lower().startswith("sept") else g["mon"].lower()[:3]] if how == "name" else int(g["mo"])
            d = int(g["d"])
            if how == "mdy" and mo > 12:  # 25/12/2025 is day-first
                mo, d = d, mo
            iso = _valid(y, mo, d)
            if iso:
                out.append(Span(m.start(), m.end(), m.group(0), iso, "date"))
    fmon = "|".join(sorted((m for m in FOREIGN_MONTHS if m not in MONTHS), key=len, reverse=True))
    for m in re.finditer(rf"\b(?P<d>\d{{1,2}})\.?\s+(?:de\s+)?(?P<mon>{fmon})\b(?:\s+(?:de\s+)?(?P<y>\d{{4}}))?", text, re.I):
        if not any(not (m.end() <= s.start or m.start() >= s.end) for s in out):
            iso = _valid(int(m.group("y") or TODAY.year), FOREIGN_MONTHS[m.group("mon").lower()], int(m.group("d")))
            if iso:
                out.append(Span(m.start(), m.end(), m.group(0), iso, "date"))
    from datetime import timedelta

    for m in re.finditer(r"\b(today|tomorrow|yesterday)\b", text, re.I):
        off = {"today": 0, "tomorrow": 1, "yesterday": -1}[m.group(1).lower()]
        out.append(Span(m.start(), m.end(), m.group(0), (TODAY + timedelta(days=off)).isoformat(), "date"))
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for m in re.finditer(r"\b(?:(?:next|this|coming|on)\s+)?(" + "|".join(days) + r")\b(?!s)", text, re.I):
        written = [s for s in out if s.start <= m.start() < s.end or 0 <= s.start - m.end() <= 3]
        if re.search(r"\b(?:a|any|each)\s+$", text[max(0, m.start() - 5): m.start()], re.I):
            continue  # "an email on a Sunday" is any Sunday
        if written or re.match(r"\s*(?:to|-|through|until|till)\s+\w+day\b", text[m.end():], re.I) \
                or re.search(r"(?:\b(?:from|every|last)|-)\s*$", text[max(0, m.start() - 8): m.start()], re.I) \
                or (re.search(r"\b(?:to|through|until|till)\s*$", text[max(0, m.start() - 8): m.start()], re.I)
                    and re.search(r"\b(?:from|\w+day)\b", text[max(0, m.start() - 30): m.start()], re.I)):
            continue  # "Friday 15 May" has its date; "Monday to Saturday" and "every Monday" are not one day
        ahead = (days.index(m.group(1).lower()) - TODAY.weekday()) % 7 or 7  # the coming one, from the fixed TODAY
        out.append(Span(m.start(), m.end(), m.group(0), (TODAY + timedelta(days=ahead)).isoformat(), "date"))
    return tuple(sorted(out, key=lambda s: s.start))


_HOURS = "one two three four five six seven eight nine ten eleven twelve".split()


_LATER = r"(?:\s+o'clock)?\s*(?:in the (?:afternoon|evening)|at night|tonight)\b"


@lru_cache(maxsize=512)
def times(text: str) -> tuple[Span, ...]:
    """Clock times as HH:MM (24 h): '3pm', '3:30 pm', '15:30', 'noon'."""
    out = []
    for m in re.finditer(r"\b(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s?(?P<ap>[ap]\.?m\.?)(?![a-z])|\b(?P<h2>\d{1,2}):(?P<m2>\d{2})\b", text, re.I):
        h = int(m.group("h") or m.group("h2"))
        mi = int(m.group("m") or m.group("m2") or 0)
        ap = (m.group("ap") or "").lower().replace(".", "")
        if ap == "pm" and h < 12:
            h += 12
        if ap == "am" and h == 12:
            h = 0
        if not ap and h < 12 and re.match(_LATER, text[m.end():], re.I):  # "6:30 in the evening"
            h += 12
        if h < 24 and mi < 60:
            out.append(Span(m.start(), m.end(), m.group(0), f"{h:02d}:{mi:02d}", "time"))
    for m in re.finditer(r"\b(?P<h>\d{1,2})(?=(?:\s+o'clock)?\s+(?:in the (?:morning|afternoon|evening)|at night|tonight)\b)", text, re.I):
        h = int(m.group("h"))
        if h <= 12 and not any(sp.start <= m.start() < sp.end for sp in out):
            h = h + 12 if h < 12 and re.match(_LATER, text[m.end():], re.I) else h % 12 if h == 12 else h
            out.append(Span(m.start(), m.end(), m.group(0), f"{h:02d}:00", "time"))
    spoken = r"(?P<q>quarter|half|\d{1,2}|ten|twenty|twenty-five|five)\s+(?P<rel>past|to|after)\s+(?P<h>\d{1,2}|" + "|".join(_HOURS) + r")\b(?P<rest>(?:\s+o'clock)?\s*(?:in the (?:morning|afternoon|evening)|at night|[ap]\.?m\.?|tonight)?)"
    for m in re.finditer(spoken, text, re.I):
        h = int(m.group("h")) if m.group("h").isdigit() else _HOURS.index(m.group("h").lower()) + 1
        q = m.group("q").lower()
        mins = {"quarter": 15, "half": 30, "ten": 10, "twenty": 20, "twenty-five": 25, "five": 5}.get(q) or int(q)
        if m.group("rel").lower() == "to":
            h, mins = (h - 1) or 12, 60 - mins
        rest = m.group("rest").lower()
        if re.search(r"afternoon|evening|night|p\.?m|tonight", rest) and h < 12:
            h += 12
        if h < 24 and mins < 60 and not any(sp.start <= m.start() < sp.end for sp in out):
            out.append(Span(m.start(), m.end(), m.group(0).strip(), f"{h:02d}:{mins:02d}", "time"))
    spoken_spans = [sp for sp in out if not re.match(r"\d{1,2}(:\d{2})?\s?[ap]", sp.text, re.I) and " " in sp.text]
    out = [sp for sp in out if sp in spoken_spans or not any(o.start <= sp.start and sp.end <= o.end for o in spoken_spans)]
    for m in re.finditer(r"\bat\s+(\d{1,2})\b(?![:.,]\d|\s*(?:%|[ap]\.?m\b|o'clock|in the|at night|tonight|[a-z]*\s*(?:people|persons|guests|euros?|dollars?|percent|kg|km|degrees|st|nd|rd|th)\b))", text, re.I):
        h = int(m.group(1))  # "a call next Tuesday at 4": a bare hour in working hours
        if 1 <= h <= 12 and not any(sp.start <= m.start(1) < sp.end for sp in out):
            out.append(Span(m.start(1), m.end(1), m.group(1), f"{h + 12 if h < 8 else h:02d}:00", "time"))
    for m in re.finditer(r"\b(noon|midday|midnight)\b", text, re.I):
        out.append(Span(m.start(), m.end(), m.group(0), "00:00" if m.group(1).lower() == "midnight" else "12:00", "time"))
    return tuple(sorted(out, key=lambda s: s.start))


@lru_cache(maxsize=512)
def emails(text: str) -> tuple[Span, ...]:
    return tuple(Span(m.start(), m.end(), m.group(0), m.group(0), "email")
                 for m in re.finditer(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text))


@lru_cache(maxsize=512)
def urls(text: str) -> tuple[Span, ...]:
    return tuple(Span(m.start(), m.end(), m.group(0).rstrip(".,)"), m.group(0).rstrip(".,)"), "url")
                 for m in re.finditer(r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+", text))


@lru_cache(maxsize=512)
def phones(text: str) -> tuple[Span, ...]:
    pat = (r"(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}[\s.-]\d{3,4}(?:[\s.-]\d{2,4})?(?![\w])"
           r"|(?<![\w])\+\d{1,3}(?:[\s.-]\d{1,5}){2,6}(?![\w])")  # "+47 22 41 88 10", "+55 11 98765 4321"
    return tuple(Span(m.start(), m.end(), m.group(0), m.group(0), "phone") for m in re.finditer(pat, text)
                 if sum(c.isdigit() for c in m.group(0)) >= 7 and not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", m.group(0)))


@lru_cache(maxsize=512)
def ids(text: str) -> tuple[Span, ...]:
    """Identifiers such as order numbers: '#48213', 'A-1234', 'INV-2025-007', 'TK8841'."""
    out = []
    for m in re.finditer(r"\b[a-z]{2,6}_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{4,}\b|\b[A-Z]{2,}(?:/[A-Z0-9]+){2,}\b", text):  # "ord_9f3Tq28", "AMZ/DE/003318"
        out.append(Span(m.start(), m.end(), m.group(0), m.group(0), "id"))
    for m in re.finditer(r"(?<![\w-])\d{2,}(?:-\d{2,}){2,}(?![\w-])", text):  # "100-2345-678", not a date or a 555-123-4567 phone
        if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{3}-\d{3}-\d{4}", m.group(0)):
            out.append(Span(m.start(), m.end(), m.group(0), m.group(0), "id"))
    for m in re.finditer(r"#[A-Z]{0,3}\d{3,}(?:-[A-Z0-9]+)*\b|\b\d{3,}-[A-Z0-9]{1,4}\b(?!-)|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b|\b[A-Z]{2,}\d{2,}\b|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)+\b", text):
        if not any(s.start < m.end() and m.start() < s.end for s in out):
            out.append(Span(m.start(), m.end(), m.group(0), m.group(0), "id"))
    for m in re.finditer(r"\b(?:order|ticket|invoice|case|booking|reference|ref|account|tracking)\s*(?:number|no\.?|id|#)?\s*(?:is\s+)?[:#]?\s*"
                         r"(\d+(?:-\d+)+|\d{4,}|(?=[A-Z\d]*\d)(?=\d*[A-Z])[A-Z\d]{5,})\b", text, re.I):
        if not any(s.start <= m.start(1) < s.end for s in out):
            out.append(Span(m.start(1), m.end(1), m.group(1), m.group(1), "id"))
    return tuple(sorted(out, key=lambda s: s.start))


@lru_cache(maxsize=512)
def quoted(text: str) -> tuple[Span, ...]:
    pat = r"\"([^\"\n]{1,200})\"|\u201c([^\u201d\n]{1,200})\u201d|(?<![A-Za-z])'([^'\n]{2,200})'(?![A-Za-z])"
    return tuple(Span(m.start(), m.end(), m.group(0), next(g for g in m.groups() if g is not None), "quote")
                 for m in re.finditer(pat, text))


@lru_cache(maxsize=512)
def proper_names(text: str) -> tuple[Span, ...]:
    """Runs of capitalised words that are not sentence openers or common words: people, places, companies."""
    out = []
    up, low = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017f", "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u017f"  # "Tom\u00e1s", "\u00c5sa", "Gda\u0144sk"
    word = rf"(?:[{up}][{low}]+(?:[-'][{up}]?[{low}]+)?|[A-Z]{{2,}}(?![{low}])|[A-Z]\.)"
    for m in re.finditer(rf"{word}(?:[ \t]+(?:(?:van|de|der|da|von|del|la|le|of|&)[ \t]+)?{word})*(?:[ \t]+{ORG_SUFFIX})?", text):
        toks = m.group(0).split()
        start = m.start()
        while toks and (toks[0].lower().strip(".") in COMMON_CAPS or toks[0].lower() in MONTHS or toks[0].lower() in WEEKDAYS
                        or (toks[0].lower() in OPENERS and at_sentence_start(text, start))):
            start += len(toks[0]) + 1
            toks = toks[1:]
        while toks and (toks[-1].lower().strip(".") in COMMON_CAPS - {"inc", "ltd", "llc", "corp", "gmbh"} and not re.fullmatch(ORG_SUFFIX, toks[-1])
                        or toks[-1].lower() in MONTHS or toks[-1].lower() in WEEKDAYS):
            toks = toks[:-1]
        if not toks:
            continue
        if toks and re.fullmatch(r"[A-Z]\.", toks[-1]) and (not re.match(r"\s+[A-Z]", text[start + len(" ".join(toks)):])
                                                             or len(toks) > 1 and toks[-2] in _NUMBERED):
            toks[-1] = toks[-1][0]  # "Room B." at the end of a sentence: the period ends the sentence
        s = " ".join(toks)
        num = re.match(r"[ \t]+([A-Z]?\d{1,4}[A-Z]?|[A-Z])\b", text[start + len(s):])
        if num and toks[-1] in _NUMBERED and text[start:start + len(s)] == s:
            s += num.group(0)  # "Training Room 3", "Gate B"
            toks = s.split()
        if (len(toks) == 1 and at_sentence_start(text, start) and not re.search(r"(?:^|\n)[ \t]*[A-Za-z][A-Za-z ]{0,30}:[ \t]*$", text[:start])
                and (toks[0].lower() not in CITIES or toks[0].lower() in _WORDLIKE_CITIES)):
            continue  # a lone capitalised sentence opener is usually just a word ("Call me"), unless a form line's value
        if s.isupper() and len(s) <= 4 and s.lower() in CURRENCIES:
            continue
        kind = "org" if re.search(ORG_SUFFIX + r"$", s) else "name"
        out.append(Span(start, start + len(s), s, s, kind))
    for m in _MULTIWORD_CITY.finditer(text):  # "Hoi An", "Da Nang": a known city whose second word alone looks common
        if m.group(0)[0].isupper() and not any(s.start <= m.start() and m.end() <= s.end for s in out):
            out = [s for s in out if not (s.start < m.end() and m.start() < s.end)]
            out.append(Span(m.start(), m.end(), m.group(0), CITIES[m.group(0).lower()], "name"))
    for m in re.finditer(r"(?<![\w\u00c0-\u017f])[a-z\u00df-\u00ff]+(?:[ \t]+[a-z\u00df-\u00ff]+){0,3}(?![\w\u00c0-\u017f])", text):  # "weather in montreal"
        for c in _lower_cities(m.group(0)):
            a, b = m.start() + c[0], m.start() + c[1]
            if not any(s.start < b and a < s.end for s in out):
                out.append(Span(a, b, text[a:b], CITIES[text[a:b].lower()], "name"))
    return tuple(sorted(out, key=lambda s: s.start))


def _lower_cities(chunk: str) -> list[tuple[int, int]]:
    """(start, end) of known cities (not word-like ones) inside a run of lower-case words, longest first."""
    out: list[tuple[int, int]] = []
    for m in re.finditer(r"[a-z\u00df-\u00ff]+", chunk):
        for n in (4, 3, 2, 1):
            toks = re.match(r"[a-z\u00df-\u00ff]+(?:[ \t]+[a-z\u00df-\u00ff]+){%d}" % (n - 1), chunk[m.start():])
            if toks and toks.group(0).lower() in CITIES and toks.group(0) not in _WORDLIKE_CITIES:
                a = m.start()
                if not any(x[0] <= a < x[1] for x in out) and (a == 0 or not chunk[a - 1].isalpha()):
                    out.append((a, a + len(toks.group(0))))
                break
    return out


_NUMBERED = {"Room", "Hall", "Suite", "Building", "Floor", "Gate", "Studio", "Lab", "Level", "Terminal", "Platform", "Unit", "Block"}


def at_sentence_start(text: str, pos: int) -> bool:
    """Whether ``pos`` opens a sentence or line."""
    before = text[:pos].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?:\n"


def currency_mentions(text: str) -> list[Span]:
    """Currency codes and names in order of appearance ('dollars', 'EUR', '\u00a3')."""
    out = []
    keys = sorted(CURRENCIES, key=len, reverse=True)
    pat = "|".join(re.escape(k) if not k.isalpha() else rf"\b{re.escape(k)}\b" for k in keys)
    for m in re.finditer(pat, text, re.I):
        if m.group(0).lower() == "won" and not re.search(r"(?:\d|\bhow many|\binto|\bin|\bto|\bkorean)\s*$", text[: m.start()], re.I):
            continue  # "I won 200 dollars" is a verb
        out.append(Span(m.start(), m.end(), m.group(0), CURRENCIES[m.group(0).lower()], "currency"))
    return out


def context_words(text: str, span: Span, before: int = 4, after: int = 3) -> tuple[list[str], list[str]]:
    """The lower-case words just before and just after a span (within its sentence)."""
    left = re.split(r"[.!?;\n]", text[: span.start])[-1]
    right = re.split(r"[.!?;\n]", text[span.end:])[0]
    lw = re.findall(r"[a-z0-9$%\u20ac\u00a3']+", left.lower())[-before:]
    rw = re.findall(r"[a-z0-9$%\u20ac\u00a3']+", right.lower())[:after]
    return lw, rw
