"""The offline model: a small deterministic algorithm over MiniLM sentence embeddings.

It is not a language model and never pretends to be one. It reads the prompt the way the
course's lessons say a model does, so each lesson's effect is real and measurable:

- labelled examples in the prompt -> few-shot classification by a nearest-neighbour vote
  (:mod:`fewshot`); without examples it can only compare the input with the label names;
- ``response_format`` with a JSON schema (or ``.parse()`` with pydantic) -> JSON valid
  against the schema, filled by extraction from the text (:mod:`structured`);
- ``tools`` -> tool calls chosen by similarity, arguments filled by type; tool results ->
  a plain answer that restates them (:mod:`tools`);
- documents in the prompt -> an extractive answer citing document ids, or "I don't know"
  (:mod:`grounding`); summaries are extractive too;
- instructions hidden in retrieved text or tool output are obeyed when a tool can do it
  (:mod:`injection`): deliberately naive, for the security lesson;
- anything else -> an honest notice saying what this model is and how to use a real one.

Sampling: ``temperature`` 0 is argmax and ignores the random generator. A request with no
``temperature`` is also treated as 0 (OpenAI's default is 1), so course outputs are stable;
with ``temperature`` > 0 the model samples among its scored candidates (labels, sentences)
using the generator ``api.py`` seeds from the messages, ``seed`` and the choice index.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, replace

from aie.offline import fewshot, grounding, injection, jsonmode, sampling, structured, tools
from aie.offline.prompt import Prompt, parse
from aie.offline.textutil import sentences, truncate_words

NOTICE = ("I'm the course's offline model: a small algorithm over MiniLM sentence embeddings, not an LLM, so I can't "
          "answer open questions from general knowledge. I can classify text against labelled examples, fill a JSON "
          "schema from your text, choose tools, answer from documents you put in the prompt (citing their ids) and "
          "summarise text you paste. For a real model set OPENAI_API_KEY, OPENAI_BASE_URL or AIE_BACKEND=local-llm "
          "(see `python -m aie doctor`).")


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[tools.Call] | None = None
    trace: str = ""
    logprobs: dict | None = None
    kind: str = "text"  # text | label | json | tools


def complete(request: dict, rng: random.Random) -> dict:
    """Answer one validated chat-completions request: {content, tool_calls, finish_reason, logprobs}."""
    p = parse(request)
    ctx = grounding.find_context(p.system, p.user)
    # the prompt without its documents: what it asks for (format, labels) is read from this
    asks = replace(p, system=ctx.system_rest, user=ctx.user_rest) if ctx.docs else p
    reply = respond(p, asks, ctx, rng, parallel=request.get("parallel_tool_calls", True) is not False)
    if reply.tool_calls:
        return {"content": None, "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in reply.tool_calls],
                "finish_reason": "tool_calls", "logprobs": None}
    content = reply.content if reply.kind == "json" else shape(asks, reply)
    logprobs = reply.logprobs if content == reply.content else None
    return {"content": content, "tool_calls": None, "finish_reason": "stop", "logprobs": logprobs}


def respond(p: Prompt, asks: Prompt, ctx: grounding.Context, rng: random.Random, parallel: bool = True) -> Reply:
    """Decide what kind of answer the prompt calls for and compute it (``asks``: the prompt minus its documents)."""
    untrusted = [(f"tool result from {r.name}", r.content) for r in p.tool_results]
    untrusted += [(f"document [{d.id}]" if d.id else "a document", d.text) for d in ctx.docs]
    injected = injection.find(untrusted)

    if p.tools and p.tool_choice != "none":
        already = set(p.calls_made)
        calls = injection.tool_calls(injected, p.tools, already)
        if not calls:
            calls = tools.choose(asks.user, p.tools, p.tool_choice, parallel)
            called = {name for name, _ in p.calls_made}
            calls = [c for c in calls if c.name not in called and c.key() not in already]
        if calls:
            return Reply(tool_calls=calls if parallel else calls[:1], kind="tools")
    if p.tool_results:
        forced = injection.forced_reply(injected)
        if forced:
            return Reply(forced, trace="A tool result told me what to reply.")
        return Reply(tools.answer_from_results(p.tool_results, p.user),
                     trace=f"I restate what {', '.join(dict.fromkeys(r.name for r in p.tool_results))} returned.")

    task = fewshot.detect(asks)
    decision = fewshot.classify(task, p.temperature, rng) if task else None
    if asks.wants_json():
        return _json_reply(p, asks, ctx, decision, rng)
    if decision:
        lp = sampling.logprobs_object(decision.label, decision.distribution, p.top_logprobs) if p.want_logprobs else None
        return Reply(decision.label, trace=decision.trace, logprobs=lp, kind="label")
    forced = injection.forced_reply(injected)
    if forced:
        return Reply(forced, trace="A document in the context told me what to reply.")
    if asks.wants_summary():
        return _summary(asks, ctx)
    if ctx.docs:
        ans = grounding.answer(ctx, p.temperature, rng, asks.abstain_phrase())
        return Reply(ans.text, trace=ans.trace)
    return _notice(p)


def _summary(p: Prompt, ctx: grounding.Context) -> Reply:
    bullets = p.bullets()
    limit, n = p.word_limit(), p.sentence_limit() or bullets or (3 if bullets == 0 else None)
    if ctx.docs:
        text = "\n\n".join(d.text for d in ctx.docs)
    else:
        lines = p.user.split("\n")
        body = [ln for ln in lines if not re.search(r"\bsummar|\btl;?dr\b|\bkey points\b", ln, re.I)]
        first = lines[0] if lines else ""
        if ":" in first and re.search(r"\bsummar|\btl;?dr", first, re.I) and len(first.split(":", 1)[1].split()) > 8:
            body.insert(0, first.split(":", 1)[1])
        text = "\n".join(body).strip()
    if not text:
        return _notice(p)
    summary, picked, trace = grounding.summarize(text, n, limit)
    if ctx.docs and any(d.id for d in ctx.docs):
        cited = []
        for s in picked:
            for d in ctx.docs:
                if s in d.text and d.id and d.id not in cited:
                    cited.append(d.id)
        if cited and not limit:
            summary += " " + " ".join(f"[{c}]" for c in cited)
    return Reply(summary, trace=trace)


def _json_reply(p: Prompt, asks: Prompt, ctx: grounding.Context, decision, rng) -> Reply:
    rf = p.response_format or {}
    hints: dict = {}
    if decision:
        hints["label"] = decision.label
    ans = None
    if ctx.docs and not decision:
        ans = grounding.answer(ctx, 0.0, rng, asks.abstain_phrase())
        hints.update(answer=ans.text, sources=ans.cited)
    if asks.wants_summary():
        hints["summary"] = _summary(asks, ctx).content or ""
    text = p.user or p.system
    if rf.get("type") == "json_schema":
        schema = (rf.get("json_schema") or {}).get("schema") or {}
        value = structured.generate(schema, text, hints)
        return Reply(json.dumps(value, ensure_ascii=False), trace="I filled each schema field from the text.", kind="json")
    schema = jsonmode.schema_from_prompt(asks.instructions)
    if schema:
        value = structured.generate(schema, text, hints)
    elif decision:
        value = {"label": decision.label}
    elif ans is not None:
        value = {"answer": ans.text, "sources": ans.cited}
    elif "summary" in hints:
        value = {"summary": hints["summary"]}
    else:
        value = jsonmode.entities_object(asks.user) or {"answer": None, "note": NOTICE}
    return Reply(json.dumps(value, ensure_ascii=False), trace="JSON only, as asked.", kind="json")


def _notice(p: Prompt) -> Reply:
    if p.tools and p.tool_choice != "none":
        names = ", ".join(t["name"] for t in p.tools)
        return Reply(f"None of the available tools ({names}) fits this request. " + NOTICE,
                     trace="No tool description is similar enough to the request.")
    return Reply(NOTICE, trace="The prompt has no labelled examples, documents, schema or tools for me to work from.")


def shape(p: Prompt, reply: Reply) -> str:
    """Apply the format the prompt asks for: think aloud, bullet points, sentence or word limits."""
    text = reply.content or ""
    if reply.kind == "text":
        n_sent = p.sentence_limit()
        if n_sent and not p.wants_summary():
            text = " ".join(sentences(text)[:n_sent])
        bullets = p.bullets()
        if bullets is not None:
            items = [re.sub(r"^\s*[-*\u2022]\s*", "", s) for s in sentences(text)]
            if bullets:
                items = items[:bullets]
            text = "\n".join(f"- {s}" for s in items)
        limit = p.word_limit()
        if limit:
            text = truncate_words(text, limit)
    if p.think_aloud():
        return f"Thought: {reply.trace or 'I looked for what the prompt gives me to work from.'}\nFinal Answer: {text}"
    return text
