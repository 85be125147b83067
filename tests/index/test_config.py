from pathlib import Path

import pytest

from index.config import Settings, default_encoder, default_index_dir
from index.encoders.cpu import CpuFeatures, cpu_features
from index.errors import ConfigError


def test_defaults_are_documented_values() -> None:
    s = Settings()
    assert (s.embedding_model, s.chunk_size, s.chunk_overlap, s.top_k) == (
        "all-MiniLM-L6-v2",
        160,
        30,
        5,
    )
    assert s.index_dir == default_index_dir().absolute()


def test_env_overrides_and_types(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "NEWSRAG_INDEX": str(tmp_path),
            "NEWSRAG_TOP_K": "8",
            "NEWSRAG_MIN_SCORE": "0.25",  # an answer setting: not the index's
            "NEWSRAG_EMBEDDING_MODEL": "fake",
        }
    )
    assert (s.index_dir, s.top_k, s.embedding_model) == (tmp_path, 8, "fake")
    assert not hasattr(s, "min_score")


def test_replace_ignores_unset_flags() -> None:
    assert Settings().replace(top_k=None, chunk_size=100).chunk_size == 100
    assert Settings().replace(top_k=None).top_k == 5


def test_bad_env_value_names_variable_and_fix() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"NEWSRAG_TOP_K": "many"})
    assert str(err.value) == (
        "NEWSRAG_TOP_K='many' is not a whole number — set it to a whole number or unset it."
    )


def test_overlap_must_be_smaller_than_size() -> None:
    with pytest.raises(
        ConfigError, match="chunk_overlap=50 must be at least 0 and smaller than chunk_size=40"
    ):
        Settings(chunk_size=40, chunk_overlap=50)


def test_relative_index_dir_is_made_absolute_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(index_dir=Path("idx")).index_dir == tmp_path / "idx"


def test_retrieval_settings_from_env() -> None:
    s = Settings.from_env(
        {
            "NEWSRAG_SEARCH_MODE": "keyword",
            "NEWSRAG_CHUNK_HEADER": "off",
            "NEWSRAG_TIME_WEIGHT": "0",
            "NEWSRAG_MAX_PER_ARTICLE": "0",
            "NEWSRAG_RERANKER": "/models/reranker",
        }
    )
    assert (s.search_mode, s.chunk_header, s.time_weight, s.max_per_article, s.reranker) == (
        "keyword",
        False,
        0.0,
        0,
        "/models/reranker",
    )
    assert Settings.from_env({"NEWSRAG_CHUNK_HEADER": "yes"}).chunk_header is True
    with pytest.raises(ConfigError, match="NEWSRAG_CHUNK_HEADER='maybe' is not true or false"):
        Settings.from_env({"NEWSRAG_CHUNK_HEADER": "maybe"})
    with pytest.raises(ConfigError, match="search_mode='fuzzy' is not a search mode — use one of"):
        Settings(search_mode="fuzzy")


def test_chroma_url_from_env_is_normalised() -> None:
    assert Settings().chroma_url == ""  # embedded Chroma
    s = Settings.from_env({"NEWSRAG_CHROMA_URL": "HTTP://LocalHost:8000/"})
    assert (s.chroma_url, s.location) == ("http://localhost:8000", "http://localhost:8000")
    assert Settings(chroma_url="https://[::1]:443").chroma_url == "https://[::1]:443"


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("localhost:8000", "."),
        ("ftp://host:21", "."),
        ("http://", "."),
        ("http://host", "; add the port."),
        ("http://host:0", "; the port must be a number from 1 to 65535."),
        ("http://host:99999", "; the port must be a number from 1 to 65535."),
        (
            "http://host:8000/chroma",
            "; drop the path, query and user name (a server is a host and a port).",
        ),
    ],
)
def test_bad_chroma_url_names_the_fix(url: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings(chroma_url=url)
    assert str(err.value) == (
        f"chroma_url={url!r} is not a Chroma server address — use http://HOST:PORT or "
        "https://HOST:PORT, e.g. http://127.0.0.1:8000 (--chroma-url / NEWSRAG_CHROMA_URL)" + fix
    )


def test_chroma_url_error_hides_a_password() -> None:
    with pytest.raises(ConfigError) as err:
        Settings(chroma_url="http://me:s3cret@host:8000")
    assert "s3cret" not in str(err.value) and "'http://me:***@host:8000'" in str(err.value)


def test_encoder_setting_defaults_to_the_fastest_measured_on_this_cpu_and_is_checked() -> None:
    amx = CpuFeatures("x86_64", "Intel Xeon", frozenset({"avx512f", "avx512_bf16", "amx_bf16"}))
    zen4 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx512f", "avx512_vnni", "avx512_bf16"}))
    avx2 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2", "fma"}))
    assert default_encoder(amx) == "openvino"
    assert [default_encoder(c) for c in (zen4, avx2, CpuFeatures("aarch64"))] == ["onnx-int8"] * 3
    assert Settings().encoder == default_encoder(cpu_features())
    assert Settings.from_env({"NEWSRAG_ENCODER": "float32"}).encoder == "float32"
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"NEWSRAG_ENCODER": "fp8"})
    assert str(err.value) == (
        "encoder='fp8' is not an encoder — use one of float32, bf16, onnx, onnx-int8, openvino "
        "(NEWSRAG_ENCODER / --encoder)."
    )
