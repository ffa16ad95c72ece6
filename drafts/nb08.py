import sys; sys.path.insert(0, "/tmp/i14wf-q7")
from nbtools import build, COLAB
import nbformat
C = []
md = lambda s: C.append(("md", s))
code = lambda s, *t: C.append(("code", s, *t))

md(r"""
# Humans in the loop and several agents

**What you will learn**

- where a person belongs in an agent loop: an approval step before any tool that acts on the world;
- an approve/deny control (`ipywidgets` buttons) with a policy beside it, so the same loop runs headless in
  CI and waits for a click in JupyterLab;
- what the loop must do when nobody answers: stop with a clear message, keep its state, and resume later;
- a supervisor over two specialised agents, written on the loop of [The agent loop, by hand](02-agent-loop.ipynb),
  and what going multi-agent costs in calls and tokens against one agent on the same tasks.

**What you need**: [The agent loop, by hand](02-agent-loop.ipynb) and, for the costs,
[Workflows or agents](04-workflows-or-agents.ipynb). No API key; nothing is ever sent: refunds and e-mails
go to Python lists. About 30 minutes.
""")
code(COLAB, "remove-cell")
md(r"""
## The shop, its tools, and which ones are risky

The same shop as in the agent-loop lesson, with one change: the refund tool now *issues* a refund (it
appends to a list, standing in for the payment provider). Two tools only read (`get_order_status`,
`search_kb`); two act on the world and cannot be undone (`issue_refund`, `send_email`). Those two are the
**risky** tools: an agent may ask for them, but they run only when approved.
""")
code(r'''
import json
import re

import aie
import numpy as np
import pandas as pd

client = aie.client()
MODEL = aie.model("chat")

ORDERS = {
    "A-1001": {"customer": "Mina Park", "email": "mina.park@mail.example", "status": "delivered", "total": 48.00},
    "A-1002": {"customer": "Daniel Kim", "email": "daniel.kim@mail.example", "status": "in transit", "total": 23.50},
    "A-1003": {"customer": "Sofia Rossi", "email": "sofia.rossi@mail.example", "status": "processing", "total": 112.90},
}
KB = {
    "kb-returns": "You can return an item within 30 days of delivery. If an item arrived damaged or is faulty, the return is free.",
    "kb-refunds": "Refunds go back to the original payment method within 5 business days of the return reaching our warehouse.",
    "kb-shipping": "Standard shipping takes 3 to 5 business days and express shipping 1 to 2.",
}
refunds, outbox = [], []  # what the risky tools "do": nothing leaves this notebook


def get_order_status(order_id):
    order = ORDERS[order_id]
    return {"order_id": order_id, "status": order["status"], "total": order["total"], "email": order["email"]}


def search_kb(query):
    ids = list(KB)
    vectors = aie.minilm.embed([query] + [KB[i] for i in ids])
    best = ids[int(np.argmax(vectors[1:] @ vectors[0]))]
    return {"id": best, "text": KB[best]}


def issue_refund(order_id, amount):
    refunds.append({"order_id": order_id, "amount": amount})
    return {"refunded": amount, "order_id": order_id}


def send_email(to, subject, body):
    outbox.append({"to": to, "subject": subject, "body": body})
    return {"queued": True, "to": to}


def tool(function, description, **params):
    """A tool definition from a function, a description and {name: (JSON type, description)}."""
    return {"type": "function", "function": {"name": function.__name__, "description": description, "parameters": {
        "type": "object", "properties": {p: {"type": t, "description": d} for p, (t, d) in params.items()},
        "required": list(params)}}}


ORDER_ID = ("string", "one order id, like A-1001")
TOOLS = {
    "get_order_status": tool(get_order_status, "Look up an order's status, total and the customer's email.", order_id=ORDER_ID),
    "search_kb": tool(search_kb, "Search the shop's help articles (returns, refunds, shipping).", query=("string", "what to look for")),
    "issue_refund": tool(issue_refund, "Refund money for an order to the customer.", order_id=ORDER_ID,
                         amount=("number", "the amount to refund, in dollars")),
    "send_email": tool(send_email, "Send an email to a customer.", to=("string", "the recipient's email address"),
                       subject=("string", "the subject line"), body=("string", "the message")),
}
FUNCTIONS = {f.__name__: f for f in [get_order_status, search_kb, issue_refund, send_email]}
RISKY = {"issue_refund", "send_email"}
''')
md(r"""
## An approval step in the loop

The loop is the hardened one from the agent-loop lesson (a step limit; errors go back to the model as tool
results), with one new branch: before a risky tool runs, the loop asks an **approver**. There are three
answers:

- `"approve"`: run the tool as usual;
- `"deny"`: do not run it; the model gets a tool result saying a person refused, and carries on from there;
- `None`, *nobody has answered yet*: the loop must neither run the tool nor guess. It stops, says what it is
  waiting for, and returns its **state** (the conversation and the pending calls), so that it can be resumed
  when the answer comes, without repeating or losing a step.

`aie.approval.Approval` is the approver. It answers from decisions stored earlier, then from a **policy**
(a plain function: `"approve"`, `"deny"`, or `None` for "a person must decide"), and only then asks a
person, with Approve and Deny buttons under the cell. A Jupyter kernel cannot wait for a click in the middle
of a running cell, so asking returns `None` at once; the click stores the decision, and you resume the loop
in the next cell. Without a front end, as when CI builds this page, nobody clicks and the call stays pending.
""")
code(r'''
from dataclasses import dataclass, field

from aie.approval import Approval

SYSTEM = ("You are the support assistant of a small online shop. Use the tools to handle the request. When you "
          "have what you need, answer the customer in one or two sentences without calling more tools.")


@dataclass
class State:
    """Everything a paused run needs to resume: the conversation and the calls not yet answered."""
    messages: list
    pending: list = field(default_factory=list)  # tool calls of the last assistant turn, still without a result
    steps: int = 0


def run_tool(name, arguments):
    if name not in FUNCTIONS:
        return json.dumps({"error": f"unknown tool {name!r}; the tools are {sorted(FUNCTIONS)}"})
    try:
        return json.dumps(FUNCTIONS[name](**json.loads(arguments)))
    except Exception as e:
        return json.dumps({"error": f"{type(e).__name__}: {e}"})


def answer_calls(state, approver):
    """Answer the pending calls in order; stop at the first one a person has not decided yet."""
    while state.pending:
        call = state.pending[0]
        name, arguments = call["function"]["name"], call["function"]["arguments"]
        if name in RISKY:
            try:
                args = json.loads(arguments)
            except ValueError:
                args = {"unparsed": arguments}
            decision = approver.ask(name, args)
            if decision is None:
                return f"Waiting for a person to approve or deny {name}({arguments}); nothing was run. Resume with run_agent(state=...)."
            result = run_tool(name, arguments) if decision == "approve" else json.dumps({"error": "a person denied this call; do not retry it"})
        else:
            result = run_tool(name, arguments)
        print(f"    {name}({arguments}) -> {result[:110]}")
        state.messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
        state.pending.pop(0)
    return None


def run_agent(task=None, approver=None, state=None, system=SYSTEM, tools=TOOLS, max_steps=4):
    state = state or State([{"role": "system", "content": system}, {"role": "user", "content": task}])
    waiting = answer_calls(state, approver)  # a resumed run first finishes the calls it stopped at
    while not waiting and state.steps < max_steps:
        state.steps += 1
        message = client.chat.completions.create(model=MODEL, temperature=0, max_tokens=150, messages=state.messages,
                                                 tools=list(tools.values())).choices[0].message
        if not message.tool_calls:
            print(f"[{state.steps}] answer: {message.content}")
            return message.content, state
        state.messages.append(message.model_dump(exclude_none=True))
        state.pending = [call.model_dump() for call in message.tool_calls]
        print(f"[{state.steps}] model asks for: {', '.join(c['function']['name'] for c in state.pending)}")
        waiting = answer_calls(state, approver)
    message = waiting or f"Stopped after {max_steps} steps without a final answer."
    print(message)
    return message, state
''')
md(r"""
### A policy decides what it can

Most calls need no person: a policy can approve what is routine and refuse what is plainly wrong, and leave
only the rest to a human. This one approves refunds up to the order's total and at most \$50, refuses
e-mail to addresses outside the shop's customers, and sends everything else to a person. It is ordinary
code, so it is tested like code.
""")
code(r'''
def policy(name, args):
    if name == "issue_refund":
        order = ORDERS.get(args.get("order_id"))
        amount = args.get("amount")
        if order is None or not isinstance(amount, (int, float)) or amount <= 0 or amount > order["total"]:
            return "deny"  # no such order, or not a sensible amount
        return "approve" if amount <= 50 else None  # larger refunds: a person decides
    if name == "send_email":
        return "approve" if str(args.get("to", "")).endswith("@mail.example") else "deny"
    return None


approver = Approval(policy=policy)
answer, state = run_agent("Order A-1001 arrived broken. Please refund it in full.", approver)
print("refunds:", refunds)
''')
md(r"""
POLICY-PROSE

### When nobody answers

Now the same kind of request for order A-1003 (\$112.90), which the policy leaves to a person. The approver
shows its buttons. When this page was built nobody was there to click, so the run stops:
""")
code(r'''
approver = Approval(policy=policy)
answer, state = run_agent("Please refund order A-1003 in full, 112.90 dollars.", approver)
print(f"kept: {len(state.messages)} messages, {len(state.pending)} pending call(s), {state.steps} step(s) used")
print("refunds:", refunds)
''')
md(r"""
NOANSWER-PROSE

In JupyterLab you would click Approve or Deny above, then run the next cell. Here the cell stands in for the
person when nobody clicked, recording a refusal (a safe default for money), and resumes the same run:
""")
code(r'''
pending = state.pending[0]["function"] if state.pending else None
if pending and approver.ask(pending["name"], json.loads(pending["arguments"])) is None:  # nobody clicked
    approver.record(pending["name"], json.loads(pending["arguments"]), "deny")
answer, state = run_agent(state=state, approver=approver)
print("refunds:", refunds)
''')
md(r"""
RESUME-PROSE

### Bad input: a tool that does not exist, an answer that is not a decision

A model can ask for a tool by a name it made up, and a policy can return something that is not a decision.
Neither may crash the loop or slip through. A tool call written by hand shows the first; the second is an
error from the approver, because a policy that says `"yes"` is a bug to fix, not a decision to guess at:
""")
code(r'''
made_up = {"id": "call_x", "type": "function", "function": {"name": "delete_account", "arguments": '{"order_id": "A-1001"}'}}
state = State([{"role": "system", "content": SYSTEM}], pending=[made_up])
answer_calls(state, Approval(policy=policy, show=False))
print(state.messages[-1]["content"])
''')
code(r'''
Approval(policy=lambda name, args: "yes").ask("send_email", {"to": "mina.park@mail.example", "subject": "Hi", "body": "..."})
''', "raises-exception")
md(r"""
## Several agents: a supervisor over specialists

A multi-agent system splits one agent's job among several, each with its own instructions and a smaller set
of tools, and something that decides who works on what. The simplest shape is a **supervisor**: one call
reads the task and picks a worker, and the worker, an ordinary agent loop, does it. Here there are two
workers: an *orders* agent with the order and refund tools, and a *help* agent that only searches the help
articles. Everything is the same `run_agent`; a worker is a system prompt and a tool set.
""")
code(r'''
WORKERS = {
    "orders": {"system": SYSTEM + " You handle orders: status, refunds and emails about them.",
               "tools": {n: TOOLS[n] for n in ["get_order_status", "issue_refund", "send_email"]}},
    "help": {"system": SYSTEM + " You answer questions about the shop's policies from its help articles.",
             "tools": {"search_kb": TOOLS["search_kb"]}},
}
SUPERVISOR = ("You route a customer's request to one of two agents. orders: questions about one specific order "
              "(its status, a refund, an email). help: general questions about returns, refunds or shipping. "
              "Reply with orders or help only.")


def pick_worker(reply):
    name = reply.strip(" .\"'`\n").lower()
    if name not in WORKERS:
        raise ValueError(f"the supervisor chose {reply!r}, which is not a worker; the workers are {sorted(WORKERS)}")
    return name


def supervised(task, approver):
    reply = client.chat.completions.create(model=MODEL, temperature=0, max_tokens=5, messages=[
        {"role": "system", "content": SUPERVISOR}, {"role": "user", "content": task}]).choices[0].message.content
    worker = pick_worker(reply)
    print(f"supervisor -> {worker}")
    return run_agent(task, approver, system=WORKERS[worker]["system"], tools=WORKERS[worker]["tools"])
''')
md(r"""
The cost of the split, measured: three tasks, each run once by one agent with all four tools and once by the
supervisor and its workers. Both get the policy approver and at most four steps, and the answer counts when
it contains the fact the task asks for. The usage ledger (`aie.usage()`, one row per call) gives the calls
and tokens of each run.
""")
code(r'''
TEAM_TASKS = [
    {"task": "Where is order A-1002 right now?", "fact": r"in transit"},
    {"task": "How long does a refund take to reach my card?", "fact": r"5 business days|five business days"},
    {"task": "Has order A-1003 shipped yet?", "fact": r"processing|not (yet )?shipped|hasn't shipped|has not shipped"},
]
rows = []
for setup, run in [("one agent", lambda t, a: run_agent(t, a)), ("supervisor + 2 workers", supervised)]:
    for i, item in enumerate(TEAM_TASKS, 1):
        print(f"--- {setup}, task {i}: {item['task']}")
        before = len(aie.usage())
        try:
            answer, _ = run(item["task"], Approval(policy=policy, show=False))
        except ValueError as e:  # the supervisor named no worker
            print(f"failed: {e}")
            answer = ""
        calls = aie.usage().iloc[before:]
        rows.append({"setup": setup, "task": i, "right": bool(re.search(item["fact"], answer or "", re.IGNORECASE)),
                     "calls": len(calls), "input_tokens": int(calls.input_tokens.sum()), "output_tokens": int(calls.output_tokens.sum())})
''')
code(r'''
cost = pd.DataFrame(rows).groupby("setup", sort=False)[["right", "calls", "input_tokens", "output_tokens"]].sum()
cost
''')
code(r'''
import matplotlib.pyplot as plt

aie.plot.style()
fig, ax = plt.subplots(figsize=(7, 3))
cost[["input_tokens", "output_tokens"]].plot.barh(stacked=True, ax=ax)
for y, (setup, row) in enumerate(cost.iterrows()):
    ax.annotate(f"{row.calls} calls, {row.right} of {len(TEAM_TASKS)} right", (row.input_tokens + row.output_tokens, y),
                xytext=(5, 0), textcoords="offset points", va="center", fontsize=9)
ax.set(xlabel="tokens over the three tasks", ylabel="", title="One agent or a supervisor with two workers")
ax.set_xlim(0, 1.45 * (cost.input_tokens + cost.output_tokens).max())
aie.plot.caption(ax, "this notebook, Qwen2.5-Coder-1.5B-Instruct (recorded), usage ledger", n=f"{len(TEAM_TASKS)} tasks per setup")
plt.show()
''')
md(r"""
TEAM-PROSE

## Exercises

:::{exercise}
:label: orchestration-humans-ex-policy
Write your own approval `policy(name, args)` for the shop's four tools. It returns `"approve"`, `"deny"` or
`None` (a person decides), following these rules:

- the read-only tools (`get_order_status`, `search_kb`) are approved;
- `issue_refund`: denied when the order does not exist or the amount is not a positive number at most the
  order's total; approved up to \$50; otherwise a person decides;
- `send_email`: denied unless the address ends with `@mail.example`; approved when it is the address of the
  order named in the e-mail's subject or body; otherwise a person decides;
- any other tool name is denied: a tool nobody reviewed must never run by default.

The checker tries it on a dozen calls, including made-up tool names and broken arguments.
:::
""")
code(r'''
from aie.exercises import agents as ex


def my_policy(name, args):
    return "approve"  # write the rules


ex.check_approval_policy(my_policy)
''')
md(r"""
:::{solution-start} orchestration-humans-ex-policy
:class: dropdown
:::
""")
code(r'''
def my_policy(name, args):
    if name in {"get_order_status", "search_kb"}:
        return "approve"
    if name == "issue_refund":
        order = ex.SHOP_ORDERS.get(args.get("order_id"))
        amount = args.get("amount")
        if order is None or isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount <= order["total"]:
            return "deny"
        return "approve" if amount <= 50 else None
    if name == "send_email":
        to = str(args.get("to", ""))
        if not to.endswith("@mail.example"):
            return "deny"
        text = f"{args.get('subject', '')} {args.get('body', '')}"
        named = [o for o in ex.SHOP_ORDERS if o in text]
        return "approve" if named and all(ex.SHOP_ORDERS[o]["email"] == to for o in named) else None
    return "deny"


ex.check_approval_policy(my_policy)
''')
md(r"""
:::{solution-end}
:::
""")
md(r"""
:::{exercise}
:label: orchestration-humans-ex-handoff
In a **handoff**, the worker itself passes the conversation to another agent, by calling a tool such as
`transfer_to(agent, reason)`. Write `handoff(call, workers)`, the code that reads such a call before the loop
switches agents. `call` is a tool call as a dict (`{"function": {"name": ..., "arguments": "<JSON>"}}`) and
`workers` a dict of worker names. Return the worker's name (normalised with `strip().lower()`) when the call
is a valid `transfer_to`; raise `ValueError` with a message that names the problem and lists the workers
when the tool is not `transfer_to`, the arguments are not JSON, `agent` is missing, or it names no worker.
:::
""")
code(r'''
def handoff(call, workers):
    return json.loads(call["function"]["arguments"])["agent"]  # check everything that can be wrong


ex.check_handoff(handoff)
''')
md(r"""
:::{solution-start} orchestration-humans-ex-handoff
:class: dropdown
:::
""")
code(r'''
def handoff(call, workers):
    name = call.get("function", {}).get("name")
    if name != "transfer_to":
        raise ValueError(f"{name!r} is not a handoff (expected transfer_to); the workers are {sorted(workers)}")
    try:
        args = json.loads(call["function"].get("arguments") or "")
    except ValueError:
        raise ValueError(f"the handoff's arguments are not JSON: {call['function'].get('arguments')!r}; "
                         f"expected {{\"agent\": one of {sorted(workers)}}}") from None
    agent = str(args.get("agent", "")).strip().lower() if isinstance(args, dict) else ""
    if not agent:
        raise ValueError(f"the handoff names no agent; expected one of {sorted(workers)}")
    if agent not in workers:
        raise ValueError(f"the handoff names {agent!r}, which is not a worker; the workers are {sorted(workers)}")
    return agent


ex.check_handoff(handoff)
''')
md(r"""
:::{solution-end}
:::
""")
md(r"""
## Summary

- Put a person **before** any tool that acts on the world and cannot be undone, not after. A policy in code
  decides the routine cases, so a person sees only the few that need judgement, and CI can run the loop
  with no one there.
- An approval with no answer is a state, not an error and not a yes: the loop stops, says what it waits for,
  keeps the conversation and the pending call, and resumes where it stopped.
- Unknown tools and malformed decisions are refused with a message that says what is wrong.
- A supervisor over specialised workers is a routing call in front of ordinary agent loops. SUMMARY-TEAM

**Further reading**

- Anthropic, [Building effective agents](https://www.anthropic.com/research/building-effective-agents)
  (2024-12-19): human checkpoints and stopping conditions for agents.
- Microsoft's [AI Agents for Beginners](https://github.com/microsoft/ai-agents-for-beginners): the lessons on
  trustworthy agents (human in the loop) and multi-agent design patterns.
- The roadmap's frameworks (LangGraph, CrewAI), whose interrupts and crews package the pause, resume and
  supervisor shown here (seed 002).
""")
nb = build(C, "08-humans-and-teams")
nbformat.write(nb, "/work/wt-i14-workflows/notebooks/04-orchestration/08-humans-and-teams.ipynb")
