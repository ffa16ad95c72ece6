"""Checkers for step 1, working with models (notebooks/01-models/)."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

from aie import prices
from aie.exercises.forms import placeholders
from aie.check import Feedback, exercise, hint, passed

# ------------------------------------------------------------------ 01 the chat API

FOLLOW_UP = "And how do I undo that?"


@exercise("models-chat-conversation")
def check_conversation(messages) -> Feedback:
    """The second turn of a conversation: system, user, the assistant's reply, the follow-up question."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return hint("`follow_up` must be a list of message dictionaries, like `history`.")
    roles = [m.get("role") for m in messages]
    if len(messages) == 2 and roles[-1] == "user":
        return hint("the API keeps no memory between calls: a follow-up sent on its own has lost the first question and "
                    "the answer. Send the whole conversation: `history`, the assistant's reply, then the follow-up.")
    if "assistant" not in roles:
        return hint("the model's first answer is missing: add it as {'role': 'assistant', 'content': reply} before the follow-up, "
                    "so the model can see what 'that' refers to.")
    if roles[:2] != ["system", "user"]:
        return hint("keep `history` as it is at the start (system message, then the first user message).")
    if len(messages) != 4:
        return hint(f"expected 4 messages (system, user, assistant, user); you have {len(messages)}: {roles}.")
    if roles[2] != "assistant" or roles[3] != "user":
        return hint(f"the order matters: the assistant's reply comes third and the new user question last; you have {roles}.")
    if not str(messages[2].get("content") or "").strip():
        return hint("the assistant message is empty: put the text of the model's first reply in it.")
    if FOLLOW_UP.lower().rstrip("?") not in str(messages[3].get("content", "")).lower():
        return hint(f"the last message should ask the follow-up question: {FOLLOW_UP!r}.")
    return passed("the whole conversation goes with every request; that is why long chats cost more per turn.")


def _fake_completion(content: str | None, finish_reason: str):
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-exercise", "object": "chat.completion", "created": 0, "model": "exercise",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })


@exercise("models-chat-reply-text")
def check_reply_text(fn) -> Feedback:
    """``reply_text(response)``: the text of a finished reply; ValueError when it was cut off or is not text."""
    if not callable(fn):
        return hint("pass the function itself, `reply_text`, not the result of calling it.")
    done = _fake_completion("Paris is the capital of France.", "stop")
    got = fn(done)
    if got is done.choices[0].message or hasattr(got, "content"):
        return hint("return the text (`response.choices[0].message.content`), not the message object.")
    if got != "Paris is the capital of France.":
        return hint(f"for a finished reply it should return the message text; it returned {got!r}.")
    try:
        cut = fn(_fake_completion("Paris is the cap", "length"))
    except ValueError:
        pass
    else:
        return hint(f"for finish_reason 'length' it returned {cut!r}: that text was cut off by max_tokens. "
                    "Raise ValueError so the caller never mistakes half an answer for a whole one.")
    try:
        fn(_fake_completion(None, "tool_calls"))
    except ValueError:
        pass
    except Exception as e:  # AttributeError, TypeError ...
        return hint(f"a reply that asks for a tool call has no text (content is None); your function raised {type(e).__name__}. "
                    "Check finish_reason first and raise ValueError for anything but 'stop'.")
    else:
        return hint("finish_reason 'tool_calls' means the model wants a tool, not that it answered; raise ValueError for it too.")
    return passed("check finish_reason before you use the text: 'stop' is the only reason that means a complete answer.")


# ------------------------------------------------------------------ 02 tokens, context, cost

KOREAN_SENTENCE = "프롬프트는 모델로부터 원하는 행동을 이끌어내는 기술입니다."


# Support messages in English, Korean and both, to test a token estimate on (written for the course).
TOKEN_SAMPLES = [
    "How do I reset my password?",
    "The invoice for March was charged twice to my card, please refund one of the payments.",
    "Our team exports the usage ledger every Friday and compares it with the budget.",
    "환불은 결제일로부터 14일 이내에 요청할 수 있습니다.",
    "비밀번호를 잊어버렸어요. 어떻게 재설정하나요?",
    "주문한 상품이 아직 도착하지 않았습니다. 배송 상태를 확인해 주세요.",
    "gpt-4.1-mini 모델의 가격은 얼마인가요?",
    "API 키를 설정했는데 401 오류가 계속 납니다.",
]


def _is_korean(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@exercise("models-tokens-estimate")
@placeholders
def check_token_estimate(fn) -> Feedback:
    """A token estimate from characters alone: within 15% on the total of TOKEN_SAMPLES and 35% on each text."""
    from aie import tokens

    if not callable(fn):
        return hint("define a function `estimate_tokens(text)` that returns a number, and pass the function itself.")
    rows = []
    for text in TOKEN_SAMPLES:
        got = fn(text)
        if got is None:
            return hint("your function returns None: `return` the estimate, a number.")
        est = float(got)
        rows.append((text, est, tokens.count(text, "o200k_base")))
    true_total, est_total = sum(r[2] for r in rows), sum(r[1] for r in rows)
    worst = max(rows, key=lambda r: abs(r[1] - r[2]) / r[2])
    korean = [r for r in rows if _is_korean(r[0])]
    if all(r[1] < 0.65 * r[2] for r in korean):
        return hint("every Korean text is underestimated by more than a third: your estimate treats Korean like English. "
                    "Measure characters per token for Hangul and for the other characters separately.")
    if abs(est_total - true_total) > 0.15 * true_total:
        return hint(f"over all {len(rows)} texts you estimate {est_total:.0f} tokens for {true_total} real ones "
                    f"({100 * (est_total - true_total) / true_total:+.0f}%); aim for within 15%.")
    err = (worst[1] - worst[2]) / worst[2]
    if abs(err) > 0.35:
        return hint(f"the total is close, but {worst[0]!r} gets {worst[1]:.1f} for {worst[2]} tokens ({100 * err:+.0f}%): "
                    "mixed or short texts need both rates.")
    return passed(f"{est_total:.0f} estimated for {true_total} tokens in total; the worst text is off by {100 * err:+.0f}%. "
                  "Good enough for a budget; when the bill matters, count with the tokenizer or read `usage`.")


def _count(messages) -> int:
    from aie import tokens

    return tokens.count_messages(messages)


def _conversation() -> list[dict]:
    msgs = [{"role": "system", "content": "You are a helpful travel assistant. Answer briefly."}]
    for i in range(1, 7):
        msgs.append({"role": "user", "content": f"Question {i}: what should I see on day {i} of my trip to Busan? " * 3})
        msgs.append({"role": "assistant", "content": f"On day {i}, visit a market, a beach and a temple, then rest. " * 4})
    msgs.append({"role": "user", "content": "Which day has the best food?"})
    return msgs


@exercise("models-tokens-fit-history")
def check_fit_history(fn) -> Feedback:
    """``fit_history(messages, limit)``: drop the oldest turns (never the system message or the last user message)."""
    if not callable(fn):
        return hint("pass the function itself, `fit_history`, not the result of calling it.")
    msgs = _conversation()
    before = copy.deepcopy(msgs)
    full = _count(msgs)
    if fn(copy.deepcopy(msgs), full + 10) is None:
        return hint("your function returns None: build the shortened list and `return` it.")
    if fn(copy.deepcopy(msgs), full + 10) != msgs:
        return hint("when the conversation already fits, return it unchanged.")
    limit = full // 2
    out = fn(msgs, limit)
    if msgs != before:
        return hint("your function changed the list it was given; build and return a new list instead (e.g. start from `list(messages)`).")
    if not isinstance(out, list) or not out:
        return hint("return the shortened list of messages.")
    if out[0] != before[0]:
        return hint("the system message was dropped; it holds the instructions, so always keep it (it is the first message).")
    if out[-1] != before[-1]:
        return hint("the last user message was dropped or changed; that is the question being asked, so always keep it.")
    if _count(out) > limit:
        return hint(f"the result still has {_count(out)} tokens, over the limit of {limit}: keep dropping turns "
                    "(count with aie.tokens.count_messages).")
    kept = out[1:-1]
    if any(m not in before for m in kept):
        return hint("keep the messages as they are: drop whole messages, do not edit their text.")
    middle = before[1:-1]
    expect_start = len(middle) - len(kept)
    if kept != middle[expect_start:]:
        return hint("drop the oldest turns first (right after the system message); the recent turns matter most for the next answer.")
    # it should not drop more than needed
    if expect_start > 0:
        one_more = [before[0]] + middle[expect_start - 1:] + [before[-1]]
        if _count(one_more) <= limit:
            return hint("you dropped more turns than needed; stop as soon as the conversation fits the limit.")
    return passed(f"kept the system message, the question and the {len(kept)} most recent messages: {_count(out)} tokens <= {limit}.")


def per_thousand(input_tokens: int, output_tokens: int, model_id: str = "gpt-4.1-mini") -> float:
    rate_in, rate_out = prices.per_million(model_id, "openai")
    return 1000 * (input_tokens * rate_in + output_tokens * rate_out) / 1_000_000


@exercise("models-tokens-two-fixes")
@placeholders
def check_two_fixes(answer) -> Feedback:
    """Which fix saves more per 1,000 requests on gpt-4.1-mini: half the context (3,200 -> 2,000 input tokens) or
    shorter answers (250 -> 120 output tokens)? Answer {"better": "A" or "B", "saving_usd": the better one's saving}."""
    if not isinstance(answer, dict) or not {"better", "saving_usd"} <= set(answer):
        return hint("answer with a dict: {'better': 'A' or 'B', 'saving_usd': US dollars saved per 1,000 requests}.")
    now = per_thousand(3200, 250)
    saving = {"A": now - per_thousand(2000, 250), "B": now - per_thousand(3200, 120)}
    best = max(saving, key=saving.get)
    other = "B" if best == "A" else "A"
    got = str(answer["better"]).strip().upper()
    if got not in saving:
        return hint("`better` is 'A' (half the context) or 'B' (shorter answers).")
    if got != best:
        return hint(f"compute both savings: the output price is 4x the input price, but fix A removes "
                    f"{3200 - 2000:,} tokens and fix B only {250 - 120}.")
    value = float(answer["saving_usd"])
    if abs(value - saving[best]) <= 0.005 * saving[best]:
        return passed(f"A saves ${saving['A']:.3f} and B ${saving['B']:.3f} per 1,000 requests. Output tokens are "
                      "dearer, but here the context is where the tokens are: count before you optimise.")
    if abs(value - saving[best] / 1000) <= 0.005 * saving[best] / 1000:
        return hint("that is the saving on one request; the question asks per 1,000.")
    if abs(value - now) <= 0.005 * now:
        return hint("that is today's cost of 1,000 requests; subtract the cost after the fix.")
    return hint(f"saving = cost of 1,000 requests today minus the cost after fix {best}, with `prices.per_million('gpt-4.1-mini')`.")


# ------------------------------------------------------------------ 03 the model landscape

def _cheapest_open(df) -> str:
    ok = df[df["open_weights"].fillna(False) & (df["context_window"].fillna(0) >= 100_000)
            & df["input_usd_per_mtok"].notna() & (df["output_usd_per_mtok"].fillna(0) > 0)]
    cost = 1500 * ok["input_usd_per_mtok"] + 400 * ok["output_usd_per_mtok"]
    return str(ok.loc[cost.idxmin(), "model"])


@exercise("models-landscape-choice")
def check_open_choice(model_id) -> Feedback:
    """The cheapest open-weight model in datasets/models.csv with a context window of at least 100,000 tokens,
    for requests of 1,500 input and 400 output tokens (served by the host listed)."""
    from aie import data

    df = data.load("models")
    right = _cheapest_open(df)
    if not isinstance(model_id, str):
        return hint("answer with the model id as a string, as in the table's `model` column.")
    model_id = model_id.strip()
    if model_id == right:
        return passed(f"{right}: open weights, a long enough window, and the lowest price per request of the open models in the table.")
    row = df[df["model"] == model_id]
    if row.empty:
        return hint(f"{model_id!r} is not in the table; copy the id from the `model` column.")
    row = row.iloc[0]
    if not bool(row["open_weights"]):
        return hint(f"{model_id} has closed weights; filter on `open_weights` first.")
    import pandas as pd

    if pd.isna(row["context_window"]):
        return hint(f"{model_id} has no context window in the table (it is not a chat model); look for open chat or reasoning models.")
    if row["context_window"] < 100_000:
        return hint(f"{model_id} has a context window of {int(row['context_window']):,} tokens, under 100,000.")
    return hint(f"{model_id} qualifies but is not the cheapest: compute 1,500 x input price + 400 x output price for each "
                "candidate and take the smallest. Comparing input prices alone is not enough.")


@exercise("models-landscape-ollama")
def check_ollama_env(env) -> Feedback:
    """Environment variables that point the course at Ollama on this machine, serving the model llama3.2."""
    if not isinstance(env, dict):
        return hint("answer with a dict of environment variable names to values, e.g. {'OPENAI_BASE_URL': ...}.")
    if env.get("AIE_BACKEND") in {"openai", "offline", "local-llm"}:
        return hint(f"AIE_BACKEND={env['AIE_BACKEND']!r} overrides the base URL; leave AIE_BACKEND unset (or 'compatible').")
    url = str(env.get("OPENAI_BASE_URL", "")).strip()
    if not url:
        return hint("set OPENAI_BASE_URL: it is what tells the client to talk to another server than OpenAI.")
    if "11434" not in url:
        return hint("Ollama listens on port 11434 by default: http://localhost:11434/v1.")
    if not url.rstrip("/").endswith("/v1"):
        return hint("Ollama's OpenAI-compatible API lives under /v1: use http://localhost:11434/v1 (without /v1 every call is a 404).")
    if not (url.startswith("http://localhost") or url.startswith("http://127.0.0.1")):
        return hint("Ollama on your own machine is reached over plain http on localhost (http://localhost:11434/v1).")
    key = str(env.get("OPENAI_API_KEY", ""))
    if key.startswith("sk-"):
        return hint("do not send your OpenAI key to another server; Ollama ignores the key, so leave it unset or any placeholder.")
    if env.get("AIE_CHAT_MODEL") != "llama3.2" and env.get("AIE_SMALL_MODEL") != "llama3.2":
        return hint("also say which model plays the chat role: AIE_CHAT_MODEL='llama3.2' (the name you pulled with `ollama pull`).")
    return passed("the same notebook code now talks to Ollama; only configuration changed.")


# ------------------------------------------------------------------ 04 when the API fails

def _exc(kind: str):
    import httpx2 as httpx
    import openai

    req = httpx.Request("POST", "https://api.example.invalid/v1/chat/completions")

    def status(cls, code, error_code=None):
        body = {"message": "exercise", "type": error_code, "param": None, "code": error_code} if error_code else None
        return cls("exercise", response=httpx.Response(code, request=req), body=body)

    return {
        "rate_limit": status(openai.RateLimitError, 429, "rate_limit_exceeded"),
        "quota": status(openai.RateLimitError, 429, "insufficient_quota"),
        "server": status(openai.InternalServerError, 500),
        "timeout": openai.APITimeoutError(request=req),
        "connection": openai.APIConnectionError(request=req),
        "bad_request": status(openai.BadRequestError, 400),
        "not_found": status(openai.NotFoundError, 404),
        "auth": status(openai.AuthenticationError, 401),
        "value": ValueError("not an API error"),
    }[kind]


RETRYABLE = {"rate_limit": True, "server": True, "timeout": True, "connection": True,
             "bad_request": False, "not_found": False, "auth": False, "value": False, "quota": False}
WHY = {
    "rate_limit": "a 429 rate limit clears if you wait: retry it, with backoff.",
    "quota": "a 429 whose code is 'insufficient_quota' means the account is out of credit: waiting never clears it, so fail at once (check `exc.code`).",
    "server": "a 500 is the provider's problem and often passes: retry it.",
    "timeout": "a timeout may be a slow moment: retry it (the request may have run; see idempotency).",
    "connection": "a dropped connection is transient: retry it.",
    "bad_request": "a 400 means the request itself is wrong (bad parameter, prompt too long); sending it again fails again.",
    "not_found": "a 404 means the model id does not exist for you; retrying cannot fix a wrong name.",
    "auth": "a 401 means the key is wrong; retrying only repeats the failure (and may lock the key).",
    "value": "a ValueError is a bug in your own code, not a flaky API: do not retry it.",
}


@exercise("models-errors-should-retry")
def check_should_retry(fn) -> Feedback:
    """``should_retry(exc)``: True for transient API failures, False for everything else."""
    if not callable(fn):
        return hint("pass the function itself, `should_retry`.")
    for kind, expected in RETRYABLE.items():
        got = fn(_exc(kind))
        if not isinstance(got, bool):
            return hint(f"return True or False; for a {kind.replace('_', ' ')} error it returned {got!r}.")
        if got != expected:
            return hint(("it said retry, but " if got else "it said do not retry, but ") + WHY[kind])
    return passed("retry what is transient (429 rate limits, 5xx, timeouts, dropped connections); fail fast on everything else, including an exhausted quota.")


@exercise("models-errors-backoff")
def check_backoff(fn) -> Feedback:
    """``backoff_delays(attempts, base=1.0, cap=30.0)``: the wait before each retry, doubling, never above cap."""
    if not callable(fn):
        return hint("pass the function itself, `backoff_delays`.")
    got = fn(6, base=1.0, cap=30.0)
    if got is None:
        return hint("your function returns None: build the list of delays and `return` it.")
    got = list(got)
    right = [min(30.0, 1.0 * 2 ** i) for i in range(6)]
    if len(got) != 6:
        return hint(f"backoff_delays(6) should give one delay per attempt: 6 numbers; it gave {len(got)}.")
    if all(math.isclose(a, b) for a, b in zip(got, right)):
        got2 = list(fn(4, base=0.5, cap=2.0))
        right2 = [min(2.0, 0.5 * 2 ** i) for i in range(4)]
        if all(math.isclose(a, b) for a, b in zip(got2, right2)):
            return passed(f"{right}: each wait doubles, and the cap stops it growing without bound. Add jitter in production.")
        return hint(f"use the arguments: backoff_delays(4, base=0.5, cap=2.0) should be {right2}, got {got2}.")
    if all(math.isclose(a, 1.0 * (i + 1)) for i, a in enumerate(got)):
        return hint("the delays grow linearly; exponential backoff doubles each time: base, 2*base, 4*base, ...")
    if all(math.isclose(a, b) for a, b in zip(got, [1.0 * 2 ** i for i in range(6)])):
        return hint("the delays are never capped: use min(cap, base * 2 ** attempt).")
    if all(math.isclose(a, b) for a, b in zip(got, [min(30.0, 2.0 ** (i + 1)) for i in range(6)])):
        return hint("off by one: the first retry should wait `base` (2 ** 0 = 1), not 2 * base.")
    return hint(f"expected {right} for backoff_delays(6, base=1.0, cap=30.0); got {got}.")


# ------------------------------------------------------------------ 05 adaptation

ADAPTATION = {
    "policy_docs": "rag",
    "json_fields": "prompt",
    "high_volume_classifier": "fine-tune",
    "pirate_voice": "prompt",
}
ADAPT_WHY = {
    "policy_docs": "facts that change every week belong in the context, fetched at question time (retrieval); "
                   "fine-tuning would bake in last week's policy.",
    "json_fields": "a format is an instruction plus structured outputs (a JSON schema): no training needed.",
    "high_volume_classifier": "a long few-shot prompt paid on millions of requests, with thousands of labelled examples "
                              "at hand, is the textbook case where fine-tuning a small model pays off.",
    "pirate_voice": "a style is easy to ask for in the system message; try the prompt first.",
}


@exercise("models-adapt-choice")
def check_adaptation(answers) -> Feedback:
    """Map each scenario to 'prompt', 'rag' or 'fine-tune'."""
    if not isinstance(answers, dict):
        return hint("answer with a dict from scenario name to 'prompt', 'rag' or 'fine-tune'.")
    missing = [k for k in ADAPTATION if k not in answers]
    if missing:
        return hint(f"answer every scenario; missing: {', '.join(missing)}.")
    for k, right in ADAPTATION.items():
        got = str(answers[k]).strip().lower().replace("finetune", "fine-tune").replace("fine tune", "fine-tune")
        if got not in {"prompt", "rag", "fine-tune"}:
            return hint(f"{k}: use one of 'prompt', 'rag', 'fine-tune' (got {answers[k]!r}).")
        if got != right:
            return hint(f"{k}: not {got!r}. " + ADAPT_WHY[k])
    return passed("prompt first, retrieval for facts, fine-tuning when volume and data justify it: the roadmap's order.")


def break_even_requests(training_usd: float = 12.0) -> float:
    """Requests after which fine-tuned gpt-4o-mini (150-token prompt) beats gpt-4o-mini with a 2,150-token few-shot prompt."""
    base_in, base_out = prices.per_million("gpt-4o-mini", "openai")
    ft_in, ft_out = prices.per_million("ft:gpt-4o-mini-2024-07-18:course::demo", "openai")
    base = (2150 * base_in + 50 * base_out) / 1_000_000
    tuned = (150 * ft_in + 50 * ft_out) / 1_000_000
    return training_usd / (base - tuned)


@exercise("models-adapt-break-even")
def check_break_even(n) -> Feedback:
    """Requests at which fine-tuning (training $12) has paid for itself."""
    right = break_even_requests()
    value = float(n)
    if abs(value - right) <= 0.01 * right:
        return passed(f"about {right:,.0f} requests. Below that volume, the long prompt is cheaper; above it, the tuned model.")
    base_in, base_out = prices.per_million("gpt-4o-mini", "openai")
    ft_in, ft_out = prices.per_million("ft:gpt-4o-mini-2024-07-18:course::demo", "openai")
    naive = 12.0 / ((2150 * base_in + 50 * base_out - 150 * base_in - 50 * base_out) / 1_000_000)
    if abs(value - naive) <= 0.01 * naive:
        return hint("a fine-tuned model is billed at its own, higher rates: use the ft: prices for the tuned model's tokens.")
    if value < 1000:
        return hint("the saving per request is a fraction of a cent; divide the $12 training cost by the saving per request "
                    "(base cost per request minus tuned cost per request).")
    return hint("cost per request = (input tokens x input price + output tokens x output price) / 1,000,000 for each option; "
                "break-even = 12 / (base - tuned).")


ADAPT_OPTIONS = {"prompt", "rag", "fine-tune"}


@exercise("models-adapt-plan")
@placeholders
def check_adaptation_plan(answer) -> Feedback:
    """Open-ended: an adaptation plan for a task of the learner's (the shape is verified, not the idea)."""
    from aie.exercises.forms import grade_open

    problem = grade_open(answer, {"task": 5, "first_try": 0, "why": 10, "measure": 8, "n_examples": 0, "switch_if": 8})
    if problem is not None:
        return problem
    first = str(answer["first_try"]).strip().lower().replace("finetune", "fine-tune").replace("fine tune", "fine-tune")
    if first not in ADAPT_OPTIONS:
        return hint(f"`first_try` is one of {sorted(ADAPT_OPTIONS)}, got {answer['first_try']!r}.")
    n = answer["n_examples"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        return hint("`n_examples` is how many labelled examples you will measure on: a positive whole number.")
    if n < 20:
        return hint(f"{n} examples cannot tell two options apart unless they differ enormously; plan for at least a few "
                    "dozen (step 5 shows how to size an evaluation).")
    return passed("a plan with something to measure and a rule for changing course. The rubric in the solution says "
                  "what makes one plan better than another; the checker only verifies the shape.")

