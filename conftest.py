"""Repository-wide pytest set-up: nbval's sanitizers apply however pytest is started,
so `pytest --nbval notebooks/<folder>` works as it is."""

from pathlib import Path

SANITIZE = Path(__file__).parent / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    if hasattr(config.option, "nbval_sanitize_with") and not config.option.nbval_sanitize_with:
        config.option.nbval_sanitize_with = str(SANITIZE)
