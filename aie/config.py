"""Which backend answers, and which model plays each role: the one place that names model IDs.

The backend comes from the environment, so notebook code never changes:

==================  =====================================================
``AIE_BACKEND``     explicit choice: openai | compatible | local-llm | offline
``OPENAI_API_KEY``  set (and no AIE_BACKEND): OpenAI
``OPENAI_BASE_URL`` set (and no AIE_BACKEND): any OpenAI-compatible server
nothing             the offline backend (in-process, no network, no key)
==================  =====================================================

Other settings: ``AIE_BUDGET_USD`` (a cap in US dollars), ``AIE_RECORD=1`` (write cassettes),
``AIE_CASSETTE=strict`` (a request with no recording is an error). Each is checked where it is
read, and all of them by :func:`check` when a client is made, so a typo fails at once.

Roles: ``"chat"`` (the default model), ``"small"`` (cheap and fast), ``"embedding"``.
Override a role's model with ``AIE_CHAT_MODEL``, ``AIE_SMALL_MODEL``, ``AIE_EMBEDDING_MODEL``.
"""

from __future__ import annotations

import os

BACKENDS = ("openai", "compatible", "local-llm", "offline")
ROLES = ("chat", "small", "embedding")

# Model IDs per backend and role. Reviewed 2026-11-22. Chat models accept `temperature`
# (reasoning models such as the gpt-5 family accept only the default, so lessons about
# sampling would fail on them); switch with AIE_CHAT_MODEL if you prefer another.
MODELS: dict[str, dict[str, str]] = {
    "openai": {"chat": "gpt-4.1-mini", "small": "gpt-4.1-nano", "embedding": "text-embedding-3-small"},
    # Ollama's names by default; any compatible server: set AIE_CHAT_MODEL etc. to its names.
    "compatible": {"chat": "llama3.2", "small": "llama3.2:1b", "embedding": "nomic-embed-text"},
    # Qwen2.5-Coder-1.5B-Instruct on the CPU (AIE_LOCAL_MODEL=0.5b swaps in the 0.5B sibling); embeddings: MiniLM.
    "local-llm": {"chat": "qwen2.5-coder-1.5b-instruct", "small": "qwen2.5-coder-1.5b-instruct", "embedding": "aie-offline-minilm"},
    "offline": {"chat": "aie-offline", "small": "aie-offline", "embedding": "aie-offline-minilm"},
}

# Context windows (tokens) for the models named above. Sources: each provider's model page, read 2026-11-22;
# the offline and local values are this package's own limits.
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "text-embedding-3-small": 8_191,
    # The local models support 32,768 tokens (Qwen2.5-Coder model card); the course runs them with 16,384.
    "qwen2.5-coder-1.5b-instruct": 16_384,
    "qwen2.5-coder-0.5b-instruct": 16_384,
    "aie-offline": 16_384,
    "aie-offline-minilm": 256,
}


class ConfigError(RuntimeError):
    """The environment asks for something that cannot work; the message says how to fix it."""


def backend() -> str:
    """The active backend's name: openai, compatible, local-llm or offline."""
    explicit = os.environ.get("AIE_BACKEND", "").strip().lower()
    if explicit:
        if explicit not in BACKENDS:
            raise ConfigError(
                f"AIE_BACKEND={explicit!r} is not a backend. Valid values: {', '.join(BACKENDS)}. "
                "Unset it to let the course choose (offline when no key is set)."
            )
        return explicit
    if os.environ.get("OPENAI_BASE_URL", "").strip():
        return "compatible"
    if os.environ.get("OPENAI_API_KEY", "").strip():
        return "openai"
    return "offline"


def models_for(backend_name: str) -> dict[str, str]:
    """Role -> model id on a backend (for local-llm, the size chosen with AIE_LOCAL_MODEL)."""
    roles = dict(MODELS[backend_name])
    if backend_name == "local-llm" and os.environ.get("AIE_LOCAL_MODEL", "").strip().lower() == "0.5b":
        roles["chat"] = roles["small"] = "qwen2.5-coder-0.5b-instruct"
    return roles


def model(role: str = "chat") -> str:
    """The model id that plays ``role`` ("chat", "small" or "embedding") on the active backend."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    override = os.environ.get(f"AIE_{role.upper()}_MODEL", "").strip()
    if override:
        return override
    return models_for(backend())[role]


def context_window(model_id: str) -> int | None:
    """Context window in tokens for a model the course names, else None."""
    return CONTEXT_WINDOWS.get(model_id)


def timeout() -> float:
    """Seconds a request may take (AIE_TIMEOUT, default 60)."""
    raw = os.environ.get("AIE_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 60.0
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"AIE_TIMEOUT={raw!r} is not a positive number of seconds. Set it to e.g. 120, or unset it (default 60).")
    return value


def budget_usd() -> float | None:
    """The spending cap from ``AIE_BUDGET_USD`` in US dollars, or None when it is not set."""
    raw = os.environ.get("AIE_BUDGET_USD", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"AIE_BUDGET_USD={raw!r} is not a number of US dollars. Set it like AIE_BUDGET_USD=0.50, "
                          "or unset it for no cap.") from None
    if not value >= 0 or value == float("inf"):  # also refuses nan and inf
        raise ConfigError(f"AIE_BUDGET_USD={raw!r} must be a finite amount >= 0 (e.g. AIE_BUDGET_USD=0.50), "
                          "or unset it for no cap.")
    return value


RECORD_VALUES = {"1": True, "true": True, "yes": True, "": False, "0": False, "false": False, "no": False}


def recording() -> bool:
    """Whether ``AIE_RECORD`` asks to write cassettes."""
    raw = os.environ.get("AIE_RECORD", "").strip().lower()
    if raw not in RECORD_VALUES:
        raise ConfigError(f"AIE_RECORD={raw!r} is neither on nor off. Use AIE_RECORD=1 to record, or unset it.")
    return RECORD_VALUES[raw]


def cassette_strict() -> bool:
    """Whether ``AIE_CASSETTE=strict`` makes a request with no recording an error."""
    raw = os.environ.get("AIE_CASSETTE", "").strip().lower()
    if raw not in {"", "strict"}:
        raise ConfigError(f"AIE_CASSETTE={raw!r} is not a mode. The only mode is AIE_CASSETTE=strict; unset it to let "
                          "the offline model answer requests that have no recording.")
    return raw == "strict"


def check() -> str:
    """Read every setting once so that a mistake is reported now, not at the first paid call. Returns the backend."""
    name = backend()
    budget_usd()
    recording()
    cassette_strict()
    timeout()
    return name
