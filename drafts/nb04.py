import sys; sys.path.insert(0, "/tmp/i14wf-q7")
from nbtools import build, COLAB
import nbformat
C = []
md = lambda s: C.append(("md", s))
code = lambda s, *t: C.append(("code", s, *t))

md(r"""
# Workflows or agents

**What you will learn**

- the five workflow patterns that Anthropic's *Building effective agents* names (prompt chaining, routing,
  parallelization, orchestrator-workers, evaluator-optimizer), each written on the course client in a few
  lines you can read;
- how to measure a pattern the way you would measure any design choice: on one fixed task set, for quality
  (a check in code), model calls, tokens (from `usage`) and latency (counted as sequential round trips);
- what each pattern bought, and cost, with a small real model on four support tickets;
- when an agent, whose number of steps nobody knows in advance, earns its cost over a fixed workflow.

**What you need**: [From one call to a chain](01-chains.ipynb) and [The agent loop, by hand](02-agent-loop.ipynb).
No API key. About 30 minutes.
""")
code(COLAB, "remove-cell")
md(r"""
## Workflows and agents

In December 2024 Anthropic published [Building effective agents](https://www.anthropic.com/research/building-effective-agents)
(Erik Schluntz and Barry Zhang, 2024-12-19), a summary of what had worked for teams building with language
models. It draws one line through the field. A **workflow** runs models and tools along paths that your code
lays down; an **agent** lets the model direct its own steps and tool use, as in the loop of the last lessons.
Its advice is to start with the simplest thing that works, often a single well-prompted call, and to add
steps only when they measurably help, because every step adds cost and latency. It then names five
workflow patterns that cover most systems built from fixed steps.

This lesson builds all five and measures them on the same small task: answer a support ticket of the shop
from the earlier lessons, using its policies. A ticket is solved when the reply contains the right figure
(or figures) from the policies, which code can check. The data, the check and one helper for calling the
model:
""")
code(r'''
import re

import aie
import pandas as pd
from aie.tally import Tally

client = aie.client()
MODEL = aie.model("chat")

POLICIES = {
    "returns": "Returns: an item can be returned within 30 days of delivery; the return is free if it arrived damaged.",
    "refunds": "Refunds: money goes back to the original payment method within 5 business days after the return reaches our warehouse.",
    "shipping": "Shipping: standard delivery takes 3 to 5 business days; express delivery takes 1 to 2 business days.",
    "account": "Account: to reset a password, choose Forgot password on the sign-in page; the email arrives within 5 minutes.",
}
ALL_POLICIES = "\n".join(POLICIES.values())

TASKS = [  # a ticket, and the facts a right reply must contain (as regular expressions)
    {"id": "T1", "ticket": "How many days do I have to return a jacket that doesn't fit?", "facts": [r"30 days|thirty days"]},
    {"id": "T2", "ticket": "I paid for express delivery. How many business days until my parcel arrives?",
     "facts": [r"\b1\s*(to|-|–|or)\s*2\b|one to two"]},
    {"id": "T3", "ticket": "I asked for a password reset ten minutes ago and no email has come. How long should it take?",
     "facts": [r"5 minutes|five minutes"]},
    {"id": "T4", "ticket": "I'm sending back a lamp. How long do I have to return it, and when will the refund reach my card?",
     "facts": [r"30 days|thirty days", r"5 business days|five business days"]},
]


def solved(reply, task):
    """The quality check: every required fact appears in the reply."""
    return all(re.search(fact, reply, re.IGNORECASE) for fact in task["facts"])


def chat(system, user, max_tokens=80):
    return client.chat.completions.create(model=MODEL, temperature=0, max_tokens=max_tokens, messages=[
        {"role": "system", "content": system}, {"role": "user", "content": user}])


def text(completion):
    return (completion.choices[0].message.content or "").strip()
''')
md(r"""
Three small pieces of plumbing: `chat` makes one call with a cap on the reply's length (`max_tokens`, set on
every call here, because an unbounded reply is an unbounded cost), `text` reads the reply, and `Tally`, from
the course package, keeps the cost of one run. `tally.call(reply)` records one call, its `usage` tokens and one **round**;
`tally.parallel([reply1, reply2])` records calls sent together, which add one round between them. Rounds are the
latency measure here: a round is one wait for the model, and calls in the same round can be waited for at
once. Seconds would change with every machine and every run; rounds do not.

## 0. The baseline: one call

Every pattern below is compared with one well-written call: all four policies in the system prompt and the
ticket as the user message. The policies come first in every prompt of this lesson, so a server that caches
prompt prefixes (llama.cpp does, and so do the big providers) reads them only once.
""")
code(r'''
SHOP = "You answer customers of a small online shop. Use only these policies.\n"
ANSWER = "\nAnswer the customer's ticket in at most two sentences."

drafts = {}  # ticket -> the single call's reply: two patterns below start from this same draft


def single_call(ticket, tally):
    if ticket not in drafts:
        drafts[ticket] = chat(SHOP + ALL_POLICIES + ANSWER, ticket)
    return text(tally.call(drafts[ticket]))


tally = Tally()
print(single_call(TASKS[3]["ticket"], tally))
print(tally)
''')
md(r"""
The prompt-chaining and evaluator-optimizer patterns below begin with exactly this call. The notebook keeps
its reply in `drafts` and hands it to them instead of sending the same request again (at temperature 0 the
answer would be the same), and `tally.call` still counts its call and tokens in each pattern's bill.

## 1. Prompt chaining

A **chain** splits a task into fixed steps, each call working on the output of the one before, with
optional checks in code (Anthropic calls them *gates*) between the steps. It trades latency for easier
steps. Here: draft the reply, check that the draft contains a figure (a reply without one has missed the
point, so it is not worth polishing), then a second call rewrites it in a warmer tone.
""")
code(r'''
POLISH = "\nRewrite the draft reply to the ticket so it is warm and at most two sentences. Keep every number and fact."


def prompt_chaining(ticket, tally):
    draft = single_call(ticket, tally)  # step 1
    if not re.search(r"\d", draft):  # the gate: no figure, no polishing
        return draft
    return text(tally.call(chat(SHOP + ALL_POLICIES + POLISH, f"Ticket: {ticket}\nDraft reply: {draft}")))  # step 2
''')
md(r"""
## 2. Routing

A **router** classifies the input and sends it down a specialised path: a prompt, a tool or a model for
that kind of input (Anthropic's examples: kinds of customer request, and easy questions to a small cheap
model). Here the first call names the ticket's topic and the second answers with that topic's policy alone.
A label the router invents falls back to the prompt with every policy.
""")
code(r'''
ROUTE = "Classify the customer's ticket into one topic: returns, refunds, shipping or account. Reply with the topic only."


def routing(ticket, tally):
    topic = text(tally.call(chat(ROUTE, ticket, max_tokens=5))).lower().strip(" .\"'")
    policy = POLICIES.get(topic, ALL_POLICIES)  # an unknown label gets every policy
    return text(tally.call(chat(SHOP + policy + ANSWER, ticket)))
''')
md(r"""
## 3. Parallelization

**Parallelization** runs calls at the same time and combines their outputs in code. Anthropic names two
kinds: *sectioning* (independent parts of a task, one call each) and *voting* (the same task several times,
for a majority or for more confidence). This is sectioning: one call knows the policies about money and
goods (returns, refunds), another those about service (shipping, account). Each answers only the part of the
ticket its policies cover, or says `NONE`, and code joins what comes back.

The two calls do not depend on each other, so they form one round. This loop sends them one after the other
(the local model that made the recordings serves one request at a time anyway); with threads or
`openai.AsyncOpenAI` they would go out together, and the wait is one round either way.
""")
code(r'''
SECTIONS = {"goods": ["returns", "refunds"], "service": ["shipping", "account"]}
PART = "\nAnswer only the part of the ticket that these policies cover, in one sentence. If they cover nothing in it, reply NONE."


def parallelization(ticket, tally):
    replies = [chat(SHOP + "\n".join(POLICIES[p] for p in topics) + PART, ticket, max_tokens=60)
               for topics in SECTIONS.values()]
    parts = [text(r) for r in tally.parallel(replies)]  # one round: neither call waits for the other
    return " ".join(p for p in parts if p and "NONE" not in p.upper())
''')
md(r"""
## 4. Orchestrator-workers

In **orchestrator-workers** a first call (the orchestrator) decides the subtasks, which code cannot know in
advance, and hands each to a worker call; the results are then combined. It looks like sectioning, but the
split is the model's decision, made for each input. Here the orchestrator lists the ticket's questions with
their topics, one per line; each worker answers one question from that topic's policy; the combining step is
plain joining, in code. Lines with a topic that does not exist are dropped, and a plan with no usable line
falls back to one worker with every policy.
""")
code(r'''
PLAN = ("List each separate question in the customer's ticket on its own line, written as topic: question. "
        "The topic is one of returns, refunds, shipping, account. Write nothing else.")
WORKER = "\nAnswer this one question from a customer in one sentence."


def orchestrator_workers(ticket, tally):
    plan = text(tally.call(chat(PLAN, ticket, max_tokens=60)))
    subtasks = []
    for line in plan.splitlines():
        topic, _, question = line.partition(":")
        topic = topic.strip(" -*0123456789.").lower()
        if topic in POLICIES and question.strip():
            subtasks.append((topic, question.strip()))
    if not subtasks:
        subtasks = [("all", ticket)]
    replies = [chat(SHOP + POLICIES.get(topic, ALL_POLICIES) + WORKER, question, max_tokens=60) for topic, question in subtasks]
    return " ".join(text(r) for r in tally.parallel(replies))  # the workers form one round
''')
md(r"""
## 5. Evaluator-optimizer

In an **evaluator-optimizer** one call produces an answer and another judges it against stated criteria;
while the judge finds a problem, the producer revises with the judge's words. It pays off when the criteria
are clear and a revision can act on the feedback. Here the draft is the single call's, the judge is the
same model with a checking prompt, and there is at most one revision, to keep the cost bounded.
""")
code(r'''
JUDGE = ("\nYou check a draft reply to a customer's ticket. Does it answer every question in the ticket with the "
         "figures from the policies? Reply PASS, or FAIL and what is missing, in one line.")
REVISE = "\nRewrite the draft reply to the ticket so that it fixes the problem named. At most two sentences."


def evaluator_optimizer(ticket, tally, max_revisions=1):
    reply = single_call(ticket, tally)
    for _ in range(max_revisions):
        verdict = text(tally.call(chat(SHOP + ALL_POLICIES + JUDGE, f"Ticket: {ticket}\nDraft reply: {reply}", max_tokens=30)))
        if verdict.upper().startswith("PASS"):
            break
        reply = text(tally.call(chat(SHOP + ALL_POLICIES + REVISE, f"Ticket: {ticket}\nDraft reply: {reply}\nProblem: {verdict}")))
    return reply
''')
md(r"""
## Measuring them on the same tickets

Every pattern runs on the same four tickets; each run gets a fresh `Tally`, and its reply goes through the
same check.
""")
code(r'''
PATTERNS = {"single call": single_call, "prompt chaining": prompt_chaining, "routing": routing,
            "parallelization": parallelization, "orchestrator-workers": orchestrator_workers,
            "evaluator-optimizer": evaluator_optimizer}

runs, replies = [], {}
for name, pattern in PATTERNS.items():
    for task in TASKS:
        tally = Tally()
        reply = pattern(task["ticket"], tally)
        replies[name, task["id"]] = reply
        runs.append({"pattern": name, "task": task["id"], "solved": solved(reply, task), **tally.as_dict()})
runs = pd.DataFrame(runs)
print(f"{len(runs)} runs, {runs.calls.sum()} model calls counted, {len(aie.usage())} made")
''')
md(r"""
The calls counted are more than the calls made: the draft that two patterns reuse is counted in each of
them, as it would be billed if they ran separately. What each pattern solved and what it cost, in total over
the four tickets:
""")
code(r'''
table = runs.groupby("pattern", sort=False).agg(
    solved=("solved", "sum"), calls=("calls", "sum"), input_tokens=("input_tokens", "sum"),
    output_tokens=("output_tokens", "sum"), rounds=("rounds", "sum"))
table["tokens_per_solved"] = ((table.input_tokens + table.output_tokens) / table.solved.where(table.solved > 0)).round(0)
table
''')
code(r'''
import matplotlib.pyplot as plt

aie.plot.style()
fig, ax = plt.subplots()
tokens = table.input_tokens + table.output_tokens
ax.scatter(tokens, table.solved, s=40 * table.rounds, alpha=0.7)
for name in table.index:
    ax.annotate(f"{name} ({table.calls[name]} calls)", (tokens[name], table.solved[name]), fontsize=8,
                xytext=(5, 4), textcoords="offset points")
ax.set(xlabel="tokens over the four tickets (input + output)", ylabel="tickets solved (of 4)",
       title="What each workflow bought, and what it cost", ylim=(-0.3, 4.5))
aie.plot.caption(ax, "this notebook, Qwen2.5-Coder-1.5B-Instruct (recorded); marker size = sequential rounds", n=f"{len(TASKS)} tickets")
plt.show()
''')
md(r"""
What Qwen2.5-Coder-1.5B-Instruct did on these four tickets (a small sample: read the numbers as counts, not
rates):

- **The single call solved all four**, with the fewest tokens per solved ticket (168). On tickets this
  short, with every policy in the prompt, there was nothing left for a workflow to fix.
- **Prompt chaining** also solved four, at twice the calls and tokens: the polishing step handed back the
  draft word for word, so the second call bought nothing.
- **Routing** solved two. It was the cheapest per call, since each answer saw one policy instead of four,
  but the two-question ticket T4 got only the returns policy and the model made up a refund time
  ("within 7 days"), and on T3 the model gave "within 24 hours" for the reset email instead of the
  policy's 5 minutes. A router is only as good as its classes fit the inputs.
- **Parallelization** (sectioning) solved two, with four rounds instead of eight for the same eight calls.
  The sections did not say `NONE` when their policies did not apply, and answered from them anyway
  ("30 days" to the password ticket).
- **Orchestrator-workers** solved two with ten calls: on T1 a worker refused ("I'm sorry, but I can't assist
  with that."), and on T2 a worker wrote 3 business days for express delivery.
- **Evaluator-optimizer** solved four, at ten calls and the most tokens (1,868): the judge sent two drafts
  back for revision, and on T2 the revision began "The draft reply is correct."; the quality check passed
  because the figure was still there, but a customer would be puzzled.

The replies, ticket by ticket:
""")
code(r'''
for task in TASKS:
    print(f"{task['id']}: {task['ticket']}")
    for name in PATTERNS:
        mark = "ok " if solved(replies[name, task["id"]], task) else "MISS"
        print(f"   {mark} {name:<21} {replies[name, task['id']][:150]}")
''')
md(r"""
## When does an agent earn its cost?

An agent is the loop of [the last lesson but one](02-agent-loop.ipynb): the model chooses the next step and
decides when it is done. Every pattern above has a cost you can read off its code before it runs (at most
two calls for routing, one more per question for the orchestrator, at most three for the evaluator-optimizer
here). An agent's cost is known only afterwards, and each of its steps resends the whole conversation so
far. In that lesson's ledger a run's input grew by about 90 tokens per step, so the total grows with the
square of the number of steps.

So an agent earns its cost when the steps cannot be written down in advance: open-ended problems where the
number and order of tool calls depends on what the tools return (Anthropic's examples are coding tasks
that touch many files and tasks on a computer's screen), where the model can judge its progress from real
feedback (tests that pass or fail, a tool's result), and where a wrong step is cheap or can be caught (a
sandbox, a step limit, a person who approves risky actions, the subject of
[Humans in the loop](08-humans-and-teams.ipynb)). For tasks whose steps you can name, such as the tickets
here, a workflow is cheaper, faster and easier to test, and often a single call is enough. Anthropic's
article ends on the same advice: measure, and add complexity only when it improves the result.
""")
md(r"""
## Exercises

:::{exercise}
:label: orchestration-workflows-ex-choose
For each situation, choose the design that fits it best: one of `"prompt chaining"`, `"routing"`,
`"parallelization"`, `"orchestrator-workers"`, `"evaluator-optimizer"` or `"agent"`. Answer with a dict from
the situation's letter to your choice. The checker explains each mismatch.

- **a**: write a product description, then translate it into French and Korean, checking in code that the
  first version names the price before translating.
- **b**: support mail is either a password problem (a small cheap model with a template answers it well) or a
  billing dispute (it needs the strongest model and the billing tools).
- **c**: three differently worded prompts each judge whether a contract clause is risky; the clause is
  flagged when at least two say so.
- **d**: a change request for a code base; which files need editing is only known after reading the request,
  and each file's edit can be done separately.
- **e**: a literary translation, improved in rounds by a critic with clear criteria until it is good enough.
- **f**: fix a failing test suite in a sandbox: run the tests, read the errors, edit, run again, for as many
  rounds as it takes.
:::
""")
code(r'''
from aie.exercises import agents as ex

choices = ...  # {"a": "...", "b": "...", ...}
ex.check_pattern_choice(choices)
''')
md(r"""
:::{solution-start} orchestration-workflows-ex-choose
:class: dropdown
:::
""")
code(r'''
choices = {
    "a": "prompt chaining",  # fixed steps, each on the output of the last, with a gate in code
    "b": "routing",  # classify, then a specialised path (and model) per class
    "c": "parallelization",  # voting: the same question several ways, combined in code
    "d": "orchestrator-workers",  # the subtasks are decided by a model, per input
    "e": "evaluator-optimizer",  # clear criteria, and feedback a revision can act on
    "f": "agent",  # the number of steps depends on what the tests say
}
ex.check_pattern_choice(choices)
''')
md(r"""
:::{solution-end}
:::
""")
md(r"""
:::{exercise}
:label: orchestration-workflows-ex-summary
Write `summarize(runs)`, the table of this lesson as a function. `runs` is a DataFrame with one row per run
and the columns `pattern`, `task`, `solved` (bool), `calls`, `input_tokens`, `output_tokens` and `rounds`.
Return a DataFrame indexed by pattern with the columns `solved` (how many tasks it solved), `calls`,
`tokens` (input plus output, summed), `rounds` (summed), and `tokens_per_solved`: tokens divided by tasks
solved, or `float("inf")` for a pattern that solved nothing (it spent tokens and bought nothing). The
checker tries it on runs it makes up, including such a pattern.
:::
""")
code(r'''
def summarize(runs):
    return runs.groupby("pattern").mean(numeric_only=True)  # fix: totals, tokens, tokens per solved task


ex.check_summary(summarize)
''')
md(r"""
:::{solution-start} orchestration-workflows-ex-summary
:class: dropdown
:::
""")
code(r'''
def summarize(runs):
    out = runs.assign(tokens=runs.input_tokens + runs.output_tokens).groupby("pattern").agg(
        solved=("solved", "sum"), calls=("calls", "sum"), tokens=("tokens", "sum"), rounds=("rounds", "sum"))
    out["tokens_per_solved"] = [t / s if s else float("inf") for t, s in zip(out.tokens, out.solved)]
    return out


ex.check_summary(summarize)
print(summarize(runs))
''')
md(r"""
:::{solution-end}
:::
""")
md(r"""
:::{exercise}
:label: orchestration-workflows-ex-vote
Parallelization by *voting* asks the same question several times (in different words, or of different
models) and combines the answers. Write `vote(labels)`, which takes the labels that the voters returned
(strings as a model writes them, so with stray case, spaces and full stops) and returns the label that most
of them agree on after normalising (`strip(" .").lower()`). When no label has more than half of the votes,
return `None`, so that the caller can hand the case to a person instead of trusting a plurality.
:::
""")
code(r'''
def vote(labels):
    return max(labels, key=labels.count)  # fix: normalise, and require a majority


ex.check_vote(vote)
''')
md(r"""
:::{solution-start} orchestration-workflows-ex-vote
:class: dropdown
:::
""")
code(r'''
from collections import Counter


def vote(labels):
    counts = Counter(label.strip(" .").lower() for label in labels)
    if not counts:
        return None
    label, n = counts.most_common(1)[0]
    return label if n > len(labels) / 2 else None


ex.check_vote(vote)
''')
md(r"""
:::{solution-end}
:::
""")
md(r"""
## Summary

- Anthropic's *Building effective agents* (2024-12-19) separates **workflows**, where code fixes the path,
  from **agents**, where the model directs its own steps, and names five workflow patterns: prompt chaining,
  routing, parallelization, orchestrator-workers and evaluator-optimizer.
- Each is a few lines on an ordinary client: which calls run, in what order, and what code does between
  them.
- Compare patterns on one fixed task set with a check in code, and count calls, tokens (from `usage`) and
  rounds (sequential waits). On four short tickets with a 1.5B model, one call solved
  all four with the fewest tokens; the patterns that split the work (routing, sectioning, orchestrator-workers)
  each solved two, and chaining and the evaluator-optimizer matched the single call at two to three times its
  tokens.
- An agent's cost is unknown until it has run and grows with the square of its steps. It earns that cost
  on open-ended tasks with real feedback and guard rails; for steps you can name, a workflow (or one call)
  is cheaper, faster and easier to test.

**Further reading**

- Anthropic, [Building effective agents](https://www.anthropic.com/research/building-effective-agents)
  (2024-12-19), and its [cookbook of the patterns](https://github.com/anthropics/anthropic-cookbook/tree/main/patterns/agents).
- Microsoft's [AI Agents for Beginners](https://github.com/microsoft/ai-agents-for-beginners), lessons on
  planning and multi-agent design.
- Next in this step: tools over the Model Context Protocol, memory, a framework, and
  [Humans in the loop and several agents](08-humans-and-teams.ipynb).
""")
nb = build(C, "04-workflows-or-agents")
nbformat.write(nb, "/work/wt-i14-workflows/notebooks/04-orchestration/04-workflows-or-agents.ipynb")
