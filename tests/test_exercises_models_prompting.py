"""Checkers of steps 1 and 2 (aie.exercises.models, aie.exercises.prompting): a right answer passes, a typical
wrong one gets its specific hint. Also the prompt registry (aie.prompts), the course's prompt files, and the
model table's prices against genai-prices."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2 as httpx
import openai
import pandas as pd
import pytest

from aie import data, prices, tokens
from aie.exercises import models as m
from aie.exercises import prompting as p
from aie.prompts import PromptError, Registry, fill, parse
from feedback import hints, ok

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "notebooks" / "02-prompting" / "prompts"


# ------------------------------------------------------------------ step 1: the chat API

HISTORY = [{"role": "system", "content": "You are a support assistant."}, {"role": "user", "content": "How do I cancel?"}]
REPLY = "Go to Settings > Billing."


def test_conversation():
    ok(m.check_conversation(HISTORY + [{"role": "assistant", "content": REPLY},
                                       {"role": "user", "content": "And how do I undo that?"}]))
    hints(m.check_conversation([HISTORY[0], {"role": "user", "content": "And how do I undo that?"}]), "no memory")
    hints(m.check_conversation(HISTORY + [{"role": "user", "content": "And how do I undo that?"}]), "assistant")
    hints(m.check_conversation(HISTORY + [{"role": "user", "content": "And how do I undo that?"},
                                          {"role": "assistant", "content": REPLY}]), "order")
    hints(m.check_conversation(...), "placeholder")


def test_reply_text():
    def right(response):
        choice = response.choices[0]
        if choice.finish_reason != "stop":
            raise ValueError(choice.finish_reason)
        return choice.message.content

    ok(m.check_reply_text(right))
    hints(m.check_reply_text(lambda r: r.choices[0].message.content), "length", "cut off")
    hints(m.check_reply_text(lambda r: r.choices[0].message), "text")

    def only_length(response):
        if response.choices[0].finish_reason == "length":
            raise ValueError("cut")
        return response.choices[0].message.content

    hints(m.check_reply_text(only_length), "tool")


# ------------------------------------------------------------------ step 1: tokens and cost

def test_token_estimate():
    import re as _re

    def by_script(text):
        hangul = len(_re.findall(r"[\uac00-\ud7a3]", text))
        return hangul / 1.3 + (len(text) - hangul) / 4.5

    ok(m.check_token_estimate(by_script))
    hints(m.check_token_estimate(lambda text: len(text) / 4), "treats Korean like English")
    hints(m.check_token_estimate(lambda text: len(text) / 2), "aim for within 15%")
    hints(m.check_token_estimate(lambda text: tokens.count(text) * (3 if text.startswith("How") else 1)), "mixed or short texts")
    hints(m.check_token_estimate(lambda text: None), "returns None")
    hints(m.check_token_estimate(42), "pass the function itself")


def test_fit_history():
    def right(messages, limit):
        system, middle, question = messages[0], list(messages[1:-1]), messages[-1]
        while middle and tokens.count_messages([system, *middle, question]) > limit:
            middle.pop(0)
        return [system, *middle, question]

    ok(m.check_fit_history(right))

    def drops_newest(messages, limit):
        system, middle, question = messages[0], list(messages[1:-1]), messages[-1]
        while middle and tokens.count_messages([system, *middle, question]) > limit:
            middle.pop()
        return [system, *middle, question]

    hints(m.check_fit_history(drops_newest), "oldest")

    def drops_system(messages, limit):
        out = list(messages)
        while len(out) > 1 and tokens.count_messages(out) > limit:
            out.pop(0)
        return out

    hints(m.check_fit_history(drops_system), "system message")

    def mutates(messages, limit):
        while len(messages) > 2 and tokens.count_messages(messages) > limit:
            messages.pop(1)
        return messages

    hints(m.check_fit_history(mutates), "changed the list")
    def drops_all(messages, limit):
        return list(messages) if tokens.count_messages(messages) <= limit else [messages[0], messages[-1]]

    hints(m.check_fit_history(drops_all), "more turns than needed")
    hints(m.check_fit_history(lambda messages, limit: None), "returns None")


def test_two_fixes():
    rate_in, rate_out = prices.per_million("gpt-4.1-mini", "openai")
    saving_a = 1000 * 1200 * rate_in / 1e6
    ok(m.check_two_fixes({"better": "A", "saving_usd": saving_a}))
    hints(m.check_two_fixes({"better": "B", "saving_usd": 1000 * 130 * rate_out / 1e6}), "fix a removes")
    hints(m.check_two_fixes({"better": "A", "saving_usd": saving_a / 1000}), "one request")
    hints(m.check_two_fixes({"better": "A", "saving_usd": 1000 * (3200 * rate_in + 250 * rate_out) / 1e6}), "today's cost")
    hints(m.check_two_fixes({"better": "C", "saving_usd": 1}), "'a'")
    hints(m.check_two_fixes({"better": ..., "saving_usd": ...}), "no answer yet")


# ------------------------------------------------------------------ step 1: the landscape

def test_open_choice():
    ok(m.check_open_choice("openai/gpt-oss-20b"))
    hints(m.check_open_choice("gpt-4.1-nano"), "closed")
    hints(m.check_open_choice("qwen2.5-coder-1.5b-instruct"), "16,384")
    hints(m.check_open_choice("llama-3.3-70b-versatile"), "cheapest")
    hints(m.check_open_choice("gpt-99"), "not in the table")


def test_ollama_env():
    ok(m.check_ollama_env({"OPENAI_BASE_URL": "http://localhost:11434/v1", "AIE_CHAT_MODEL": "llama3.2"}))
    hints(m.check_ollama_env({"OPENAI_BASE_URL": "http://localhost:11434", "AIE_CHAT_MODEL": "llama3.2"}), "/v1")
    hints(m.check_ollama_env({"AIE_CHAT_MODEL": "llama3.2"}), "OPENAI_BASE_URL")
    hints(m.check_ollama_env({"OPENAI_BASE_URL": "http://localhost:11434/v1"}), "AIE_CHAT_MODEL")
    hints(m.check_ollama_env({"OPENAI_BASE_URL": "http://localhost:11434/v1", "AIE_CHAT_MODEL": "llama3.2",
                              "AIE_BACKEND": "openai"}), "AIE_BACKEND")


# ------------------------------------------------------------------ step 1: failures

def test_should_retry():
    transient = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError)
    ok(m.check_should_retry(lambda e: isinstance(e, transient) and getattr(e, "code", None) != "insufficient_quota"))
    hints(m.check_should_retry(lambda e: isinstance(e, transient)), "insufficient_quota")
    hints(m.check_should_retry(lambda e: isinstance(e, openai.APIError)), "400")
    hints(m.check_should_retry(lambda e: isinstance(e, openai.RateLimitError)), "500")
    hints(m.check_should_retry(lambda e: True), "400")


def test_backoff():
    ok(m.check_backoff(lambda n, base=1.0, cap=30.0: [min(cap, base * 2 ** i) for i in range(n)]))
    hints(m.check_backoff(lambda n, base=1.0, cap=30.0: [base * (i + 1) for i in range(n)]), "linearly")
    hints(m.check_backoff(lambda n, base=1.0, cap=30.0: [base * 2 ** i for i in range(n)]), "capped")
    hints(m.check_backoff(lambda n, base=1.0, cap=30.0: [min(cap, base * 2 ** (i + 1)) for i in range(n)]), "off by one")
    hints(m.check_backoff(lambda n, base=1.0, cap=30.0: [min(30.0, 1.0 * 2 ** i) for i in range(n)]), "arguments")


# ------------------------------------------------------------------ step 1: adaptation

def test_adaptation():
    right = {"policy_docs": "rag", "json_fields": "prompt", "high_volume_classifier": "fine-tune", "pirate_voice": "prompt"}
    ok(m.check_adaptation(right))
    hints(m.check_adaptation(dict(right, policy_docs="fine-tune")), "policy_docs", "retrieval")
    hints(m.check_adaptation(dict(right, high_volume_classifier="prompt")), "volume")
    hints(m.check_adaptation({"policy_docs": "rag"}), "missing")


def test_break_even():
    ok(m.check_break_even(m.break_even_requests()))


PLAN = {"task": "Route incoming support tickets to one of four teams.", "first_try": "prompt",
        "why": "The labels are few and stable, and a prompt with definitions may already be accurate enough.",
        "measure": "Accuracy against the team that finally handled each ticket, on last month's tickets.",
        "n_examples": 200, "switch_if": "Accuracy stays below 90% after two prompt revisions: then try fine-tuning."}


def test_adaptation_plan():
    ok(m.check_adaptation_plan(PLAN))
    ok(m.check_adaptation_plan({**PLAN, "first_try": "Fine tune"}))
    hints(m.check_adaptation_plan({**PLAN, "first_try": "agents"}), "first_try")
    hints(m.check_adaptation_plan({**PLAN, "n_examples": 5}), "at least a few dozen")
    hints(m.check_adaptation_plan({**PLAN, "n_examples": "many"}), "whole number")
    hints(m.check_adaptation_plan({**PLAN, "measure": "vibes"}), "8+ words")
    hints(m.check_adaptation_plan({k: v for k, v in PLAN.items() if k != "switch_if"}), "switch_if")
    hints(m.check_adaptation_plan({**PLAN, "why": ...}), "still holds")
    hints(m.check_adaptation_plan({k: ... for k in PLAN}), "no answer yet")
    base_in, base_out = prices.per_million("gpt-4o-mini", "openai")
    naive = 12 / ((2150 - 150) * base_in / 1e6)
    hints(m.check_break_even(naive), "ft:")
    hints(m.check_break_even(12 / 0.0002), "")


# ------------------------------------------------------------------ step 2: anatomy

def test_normalise():
    def right(reply):
        text = re.sub(r"[-_\s]+", " ", (reply or "").lower())
        found = [lab for lab in p.LABELS if re.search(rf"\b{lab.replace('_', ' ')}\b", text)]
        return found[0] if len(found) == 1 else None

    ok(p.check_normalise(right))

    def exact(reply):
        r = reply.strip().lower()
        return r if r in p.LABELS else None

    hints(p.check_normalise(exact), "punctuation")

    def first_found(reply):
        text = re.sub(r"[-_\s]+", " ", (reply or "").lower())
        found = [lab for lab in p.LABELS if re.search(rf"\b{lab.replace('_', ' ')}\b", text)]
        return found[0] if found else None

    hints(p.check_normalise(first_found), "two labels")


# ------------------------------------------------------------------ step 2: think aloud

def test_final_answer():
    def right(text):
        found = list(re.finditer(r"final answer\s*:", text or "", re.I))
        return text[found[-1].end():].strip() if found else None

    ok(p.check_final_answer(right))

    def case_sensitive(text):
        return text.split("Final Answer:")[-1].strip() if "Final Answer:" in text else None

    hints(p.check_final_answer(case_sensitive), "IGNORECASE")

    def first_one(text):
        found = list(re.finditer(r"final answer\s*:", text, re.I))
        return text[found[0].end():].strip() if found else None

    hints(p.check_final_answer(first_one), "last")

    def guesses(text):
        found = list(re.finditer(r"final answer\s*:", text, re.I))
        return text[found[-1].end():].strip() if found else text.strip()

    hints(p.check_final_answer(guesses), "None")

    def one_line(text):
        found = list(re.finditer(r"final answer\s*:", text, re.I))
        return text[found[-1].end():].strip().splitlines()[0] if found else None

    hints(p.check_final_answer(one_line), "several lines")


def test_cot_decision():
    rate_out = prices.per_million("gpt-4.1-mini", "openai")[1]
    right = 1000 / 0.75 * 154.125 * rate_out / 1e6
    ok(p.check_cot_decision({"style": "step by step", "usd_per_1000_correct": right}))
    hints(p.check_cot_decision({"style": "answer only", "usd_per_1000_correct": 0.08}), "below the 70%")
    hints(p.check_cot_decision({"style": "step by step", "usd_per_1000_correct": 1000 * 154.125 * rate_out / 1e6}),
          "divide by the accuracy")
    hints(p.check_cot_decision({"style": "step by step", "usd_per_1000_correct": 0.75 * 1000 * 154.125 * rate_out / 1e6}),
          "multiplied by the accuracy")
    hints(p.check_cot_decision({"style": "cot", "usd_per_1000_correct": right}), "one of the table's rows")


def test_cot_measurements_match_the_notebook():
    """The checker's WORD_PROBLEMS_MEASURED are the numbers the recorded notebook printed."""
    nb = json.loads((ROOT / "notebooks" / "02-prompting" / "02-think-aloud.ipynb").read_text(encoding="utf-8"))
    printed = next("".join(o["data"]["text/plain"]) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []) if "output tokens per answer" in "".join(o.get("data", {}).get("text/plain", "")))
    for style, (accuracy, out_tokens) in p.WORD_PROBLEMS_MEASURED.items():
        row = next(line for line in printed.splitlines() if line.startswith(style))
        numbers = [float(x) for x in row[len(style):].split()]
        assert abs(numbers[0] - accuracy) < 0.001 and abs(numbers[2] - out_tokens) < 0.001, (style, numbers)


# ------------------------------------------------------------------ step 2: structured outputs

def test_schema_diagnosis():
    right = {"A": "ok", "B": "not all required", "C": "open object", "D": "too loose", "E": "open object"}
    assert {k: p.strict_problem(v) for k, v in p.TICKET_SCHEMAS.items()} == right
    ok(p.check_schema_diagnosis(right))
    hints(p.check_schema_diagnosis({**right, "C": "ok"}), "nested ones")
    hints(p.check_schema_diagnosis({**right, "D": "ok"}), "enum")
    hints(p.check_schema_diagnosis({**right, "B": "ok"}), "null")
    hints(p.check_schema_diagnosis({**right, "A": "open object"}), "breaks neither rule")
    hints(p.check_schema_diagnosis({**right, "A": "fine"}), "a verdict is one of")
    hints(p.check_schema_diagnosis({"A": "ok"}), "each schema letter")
    hints(p.check_schema_diagnosis({k: ... for k in right}), "no answer yet")


def test_extract_json():
    def right(text):
        start, end = text.find("{"), text.rfind("}")
        if start == -1 or end < start:
            raise ValueError("none")
        return json.loads(text[start:end + 1])

    ok(p.check_extract_json(right))
    hints(p.check_extract_json(json.loads), "fence")

    def lenient(text):
        try:
            return right(text)
        except ValueError:
            return {}

    hints(p.check_extract_json(lenient), "ValueError")


# ------------------------------------------------------------------ step 2: prompt management

def test_fill_exercise():
    ok(p.check_fill(lambda t, v: re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda mm: str(v[mm.group(1)]), t)))
    hints(p.check_fill(lambda t, v: re.sub(r"\{\{\s*(\w+)\s*\}\}", r"{\1}", t).format(**v)), "single braces")
    hints(p.check_fill(lambda t, v: t.replace("{{", "{").replace("}}", "}").format(**v)), "spaces")
    hints(p.check_fill(lambda t, v: re.sub(r"\{\{(\w+)\}\}", lambda mm: str(v[mm.group(1)]), t)), "spaces")
    hints(p.check_fill(lambda t, v: re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda mm: str(v.get(mm.group(1), "")), t)), "KeyError")


def test_v3_plan():
    v2 = Registry(PROMPTS).get("ticket_router", 2).source
    v3 = re.sub(r"changelog: >-\n(?:  .*\n)+", "changelog: Ask for the label in lower case only.\n",
                v2.replace("version: 2", "version: 3"))
    plan = {"yaml": v3, "failure": "Replies that decorate the label are counted wrong although the label is right.",
            "hypothesis": "Asking for the bare lower-case label removes the decoration without changing the label.",
            "measure": "Score v2 and v3 on the same 48 test tickets at temperature 0 and compare accuracy."}
    ok(p.check_v3_plan(plan))
    hints(p.check_v3_plan({**plan, "yaml": v2}), "third version")
    hints(p.check_v3_plan({**plan, "yaml": v2.replace("version: 2", "version: 3")}), "changelog")
    hints(p.check_v3_plan({**plan, "yaml": v3.replace("model: chat", "model: gpt-4.1-mini")}), "role")
    hints(p.check_v3_plan({**plan, "yaml": v3.replace("{{ticket}}", "{{text}}")}), "variables")
    hints(p.check_v3_plan({**plan, "yaml": 3}), "YAML text")
    hints(p.check_v3_plan({**plan, "measure": "we will see"}), "10+ words")
    hints(p.check_v3_plan({k: v for k, v in plan.items() if k != "failure"}), "failure")
    hints(p.check_v3_plan({k: ... for k in plan}), "no answer yet")


# ------------------------------------------------------------------ aie.prompts and the prompt files

def test_registry_reads_the_course_prompts():
    registry = Registry(PROMPTS)
    assert registry.names() == ["data_issue", "ticket_router"]
    assert registry.versions("ticket_router") == [1, 2]
    latest = registry.get("ticket_router")
    assert latest.version == 2 and latest.variables() == ["ticket"]
    req = latest.request(ticket="I was charged twice")
    assert req["messages"][-1]["content"] == "<ticket>I was charged twice</ticket>"
    assert req["temperature"] == 0 and req["model"]
    diff = registry.diff("ticket_router", 1, 2)
    assert diff.startswith("--- ticket_router/v1.yaml") and "+version: 2" in diff


def test_every_prompt_file_renders():
    registry = Registry(PROMPTS)
    for name in registry.names():
        for v in registry.versions(name):
            prompt = registry.get(name, v)
            rendered = prompt.render(**{var: "x" for var in prompt.variables()})
            assert not any("{{" in msg["content"] for msg in rendered), (name, v)


def test_render_is_strict():
    prompt = parse("name: t\nversion: 1\nmodel: chat\nmessages:\n  - role: user\n    content: 'Hi {{ name }}, {\"a\": 1}'\n")
    assert prompt.render(name="Mina")[0]["content"] == 'Hi Mina, {"a": 1}'
    with pytest.raises(PromptError, match="no value for 'name'"):
        prompt.render()
    with pytest.raises(PromptError, match="no variable 'nmae'"):
        prompt.render(nmae="Mina")
    assert fill("{{a}}{{ a }}", {"a": 1}) == "11"


@pytest.mark.parametrize("text, problem", [
    ("name: t\nversion: 1\nmodel: gpt-4.1-mini\nmessages:\n  - role: user\n    content: hi\n", "must be a role"),
    ("name: t\nversion: 0\nmodel: chat\nmessages:\n  - role: user\n    content: hi\n", "version"),
    ("name: t\nversion: 1\nmodel: chat\nmessages:\n  - role: customer\n    content: hi\n", "messages\\[0\\]"),
    ("name: t\nversion: 1\nmodel: chat\n", "missing messages"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_parse_names_the_problem(text, problem):
    with pytest.raises(PromptError, match=problem):
        parse(text)


def test_registry_checks_the_file_matches_its_place(tmp_path):
    (tmp_path / "greet").mkdir()
    (tmp_path / "greet" / "v2.yaml").write_text("name: greet\nversion: 1\nmodel: chat\nmessages:\n  - role: user\n    content: hi\n")
    with pytest.raises(PromptError, match="the file's place says"):
        Registry(tmp_path).get("greet")
    with pytest.raises(KeyError):
        Registry(tmp_path).get("nothing")


# ------------------------------------------------------------------ the tables written for these steps

def test_model_table_prices_match_genai_prices():
    from genai_prices import Usage, calc_price

    models = data.load("models")
    priced = models[models["price_source"].str.startswith("genai-prices")]
    assert len(priced) >= 20
    for row in priced.itertuples():
        got = float(calc_price(Usage(input_tokens=1000, output_tokens=0), row.model, provider_id=row.served_by).total_price) * 1000
        assert got == pytest.approx(row.input_usd_per_mtok, abs=5e-4), row.model
        if pd.notna(row.output_usd_per_mtok):
            out = float(calc_price(Usage(input_tokens=0, output_tokens=1000), row.model, provider_id=row.served_by).total_price) * 1000
            assert out == pytest.approx(row.output_usd_per_mtok, abs=5e-4), row.model


def test_model_table_agrees_with_the_course_config():
    from aie import config

    models = data.load("models").set_index("model")
    for model_id, window in config.CONTEXT_WINDOWS.items():
        if model_id in models.index:
            assert models.loc[model_id, "context_window"] == window, model_id
    assert prices.per_million("gpt-4.1-mini") == (models.loc["gpt-4.1-mini", "input_usd_per_mtok"],
                                                  models.loc["gpt-4.1-mini", "output_usd_per_mtok"])


def test_labelled_sets_keep_pool_and_test_apart_and_balanced():
    for name, per_label_test in [("support_tickets", 12), ("data_issue_reports", 24)]:
        df = data.load(name)
        assert not df["text"].duplicated().any(), f"{name}: a text appears twice"
        counts = df[df["split"] == "test"]["label"].value_counts()
        assert (counts == per_label_test).all(), (name, counts.to_dict())
    reports = data.load("data_issue_reports").set_index("id")
    assert reports.loc["t01", "split"] == "pool" and reports.loc["f01", "text"] == "Your ceo needs a haircut"
