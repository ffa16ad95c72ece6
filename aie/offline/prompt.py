"""Read a chat request the way the offline model needs it: who said what, and what was asked for.

:class:`Prompt` gathers the instructions (system/developer text), the last user message,
earlier turns, tool results since the last assistant tool call, and the format the prompt
asks for (think aloud, bullets, a word or sentence limit, JSON only, a summary).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from aie.offline.textutil import message_text

_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
        "a single": 1, "a": 1, "single": 1}
_N = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|single|a)"


def _int(s: str) -> int:
    return int(s) if s.isdigit() else _NUM[s.lower()]


@dataclass
class ToolResult:
    name: str
    call_id: str
    content: str
    arguments: dict


@dataclass
class Prompt:
    """One chat request, parsed."""

    messages: list[dict]
    system: str = ""
    user: str = ""  # the last user message
    turns: list[tuple[str, str]] = field(default_factory=list)  # (role, text) between system and the last user message
    tool_results: list[ToolResult] = field(default_factory=list)  # results that answer the last assistant tool call
    calls_made: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments json) since the last user message
    tools: list[dict] = field(default_factory=list)
    tool_choice: object = "auto"
    response_format: dict | None = None
    temperature: float = 0.0
    want_logprobs: bool = False
    top_logprobs: int = 0

    @property
    def instructions(self) -> str:
        """Everything that may carry instructions: system text plus the last user message."""
        return (self.system + "\n" + self.user).strip()

    # --- what the prompt asks for -------------------------------------------------------------

    def think_aloud(self) -> bool:
        t = self.instructions
        return bool(re.search(r"\bThought:", t) and re.search(r"\bFinal Answer:", t, re.I)) or bool(
            re.search(r"\b(think (out loud|aloud|step[- ]by[- ]step)|let'?s think step by step|show your (reasoning|work))", t, re.I))

    def wants_json(self) -> bool:
        rf = self.response_format or {}
        if rf.get("type") in {"json_object", "json_schema"}:
            return True
        return bool(re.search(r"\b(output|respond|answer|reply|return|format)\w*\b[^.\n]{0,40}\bjson\b|\bjson\b[^.\n]{0,30}\b(only|format|object)\b"
                              r"|\bvalid json\b|\bas json\b|\bin json\b", self.instructions, re.I))

    def bullets(self) -> int | None:
        """Requested number of bullet points (0 = a list of any length), or None."""
        t = self.instructions
        m = re.search(rf"\b{_N}\s+(?:short\s+|key\s+|main\s+|concise\s+|brief\s+)?(?:bullet(?:\s*points?)?|bullets|bullet-points)\b"
                      rf"|\b(?:in|as|with|into|give me|list)\s+{_N}\s+(?:short\s+|key\s+|main\s+)?points\b", t, re.I)
        if m and (m.group(1) or m.group(2)).lower() != "a":
            return _int(m.group(1) or m.group(2))
        if re.search(r"\b(bullet(ed)?[- ]?(points?|list)?|as a list|in a list|list of points)\b", t, re.I):
            return 0
        return None

    def word_limit(self) -> int | None:
        m = re.search(rf"\b(?:in|under|within|at most|no more than|fewer than|less than|maximum(?: of)?|max\.?|up to|not exceed(?:ing)?)\s+{_N}\s+words?\b"
                      rf"|\b{_N}\s+words?\s+(?:or (?:less|fewer)|max(?:imum)?)\b|\b{_N}[- ]word\b", self.instructions, re.I)
        if not m:
            return None
        return _int(next(g for g in m.groups() if g))

    def sentence_limit(self) -> int | None:
        m = re.search(rf"\b(?:in|with|using|to|at most|no more than|under|within)\s+{_N}\s+(?:short\s+|concise\s+)?sentences?\b|\b{_N}[- ]sentence\b",
                      self.instructions, re.I)
        if not m:
            return None
        return _int(next(g for g in m.groups() if g))

    def wants_summary(self) -> bool:
        return bool(re.search(r"\b(summar(y|ize|ise|ising|izing)|tl;?dr|key (points|takeaways)|condense|gist|main points|in short)\b",
                              self.user or self.system, re.I))

    def abstain_phrase(self) -> str | None:
        """The phrase the instructions ask for when the answer is not in the context, if any."""
        m = re.search(r"(?:say|respond with|reply with|answer with|answer|reply|respond|output|write)\s*:?\s*"
                      r"(?:\"([^\"\n]{3,80})\"|\u201c([^\u201d\n]{3,80})\u201d|'((?:[^'\n]|(?<=\w)'(?=\w)){3,80})'(?!\w))", self.instructions, re.I)  # don't/can't stay inside
        if m and re.search(r"\b(not|n't|no|cannot|unknown|unsure|insufficient)\b", self.instructions[max(0, m.start() - 160): m.end() + 40], re.I):
            return next(g for g in m.groups() if g).strip()
        return None


def parse(request: dict) -> Prompt:
    """Build a :class:`Prompt` from a validated chat-completions request."""
    msgs = request["messages"]
    p = Prompt(messages=msgs)
    p.tools = [t["function"] for t in request.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    p.tool_choice = request.get("tool_choice", "auto") if p.tools else "none"
    p.response_format = request.get("response_format")
    p.temperature = float(request.get("temperature") or 0.0)
    p.want_logprobs = bool(request.get("logprobs"))
    p.top_logprobs = int(request.get("top_logprobs") or 0)
    system_parts = [message_text(m) for m in msgs if m.get("role") in {"system", "developer"}]
    p.system = "\n\n".join(s for s in system_parts if s)
    last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=-1)
    p.user = message_text(msgs[last_user]) if last_user >= 0 else ""
    p.turns = [(m["role"], message_text(m)) for m in msgs[:max(last_user, 0)] if m.get("role") in {"user", "assistant"}]
    # tool calls made since the last user message, and the results that came back
    names: dict[str, tuple[str, dict]] = {}
    for m in msgs[last_user + 1:]:
        if m.get("role") == "assistant":
            for tc in m.get("tool_calls") or []:
                fn = tc.get("function") or {}
                args = fn.get("arguments") or "{}"
                try:
                    parsed = json.loads(args) if isinstance(args, str) else dict(args)
                except ValueError:
                    parsed = {}
                names[tc.get("id", "")] = (fn.get("name", ""), parsed)
                p.calls_made.append((fn.get("name", ""), json.dumps(parsed, sort_keys=True)))
    for m in msgs[last_user + 1:]:
        if m.get("role") in {"tool", "function"}:
            name, args = names.get(m.get("tool_call_id", ""), (m.get("name") or "the tool", {}))
            p.tool_results.append(ToolResult(name, m.get("tool_call_id", ""), message_text(m), args))
    return p
