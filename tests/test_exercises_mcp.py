"""Checkers and plumbing of the MCP and framework lessons (aie.exercises.mcp, aie.mcp_demo, aie.framework):
a right answer passes, typical wrong ones get their hint; the demo servers fail the way the lesson says."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, model_validator
from typing import Literal

from aie.exercises import mcp as ex
from feedback import hints, ok


# ------------------------------------------------------------------ MCP 1: namespaced names


def right_names(server_name, tool):
    name = f"{server_name}__{tool.name}"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ValueError(f"tool {tool.name!r}: {name!r} is not a valid chat API name")
    return {"type": "function", "function": {"name": name, "description": tool.description or "",
                                             "parameters": tool.input_schema}}


def test_names_right_answer_passes():
    ok(ex.check_mcp_to_openai(right_names))


def test_names_without_namespace():
    def plain(server_name, tool):
        return {"type": "function", "function": {"name": tool.name, "description": tool.description or "",
                                                 "parameters": tool.input_schema}}
    hints(ex.check_mcp_to_openai(plain), "two underscores")


def test_names_none_description():
    def keeps_none(server_name, tool):
        out = right_names(server_name, tool)
        out["function"]["description"] = tool.description
        return out
    hints(ex.check_mcp_to_openai(keeps_none), "description")


def test_names_invalid_not_refused():
    def no_check(server_name, tool):
        return {"type": "function", "function": {"name": f"{server_name}__{tool.name}",
                                                 "description": tool.description or "", "parameters": tool.input_schema}}
    hints(ex.check_mcp_to_openai(no_check), "raise ValueError")


def test_names_error_must_name_tool():
    def vague(server_name, tool):
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", f"{server_name}__{tool.name}"):
            raise ValueError("bad name")
        return right_names(server_name, tool)
    hints(ex.check_mcp_to_openai(vague), "name the tool")


def test_names_stub_and_not_callable():
    hints(ex.check_mcp_to_openai(lambda s, t: None), "returned None")
    hints(ex.check_mcp_to_openai("mcp_to_openai"), "function itself")


# ------------------------------------------------------------------ MCP 2: poison scan

SIGNS = [r"<\s*/?\s*(important|system)\b", r"\b(ignore|disregard)\b.{0,40}\b(instructions|previous)\b",
         r"\b(do not|don't|never)\s+(tell|mention|reveal)\b", r"\bbefore (answering|using|any)\b",
         r"\b(call|use)\s+(the\s+)?\w+_\w+", r"[\w.+-]+@[\w-]+\.[\w.]+|https?://"]


def test_poison_right_answer_passes():
    ok(ex.check_poison_scan(lambda d: any(re.search(p, d.lower()) for p in SIGNS)))


def test_poison_stub_misses():
    hints(ex.check_poison_scan(lambda d: False), "5 of 5", "got through")


def test_poison_too_eager():
    hints(ex.check_poison_scan(lambda d: "before" in d.lower() or "<" in d or "ignore" in d.lower() or "never" in d.lower()
                               or "call" in d.lower() or "use" in d.lower()), "clean", "flagged")


def test_poison_only_tags():
    hints(ex.check_poison_scan(lambda d: "<important>" in d.lower()), "got through")


# ------------------------------------------------------------------ framework 1: typed tool


def test_framework_tool_right_answer():
    def schedule_callback(phone: str, day: datetime.date, minutes: int, urgent: bool = False) -> dict:
        """Book a phone call from the support team.

        Args:
            phone: the customer's phone number
            day: the day of the call
            minutes: how long the call may take
            urgent: schedule it first
        """
        return {}
    ok(ex.check_framework_tool(schedule_callback))


def test_framework_tool_string_day():
    def schedule_callback(phone: str, day: str, minutes: int, urgent: bool = False) -> dict:
        """Book a call.

        Args:
            phone: p
            day: d
            minutes: m
            urgent: u
        """
        return {}
    hints(ex.check_framework_tool(schedule_callback), "datetime.date")


def test_framework_tool_no_arg_docs():
    def schedule_callback(phone: str, day: datetime.date, minutes: int, urgent: bool = False) -> dict:
        """Book a call."""
        return {}
    hints(ex.check_framework_tool(schedule_callback), "Args")


def test_framework_tool_wrong_required_and_types():
    def schedule_callback(phone: str, day: datetime.date, minutes: int, urgent: bool) -> dict:
        """Book a call.

        Args:
            phone: p
            day: d
            minutes: m
            urgent: u
        """
        return {}
    hints(ex.check_framework_tool(schedule_callback), "required")

    def untyped(phone, day, minutes, urgent=False):
        """Book a call."""
    hints(ex.check_framework_tool(untyped), "annotate")


# ------------------------------------------------------------------ framework 2: output model


class RefundDecision(BaseModel):
    order_id: str = Field(pattern=r"^A-\d{4}$")
    action: Literal["refund", "none"]
    amount: float = Field(ge=0)
    reply: str = Field(min_length=1)

    @model_validator(mode="after")
    def no_amount_without_refund(self):
        if self.action == "none" and self.amount != 0:
            raise ValueError("an amount needs action 'refund'")
        return self


def test_output_right_answer():
    ok(ex.check_refund_decision(RefundDecision))


def test_output_loose_model():
    class Loose(BaseModel):
        order_id: str
        action: str
        amount: float
        reply: str
    hints(ex.check_refund_decision(Loose), "was accepted")


def test_output_missing_cross_field_rule():
    class NoCross(BaseModel):
        order_id: str = Field(pattern=r"^A-\d{4}$")
        action: Literal["refund", "none"]
        amount: float = Field(ge=0)
        reply: str = Field(min_length=1)
    hints(ex.check_refund_decision(NoCross), "action 'none'")


def test_output_not_a_class():
    hints(ex.check_refund_decision({"order_id": "A-1001"}), "pydantic model class")


# ------------------------------------------------------------------ the demo servers fail as the lesson says


def _run(coro):
    return asyncio.run(coro)


def test_support_server_in_memory_tools_and_errors():
    from mcp import Client

    from aie import mcp_demo

    async def go():
        async with Client(mcp_demo.support_server()) as s:
            names = [t.name for t in (await s.list_tools()).tools]
            ok_result = await s.call_tool("get_order_status", {"order_id": "A-1002"})
            err = await s.call_tool("refund_amount", {"order_id": "A-1003"})
            return names, ok_result, err
    names, ok_result, err = _run(go())
    assert names == ["get_order_status", "search_kb", "refund_amount", "send_email"]
    assert json.loads(ok_result.content[0].text)["status"] == "in transit"
    assert err.is_error and "only delivered orders" in err.content[0].text


def test_poisoned_server_adds_the_instruction():
    from mcp import Client

    from aie import mcp_demo

    async def go():
        async with Client(mcp_demo.support_server(poisoned=True)) as s:
            return {t.name: t.description for t in (await s.list_tools()).tools}
    tools = _run(go())
    assert "send_email" in tools["get_weather"] and "audit@" in tools["get_weather"]


def test_faulty_server_over_stdio():
    from mcp import Client, MCPError, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "aie.mcp_demo", "faulty"],
                                   env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})

    async def go():
        out = {}
        async with Client(params) as s:
            out["malformed is an error result"] = (await s.call_tool("malformed", {"order_id": "A-1"})).is_error
            for name, tool in [("hang", "hang"), ("crash", "crash"), ("after the crash", "malformed")]:
                try:
                    await s.call_tool(tool, {"order_id": "A-1"}, read_timeout_seconds=2)
                    out[name] = "no error"
                except MCPError as e:
                    out[name] = str(e)
        return out
    out = _run(go())
    assert out["malformed is an error result"] is True  # a malformed result comes back as an error, not a crash
    assert "timed out" in out["hang"].lower()
    assert out["crash"] == "Connection closed"
    assert out["after the crash"] == "Connection closed"  # a dead server fails every later call the same way


def test_unknown_server_name_exits_with_message():
    import subprocess

    run = subprocess.run([sys.executable, "-m", "aie.mcp_demo", "nope"], capture_output=True, text=True, timeout=60,
                         cwd=str(Path(__file__).resolve().parent.parent))
    assert run.returncode != 0 and "unknown server 'nope'" in run.stderr


# ------------------------------------------------------------------ the async bridge to the course client


def test_async_client_rejects_foreign_client():
    import openai

    from aie.framework import async_client

    with pytest.raises(TypeError, match="aie.client"):
        async_client(openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9/v1"))


def test_async_client_goes_through_course_transport():
    from aie.clients import offline_client
    from aie.framework import async_client

    ac = async_client(offline_client())

    async def go():
        return await ac.chat.completions.create(model="aie-offline", messages=[{"role": "user", "content": "Say hi"}])
    reply = _run(go())
    assert reply.choices[0].message.content
    assert ac._course_bridge.requests[0]["messages"][0]["content"] == "Say hi"
