"""The most chunks per second this CPU could embed: the model's multiply-adds per chunk against
the CPU's measured matrix-product rate, so a benchmark table can say how far from the hardware's
limit an encoder runs, and which speed targets no encoder of the same model can reach there.

A BERT-style encoder spends nearly all its work in matrix products: per layer and token
``4 h^2`` multiply-adds for the attention projections, ``2 h i`` for the feed-forward block, and
``2 n h`` for the attention scores and their weighted sum over ``n`` tokens (layer norms, GELU
and softmax add a few percent, ignored here, so the ceiling is generous). The rate is measured
with onnxruntime on one thread, float32 and uint8 x int8, at the model's feed-forward shape; the
ceiling takes the faster of the two on every core.

    >>> transformer_macs(200, layers=6, hidden=384, intermediate=1536)
    2307686400
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Ceiling:
    """This CPU's matrix-product rates and the model's work per chunk."""

    fp32_gmacs: float  # billions of multiply-adds per second, one core, float32
    int8_gmacs: float  # the same for uint8 x int8 products
    macs_per_chunk: float  # mean over the texts measured
    mean_tokens: float
    cores: int

    @property
    def chunks_per_s(self) -> float:
        """Chunks per second if every core ran the faster product at its measured rate and
        nothing else took time."""
        return self.cores * max(self.fp32_gmacs, self.int8_gmacs) * 1e9 / self.macs_per_chunk

    def as_dict(self) -> dict[str, float]:
        return {
            "fp32_gmacs_per_core": self.fp32_gmacs,
            "int8_gmacs_per_core": self.int8_gmacs,
            "gmacs_per_chunk": self.macs_per_chunk / 1e9,
            "mean_tokens": self.mean_tokens,
            "cores": self.cores,
            "chunks_per_s": self.chunks_per_s,
        }


def transformer_macs(tokens: int, layers: int, hidden: int, intermediate: int) -> int:
    """Multiply-adds of one text of ``tokens`` tokens through the encoder's matrix products."""
    per_token = 4 * hidden * hidden + 2 * hidden * intermediate
    return layers * (tokens * per_token + 2 * tokens * tokens * hidden)


def model_shape(model_dir: Path) -> dict[str, int]:
    """Layers, hidden size and feed-forward size from the model folder's ``config.json``."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return {
        "layers": int(config["num_hidden_layers"]),
        "hidden": int(config["hidden_size"]),
        "intermediate": int(config["intermediate_size"]),
    }


def matmul_rate(rows: int, inner: int, outer: int, int8: bool, seconds: float = 0.5) -> float:
    """Billions of multiply-adds per second of a ``rows x inner`` by ``inner x outer`` matrix
    product on one onnxruntime thread (float32, or uint8 activations by int8 weights)."""
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    x: np.ndarray
    weights: np.ndarray
    if int8:
        x = rng.integers(0, 256, (rows, inner), dtype=np.uint8)
        weights = rng.integers(-64, 64, (inner, outer), dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["x", "w", "zero"], ["y"])
        constants = [numpy_helper.from_array(np.array(128, np.uint8), "zero")]
        kind, out = TensorProto.UINT8, TensorProto.INT32
    else:
        x = rng.standard_normal((rows, inner), dtype=np.float32)
        weights = rng.standard_normal((inner, outer), dtype=np.float32)
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        constants, kind, out = [], TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [node],
        "matmul",
        [helper.make_tensor_value_info("x", kind, [rows, inner])],
        [helper.make_tensor_value_info("y", out, [rows, outer])],
        [numpy_helper.from_array(weights, "w"), *constants],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    session.run(None, {"x": x})
    runs, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or runs < 3:
        session.run(None, {"x": x})
        runs += 1
    return runs * rows * inner * outer / elapsed / 1e9


def measure(
    model_dir: Path, token_counts: Sequence[int], cores: int, seconds: float = 0.5
) -> Ceiling:
    """The ceiling for the model in ``model_dir`` over texts of ``token_counts`` tokens."""
    shape = model_shape(model_dir)
    macs = [transformer_macs(n, **shape) for n in token_counts]
    mean_tokens = float(np.mean(token_counts))
    shape_of_product = (max(1, round(mean_tokens)), shape["hidden"], shape["intermediate"])
    return Ceiling(
        fp32_gmacs=matmul_rate(*shape_of_product, int8=False, seconds=seconds),
        int8_gmacs=matmul_rate(*shape_of_product, int8=True, seconds=seconds),
        macs_per_chunk=float(np.mean(macs)),
        mean_tokens=mean_tokens,
        cores=cores,
    )


def token_counts(model_dir: Path, texts: Sequence[str], max_length: int) -> list[int]:
    """Tokens per text as the encoders see them (truncated at ``max_length``)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return [len(e.ids) for e in tokenizer.encode_batch(list(texts))]
