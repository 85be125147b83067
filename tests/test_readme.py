"""The README's command blocks, run as written against a temp index.

Each fenced ``sh`` or ``python`` block of README.md is one of the kinds below; a block of no
known kind fails the first test, so a new block cannot go unchecked. Blocks run in a temp folder
that holds links to the bundled ``sample_corpus/`` and ``eval/`` and a ``.venv`` link to this
Python's environment, so ``./idx`` is a temp index.

Exceptions, each checked another way instead of run as written:
- ``make chat`` / ``make test``: they install a venv and serve or run the whole suite; checked
  with ``make -n`` (the targets exist and expand).
- the install block: it creates a venv from the package index; checked by the extras it names
  existing in pyproject.toml.
- ``newsrag chat --port 7860``: it serves until stopped; it is started on a free port instead
  (7860 may be taken on a shared machine), checked to answer HTTP, and stopped.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(sh|python)\n(.*?)^```", re.M | re.S)


def blocks(kind: str | None = None) -> list[str]:
    found = [(k, body) for k, body in FENCE.findall(README.read_text(encoding="utf-8"))]
    return [body for k, body in found if kind is None or k == kind]


def classify(block: str) -> str:
    if "make chat" in block and "make test" in block:
        return "make"
    if block.startswith("python3 -m venv"):
        return "install"
    if ". .venv/bin/activate" in block:
        return "activate"
    if block.strip().startswith("newsrag chat"):
        return "chat"
    if "newsrag ingest sample_corpus/ --index ./idx" in block:
        return "tour"
    if block.startswith("from assistant import"):
        return "python"
    return "unknown"


def commands(block: str) -> list[str]:
    """The block's commands: comments and blank lines dropped, continuation lines joined."""
    lines = block.replace("\\\n", " ").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def env() -> dict[str, str]:
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def run(command: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "sample_corpus").symlink_to(ROOT / "sample_corpus")
    (folder / "eval").symlink_to(ROOT / "eval")
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


@pytest.fixture(scope="module")
def toured(workdir: Path) -> dict[str, str]:
    """The CLI tour run command by command, in order; each command's output."""
    (tour,) = [b for b in blocks("sh") if classify(b) == "tour"]
    return {command: run(command, workdir).stdout for command in commands(tour)}


def test_every_block_is_of_a_checked_kind() -> None:
    kinds = [classify(b) for b in blocks()]
    assert "unknown" not in kinds, [b for b in blocks() if classify(b) == "unknown"]
    assert sorted(kinds) == sorted(["make", "activate", "install", "tour", "chat", "python"])
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_the_make_block_names_real_targets() -> None:
    (block,) = [b for b in blocks("sh") if classify(b) == "make"]
    targets = [c.split()[1] for c in commands(block)]
    assert targets == ["chat", "test"]
    done = subprocess.run(["make", "-n", *targets, "test-fast"], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert b"newsrag ingest sample_corpus" in done.stdout and b"pytest -q" in done.stdout


def test_the_install_block_names_real_extras() -> None:
    (block,) = [b for b in blocks("sh") if classify(b) == "install"]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = set(config["project"]["optional-dependencies"])
    named = re.findall(r"pip install -e '?\.(?:\[([\w-]+)\])?", block)
    assert named == ["", "llm", "local-llm"]
    assert {n for n in named if n} <= extras


@pytest.mark.integration
def test_activating_the_venv_puts_newsrag_on_the_path(workdir: Path) -> None:
    (block,) = [b for b in blocks("sh") if classify(b) == "activate"]
    done = run(block, workdir, timeout=120)
    assert "Usage: newsrag" in done.stdout


@pytest.mark.integration
def test_the_cli_tour_runs_as_written(toured: dict[str, str], workdir: Path) -> None:
    def output(start: str) -> str:
        (found,) = [out for command, out in toured.items() if command.startswith(start)]
        return found

    rutte = 'newsrag ask "What did Rutte say about a European army?" --index ./idx'
    assert "16 added" in output("newsrag ingest")
    assert "According to The Harbour Ledger" in toured[rutte] and "[1]" in toured[rutte]
    assert "[1]" in output('newsrag ask "Who scored the winner in the derby last week?"')
    assert "Choice: " in output('newsrag ask "Who won the Port Calder derby?"')
    assert "(searched for: What did Rutte say about the Arctic?)" in output("printf")
    assert '"citations"' in toured[f"{rutte} --json"]
    assert (workdir / "report.json").is_file()
    assert re.search(r"^articles +16$", output("newsrag stats"), re.M)


@pytest.mark.integration
def test_the_python_quick_start_runs_as_written(toured: dict[str, str], workdir: Path) -> None:
    (block,) = blocks("python")
    script = workdir / "quick_start.py"
    script.write_text(block, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=workdir, env=env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[1]" in done.stdout and "The Harbour Ledger" in done.stdout
    assert "What did Rutte say about the Arctic?" in done.stdout


@pytest.mark.integration
def test_the_chat_block_starts_and_serves(toured: dict[str, str], workdir: Path) -> None:
    (block,) = [b for b in blocks("sh") if classify(b) == "chat"]
    (command,) = commands(block)
    port = free_port()
    args = shlex.split(command.replace("--port 7860", f"--port {port}"))  # the one exception
    proc = subprocess.Popen(
        args, cwd=workdir, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "newsrag chat did not answer in 120 s"
                time.sleep(0.5)
        assert page.status_code == 200 and "newsrag" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
