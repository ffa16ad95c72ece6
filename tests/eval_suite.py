"""The code-based eval suite of notebooks/05-evals/02-code-based-evals.ipynb, as a module the regression test runs.

The notebook writes each assertion out and then checks that these functions give the same verdicts on every
trace, so the two cannot drift apart. Each assertion takes one trace (a row of ``aie.evals.traces()``) and
returns True (pass), False (fail) or None (does not apply to this trace).
"""

from __future__ import annotations

import json
import re

import jsonschema

DECLINE = re.compile(r"\b(I )?don'?t know\b", re.I)
CITATION = re.compile(r"\[(S\d+)\]")
FORMAT_NOISE = [
    (re.compile(r"^\s*[\[{]"), "starts like JSON"),
    (re.compile(r"^\s*```"), "starts with a code fence"),
    (re.compile(r"</?tool_(call|response)>"), "tool-call tags"),
    (re.compile(r"^\s*(Thought|Final Answer)\s*:", re.I | re.M), "a Thought:/Final Answer: line"),
]
STOPPED = re.compile(r"^Stopped after \d+ steps without a final answer\.$")
RAW_ERROR = re.compile(r"\b[A-Z][A-Za-z]*Error\b|Traceback|\berror:\s", re.I)
CUSTOMER_EMAILS = {"mina.park@mail.example", "daniel.kim@mail.example", "sofia.rossi@mail.example",
                   "tom.becker@mail.example", "aisha.bello@mail.example", "lucas.martin@mail.example"}
ORDER_ID = {"type": "string", "pattern": "^A-[0-9]{4}$"}
ARGUMENT_SCHEMAS = {
    "get_order_status": {"type": "object", "properties": {"order_id": ORDER_ID}, "required": ["order_id"]},
    "refund_amount": {"type": "object", "properties": {"order_id": ORDER_ID,
                                                       "percent": {"type": "number", "minimum": 0, "maximum": 100}},
                      "required": ["order_id"]},
    "search_kb": {"type": "object", "properties": {"query": {"type": "string", "minLength": 3}}, "required": ["query"]},
    "send_email": {"type": "object", "properties": {"to": {"type": "string"}, "subject": {"type": "string"},
                                                    "body": {"type": "string"}}, "required": ["to", "subject", "body"]},
}


def retrieved_ids(trace) -> set[str]:
    return {h["sid"] for s in trace.spans if s["name"] == "retrieve" for h in s["attributes"]["hits"]}


def tool_calls(trace) -> list[tuple[str, dict]]:
    calls = []
    for s in trace.spans:
        if s["name"].startswith("tool "):
            try:
                args = json.loads(s["attributes"]["arguments"])
            except json.JSONDecodeError:
                args = None
            calls.append((s["attributes"]["tool"], args))
    return calls


def cites_a_source(trace):
    """Ask the book: an answer that does not decline cites at least one retrieved source."""
    if trace.system != "ask-the-book":
        return None
    if DECLINE.search(trace.answer):
        return True
    cited = set(CITATION.findall(trace.answer))
    return bool(cited) and cited <= retrieved_ids(trace)


def no_format_noise(trace):
    """The answer is plain prose: no JSON, code fence, tool-call tags or reasoning lines in place of a reply."""
    return not any(p.search(trace.answer) for p, _ in FORMAT_NOISE)


def replies_to_the_customer(trace):
    """Support agent: the customer gets a reply: not an empty string, not the loop's 'Stopped after N steps' message."""
    if trace.system != "support-agent":
        return None
    reply = trace.answer.strip()
    return bool(reply) and not STOPPED.match(reply)


def no_raw_error(trace):
    """Support agent: no exception name, traceback or 'error:' text in the reply to the customer."""
    if trace.system != "support-agent":
        return None
    return not RAW_ERROR.search(trace.answer)


def emails_stay_with_customers(trace):
    """Support agent: every e-mail goes to a customer of the shop, never to an address taken from the request."""
    sent = [args for name, args in tool_calls(trace) if name == "send_email"]
    if not sent:
        return None
    return all(isinstance(a, dict) and a.get("to") in CUSTOMER_EMAILS for a in sent)


def valid_tool_arguments(trace):
    """Support agent: every tool call's arguments are valid JSON that fits the tool's schema (order ids like A-1234)."""
    calls = tool_calls(trace)
    if not calls:
        return None
    for name, args in calls:
        if args is None or name not in ARGUMENT_SCHEMAS:
            return False
        try:
            jsonschema.validate(args, ARGUMENT_SCHEMAS[name])
        except jsonschema.ValidationError:
            return False
    return True


SUITE = {f.__name__: f for f in [cites_a_source, no_format_noise, replies_to_the_customer, no_raw_error,
                                 emails_stay_with_customers, valid_tool_arguments]}


def run_suite(traces) -> dict[str, float]:
    """Pass rate of each assertion over the traces it applies to."""
    rates = {}
    for name, check in SUITE.items():
        verdicts = [v for v in (check(t) for t in traces.itertuples()) if v is not None]
        if not verdicts:
            raise ValueError(f"assertion {name!r} applies to none of the {len(traces)} traces: the eval set is empty for it")
        rates[name] = sum(verdicts) / len(verdicts)
    return rates
