"""``python -m aie doctor``: which backend answers, with which models, and whether it works."""

from __future__ import annotations

import os

from aie import config

SWITCH = """How to switch:
  offline (default)   unset OPENAI_API_KEY OPENAI_BASE_URL AIE_BACKEND
  OpenAI              export OPENAI_API_KEY=...        (https://platform.openai.com/api-keys)
  Ollama / vLLM / ... export OPENAI_BASE_URL=http://localhost:11434/v1   (plus a key if the server wants one)
  local LLM (Qwen)    make local-llm && export AIE_BACKEND=local-llm
  budget cap          export AIE_BUDGET_USD=1.00"""


def _why(name: str) -> str:
    if os.environ.get("AIE_BACKEND"):
        return f"AIE_BACKEND={os.environ['AIE_BACKEND']}"
    if name == "compatible":
        return "OPENAI_BASE_URL is set"
    if name == "openai":
        return "OPENAI_API_KEY is set"
    return "no OPENAI_API_KEY, OPENAI_BASE_URL or AIE_BACKEND is set"


def report() -> tuple[str, bool]:
    """The doctor's text, and whether the active backend answered a test request."""
    lines, ok = [], True
    try:
        name = config.check()
    except config.ConfigError as e:
        return f"Problem: {e}\n\n{SWITCH}", False
    lines.append(f"Backend:  {name}  ({_why(name)})")
    if name == "compatible":
        lines.append(f"Server:   {os.environ.get('OPENAI_BASE_URL')}")
    lines.append("Models:   " + ", ".join(f"{r}={config.model(r)}" for r in config.ROLES))
    key = os.environ.get("OPENAI_API_KEY", "")
    if name == "openai" or (name == "compatible" and key):
        lines.append(f"API key:  set ({len(key)} characters; never printed)")
    else:
        lines.append("API key:  not needed")
    budget = os.environ.get("AIE_BUDGET_USD")
    lines.append(f"Budget:   {'$' + budget + ' per session (AIE_BUDGET_USD)' if budget else 'no cap (set AIE_BUDGET_USD to add one)'}")
    try:
        import openai

        from aie.clients import make_client

        client = make_client(timeout=15, max_retries=0, quiet=True)
        reply = client.chat.completions.create(model=config.model("chat"), max_tokens=5,
                                               messages=[{"role": "user", "content": "Say OK."}])
        source = " (a recorded reply, replayed from this folder's cassettes)" if reply.model != config.model("chat") else ""
        lines.append(f"Check:    OK, {reply.model} answered a test request ({reply.usage.total_tokens} tokens){source}")
        if name == "openai":
            lines.append("          the key works")
    except openai.AuthenticationError:
        ok = False
        lines.append("Check:    FAILED, the server rejected the API key (401). Create a new key and set OPENAI_API_KEY again.")
    except openai.NotFoundError as e:
        ok = False
        lines.append(f"Check:    FAILED, the server does not know model {config.model('chat')!r} (404). "
                     f"Set AIE_CHAT_MODEL to one it serves (e.g. `ollama list`). Detail: {e.message}")
    except Exception as e:  # report any other failure as text; doctor must not crash
        ok = False
        lines.append(f"Check:    FAILED, {type(e).__name__}: {e}")
    if name == "offline":
        lines.append("Note:     the offline backend is the course's own small model (MiniLM embeddings and rules), not an LLM.")
    return "\n".join(lines) + "\n\n" + SWITCH, ok
