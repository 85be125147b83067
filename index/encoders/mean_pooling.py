"""A plain transformers runner for sentence-transformers folders that are only a transformer,
mean pooling and normalisation (the bundled all-MiniLM-L6-v2 is one). It gives the same vectors
as ``SentenceTransformer.encode`` but skips importing sentence-transformers, whose import
(scikit-learn, quantisation and training helpers) is most of the cold start of ``newsrag ask``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PLAIN_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]
MEAN_ONLY = {
    "pooling_mode_cls_token": False,
    "pooling_mode_mean_tokens": True,
    "pooling_mode_max_tokens": False,
    "pooling_mode_mean_sqrt_len_tokens": False,
}


def plain_max_length(folder: Path) -> int | None:
    """The max sequence length when ``folder`` holds a transformer + mean pooling + normalise
    model this module can run exactly; None for anything else (sentence-transformers runs it)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        if [m.get("type") for m in modules] != PLAIN_MODULES or modules[0].get("path"):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
        if any(pooling.get(k, False) != v for k, v in MEAN_ONLY.items()):
            return None
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if config.get("do_lower_case") or not isinstance(config.get("max_seq_length"), int):
        return None
    return int(config["max_seq_length"])


class MeanPoolingModel:
    """Runs a plain mean-pooling model with ``encode`` arguments like SentenceTransformer's.

    >>> model = MeanPoolingModel.load(folder, max_length=256)
    >>> model.encode(["European army"], normalize_embeddings=True).shape
    (1, 384)
    """

    def __init__(
        self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, max_length: int
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def load(cls, folder: Path, max_length: int) -> MeanPoolingModel:
        """Load the model and tokenizer from ``folder``, on the CPU, offline."""
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        return cls(model, tokenizer, max_length)

    def get_embedding_dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        **_: Any,
    ) -> np.ndarray:
        """Vectors of ``texts`` as float32, batched longest first like SentenceTransformer."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                part = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in part],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                tokens = self.model(**batch).last_hidden_state.float()  # pool in float32 under bf16
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                vectors = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if normalize_embeddings:
                    vectors = torch.nn.functional.normalize(vectors, dim=1)
                out[part] = vectors.numpy()
        return out
