"""The ``openvino`` encoder: the float32 ONNX export of a mean-pooling model (the one the
``onnx`` encoder runs, see ``onnx_encoder.py``) compiled by OpenVINO for this CPU. Where
the CPU runs bfloat16 natively (AMX, AVX512-BF16) OpenVINO computes in bfloat16 with float32
accumulation; elsewhere in float32. Either way the vectors agree with float32 torch's to cosine
0.9999, so an index built on one CPU is searched on another without a rebuild. Where it has AMX
it is the fastest encoder (docs/benchmarks.md, "On a CPU with AMX").

Each text runs alone, as with the ONNX encoders: one inference request per CPU core, no
padding, so a text's vector depends on that text only. newsrag reads the ONNX file with
OpenVINO's runtime (``Core.read_model``), never with its model converter, whose telemetry
would try to reach the network.
"""

from __future__ import annotations

import os
import queue
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.encoders.cpu import CpuFeatures, cpu_features
from index.encoders.onnx_encoder import (
    embed_each,
    ensure_export,
    export_folder,
    onnx_cache_dir,
    usable_cores,
)
from index.errors import EmbeddingModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

IR_FILE = "model-openvino.xml"  # OpenVINO's own form of model.onnx (+ .bin), 10 x faster to read


def precision(cpu: CpuFeatures | None = None) -> str:
    """The precision OpenVINO computes in on ``cpu`` (default: this one): ``bf16`` where it has
    native bfloat16 (AMX, AVX512-BF16), ``f32`` elsewhere."""
    return "bf16" if (cpu or cpu_features()).bf16 else "f32"


class OpenVinoEmbedder:
    """The model compiled by OpenVINO, returning normalised float32 vectors.

    >>> embedder = load_embedder("all-MiniLM-L6-v2", encoder="openvino")
    >>> embedder.embed_query("European army").shape
    (384,)
    """

    encoder = "openvino"

    def __init__(self, compiled: Any, tokenizer: Tokenizer, name: str, streams: int) -> None:
        self.tokenizer = tokenizer
        self.name = name
        self.streams = streams
        self.inputs = [port.get_any_name() for port in compiled.inputs]
        self.dimension = int(compiled.outputs[0].get_partial_shape()[-1].get_length())
        # one request per stream; callers in several threads (the web chat) share them
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(streams):
            self._requests.put(compiled.create_infer_request())
        # OpenVINO's bindings set up their numpy access on first use, and two threads doing
        # that at once deadlock (seen here in pybind11's call-once): do it on this thread
        self.embed_documents(["warm up"])

    @classmethod
    def load(
        cls, name: str, model_dir: Path, max_length: int, cache: Path | None = None
    ) -> OpenVinoEmbedder:
        """The model in ``model_dir`` compiled for this CPU, exported to ONNX first when it is
        not cached (``cache`` defaults to :func:`index.encoders.onnx_encoder.onnx_cache_dir`)."""
        import openvino
        from tokenizers import Tokenizer

        folder = export_folder(name, model_dir, cache or onnx_cache_dir())
        source = ensure_export(name, model_dir, folder, "onnx")
        core = openvino.Core()
        model = _read(core, folder / IR_FILE, source)
        streams = usable_cores()
        config = {
            "INFERENCE_PRECISION_HINT": precision(),
            "NUM_STREAMS": streams,  # one text per core at a time, one thread each
            "INFERENCE_NUM_THREADS": streams,
        }
        try:
            compiled = core.compile_model(model, "CPU", config)
        except RuntimeError as exc:
            raise EmbeddingModelError(
                f"OpenVINO cannot compile {name!r} for this CPU ({str(exc)[:300]}) — use "
                "--encoder onnx-int8 (NEWSRAG_ENCODER), or rebuild an openvino index with it: "
                "newsrag ingest PATH --index DIR --rebuild --encoder onnx-int8"
            ) from exc
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.no_padding()
        return cls(compiled, tokenizer, name, streams)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, each text run alone, ``streams`` at a time."""
        return embed_each(
            self.tokenizer.encode_batch(list(texts)),
            self.inputs,
            self.dimension,
            self.streams,
            self._infer,
        )

    def _infer(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        request = self._requests.get()
        try:
            return np.array(request.infer(feed)[0][0])  # infer() lets go of the GIL meanwhile
        finally:
            self._requests.put(request)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _read(core: Any, ir: Path, source: Path) -> Any:
    """The model from its cached OpenVINO form, made from ``source`` (the ONNX graph) when that
    is missing or damaged."""
    if ir.is_file() and ir.with_suffix(".bin").is_file():
        try:
            return core.read_model(str(ir))
        except RuntimeError:  # a damaged cache file (disk full, edited): make it again
            ir.unlink(missing_ok=True)
    try:
        model = core.read_model(str(source))
    except RuntimeError as exc:
        raise EmbeddingModelError(
            f"OpenVINO cannot read the exported model {source} ({str(exc)[:300]}) — delete "
            f"{source.parent} to export it again, or use --encoder onnx-int8 (NEWSRAG_ENCODER)."
        ) from exc
    _save_ir(model, ir)
    return model


def _save_ir(model: Any, ir: Path) -> None:
    """Write ``model`` as ``ir`` and its ``.bin``, each renamed into place whole, the weights
    first, so another process never reads half a file."""
    import openvino

    with tempfile.TemporaryDirectory(dir=ir.parent, prefix=".openvino-") as tmp:
        staged = Path(tmp) / ir.name
        # the weights stay float32 (save_model would halve them to float16 by default)
        openvino.save_model(model, str(staged), compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), ir.with_suffix(".bin"))
        os.replace(staged, ir)
