"""The query adapter: a learned linear map applied to a question's vector before the dense search,
``q' = normalise(W q)``, fitted on the training years against the passage vectors an index
already stores (so it needs no rebuild). Passages are never touched.

The shipped adapter lives in ``models/`` with the base model it was fitted for; it is a file of
data with the command that regenerates it (:data:`RETRAIN`), not code.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import ConfigError, EmbeddingModelError, IndexMismatchError

FORMAT = 1
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = {"all-MiniLM-L6-v2": MODELS_DIR / "query-adapter-minilm.npz"}
OFF, DEFAULT = "none", "default"
RETRAIN = "make models"  # see the Makefile: caches the training data, then fits and writes W


@dataclass(frozen=True, eq=False)
class QueryAdapter:
    """A (d, d) matrix for questions embedded by ``base_model``.

    >>> adapter = QueryAdapter.load(Path("models/query-adapter-minilm.npz"))
    >>> adapter.apply(index.embedder.embed_query("European army")).shape
    (384,)
    """

    matrix: np.ndarray
    base_model: str
    path: Path
    trained_on: str = ""

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vector: np.ndarray) -> np.ndarray:
        """``vector`` mapped by the matrix and scaled back to unit length (float32)."""
        mapped = self.matrix @ np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm if norm > 0 else mapped).astype(np.float32)

    def check(self, model: str, dimension: int, location: str) -> None:
        """Raise IndexMismatchError unless the index at ``location`` was built by this
        adapter's base model (its passage vectors are the space the matrix maps into)."""
        if model != self.base_model or dimension != self.dimension:
            raise IndexMismatchError(
                f"The query adapter {self.path} was fitted for {self.base_model!r} "
                f"({self.dimension} dimensions), but the index at {location} was built with "
                f"{model!r} ({dimension}). Use NEWSRAG_QUERY_ADAPTER=none (--query-adapter "
                f"none), or fit an adapter for that model: {RETRAIN}"
            )

    def save(self, path: Path) -> None:
        """Write the adapter as ``.npz`` (no pickles) with a checksum of its matrix."""
        matrix = np.ascontiguousarray(self.matrix, dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez(
                f,
                matrix=matrix,
                base_model=np.array(self.base_model),
                trained_on=np.array(self.trained_on),
                format=np.array(FORMAT),
                sha256=np.array(_digest(matrix)),
            )

    @classmethod
    def load(cls, path: Path) -> QueryAdapter:
        """The adapter in ``path``; EmbeddingModelError naming the retrain command when the file
        is missing, unreadable or damaged."""
        fix = f"— regenerate it with: {RETRAIN} (or set NEWSRAG_QUERY_ADAPTER=none)."
        if not path.is_file():
            raise EmbeddingModelError(f"No query adapter at {path} {fix}")
        try:
            with np.load(path, allow_pickle=False) as data:
                matrix = np.asarray(data["matrix"], dtype=np.float32)
                base_model = str(data["base_model"])
                trained_on = str(data["trained_on"]) if "trained_on" in data else ""
                version = int(data["format"])
                digest = str(data["sha256"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise EmbeddingModelError(
                f"The query adapter {path} is damaged ({type(exc).__name__}: {exc}) {fix}"
            ) from exc
        if version != FORMAT:
            raise EmbeddingModelError(
                f"The query adapter {path} has format {version}; this newsrag reads {FORMAT} {fix}"
            )
        square = matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1]
        if not square or _digest(matrix) != digest or not np.isfinite(matrix).all():
            raise EmbeddingModelError(
                f"The query adapter {path} is damaged (its matrix fails its checksum) {fix}"
            )
        return cls(matrix, base_model, path, trained_on)


def resolve(setting: str, model: str) -> QueryAdapter | None:
    """The adapter a ``query_adapter`` setting names for an index built by ``model``: None for
    ``none``; for ``default``, the one shipped for ``model`` (None when newsrag ships none for
    it); else the file at that path."""
    choice = setting.strip()
    if choice == OFF:
        return None
    if choice == DEFAULT:
        shipped = SHIPPED.get(model)
        return QueryAdapter.load(shipped) if shipped else None
    if not choice:
        raise ConfigError(
            "query_adapter is empty — use 'default', 'none' or the path of an adapter file "
            "(NEWSRAG_QUERY_ADAPTER / --query-adapter)."
        )
    return QueryAdapter.load(Path(choice).expanduser())


def _digest(matrix: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, dtype=np.float32).tobytes()).hexdigest()
