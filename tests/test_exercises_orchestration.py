"""Checkers of step 4, orchestration and agents (aie.exercises.orchestration): a right answer passes, a typical
wrong one gets its specific hint. The routing and max-steps checkers run on the offline model."""

from __future__ import annotations

import inspect
import json
import re

from aie.exercises import orchestration as o
from feedback import hints, ok


# ------------------------------------------------------------------ chains 1: an order id is required

ORDER_ID = re.compile(r"A-\d{4}")


def require_order_id(record):
    order_id = (record.get("order_id") or "").strip()
    if not ORDER_ID.fullmatch(order_id):
        raise ValueError(f"no valid order id in {record.get('customer')}'s message (got {record.get('order_id')!r})")
    return record


def test_order_id_right_answer_passes():
    ok(o.check_require_order_id(require_order_id))


def test_order_id_typical_mistakes_get_their_hints():
    hints(o.check_require_order_id(...), "placeholder")
    hints(o.check_require_order_id(require_order_id({"customer": "x", "order_id": "A-1001"})), "function itself")

    def returns_false(record):
        return record if record.get("order_id") else False
    hints(o.check_require_order_id(returns_false), "raise ValueError", "fail fast")

    def only_none(record):
        if record["order_id"] is None:
            raise ValueError(f"{record['customer']}: no order id")
        return record
    hints(o.check_require_order_id(only_none), "empty order id")

    def key_error(record):
        if not (record["order_id"] or "").strip():
            raise ValueError(f"{record['customer']}: no order id")
        return record
    hints(o.check_require_order_id(key_error), "KeyError", "record.get")

    def vague(record):
        if not ORDER_ID.fullmatch((record.get("order_id") or "").strip()):
            raise ValueError("invalid record")
        return record
    hints(o.check_require_order_id(vague), "say what is wrong")

    def no_name(record):
        if not ORDER_ID.fullmatch((record.get("order_id") or "").strip()):
            raise ValueError("the order id is missing")
        return record
    hints(o.check_require_order_id(no_name), "customer's name")

    def any_text(record):
        if not (record.get("order_id") or "").strip():
            raise ValueError(f"{record['customer']}: the order id is missing")
        return record
    hints(o.check_require_order_id(any_text), "A-1234")

    def forgets_return(record):
        require_order_id(record)
    hints(o.check_require_order_id(forgets_return), "return the record")


# ------------------------------------------------------------------ chains 2: a routing prompt

TEAMS = ", ".join(o.TEAMS)
LESSON_EXAMPLES = [
    ("The blender I bought is broken, can I return it?", "returns"),
    ("How do I send back a jacket that doesn't fit?", "returns"),
    ("My parcel is late and tracking hasn't changed for a week.", "shipping"),
    ("Do you deliver to Norway, and how long does it take?", "shipping"),
    ("My card was charged but the order shows as unpaid.", "billing"),
    ("I need an invoice with my company's VAT number.", "billing"),
    ("I forgot my password and can't sign in.", "account"),
    ("How do I change the email address on my account?", "account"),
    ("Are you hiring for the warehouse?", "other"),
    ("Do you have a physical shop in Berlin?", "other"),
]


def router(examples):
    shots = "\n".join(f"<Example>\nInput: {text}\nOutput: {team}\n</Example>" for text, team in examples)
    system = f"Route the customer's message to one team. Answer with one of: {TEAMS}. Output only the team.\n\n{shots}"
    return lambda message: [{"role": "system", "content": system}, {"role": "user", "content": f"Input: {message}\nOutput:"}]


def test_routing_right_answers_pass():
    more = LESSON_EXAMPLES + [("Does the teapot come with a strainer?", "other"), ("Is this kettle available in red?", "other")]
    ok(o.check_routing_messages(router(more)))
    described = router(LESSON_EXAMPLES + [("What colours does the teapot come in?", "other")])
    ok(o.check_routing_messages(described))


def test_routing_typical_mistakes_get_their_hints():
    # the lesson's prompt: 'other' has no product questions among its examples
    hints(o.check_routing_messages(router(LESSON_EXAMPLES)), "13 of 15", "other")
    # copying the test set into the examples
    hints(o.check_routing_messages(router(LESSON_EXAMPLES + o.ROUTING_SET[:3])), "test set")
    # a prompt that never names the teams
    hints(o.check_routing_messages(lambda m: [{"role": "user", "content": m}]), "name no team")
    hints(o.check_routing_messages(lambda m: f"Route this: {m}"), "list of chat messages")
    hints(o.check_routing_messages(lambda m: [{"role": "user", "content": "Route the message."}]), "last user message")


def test_normalise_team():
    assert o.normalise_team(" Shipping.\n") == "shipping"
    assert o.normalise_team("**billing**") == "billing"
    assert o.normalise_team("billing or shipping") is None
    assert o.normalise_team(None) is None


# ------------------------------------------------------------------ agent 1: a tool's JSON schema

def schema(**changes):
    tool = {"type": "function", "function": {
        "name": "schedule_callback",
        "description": "Book a phone call from the support team to a customer.",
        "parameters": {"type": "object", "properties": {
            "phone": {"type": "string", "description": "the customer's phone number"},
            "day": {"type": "string", "description": "the day, like 2025-06-12"},
            "minutes": {"type": "integer", "description": "how long the call may take"},
            "urgent": {"type": "boolean"}},
            "required": ["phone", "day", "minutes"]}}}
    for key, value in changes.items():
        if key in ("name", "description"):
            tool["function"][key] = value
        elif key == "required":
            tool["function"]["parameters"]["required"] = value
        else:
            tool["function"]["parameters"]["properties"][key] = value
    return tool


def test_schema_right_answers_pass():
    ok(o.check_tool_schema(schema()))
    closed = schema()
    closed["function"]["parameters"]["additionalProperties"] = False
    ok(o.check_tool_schema(closed))


def test_schema_typical_mistakes_get_their_hints():
    hints(o.check_tool_schema(schema()["function"]), "'type': 'function'")
    hints(o.check_tool_schema(schema(name="schedule")), "schedule_callback")
    hints(o.check_tool_schema(schema(description="")), "description")
    hints(o.check_tool_schema(schema(minutes={"type": "number"})), "integer")
    hints(o.check_tool_schema(schema(minutes={"type": "int"})), "python type name", "integer")
    hints(o.check_tool_schema(schema(urgent={"type": "bool"})), "boolean")
    hints(o.check_tool_schema(schema(required=["phone", "day", "minutes", "urgent"])), "default", "optional")
    hints(o.check_tool_schema(schema(required=["phone", "day"])), "minutes", "required")
    hints(o.check_tool_schema(schema(required="phone, day, minutes")), "list of parameter names")
    no_required = schema()
    del no_required["function"]["parameters"]["required"]
    hints(o.check_tool_schema(no_required), "'required' list")
    extra = schema(customer={"type": "string"})
    hints(o.check_tool_schema(extra), "customer", "does not take")


def test_the_schema_function_matches_what_the_checker_expects():
    assert list(inspect.signature(o.schedule_callback).parameters) == list(o.EXPECTED_TYPES)


# ------------------------------------------------------------------ agent 2: a max-steps guard

def guarded(messages, tools, functions, client, max_steps=4):
    messages = list(messages)
    for _ in range(max_steps):
        message = client.chat.completions.create(model="any", temperature=0, messages=messages, tools=tools).choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = functions[call.function.name](**json.loads(call.function.arguments))
            content = result if isinstance(result, str) else json.dumps(result)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return f"Stopped after {max_steps} steps without a final answer."


def variant(loop_header: str, on_stop: str):
    """The guarded loop with its loop header and its final line replaced (typical wrong answers)."""
    src = inspect.getsource(guarded).replace("for _ in range(max_steps):", loop_header)
    src = src.replace('return f"Stopped after {max_steps} steps without a final answer."', on_stop)
    namespace = {"json": json}
    exec(src, namespace)
    return namespace["guarded"]


def test_max_steps_right_answer_passes():
    ok(o.check_max_steps(guarded))


def test_max_steps_typical_mistakes_get_their_hints():
    hints(o.check_max_steps(variant("while True:", "return None")), "more than 30 times", "range(max_steps)")
    hints(o.check_max_steps(variant("for _ in range(max_steps + 1):",
                                    'return f"Stopped after {max_steps} steps."')), "off-by-one")
    hints(o.check_max_steps(variant("for _ in range(max_steps):", "return None")), "clear message")
    hints(o.check_max_steps(variant("for _ in range(max_steps):", 'raise RuntimeError("too many steps")')), "RuntimeError",
          "return a message")
    hints(o.check_max_steps(variant("for _ in range(max_steps):", 'return "Sorry, I could not finish."')), "name the limit")
    hints(o.check_max_steps(lambda task, max_steps: "done"), "signature")

    def early(messages, tools, functions, client, max_steps=4):
        guarded(messages, tools, functions, client, 1)
        return f"Stopped after {max_steps} steps."
    hints(o.check_max_steps(early), "normal path")


# ------------------------------------------------------------------ agent 3: a tool error the model can use

def call_tool(function, arguments):
    signature = inspect.signature(function)
    try:
        signature.bind(**arguments)
    except TypeError as e:
        return json.dumps({"error": f"TypeError: {e}", "expected": list(signature.parameters)})
    try:
        result = function(**arguments)
    except Exception as e:
        return json.dumps({"error": f"{type(e).__name__}: {e}"})
    return json.dumps(result)


def test_call_tool_right_answer_passes():
    ok(o.check_call_tool(call_tool))


def test_call_tool_typical_mistakes_get_their_hints():
    hints(o.check_call_tool(lambda f, a: json.dumps(f(**a))), "let it through", "except Exception")

    def value_errors_only(function, arguments):
        try:
            return json.dumps(function(**arguments))
        except ValueError as e:
            return json.dumps({"error": str(e)})
    hints(o.check_call_tool(value_errors_only), "OrderNotDelivered")

    def message_only(function, arguments):
        try:
            return json.dumps(function(**arguments))
        except Exception as e:
            return json.dumps({"error": str(e)})
    hints(o.check_call_tool(message_only), "exception type")

    def plain_text(function, arguments):
        try:
            return json.dumps(function(**arguments))
        except Exception as e:
            return f"Error: {e}"
    hints(o.check_call_tool(plain_text), "JSON")

    def no_expected(function, arguments):
        try:
            return json.dumps(function(**arguments))
        except Exception as e:
            return json.dumps({"error": f"{type(e).__name__}: {e}"})
    hints(o.check_call_tool(no_expected), "expected", "inspect.signature")

    hints(o.check_call_tool(lambda f, a: f(**a)), "string")
