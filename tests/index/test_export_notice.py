"""The one-time ONNX export is announced before it starts (issue 24 item 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

import index.encoders.onnx_encoder
from index.embeddings import PREPARING, load_embedder
from index.errors import EmbeddingModelError


@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8", "openvino"])
def test_an_export_is_announced_on_stderr_before_it_starts(
    encoder: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NEWSRAG_ONNX_CACHE", str(tmp_path / "cache"))
    seen: list[str] = []

    def export(model_dir: Path, folder: Path) -> None:
        seen.append(capsys.readouterr().err)  # what the user had read when the export began
        raise OSError("stop here: the real export takes ~35 s")

    monkeypatch.setattr(index.encoders.onnx_encoder, "export_model", export)
    with pytest.raises(EmbeddingModelError, match="Cannot export embedding model"):
        load_embedder(encoder=encoder)
    assert seen == [PREPARING + "\n"]
    assert PREPARING == "Preparing the embedding model for this CPU (one time, ~30 s)…"


def test_a_cached_export_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from index.embeddings import announce_export, model_location
    from index.encoders.onnx_encoder import export_folder, onnx_cache_dir

    monkeypatch.setenv("NEWSRAG_ONNX_CACHE", str(tmp_path / "cache"))
    location = Path(model_location("all-MiniLM-L6-v2"))
    folder = export_folder("all-MiniLM-L6-v2", location, onnx_cache_dir())
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"cached")
    assert announce_export("all-MiniLM-L6-v2", location, "onnx") is False
    assert capsys.readouterr().err == ""
    assert announce_export("all-MiniLM-L6-v2", location, "onnx-int8") is True
