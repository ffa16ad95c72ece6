"""Shared fixtures: a clean environment (offline by default) and a local OpenAI-compatible server."""

from __future__ import annotations

import secrets
import threading

import pytest

PROVIDER_VARS = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BACKEND", "AIE_BUDGET_USD", "AIE_RECORD",
                 "AIE_CASSETTE", "AIE_CASSETTE_FILE", "AIE_CHAT_MODEL", "AIE_SMALL_MODEL", "AIE_EMBEDDING_MODEL"]


def throwaway_key() -> str:
    """A key-shaped value made when the tests run, for tests of the provider path.

    Keys come from the environment, never from a file: not even a fake one is written in the tests."""
    return "sk-test-" + secrets.token_hex(16)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts as a learner with no key: the offline backend, an empty ledger."""
    for var in PROVIDER_VARS:
        monkeypatch.delenv(var, raising=False)
    from aie.ledger import LEDGER

    LEDGER.clear()
    yield
    LEDGER.clear()


@pytest.fixture
def offline_server():
    """`python -m aie serve` in a thread on 127.0.0.1 (a free port): stands in for a real provider."""
    from aie.offline.server import make_server

    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()
