"""The build record: how an index was built (model, encoder, chunking), stored in its chunks
collection's metadata, and what a mismatch with the configured settings means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.encoders.onnx_encoder import ONNX_ENCODERS, int8_weight_bits, recipe_version
from index.errors import IndexMismatchError
from index.store.client import location_option
from index.store.journal import SCHEMA_VERSION


@dataclass(frozen=True)
class BuildInfo:
    """How an index was built; stored in the chunks collection's metadata."""

    embedding_model: str
    embedding_dimension: int
    chunk_size: int
    chunk_overlap: int
    chunk_header: bool = False  # title and date embedded and keyword-indexed with each passage
    encoder: str = "float32"  # how the model ran (index/config.ENCODERS); older indexes: float32
    # the ONNX export recipe of the encoder (index/onnx_encoder.EXPORT_VERSION), 0 for torch;
    # ONNX indexes from before it was recorded were built by recipe 1
    encoder_version: int = 0
    # onnx-int8's weight width where the index was built (index/onnx_encoder.weight_bits): 8,
    # or 7 on x86 without VNNI; 0 for the other encoders and int8 indexes from before it was
    # recorded
    encoder_weight_bits: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "newsrag_schema": SCHEMA_VERSION,
            "embedding_model": self.embedding_model,
            "embedding_dimension": self.embedding_dimension,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "chunk_header": self.chunk_header,
            "encoder": self.encoder,
            "encoder_version": self.encoder_version,
            "encoder_weight_bits": self.encoder_weight_bits,
        }

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> BuildInfo:
        encoder = str(meta.get("encoder", "float32"))
        return cls(
            str(meta["embedding_model"]),
            int(meta["embedding_dimension"]),
            int(meta["chunk_size"]),
            int(meta["chunk_overlap"]),
            bool(meta.get("chunk_header", False)),
            encoder,
            int(meta.get("encoder_version", 1 if encoder in ONNX_ENCODERS else 0)),
            int(meta.get("encoder_weight_bits", 0)),
        )


def check_build(stored: BuildInfo, wanted: BuildInfo, location: str, *, chunking: bool) -> None:
    """Raise IndexMismatchError when ``wanted`` cannot use an index built as ``stored``.

    The chunk settings only matter when writing (``chunking``); any model difference always does.
    """
    rebuild = f"newsrag ingest PATH {location_option(location)} --rebuild"
    if stored.embedding_model != wanted.embedding_model:
        raise IndexMismatchError(
            f"The index at {location} was built with embedding model {stored.embedding_model!r}, "
            f"but {wanted.embedding_model!r} is configured. Use --embedding-model "
            f"{stored.embedding_model!r} (or NEWSRAG_EMBEDDING_MODEL), or rebuild the index "
            f"with the new model: {rebuild} --embedding-model {wanted.embedding_model!r}"
        )
    if chunking and (stored.chunk_size, stored.chunk_overlap, stored.chunk_header) != (
        wanted.chunk_size,
        wanted.chunk_overlap,
        wanted.chunk_header,
    ):
        raise IndexMismatchError(
            f"The index at {location} was built with chunk size {stored.chunk_size}, overlap "
            f"{stored.chunk_overlap} and chunk headers {_on_off(stored.chunk_header)}, but "
            f"{wanted.chunk_size}/{wanted.chunk_overlap} with headers "
            f"{_on_off(wanted.chunk_header)} is configured. Use the stored settings, or "
            f"rebuild: {rebuild}"
        )


def check_same_model(new: BuildInfo, old: BuildInfo, location: str) -> None:
    """Raise IndexMismatchError when a rebuild (``new``) changed the model that a running
    process embeds with (``old``): its vectors would not match the new index's."""
    if (new.embedding_model, new.embedding_dimension) != (
        old.embedding_model,
        old.embedding_dimension,
    ):
        raise IndexMismatchError(
            f"The index at {location} was rebuilt with embedding model "
            f"{new.embedding_model!r}; this process embeds with {old.embedding_model!r} — "
            "restart it to use the new index."
        )


def encoder_warning(
    stored: BuildInfo, encoder: str, location: str, *, given: bool, bits: int | None = None
) -> str | None:
    """The warning when ``encoder`` differs from the one that built the index, else None.
    ``bits``: the int8 weight width here (default: :func:`int8_weight_bits` on this CPU).

    Not an error: bf16 and float32 vectors of one model agree to cosine >= 0.9999, so they
    can be mixed. An index keeps its encoder for queries and later ingests (the configured one
    only builds new indexes); only an embedder passed in (``given``) overrides it.
    """
    if stored.encoder == encoder:
        if stored.encoder_version == recipe_version(encoder):
            bits = int8_weight_bits(encoder) if bits is None else bits
            if stored.encoder_weight_bits in (0, bits):
                return None
            return (
                f"The index at {location} was built with {stored.encoder_weight_bits}-bit "
                f"{encoder} weights on another CPU; this one runs {bits}-bit ones (see "
                "'newsrag stats'), whose vectors differ slightly (cosine about 0.99). Search "
                "works across both; to re-embed everything on this machine: newsrag ingest "
                f"PATH {location_option(location)} --rebuild"
            )
        return (
            f"The index at {location} was built by an earlier {encoder} recipe "
            f"({stored.encoder_version}); new passages and questions are embedded by recipe "
            f"{recipe_version(encoder)}, whose vectors differ slightly (cosine about 0.995). To "
            f"re-embed everything with it: newsrag ingest PATH {location_option(location)} "
            "--rebuild"
        )
    if given:
        return (
            f"The index at {location} was built with the {stored.encoder} encoder; embedding "
            f"with the given {encoder} embedder (near-identical vectors of the same model)."
        )
    return (
        f"The index at {location} was built with the {stored.encoder} encoder and keeps it "
        f"({encoder} is configured). To switch, rebuild: newsrag ingest PATH "
        f"{location_option(location)} --rebuild --encoder {encoder}"
    )


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"
