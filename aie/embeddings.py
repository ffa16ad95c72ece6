"""The course's chromadb embedding function: all-MiniLM-L6-v2 via ONNX (see :mod:`aie.minilm`).

chromadb's own default embedding function downloads its model at first use (which fails
offline) and pads every text to 256 tokens. This one ships with the course and pads each
batch only to its longest text. It is registered with chromadb under the name
``aie-minilm``: importing this module before reopening a persisted collection lets
chromadb rebuild it from the collection's stored configuration.

    import chromadb
    from aie.embeddings import CourseEmbedding
    collection = chromadb.EphemeralClient().get_or_create_collection(
        "notes", embedding_function=CourseEmbedding())
"""

from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from aie.minilm import DIMENSIONS, MODEL_ID, embed  # noqa: F401  (re-exported)

NAME = "aie-minilm"


@register_embedding_function
class CourseEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length), computed locally."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        if isinstance(input, str):
            input = [input]
        return [np.asarray(v, dtype=np.float32) for v in embed(list(input))]

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "CourseEmbedding":
        return CourseEmbedding()


def embedding_function() -> CourseEmbedding:
    """The embedding function to pass to ``get_or_create_collection``."""
    return CourseEmbedding()
