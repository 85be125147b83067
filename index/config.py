"""Settings: one frozen object; defaults in code, overridden by NEWSRAG_* variables and flags.
These are the index's (storage, embedding, retrieval); assistant.config adds how answers are
written."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from index.encoders.cpu import CpuFeatures, cpu_features
from index.errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
SEARCH_MODES = ("hybrid", "dense", "keyword")
# How the embedding model runs on the CPU. float32 and bf16 run it in torch (bf16 autocasts the
# matrix products to bfloat16 on AVX-512 BF16 / AMX; cosine >= 0.9999 to float32's); onnx and
# onnx-int8 run it exported to ONNX with onnxruntime (index/encoders/onnx_encoder.py), int8 with its
# matrix products quantised (cosine >= 0.98 to float32's); openvino runs that export compiled by
# OpenVINO, in bfloat16 where the CPU has it (index/encoders/openvino_encoder.py; cosine >= 0.9999).
ENCODERS = ("float32", "bf16", "onnx", "onnx-int8", "openvino")
DEFAULT_MAX_ARTICLE_MB = 10.0  # an article's text; larger ones are skipped with a message
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def default_encoder(cpu: CpuFeatures | None = None) -> str:
    """The default encoder on a CPU like ``cpu`` (default: this one): the fastest that keeps
    hit@5 within 0.01 of float32's in the benchmark (docs/benchmarks.md). ``openvino`` where it
    has AMX (bfloat16 matrix tiles, with float32's vectors), else ``onnx-int8``; neither makes
    `newsrag ask` import torch."""
    return "openvino" if (cpu or cpu_features()).amx else "onnx-int8"


def default_index_dir() -> Path:
    """``$XDG_DATA_HOME/newsrag/index``, else ``~/.local/share/newsrag/index``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsrag" / "index"


@dataclass(frozen=True)
class Settings:
    """Everything configurable in newsrag, checked once when built.

    >>> s = Settings.from_env({"NEWSRAG_TOP_K": "8"})
    >>> s.top_k
    8
    >>> s.replace(top_k=None, chunk_size=120).chunk_size   # None keeps the current value
    120
    """

    index_dir: Path = field(default_factory=default_index_dir)
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    collection: str = "newsrag"
    chunk_size: int = 160
    chunk_overlap: int = 30
    batch_size: int = 64
    encoder: str = field(default_factory=default_encoder)
    chunk_header: bool = False
    top_k: int = 5
    search_mode: str = "hybrid"
    time_weight: float = 0.3
    lead_weight: float = 0.1
    max_per_article: int = 2
    reranker: str = ""
    # the learned map applied to a question's vector before the dense search (index/
    # query_adapter.py): none, default (the one shipped for the index's model) or a file
    query_adapter: str = "none"
    chroma_url: str = ""  # http(s)://HOST:PORT of a Chroma server; empty = embedded Chroma
    lock_wait: float = 0.0  # seconds a write waits for another writer; 0 = stop at once
    max_article_mb: float = DEFAULT_MAX_ARTICLE_MB

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_dir", Path(self.index_dir).expanduser().absolute())
        if self.chroma_url:
            object.__setattr__(self, "chroma_url", ChromaServer.parse(self.chroma_url).url)
        positive("chunk_size", self.chunk_size)
        positive("batch_size", self.batch_size)
        positive("top_k", self.top_k)
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError(
                f"chunk_overlap={self.chunk_overlap} must be at least 0 and smaller than "
                f"chunk_size={self.chunk_size} — lower NEWSRAG_CHUNK_OVERLAP / --chunk-overlap."
            )
        if (
            len(self.collection) < 3
            or not self.collection.replace("-", "").replace("_", "").isalnum()
        ):
            raise ConfigError(
                f"collection={self.collection!r} is not a valid Chroma collection name — use at "
                "least 3 letters, digits, '-' or '_'."
            )
        if self.search_mode not in SEARCH_MODES:
            raise ConfigError(
                f"search_mode={self.search_mode!r} is not a search mode — use one of "
                f"{', '.join(SEARCH_MODES)} (NEWSRAG_SEARCH_MODE / --mode)."
            )
        if self.time_weight < 0:
            raise ConfigError(
                f"time_weight={self.time_weight} must be 0 (off) or more — fix NEWSRAG_TIME_WEIGHT."
            )
        if self.lead_weight < 0:
            raise ConfigError(
                f"lead_weight={self.lead_weight} must be 0 (off) or more — fix NEWSRAG_LEAD_WEIGHT."
            )
        if self.max_per_article < 0:
            raise ConfigError(
                f"max_per_article={self.max_per_article} must be 0 (no cap) or more — fix "
                "NEWSRAG_MAX_PER_ARTICLE."
            )
        if self.lock_wait < 0:
            raise ConfigError(
                f"lock_wait={self.lock_wait} must be 0 (do not wait) or more seconds — fix "
                "NEWSRAG_LOCK_WAIT / --wait."
            )
        if self.max_article_mb <= 0:
            raise ConfigError(
                f"max_article_mb={self.max_article_mb} must be more than 0 — fix "
                "NEWSRAG_MAX_ARTICLE_MB / --max-article-mb."
            )
        if self.encoder not in ENCODERS:
            raise ConfigError(
                f"encoder={self.encoder!r} is not an encoder — use one of "
                f"{', '.join(ENCODERS)} (NEWSRAG_ENCODER / --encoder)."
            )
        if not self.query_adapter.strip():
            raise ConfigError(
                "query_adapter is empty — use 'default', 'none' or the path of an adapter "
                "file (NEWSRAG_QUERY_ADAPTER / --query-adapter)."
            )
        if not self.embedding_model.strip():
            raise ConfigError("embedding_model is empty — name a sentence-transformers model.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Defaults overridden by the ``NEWSRAG_*`` variables found in ``environ``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            var = env_var(f.name)
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(var, raw, f.type)
        return cls(**values)

    def replace(self, **changes: Any) -> Self:
        """A copy with the given fields changed; ``None`` values are ignored (unset flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def location(self) -> str:
        """Where the Chroma store is: the server URL, or the index folder."""
        return self.chroma_url or str(self.index_dir)


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server address, from ``--chroma-url`` / ``NEWSRAG_CHROMA_URL``.

    >>> ChromaServer.parse("http://127.0.0.1:8000/")
    ChromaServer(host='127.0.0.1', port=8000, ssl=False)
    """

    host: str
    port: int
    ssl: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> ChromaServer:
        """Check ``url`` once; raise ConfigError naming the fix when it is not http(s)://HOST:PORT."""
        parts = urlsplit(url.strip())
        shown = url.replace(f":{parts.password}@", ":***@") if parts.password else url
        fix = (
            f"chroma_url={shown!r} is not a Chroma server address — use http://HOST:PORT or "
            "https://HOST:PORT, e.g. http://127.0.0.1:8000 (--chroma-url / NEWSRAG_CHROMA_URL)"
        )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{fix}.")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port is None:
            raise ConfigError(f"{fix}; add the port.")
        if not 0 < port < 65536:
            raise ConfigError(f"{fix}; the port must be a number from 1 to 65535.")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ConfigError(
                f"{fix}; drop the path, query and user name (a server is a host and a port)."
            )
        return cls(parts.hostname, port, parts.scheme == "https")


ENV_NAMES = {"index_dir": "NEWSRAG_INDEX"}


def env_var(field_name: str) -> str:
    """The environment variable that sets ``field_name``."""
    return ENV_NAMES.get(field_name, "NEWSRAG_" + field_name.upper())


def _parse(var: str, raw: str, type_name: Any) -> Any:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        wanted = "a whole number" if kind == "int" else "a number"
        raise ConfigError(
            f"{var}={raw!r} is not {wanted} — set it to {wanted} or unset it."
        ) from None
    if kind == "bool":
        word = raw.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ConfigError(f"{var}={raw!r} is not true or false — set it to 1/0 or unset it.")
        return word in TRUE_WORDS
    if kind == "Path":
        return Path(raw)
    return raw


def positive(name: str, value: int) -> None:
    if value < 1:
        raise ConfigError(
            f"{name}={value} must be at least 1 — fix {env_var(name)} or the matching flag."
        )
