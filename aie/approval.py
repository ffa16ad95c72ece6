"""Approval of risky tool calls: an approve/deny control for a person, with a path that runs headless.

An agent loop asks ``Approval.ask(name, args)`` before it runs a risky tool. The answer comes from, in order:

1. a stored decision (``decisions``), made earlier by a person (a click) or by code (``approval.record``);
2. a policy function ``policy(name, args) -> "approve" | "deny" | None`` (``None``: a person must decide);
3. a person: the control shows Approve and Deny buttons (ipywidgets) for that call. A Jupyter kernel cannot
   wait for a click while a cell runs, so ``ask`` returns ``None`` at once; a click stores the decision, and
   the loop, which kept its state, picks it up when it is resumed. With no front end (CI, a script) nobody
   clicks, and the call stays pending: the loop must stop with a clear message, never run the tool.

The idea (where to ask, what to do without an answer) stays in the notebook; this is the widget plumbing.
"""

from __future__ import annotations

import json
from typing import Any, Callable

DECISIONS = ("approve", "deny")
Policy = Callable[[str, dict], "str | None"]


def call_key(name: str, args: dict) -> str:
    """One readable key per tool call (name and canonical JSON arguments), for stored decisions."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a tool call needs a tool name (a non-empty string), got {name!r}.")
    if not isinstance(args, dict):
        raise TypeError(f"a tool call's arguments must be a dict (parse the JSON first), got {type(args).__name__}.")
    return f"{name}({json.dumps(args, sort_keys=True)})"


def _valid(decision: Any, where: str) -> str | None:
    if decision is None:
        return None
    if decision not in DECISIONS:
        raise ValueError(f"{where} returned {decision!r}; a decision is 'approve', 'deny' or None (None: a person decides).")
    return decision


class Approval:
    """Decides whether a risky tool call may run: stored decisions, then a policy, then a person (buttons)."""

    def __init__(self, policy: Policy | None = None, decisions: dict[str, str] | None = None, show: bool = True):
        self.policy = policy
        self.decisions: dict[str, str] = dict(decisions or {})
        self.show = show  # False: no buttons (a script); True: display them in a notebook
        self.asked: list[str] = []  # calls a person was asked about, in order
        for k, d in self.decisions.items():
            _valid(d, f"the stored decision for {k}")

    def record(self, name: str, args: dict, decision: str) -> None:
        """Store a decision for a call (what a click does; code and tests can do it too)."""
        self.decisions[call_key(name, args)] = _valid(decision, "record()") or "deny"

    def ask(self, name: str, args: dict) -> str | None:
        """'approve', 'deny', or None when the call waits for a person who has not answered yet."""
        key = call_key(name, args)
        if key in self.decisions:
            return self.decisions[key]
        if self.policy is not None:
            decision = _valid(self.policy(name, args), f"the policy, for {key},")
            if decision is not None:
                return decision
        if key not in self.asked:
            self.asked.append(key)
            if self.show:
                self._buttons(name, args)
        return None

    def _buttons(self, name: str, args: dict) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        label = widgets.HTML(f"<b>Approve this tool call?</b> <code>{call_key(name, args)}</code>")
        approve = widgets.Button(description="Approve", button_style="success")
        deny = widgets.Button(description="Deny", button_style="danger")
        status = widgets.Label("no answer yet")

        def click(decision: str):
            def handler(_button) -> None:
                self.record(name, args, decision)
                status.value = {"approve": "approved", "deny": "denied"}[decision] + ": run the next cell to resume the agent"
                approve.disabled = deny.disabled = True
            return handler

        approve.on_click(click("approve"))
        deny.on_click(click("deny"))
        display(widgets.VBox([label, widgets.HBox([approve, deny, status])]))
