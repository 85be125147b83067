"""Shared fixtures: a tiny inline corpus, a temp index per test, the real model and sample index
(loaded once per session), a real Chroma server, and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from index import Article, NewsIndex, Settings, load_embedder
from index.embeddings import Embedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = ROOT / "sample_corpus"
SAMPLE_QA = ROOT / "eval" / "sample_qa.jsonl"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_DIR = SHARED_DATA / "seed"
RUTTE_QUESTION = "What did Rutte say about a European army?"

HEADLINES = [
    (
        "lottery",
        "Factory syndicate wins record lottery jackpot",
        "Forty workers at a bottling plant shared a record lottery jackpot on Saturday. "
        "Each member of the syndicate will receive about 1.2 million euros.",
    ),
    (
        "floods",
        "River bursts its banks after three days of rain",
        "Hundreds of residents were evacuated when the river burst its banks on Monday. "
        "Emergency crews used boats to reach homes in the lower town.",
    ),
    (
        "nato",
        "Rutte warns against a separate European army",
        "NATO chief Mark Rutte said a European army would duplicate command structures. "
        "He urged allies to build a stronger European pillar inside the alliance.",
    ),
    (
        "chips",
        "Chip plant opens with 1,200 jobs",
        "A semiconductor company opened a wafer plant on the coast on Thursday. "
        "The firm plans to hire 1,200 workers over three years.",
    ),
    (
        "derby",
        "Late header wins the derby",
        "Striker Okafor headed the winner in the 89th minute of the derby. "
        "The home crowd of 18,400 celebrated until long after the whistle.",
    ),
    (
        "rates",
        "Central bank holds interest rates",
        "The central bank kept its main rate at 2.75 percent on Tuesday. "
        "Its governor said inflation was cooling but wages were still rising fast.",
    ),
    (
        "measles",
        "County starts measles vaccination drive",
        "Health officials began a measles catch-up campaign in schools after an outbreak. "
        "Parents can book free doses at any clinic in the county.",
    ),
    (
        "museum",
        "Art museum reopens after renovation",
        "The city art museum reopened with a new glass-roofed gallery on Sunday. "
        "Curators said the first exhibition brings together 300 paintings.",
    ),
    (
        "tram",
        "New tram line crosses the river",
        "The crosstown tram line opened to passengers on Tuesday morning. "
        "Trams will run every six minutes at peak times.",
    ),
    (
        "wind",
        "Offshore wind farm sends first power",
        "The Skerry Bank wind farm delivered its first electricity to the grid. "
        "Engineers expect full output by the spring.",
    ),
    (
        "ice",
        "Arctic sea ice near record low",
        "Arctic sea ice shrank to one of its smallest summer extents on record. "
        "Scientists linked the loss to a warm summer and shifting winds.",
    ),
    (
        "election",
        "Social Democrats top the vote",
        "The Social Democrats won the most seats but fell short of a majority. "
        "Coalition talks are expected to last several weeks.",
    ),
]


def make_article(key: str, title: str, text: str, **meta: Any) -> Article:
    return Article(
        id=key,
        title=title,
        text=text,
        source=meta.get("source", "Test Wire"),
        published=meta.get("published", "2026-01-14"),
        url=meta.get("url"),
    )


@pytest.fixture
def tiny_corpus() -> list[Article]:
    """A dozen one-paragraph news articles, different topics."""
    return [make_article(k, t, x) for k, t, x in HEADLINES]


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings for a fresh temp index built with the fake embedder."""
    return Settings(
        index_dir=tmp_path / "idx", embedding_model="fake:64", chunk_size=40, chunk_overlap=10
    )


@pytest.fixture
def fake_index(fake_settings: Settings) -> NewsIndex:
    return NewsIndex.open(settings=fake_settings, create=True)


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ONNX export cache for the run, never the user's: the model is exported at most once
    per run, and subprocesses (`newsrag ...`) inherit it through the environment."""
    path = tmp_path_factory.mktemp("onnx-cache")
    before = os.environ.get("NEWSRAG_ONNX_CACHE")
    os.environ["NEWSRAG_ONNX_CACHE"] = str(path)
    yield path
    if before is None:
        os.environ.pop("NEWSRAG_ONNX_CACHE", None)
    else:
        os.environ["NEWSRAG_ONNX_CACHE"] = before


class CountingEmbedder:
    """An embedder that records every text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.encoder = inner.encoder
        self.documents: list[str] = []
        self.queries: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2 (torch, float32), loaded once for the whole run."""
    return load_embedder()


@pytest.fixture(scope="session")
def int8_embedder(onnx_cache: Path) -> Embedder:
    """The bundled model under the onnx-int8 encoder, exported once for the whole run."""
    return load_embedder(encoder="onnx-int8")


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """A real index of the bundled sample corpus (built once; tests must not modify it)."""
    path = tmp_path_factory.mktemp("sample") / "idx"
    index = NewsIndex.open(path, settings=Settings(), embedder=real_embedder, create=True)
    report = index.ingest([SAMPLE_CORPUS])
    assert not report.problems, report.problems
    return path


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path, real_embedder: Embedder) -> NewsIndex:
    return NewsIndex.open(sample_index_dir, settings=Settings(), embedder=real_embedder)


def free_port() -> int:
    """A loopback TCP port that nothing listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServerProcess:
    """A real ``chroma run`` on a loopback port, its data in ``path``; stop and start it again
    (same port, same data) to play a server that goes away.

    >>> server = ChromaServerProcess(tmp_path / "chroma")
    >>> server.start()
    >>> server.url
    'http://127.0.0.1:54321'
    """

    STARTUP_SECONDS = 60.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.log = path.parent / f"{path.name}-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and return once its heartbeat answers (fails the test after 60 s)."""
        chroma = Path(sys.executable).with_name("chroma")
        command = str(chroma) if chroma.is_file() else shutil.which("chroma")
        if command is None:
            pytest.fail("The 'chroma' command is missing — reinstall chromadb in this venv.")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        args = [command, "run", "--path", str(self.path), "--host", "127.0.0.1"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*args, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + self.STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"'chroma run' exited with {self.process.returncode}: {self._tail()}")
            if self._heartbeat():
                return
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"'chroma run' did not answer within {self.STARTUP_SECONDS:.0f} s: {self._tail()}"
        )

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s) and wait until it is gone."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def _heartbeat(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2.0).is_success
        except httpx.TransportError:
            return False

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServerProcess]:
    """One real Chroma server for the session (tests use their own collection names)."""
    server = ChromaServerProcess(tmp_path_factory.mktemp("chroma-server") / "data")
    server.start()
    yield server
    server.stop()


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True  # AF_UNIX paths
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests may talk to servers they start on loopback, never to the outside."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


# Fixtures that load a real model, build or copy a real index, start a server, mount a filesystem
# or write thousands of files: a test that uses one (directly or through another fixture) is an
# integration test, marked here so that `make test-fast` (-m "not integration") leaves it out.
# So is a test of the real data (realdata marker), which reads ../shared/data.
INTEGRATION_FIXTURES = frozenset(
    {
        "real_embedder",
        "int8_embedder",
        "openvino_embedder",
        "sample_index_dir",
        "sample_index",
        "hostile_index",
        "chroma_server",
        "own_server",
        "smollm2",
        "small_disk",
        "many_files",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses an integration fixture, or real data, as ``integration``."""
    for item in items:
        heavy = INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if heavy or item.get_closest_marker("realdata"):
            item.add_marker(pytest.mark.integration)


RUN_NOTES: list[str] = []


@pytest.fixture(scope="session")
def run_notes() -> list[str]:
    """Lines a test adds here are printed at the end of the run (load-test figures)."""
    return RUN_NOTES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the tests' run notes and say where the browser tests left their screenshots
    (tests/ui/test_browser.py)."""
    for note in RUN_NOTES:
        terminalreporter.write_line(note)
    from tests.ui.test_browser import SCREENSHOTS

    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.exists() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {SCREENSHOTS}")
