"""The ONNX encoders: a plain mean-pooling model (the bundled all-MiniLM-L6-v2 is one) exported
once from its local weights to an ONNX graph that also pools and normalises, kept in a per-user
cache, and run with onnxruntime. ``onnx`` runs the float32 graph with fused attention and layer
norms; ``onnx-int8`` quantises its matrix products and attention projections to int8 (8-bit
weights where the CPU has VNNI, 7-bit ones on x86 without it, whose int8 products would
saturate: see ``cpu.py``). Each text runs alone, one per CPU core at a time: no padding,
and no batch that int8's per-call activation scales would depend on, so a text's vector
depends on that text only.
Queries then need neither torch nor transformers; only a first export (or one after the cache
is deleted) does.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.encoders.cpu import CpuFeatures, cpu_features
from index.errors import EmbeddingModelError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

ONNX_ENCODERS = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
# Part of the export cache key and recorded in each index an ONNX encoder builds: bump it when
# the recipe changes the vectors. 1: int8 matrix products only, texts batched by 64 (to 2026-11).
EXPORT_VERSION = 2
# int8 covers the matrix products and the fused attention's projections, except in the first
# layer, whose feed-forward output and attention inputs have the widest ranges: keeping them
# float keeps hit@5 on RealTimeQA dev within 0.01 of float32 (quantising the first attention
# too lost 0.025), at 2.5-3.0 x the float32 torch encode rate on 2 AVX-512 cores
FLOAT_MATMUL = "layer.0/output/dense/MatMul"


def weight_bits(cpu: CpuFeatures | None = None) -> int:
    """The int8 encoder's weight width on ``cpu`` (default: this one): 8, or 7 on x86 without
    VNNI, where onnxruntime's uint8 x int8 products add in 16 bits and 8-bit weights saturate
    them (7 bits keep them closer to float32 at the same speed: docs/benchmarks.md).
    Both widths are recipe EXPORT_VERSION; their vectors differ like two CPUs' always did."""
    return 7 if (cpu or cpu_features()).int8_saturates else 8


def int8_weight_bits(encoder: str) -> int:
    """The width of ``encoder``'s int8 weights on this CPU (8 or 7), or 0 for the encoders
    without int8 weights; an index records it (``encoder_weight_bits``)."""
    return weight_bits() if encoder == "onnx-int8" else 0


def graph_file(encoder: str, cpu: CpuFeatures | None = None) -> str:
    """The cached graph's file name for ``encoder``: ``model.onnx``, ``model-int8.onnx``, or
    ``model-int8-7bit.onnx`` where the weights are 7-bit (see :func:`weight_bits`)."""
    name = ONNX_ENCODERS[encoder]
    if encoder == "onnx-int8" and weight_bits(cpu) == 7:
        return name.replace(".onnx", "-7bit.onnx")
    return name


def recipe_version(encoder: str) -> int:
    """The export recipe ``encoder`` embeds with now: EXPORT_VERSION for the ONNX encoders and
    openvino (which compiles the float32 export), 0 for the torch ones (one way to run)."""
    return EXPORT_VERSION if encoder in (*ONNX_ENCODERS, "openvino") else 0


def onnx_cache_dir() -> Path:
    """``$NEWSRAG_ONNX_CACHE``, else ``$XDG_CACHE_HOME/newsrag/onnx``, else
    ``~/.cache/newsrag/onnx``."""
    own = os.environ.get("NEWSRAG_ONNX_CACHE")
    if own:
        return Path(own).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().absolute() / "newsrag" / "onnx"


def export_folder(name: str, model_dir: Path, cache: Path) -> Path:
    """Where the exports of the model in ``model_dir`` live: named for the model, keyed by its
    files (name, size, modification time), this recipe and the onnxruntime version."""
    import onnxruntime

    digest = hashlib.sha256(f"{EXPORT_VERSION}|{onnxruntime.__version__}\n".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip("-.") or "model"
    return cache / f"{slug}-{digest.hexdigest()[:16]}"


class OnnxEmbedder:
    """An exported model run by onnxruntime, returning normalised float32 vectors.

    >>> embedder = load_embedder("all-MiniLM-L6-v2", encoder="onnx-int8")
    >>> embedder.embed_query("European army").shape
    (384,)
    """

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        tokenizer: Tokenizer,
        name: str,
        encoder: str,
        workers: int | None = None,
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.name = name
        self.encoder = encoder
        self.workers = workers or usable_cores()
        self.inputs = [i.name for i in session.get_inputs()]
        self.dimension = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def load(
        cls,
        name: str,
        model_dir: Path,
        max_length: int,
        encoder: str,
        cache: Path | None = None,
    ) -> OnnxEmbedder:
        """The ``encoder`` export of the model in ``model_dir``, made first when it is not
        cached (``cache`` defaults to :func:`onnx_cache_dir`)."""
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf
        from tokenizers import Tokenizer

        folder = export_folder(name, model_dir, cache or onnx_cache_dir())
        model_file = ensure_export(name, model_dir, folder, encoder)
        try:
            session = open_session(model_file)
        except (Fail, InvalidProtobuf):  # a damaged cache file (disk full, edited): export anew
            model_file.unlink(missing_ok=True)
            session = open_session(ensure_export(name, model_dir, folder, encoder))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.no_padding()  # each text runs alone
        return cls(session, tokenizer, name, encoder)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, each text run alone on one core, ``workers`` at a time."""
        return embed_each(
            self.tokenizer.encode_batch(list(texts)),
            self.inputs,
            self.dimension,
            self.workers,
            lambda feed: self.session.run(None, feed)[0][0],
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def embed_each(
    encodings: Sequence[Encoding],
    inputs: Sequence[str],
    dimension: int,
    workers: int,
    infer: Callable[[dict[str, np.ndarray]], np.ndarray],
) -> np.ndarray:
    """The vector ``infer`` gives for each encoded text run alone (a batch of one, no padding),
    ``workers`` texts at a time; ``inputs`` are the graph's input names."""
    out = np.empty((len(encodings), dimension), dtype=np.float32)

    def run(i: int) -> None:
        e = encodings[i]
        columns = {
            "input_ids": e.ids,
            "attention_mask": e.attention_mask,
            "token_type_ids": e.type_ids,
        }
        out[i] = infer({n: np.asarray([columns[n]], dtype=np.int64) for n in inputs})

    if workers < 2 or len(encodings) < 2:
        for i in range(len(encodings)):
            run(i)
    else:
        with ThreadPoolExecutor(min(workers, len(encodings))) as pool:
            for _ in pool.map(run, range(len(encodings))):  # re-raises a run's error
                pass
    return out


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def open_session(model_file: Path) -> onnxruntime.InferenceSession:
    """A session that runs each call on one thread: the embedder runs one text per core, which
    is faster on short texts than spreading one text over the cores."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # keep onnxruntime's graph notes off the terminal
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(model_file), options, providers=["CPUExecutionProvider"]
    )


def ensure_export(name: str, model_dir: Path, folder: Path, encoder: str) -> Path:
    """The cached graph for ``encoder`` in ``folder``, exported (and quantised) first if it is
    missing. Every file is written under a temporary name and renamed into place, so processes
    exporting at the same time never see a half-written file."""
    target = folder / graph_file(encoder)
    if target.is_file():
        return target
    fp32 = folder / ONNX_ENCODERS["onnx"]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _quiet():
            if not fp32.is_file() or not (folder / "tokenizer.json").is_file():
                export_model(model_dir, folder)
            if encoder == "onnx-int8":
                bits = weight_bits()
                _atomically(target, lambda tmp: quantize(fp32, tmp, bits))
    except (ImportError, OSError, RuntimeError, TypeError, ValueError) as exc:
        raise EmbeddingModelError(
            f"Cannot export embedding model {name!r} to ONNX for the {encoder} encoder "
            f"({type(exc).__name__}: {str(exc)[:300]}) — use --encoder float32 "
            "(NEWSRAG_ENCODER) for this model, or bf16 on a CPU with AVX512-BF16 or AMX."
        ) from exc
    return target


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's tracing warnings and the quantiser's advice, which it logs to the
    root logger (a handler held there meanwhile keeps it from configuring root logging)."""
    root, hold = logging.getLogger(), logging.NullHandler()
    root.addHandler(hold)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeHandler(hold)


def export_model(model_dir: Path, folder: Path) -> None:
    """Write ``tokenizer.json`` and the float32 graph (transformer, mean pooling, L2
    normalisation) of the model in ``model_dir`` into ``folder``."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()
    backend = tokenizer.backend_tokenizer
    backend.no_truncation()  # the runtime truncates at the model's max_seq_length
    backend.enable_padding(pad_id=tokenizer.pad_token_id or 0, pad_token=tokenizer.pad_token)
    _atomically(folder / "tokenizer.json", lambda tmp: backend.save(str(tmp)))
    _atomically(folder / ONNX_ENCODERS["onnx"], lambda tmp: _write_graph(model, tokenizer, tmp))


def _write_graph(model: Any, tokenizer: Any, path: Path) -> None:
    """Trace ``model`` with pooling into ``path``, fuse it, and check its vectors against
    torch's on inputs of other shapes than the traced ones."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            batch = dict(zip(names, inputs, strict=True))
            tokens = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            vectors = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(vectors, dim=1)

    traced = tokenizer(
        ["a short text", "a longer text to trace"], padding=True, return_tensors="pt"
    )
    names = list(traced.keys())
    pooled = Pooled().eval()
    with torch.no_grad():
        torch.onnx.export(
            pooled,
            tuple(traced[n] for n in names),
            str(path),
            dynamo=False,  # the TorchScript exporter, which needs no onnxscript
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
            | {"sentence_embedding": {0: "batch"}},
            opset_version=17,
        )
        _fuse(path, model.config)
        check = tokenizer(
            ["one", "three short texts", "and a third one, longer than the other two texts"],
            padding=True,
            return_tensors="pt",
        )
        expected = pooled(*(check[n] for n in names)).numpy()
    got = open_session(path).run(None, {n: check[n].numpy() for n in names})[0]
    if float(np.min(np.sum(expected * got, axis=1))) < 0.9999:
        raise ValueError("the exported graph gives other vectors than the model")


def _fuse(path: Path, config: Any) -> None:
    """Fuse BERT attention, GELU and layer norms into onnxruntime's own operators, in place."""
    if getattr(config, "model_type", "") != "bert":
        return
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(path),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    fused.save_model_to_file(str(path))


def quantize(source: Path, target: Path, bits: int = 8) -> None:
    """Write ``source`` with its matrix products and attention projections quantised to int8
    (weights per output channel, in ``bits`` bits: 8 or 7; activations per call), except the
    first layer's (see FLOAT_MATMUL)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False)
    keep = [n.name for n in graph.graph.node if n.name.endswith(FLOAT_MATMUL)]
    # nodes are in topological order, so the first fused attention is the first layer's
    keep += [n.name for n in graph.graph.node if n.op_type == "Attention"][:1]
    quantize_dynamic(
        graph,  # not the path: the quantiser would write "<source>-inferred.onnx" beside it,
        str(target),  # a name that processes exporting at the same time would share
        per_channel=True,
        reduce_range=bits == 7,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=keep,
        op_types_to_quantize=["MatMul", "Attention"],
        # fused operators (com.microsoft) have no inferred output types: they are float
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _atomically(target: Path, write: Callable[[Path], Any]) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
