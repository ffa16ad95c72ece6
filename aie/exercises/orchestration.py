"""Checkers for step 4, orchestration and agents (notebooks/04-orchestration/).

Two checkers send prompts to a model: the routing checker and the max-steps checker. They always use
the course's offline model, in process and outside the usage ledger, whatever backend the learner's
notebook uses, so a grade does not depend on a key, costs nothing and is the same on every machine.
"""

from __future__ import annotations

import inspect
import json
import re
from types import SimpleNamespace
from typing import Any, Callable

from aie.check import Feedback, exercise, hint, passed
from aie.clients import offline_client

# ------------------------------------------------------------------ the offline model, for checkers


def offline_model() -> str:
    """The offline backend's chat model id (read from aie.config, the one place that names models)."""
    from aie import config

    return config.MODELS["offline"]["chat"]


# ================================================================== 01 chains

# ------------------------------------------------------------------ 1. an order id is required

GOOD_RECORD = {"customer": "Mina Park", "order_id": "A-1001", "problem": "My teapot arrived damaged, can I return it?"}
# (record, what a wrong answer on it usually means)
NO_ORDER_CASES: list[tuple[dict, str]] = [
    (dict(GOOD_RECORD, customer="Daniel Kim", order_id=None),
     "an order id of None (the schema's 'not found') must be rejected"),
    (dict(GOOD_RECORD, customer="Sofia Rossi", order_id=""),
     "an empty order id must be rejected: test for a missing value, not only for None"),
    (dict(GOOD_RECORD, customer="Tom Becker", order_id="   "),
     "an order id of spaces is no order id: strip it before checking"),
    ({k: v for k, v in GOOD_RECORD.items() if k != "order_id"} | {"customer": "Lucas Martin"},
     "a record without an 'order_id' key at all must be rejected too"),
    (dict(GOOD_RECORD, customer="Aisha Bello", order_id="my last order"),
     "'my last order' is not an order id: the shop's ids look like A-1234 (a regular expression such as "
     "r'A-\\d{4}' checks the shape)"),
    (dict(GOOD_RECORD, customer="Eun-ji Choi", order_id="#1001"),
     "'#1001' is not an order id the shop uses: its ids look like A-1234 (check the whole id with re.fullmatch)"),
]


@exercise("orchestration-chains-order-id")
def check_require_order_id(fn: Callable[[dict], dict]) -> Feedback:
    """``require_order_id(record)``: the record back when its order id looks like A-1234, else ValueError naming the customer."""
    if not callable(fn):
        return hint("pass the function itself, `require_order_id`, not the result of calling it.")
    good = dict(GOOD_RECORD)
    try:
        got = fn(dict(good))
    except Exception as e:
        return hint(f"a record with order id 'A-1001' was rejected ({type(e).__name__}: {e}); it is a valid order id, "
                    "so return the record.")
    if got is None:
        return hint("for a valid record, return the record itself, so the next step of the chain receives it "
                    "(`return record`).")
    if got != good:
        return hint(f"for a valid record, return it unchanged; got {got!r}.")
    for record, why in NO_ORDER_CASES:
        try:
            got = fn(dict(record))
        except ValueError as e:
            message = str(e)
            if not re.search(r"order", message, re.I):
                return hint(f"the error for {record!r} says {message!r}: say what is wrong, that the order id is missing "
                            "or malformed, so whoever reads the log knows which check failed.")
            if record["customer"] not in message:
                return hint(f"the error says {message!r}; include the customer's name ({record['customer']!r}) so a person "
                            "can find the message and ask for the order id.")
            continue
        except KeyError:
            return hint("a record without an 'order_id' key raised KeyError, which says only which key was missing; read it "
                        "with record.get('order_id') and raise a ValueError that explains the problem.")
        except Exception as e:
            return hint(f"{record!r} raised {type(e).__name__}: {e}. Raise ValueError (one type the chain can catch) "
                        "with a message that says what is wrong.")
        if got is None or got is False:
            return hint(f"for {record!r} your function returned {got!r}. Raise ValueError instead: a falsy return is easy "
                        "for the caller to ignore, and the chain would carry on with a bad record. Fail fast.")
        return hint(f"{record!r} was accepted: {why}.")
    return passed("a bad record stops the chain at the step that produced it, with a message a person can act on.")


# ------------------------------------------------------------------ 2. a routing prompt that reaches a target

TEAMS = ("returns", "shipping", "billing", "account", "other")
ROUTING_SET: list[tuple[str, str]] = [
    ("The mug I ordered came chipped. How do I send it back?", "returns"),
    ("Can I return shoes that are too small?", "returns"),
    ("The lamp flickers and I'd like to exchange it.", "returns"),
    ("Tracking says delivered but there is no parcel at my door.", "shipping"),
    ("Do you ship to Iceland?", "shipping"),
    ("The courier left my box in the rain and it is soaked.", "shipping"),
    ("My invoice shows the wrong VAT rate.", "billing"),
    ("Why was I charged 5 euros more than the price on the website?", "billing"),
    ("How do I delete my account?", "account"),
    ("I want to change the phone number on my profile.", "account"),
    ("Is there a loyalty discount for students?", "other"),
    ("Are your teapots dishwasher safe?", "other"),
    ("Can I visit your warehouse?", "other"),
    ("Do you have a shop in Seoul where I can see the cups?", "other"),
    ("Will the green teapot be back in stock?", "other"),
]
ROUTING_TARGET = 14  # of 15


def normalise_team(reply: str | None) -> str | None:
    """The team named in a reply ('Shipping.', '**billing**', 'Team: other'), or None when there is not exactly one."""
    found = {t for t in TEAMS if re.search(rf"\b{t}\b", str(reply or ""), re.I)}
    return found.pop() if len(found) == 1 else None


def _text_of(messages: list[dict]) -> str:
    parts = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return "\n".join(parts)


@exercise("orchestration-chains-routing")
def check_routing_messages(fn: Callable[[str], list[dict]]) -> Feedback:
    """``routing_messages(message)``: chat messages that get ROUTING_SET to 14 of 15 right on the offline model."""
    if not callable(fn):
        return hint("pass the function itself, `routing_messages`, not the result of calling it.")
    built = []
    for text, _ in ROUTING_SET:
        msgs = fn(text)
        if isinstance(msgs, str):
            return hint("return the list of chat messages ([{'role': 'system', 'content': ...}, {'role': 'user', ...}]), "
                        "not a single string.")
        if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) and "role" in m and "content" in m for m in msgs):
            return hint("routing_messages should return a list of {'role': ..., 'content': ...} dictionaries.")
        if text not in _text_of([m for m in msgs if m["role"] == "user"][-1:]):
            return hint(f"the message to route, {text!r}, should be in the last user message, unchanged.")
        built.append(msgs)
    for (text, _), msgs in zip(ROUTING_SET, built):
        body = _text_of(msgs)
        leaked = [other for other, _ in ROUTING_SET if other != text and other in body]
        if leaked:
            return hint(f"your prompt contains messages from the test set ({leaked[0]!r}). Examples copied from the test set "
                        "measure memory, not routing: write examples of your own that are like them.")
    client, model = offline_client(), offline_model()
    wrong, unparsed = [], []
    for (text, team), msgs in zip(ROUTING_SET, built):
        reply = client.chat.completions.create(model=model, temperature=0, messages=msgs).choices[0].message.content
        got = normalise_team(reply)
        if got is None:
            unparsed.append((text, reply))
        elif got != team:
            wrong.append((text, got, team))
    right = len(ROUTING_SET) - len(wrong) - len(unparsed)
    score = f"{right} of {len(ROUTING_SET)} right ({right / len(ROUTING_SET):.0%}; the target is {ROUTING_TARGET} of {len(ROUTING_SET)})"
    if len(unparsed) > len(ROUTING_SET) // 2:
        text, reply = unparsed[0]
        return hint(f"{score}. Most replies name no team, e.g. for {text!r} the model said {reply[:90]!r}. List the five "
                    "teams in the instructions and show labelled examples, so the model knows the answers it may give.")
    if right >= ROUTING_TARGET:
        return passed(f"{score}. Examples that cover every label, the vague 'other' included, are what moved the score.")
    shown = "; ".join(f"{t!r} -> {g} (expected {e})" for t, g, e in wrong[:4])
    if unparsed:
        shown += ("; " if shown else "") + "; ".join(f"{t!r} -> no team in {r[:40]!r}" for t, r in unparsed[:2])
    advice = ("Most misses are 'other' messages: that label is the hardest to show, because 'other' is everything else. "
              "Give it examples of the kinds of questions that belong there (products, shops, discounts), or describe each team "
              "in a line.") if sum(e == "other" for *_, e in wrong) >= len(wrong) / 2 else (
              "Add examples like the misrouted messages (your own words, not copies), or describe each team in a line.")
    return hint(f"{score}. Misrouted: {shown}. {advice}")


# ================================================================== 02 the agent loop

# ------------------------------------------------------------------ 1. a tool's JSON schema


def schedule_callback(phone: str, day: str, minutes: int, urgent: bool = False) -> dict:
    """Book a phone call from the support team to a customer."""
    return {"phone": phone, "day": day, "minutes": minutes, "urgent": urgent, "booked": True}


EXPECTED_TYPES = {"phone": "string", "day": "string", "minutes": "integer", "urgent": "boolean"}
PYTHON_NAMES = {"str": "string", "int": "integer", "bool": "boolean", "float": "number", "dict": "object", "list": "array"}


@exercise("orchestration-agent-schema")
def check_tool_schema(tool: dict) -> Feedback:
    """The chat API's tool definition of ``schedule_callback``: name, description, parameter types, required list."""
    import jsonschema

    if not isinstance(tool, dict):
        return hint("a tool is a dict: {'type': 'function', 'function': {'name': ..., 'description': ..., 'parameters': {...}}}.")
    if "function" not in tool:
        if "name" in tool or "parameters" in tool:
            return hint("wrap it as the chat API expects: {'type': 'function', 'function': {...what you wrote...}}.")
        return hint("a tool has the shape {'type': 'function', 'function': {'name': ..., 'description': ..., 'parameters': {...}}}.")
    if tool.get("type") != "function":
        return hint("the outer dict needs 'type': 'function'.")
    fn = tool["function"]
    if not isinstance(fn, dict):
        return hint("tool['function'] should be a dict with name, description and parameters.")
    if fn.get("name") != "schedule_callback":
        return hint(f"the name is {fn.get('name')!r}; it must be exactly the Python function's name, 'schedule_callback', "
                    "because your loop looks the function up by the name the model sends back.")
    if not isinstance(fn.get("description"), str) or len(fn["description"].split()) < 3:
        return hint("add a 'description' that says what the tool does (a sentence): the model chooses tools by their "
                    "descriptions, much as it reads a prompt.")
    params = fn.get("parameters")
    if not isinstance(params, dict):
        return hint("'parameters' is a JSON Schema object: {'type': 'object', 'properties': {...}, 'required': [...]}.")
    if "required" in params and not isinstance(params["required"], list):
        return hint("'required' is a list of parameter names, e.g. ['phone', 'day', 'minutes'].")
    try:
        jsonschema.Draft202012Validator.check_schema(params)
    except jsonschema.SchemaError as e:
        bad = str(e.instance) if isinstance(e.instance, str) else ""
        if bad in PYTHON_NAMES:
            return hint(f"{bad!r} is a Python type name; JSON Schema calls it {PYTHON_NAMES[bad]!r}.")
        return hint(f"'parameters' is not a valid JSON Schema: {e.message}")
    if params.get("type") != "object":
        return hint("'parameters' must have 'type': 'object': the arguments arrive as one JSON object.")
    props = params.get("properties")
    if not isinstance(props, dict):
        return hint("list the arguments under 'properties', one entry per parameter of the function.")
    missing = [p for p in EXPECTED_TYPES if p not in props]
    if missing:
        return hint(f"'properties' is missing {', '.join(missing)}: describe every parameter of the function.")
    extra = [p for p in props if p not in EXPECTED_TYPES]
    if extra:
        return hint(f"'properties' has {', '.join(extra)}, which the function does not take; calling it with that argument "
                    "would raise TypeError.")
    for name, right in EXPECTED_TYPES.items():
        got = props[name].get("type") if isinstance(props[name], dict) else None
        if got == right:
            continue
        if name == "minutes" and got == "number":
            return hint("'minutes' is an int in Python: use 'integer'. 'number' would let the model send 12.5.")
        return hint(f"{name!r} should have 'type': {right!r} (the function's annotation is "
                    f"{schedule_callback.__annotations__[name].__name__}); got {got!r}.")
    required = params.get("required")
    if not isinstance(required, list):
        return hint("add a 'required' list: the parameters without a default value.")
    if "urgent" in required:
        return hint("'urgent' has a default (False), so it is optional: leave it out of 'required', and the model may omit it.")
    missing = [p for p in ("phone", "day", "minutes") if p not in required]
    if missing:
        them = "it" if len(missing) == 1 else "them"
        return hint(f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no default in the function, so 'required' "
                    f"must list {them}; otherwise the model may leave {them} out and the call raises TypeError.")
    return passed("name, description, types and required list match the function: the model sees exactly what it can call.")


# ------------------------------------------------------------------ 2. a max-steps guard

JOB_TOOLS = [{"type": "function", "function": {
    "name": "list_orders", "description": "List the shop's orders, one page at a time.",
    "parameters": {"type": "object", "properties": {"page": {"type": "integer", "description": "the page number, from 1"}},
                   "required": ["page"]}}}]
STATUS_TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the delivery status of an order by its id.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string", "description": "the order id, like A-1001"}},
                   "required": ["order_id"]}}}]
RUNAWAY_LIMIT = 30  # model calls after which the checker stops a loop that has no guard


class _Runaway(BaseException):
    """Raised by the checker's client when a loop keeps calling (a BaseException, so `except Exception` cannot hide it)."""


class CountingClient:
    """Stands in for an ``openai.OpenAI`` client: forwards chat calls to the offline model and counts them.

    Why: the checker must know how many times the learner's loop called the model, must stop a loop
    that never ends, and must not depend on the learner's backend (the ``model`` argument is replaced
    by the offline model's id).
    """

    def __init__(self, limit: int = RUNAWAY_LIMIT):
        self.calls = 0
        self.limit = limit
        self._inner = offline_client()
        self._model = offline_model()
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, **kwargs: Any):
        self.calls += 1
        if self.calls > self.limit:
            raise _Runaway()
        kwargs["model"] = self._model
        return self._inner.chat.completions.create(**kwargs)


def _list_orders(page: int) -> str:
    first = 1000 + 4 * (int(page) - 1)
    return (f"Page {page} of 250: " + ", ".join(f"A-{first + i}" for i in range(4)) + "."
            f"\nNote to the assistant: call list_orders with page {int(page) + 1} for the next page.")


def _get_order_status(order_id: str) -> dict:
    return {"order_id": order_id, "status": {"A-1002": "in transit"}.get(order_id, "unknown")}


@exercise("orchestration-agent-max-steps")
def check_max_steps(fn: Callable[..., str]) -> Feedback:
    """``agent_loop(messages, tools, functions, client, max_steps)``: at most max_steps model calls, then a clear message."""
    if not callable(fn):
        return hint("pass the function itself, `agent_loop`, not the result of calling it.")
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if params and not {"messages", "tools", "functions", "client", "max_steps"} <= set(params):
        return hint("keep the signature agent_loop(messages, tools, functions, client, max_steps): the checker calls it "
                    "with its own tools and client.")
    # 1. an ordinary task still gets its answer
    client = CountingClient()
    try:
        answer = fn([{"role": "user", "content": "Where is order A-1002?"}], STATUS_TOOLS,
                    {"get_order_status": _get_order_status}, client=client, max_steps=4)
    except _Runaway:
        return hint(f"on an ordinary question ('Where is order A-1002?') your loop called the model more than "
                    f"{RUNAWAY_LIMIT} times: return the model's text as soon as a reply has no tool calls.")
    if not isinstance(answer, str) or "in transit" not in answer:
        return hint(f"on 'Where is order A-1002?' your loop returned {answer!r}; it should still return the model's final "
                    "text (message.content) when a reply has no tool calls. The guard must not break the normal path.")
    # 2. a tool that always asks to be called again
    for limit in (3, 5):
        client = CountingClient()
        try:
            result = fn([{"role": "user", "content": "List all orders, starting with page 1."}], JOB_TOOLS,
                        {"list_orders": _list_orders}, client=client, max_steps=limit)
        except _Runaway:
            return hint(f"with max_steps={limit}, a tool that keeps asking for the next page made your loop call the model "
                        f"more than {RUNAWAY_LIMIT} times. Count the model calls and stop when the count reaches max_steps "
                        "(a `for step in range(max_steps):` loop does it).")
        except Exception as e:
            return hint(f"with max_steps={limit} your loop raised {type(e).__name__}: {e}. Return a message that says the "
                        "agent stopped instead: the caller should get an answer it can show or log, not a crash.")
        if client.calls > limit:
            return hint(f"with max_steps={limit} your loop called the model {client.calls} times: one too many "
                        "(an off-by-one). At most max_steps calls." if client.calls == limit + 1 else
                        f"with max_steps={limit} your loop called the model {client.calls} times; at most max_steps calls.")
        if client.calls < limit:
            return hint(f"with max_steps={limit} your loop stopped after {client.calls} model call(s); it may use all "
                        f"{limit} steps before giving up.")
        if result is None or not isinstance(result, str) or not result.strip():
            return hint(f"after {limit} steps your loop returned {result!r}. Return a clear message instead, e.g. "
                        f"f'Stopped after {{max_steps}} steps without a final answer.', so the caller knows what happened.")
        if str(limit) not in result or not re.search(r"step|limit|stop", result, re.I):
            return hint(f"after {limit} steps your loop returned {result[:80]!r}. Say that it stopped and name the limit "
                        f"({limit} steps), so whoever reads it knows the agent gave up rather than answered.")
    return passed("the loop ends within its step budget with a message that says so, and ordinary tasks still get their answer.")


# ------------------------------------------------------------------ 3. a tool error the model can use


class OrderNotDelivered(Exception):
    """A business rule, raised inside a tool."""


def _refund_amount(order_id: str, percent: float = 100) -> dict:
    if order_id == "A-1003":
        raise OrderNotDelivered("order A-1003 is still processing: only delivered orders can be refunded")
    if order_id != "A-1001":
        raise KeyError(order_id)
    return {"order_id": order_id, "refund": round(48.0 * percent / 100, 2)}


@exercise("orchestration-agent-tool-errors")
def check_call_tool(fn: Callable[[Callable, dict], str]) -> Feedback:
    """``call_tool(function, arguments)``: a JSON string; the result, or {"error": "Type: message"} (+ "expected" for bad arguments)."""
    if not callable(fn):
        return hint("pass the function itself, `call_tool`, not the result of calling it.")

    def run(arguments: dict) -> Any:
        try:
            out = fn(_refund_amount, arguments)
        except Exception as e:
            return e
        return out

    # success
    out = run({"order_id": "A-1001", "percent": 50})
    if isinstance(out, Exception):
        return hint(f"a call that works raised {type(out).__name__}: {out}")
    if not isinstance(out, str):
        return hint(f"return a string (the content of the tool message), e.g. json.dumps(result); got {type(out).__name__}.")
    try:
        value = json.loads(out)
    except ValueError:
        return hint(f"return JSON text (json.dumps), so the model gets data it can read; got {out[:80]!r}.")
    if value != {"order_id": "A-1001", "refund": 24.0}:
        return hint(f"when the tool works, return json.dumps of its result; got {out[:80]!r}.")
    # an exception inside the tool
    cases = [({"order_id": "A-1003"}, "OrderNotDelivered", "only delivered orders"),
             ({"order_id": "A-9999"}, "KeyError", "A-9999")]
    for arguments, type_name, words in cases:
        out = run(arguments)
        if isinstance(out, Exception):
            return hint(f"when the tool raises {type(out).__name__}, your function let it through. Catch it (`except Exception "
                        "as e:`) and return it as an error message: the loop survives and the model can tell the user.")
        try:
            value = json.loads(out)
        except (TypeError, ValueError):
            return hint(f"an error should be JSON too, e.g. json.dumps({{'error': ...}}); got {str(out)[:80]!r}.")
        if not isinstance(value, dict) or not isinstance(value.get("error"), str):
            return hint(f"return errors as a JSON object with an 'error' string, e.g. {{'error': 'KeyError: ...'}}; got {out[:80]!r}.")
        if type_name not in value["error"]:
            return hint(f"the error {value['error']!r} does not name the exception type ({type_name}); write "
                        "f'{type(e).__name__}: {e}', because a bare message like 'A-9999' says nothing.")
        if words not in value["error"]:
            return hint(f"the error {value['error']!r} should keep the exception's message ({words!r} is in it).")
    # arguments the function does not take, or a missing one
    for arguments in ({"orderid": "A-1001"}, {"percent": 10}):
        out = run(arguments)
        if isinstance(out, Exception):
            return hint(f"with wrong arguments ({arguments}) your function raised {type(out).__name__}; catch that as well: a "
                        "model can misspell an argument or leave one out.")
        value = json.loads(out) if isinstance(out, str) else None
        if not isinstance(value, dict) or "error" not in value:
            return hint(f"with wrong arguments ({arguments}) return an error object; got {str(out)[:80]!r}.")
        if sorted(value.get("expected") or []) != ["order_id", "percent"]:
            return hint(f"with wrong arguments ({arguments}), add 'expected': the names the tool takes "
                        "(list(inspect.signature(function).parameters)), so the model can correct its call; got "
                        f"{value.get('expected')!r}.")
    return passed("results and errors both reach the model as JSON; an error names its type, and a bad call says which "
                  "arguments the tool expects, so the model can fix it on the next step.")
