"""A text -> vector cache on disk, so benchmark runs re-embed only texts they have not seen."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embeddings import Embedder
from index.encoders.onnx_encoder import EXPORT_VERSION, ONNX_ENCODERS, int8_weight_bits
from index.encoders.openvino_encoder import precision as openvino_precision


def text_key(model: str, text: str) -> bytes:
    """16 bytes naming (model, text)."""
    return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=16).digest()


def encoder_tag(encoder: str) -> str:
    """How cached vectors and indexes name ``encoder``: by name, and an ONNX encoder with its
    export recipe's version after the first (another recipe, other vectors), int8 with ``-7bit``
    on CPUs that run it with 7-bit weights (see ``int8_weight_bits``), openvino with the
    precision it computes in on this CPU."""
    if encoder == "openvino":  # bfloat16 or float32 by CPU: keep their vectors apart
        return f"{encoder}/{EXPORT_VERSION}-{openvino_precision()}"
    if encoder in ONNX_ENCODERS and EXPORT_VERSION > 1:
        bits = "-7bit" if int8_weight_bits(encoder) == 7 else ""
        return f"{encoder}/{EXPORT_VERSION}{bits}"
    return encoder


def vector_model_key(model: str, encoder: str) -> str:
    """The model part of a cache key: ``model@encoder`` (see :func:`encoder_tag`), or the bare
    model for float32 (the key vectors had before encoders existed), so bf16 vectors never
    stand in for float32."""
    return model if encoder == "float32" else f"{model}@{encoder_tag(encoder)}"


class VectorCache:
    """Vectors keyed by (model and encoder, text), kept as two .npy files in ``folder``.

    >>> cache = VectorCache(Path("bench-cache/vectors"))
    >>> CachingEmbedder(embedder, cache).embed_documents(texts)   # embeds only the misses
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys: dict[bytes, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        keys_file, vectors_file = folder / "keys.npy", folder / "vectors.npy"
        if keys_file.exists() and vectors_file.exists():
            keys = np.load(keys_file)  # (n, 16) uint8: fixed-width bytes would drop trailing NULs
            self._vectors = np.load(vectors_file)
            self._keys = {k.tobytes(): i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        return [self._vectors[self._keys[k]] if k in self._keys else None for k in keys]

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        fresh: dict[bytes, np.ndarray] = {}
        for key, vector in zip(keys, vectors, strict=True):
            if key not in self._keys and key not in fresh:  # a text may repeat in one batch
                fresh[key] = vector
        if not fresh:
            return
        start = len(self._keys)
        block = np.stack(list(fresh.values())).astype(np.float32)
        self._vectors = block if start == 0 else np.concatenate([self._vectors, block])
        for offset, key in enumerate(fresh):
            self._keys[key] = start + offset

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(self._keys), dtype=np.uint8).reshape(-1, 16)
        for name, array in (("keys", keys), ("vectors", self._vectors)):
            tmp = self.folder / f"{name}.tmp.npy"
            np.save(tmp, array)
            os.replace(tmp, self.folder / f"{name}.npy")


class CachingEmbedder:
    """An Embedder that looks texts up in a VectorCache before calling the real model."""

    def __init__(self, inner: Embedder, cache: VectorCache, save_every: int = 2048) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.dimension = inner.dimension
        self.encoder = inner.encoder
        self.save_every = save_every
        self.embedded = 0  # texts the real model embedded (cache misses)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = vector_model_key(self.name, self.encoder)
        keys = [text_key(model, t) for t in texts]
        found = self.cache.get(keys)
        missing = [i for i, v in enumerate(found) if v is None]
        for start in range(0, len(missing), self.save_every):
            part = missing[start : start + self.save_every]
            vectors = self.inner.embed_documents([texts[i] for i in part])
            self.cache.add([keys[i] for i in part], vectors)
            self.cache.save()
            self.embedded += len(part)
            for i, vector in zip(part, vectors, strict=True):
                found[i] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([v for v in found if v is not None]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
