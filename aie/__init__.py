"""The course support package.

Notebooks import set-up and plumbing from here (the model client, the offline
backend, loaders, checkers, the plotting style); the ideas stay in the notebooks.
``import aie`` is cheap: heavy libraries load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

from aie.config import backend, model  # noqa: E402  (light: no heavy imports)


def client(**kwargs):
    """An ``openai.OpenAI`` client for the active backend (see ``python -m aie doctor``)."""
    from aie.clients import make_client

    return make_client(**kwargs)


def usage():
    """Every call made through :func:`client` in this process, as a DataFrame."""
    from aie.ledger import LEDGER

    return LEDGER.frame()


def __getattr__(name: str):
    # Submodules that pull in heavy libraries load on first attribute access.
    if name in {"embeddings", "data", "check", "plot", "tokens", "minilm", "prices", "exercises"}:
        import importlib

        return importlib.import_module(f"aie.{name}")
    raise AttributeError(f"module 'aie' has no attribute {name!r}")
