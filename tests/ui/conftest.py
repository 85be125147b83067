"""A real `newsrag serve` on a loopback port over a copy of the sample index, for the tests of
the HTTP API with real clients (openai, LangChain, schemathesis, httpx)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

API_KEY = "sk-newsrag-test-4f1c9a7e"
STARTUP_SECONDS = 120.0


class ApiServer:
    """``newsrag serve`` as a user starts it; ``log()`` is what it wrote to stderr."""

    def __init__(self, index: Path, log: Path, args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        command = [sys.executable, "-c", "from assistant.cli import run; run()", "serve"]
        command += ["--index", str(index), "--port", str(self.port), *args]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"newsrag serve exited with {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"newsrag serve did not answer in {STARTUP_SECONDS:.0f} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def api_index(tmp_path_factory: pytest.TempPathFactory, sample_index_dir: Path) -> Path:
    """A copy of the sample index that the API server may write to."""
    copy = tmp_path_factory.mktemp("api") / "idx"
    shutil.copytree(sample_index_dir, copy)
    return copy


@pytest.fixture(scope="session")
def api_server(api_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """`newsrag serve --api-key KEY` over the copy of the sample index, for the session."""
    log = tmp_path_factory.mktemp("api-log") / "serve.log"
    server = ApiServer(api_index, log, ["--api-key", API_KEY])
    yield server
    server.stop()


@pytest.fixture
def api(api_server: ApiServer) -> Iterator[httpx.Client]:
    """An httpx client of the server that sends the key."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=60) as client:
        yield client
