"""The ``newsrag`` commands against a real Chroma server (``--chroma-url``), with the real model:
the end-to-end path, a server that is down, and one that goes away in the middle of an ingest."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import index.ingest
import index.store
from assistant.cli import main
from index import Article
from tests.conftest import (
    RUTTE_QUESTION,
    SAMPLE_CORPUS,
    SAMPLE_QA,
    ChromaServerProcess,
    free_port,
)

RUTTE_ID = "harbour-ledger-2026-01-14-rutte-nato"
N_ARTICLES = len([p for p in SAMPLE_CORPUS.iterdir() if p.suffix != ".jsonl"]) + 3
COMMANDS = ["ingest", "ask", "repl", "search", "chat", "eval", "list", "stats", "delete"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def cited_ids(answer_json: str) -> set[str]:
    return {c["article_id"] for c in json.loads(answer_json)["citations"]}


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ChromaServerProcess]:
    """A Chroma server for one test, which may stop and start it."""
    server = ChromaServerProcess(tmp_path / "chroma")
    server.start()
    yield server
    server.stop()


@pytest.mark.integration
def test_end_to_end_on_a_chroma_server(
    chroma_server: ChromaServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSRAG_COLLECTION", "cli_e2e")  # the session server is shared
    url, idx = chroma_server.url, str(tmp_path / "idx")
    at = ["--chroma-url", url, "--index", idx]
    code, out, _ = run("ingest", str(SAMPLE_CORPUS), *at, "--quiet")
    assert code == 0
    assert out.startswith(f"{N_ARTICLES} added, 0 updated, 0 unchanged, 0 skipped")
    assert f"The index at {url} holds {N_ARTICLES} articles" in out

    code, out, _ = run("ask", RUTTE_QUESTION, *at, "--json")
    assert code == 0 and RUTTE_ID in cited_ids(out)

    code, out, _ = run("ingest", str(SAMPLE_CORPUS), *at, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["added"], data["updated"], data["unchanged"], data["chunks_written"]) == (
        0,
        0,
        N_ARTICLES,
        0,
    )

    qa = tmp_path / "qa.jsonl"
    qa.write_text(SAMPLE_QA.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    code, out, _ = run("eval", str(qa), *at, "--json")
    assert code == 0 and json.loads(out)["hit@5"] == 1.0

    code, out, _ = run("delete", RUTTE_ID, *at)
    assert code == 0 and out == f"Deleted {RUTTE_ID}\n"
    monkeypatch.setenv("NEWSRAG_CHROMA_URL", url)  # the variable does what the flag does
    code, out, _ = run("list", "--index", idx, "--json")
    listed = json.loads(out)
    code, out, _ = run("stats", "--index", idx, "--json")
    stats = json.loads(out)
    assert code == 0
    assert (stats["index"], stats["collection"], stats["articles"]) == (
        url,
        "cli_e2e",
        N_ARTICLES - 1,
    )
    assert stats["chunks"] == sum(a["chunks"] for a in listed)
    code, out, _ = run("search", "European army", "--index", idx, "--json")
    assert code == 0 and RUTTE_ID not in {h["article_id"] for h in json.loads(out)}

    code, out, _ = run(
        "ingest", str(SAMPLE_CORPUS), *at, "--rebuild", "--embedding-model", "fake:32", "--json"
    )
    assert code == 0 and json.loads(out)["added"] == N_ARTICLES  # the server's copy was dropped
    code, out, _ = run("stats", *at, "--embedding-model", "fake:32", "--json")
    assert json.loads(out)["embedding_model"] == "fake:32"


@pytest.mark.integration
def test_server_gone_mid_ingest_exits_1_and_a_rerun_completes(
    own_server: ChromaServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server stops after the second group's passages are written, before its articles
    are recorded: the first group counts as indexed, the second is written again."""
    at = ["--chroma-url", own_server.url, "--index", str(tmp_path / "idx")]
    article_metadata = index.store.chroma._article_metadata
    recorded: list[str] = []

    def stop_before_the_fifth_record(article: Article, chunks: int) -> dict[str, Any]:
        if len(recorded) == 4:
            own_server.stop()
        recorded.append(article.id)
        return article_metadata(article, chunks)

    with monkeypatch.context() as patch:
        patch.setattr(index.ingest, "ARTICLES_PER_COMMIT", 4)
        patch.setattr(index.store.chroma, "_article_metadata", stop_before_the_fifth_record)
        code, _, err = run("ingest", str(SAMPLE_CORPUS), *at, "--quiet")
    assert code == 1 and len(recorded) == 8  # the second group's records were never sent
    assert err == (
        f"Error: Lost the Chroma server at {own_server.url} (connection refused) — start it "
        f"again (e.g. 'chroma run --path DIR --port {own_server.port}') and rerun the command; "
        "an interrupted ingest keeps the articles it committed and writes the rest.\n"
    )

    own_server.start()
    listed = json.loads(run("list", *at, "--json")[1])
    stats = json.loads(run("stats", *at, "--json")[1])
    assert stats["articles"] == len(listed) == 4
    assert stats["chunks"] > sum(a["chunks"] for a in listed)  # the second group's passages
    code, out, _ = run("ingest", str(SAMPLE_CORPUS), *at, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["added"], data["updated"], data["unchanged"]) == (N_ARTICLES - 4, 0, 4)
    code, out, _ = run("list", *at, "--json")
    listed = json.loads(out)
    stats = json.loads(run("stats", *at, "--json")[1])
    assert (stats["articles"], stats["chunks"]) == (N_ARTICLES, sum(a["chunks"] for a in listed))
    code, out, _ = run("ask", RUTTE_QUESTION, *at, "--json")
    assert code == 0 and RUTTE_ID in cited_ids(out)


def test_server_that_is_down_exits_1_with_the_fix(tmp_path: Path) -> None:
    port = free_port()
    code, _, err = run(
        "ingest", str(SAMPLE_CORPUS), "--chroma-url", f"http://127.0.0.1:{port}", "--quiet"
    )
    assert code == 1
    assert err == (
        f"Error: Cannot reach the Chroma server at http://127.0.0.1:{port} (connection refused) "
        f"— start it with 'chroma run --path DIR --port {port}' or fix --chroma-url / "
        "NEWSRAG_CHROMA_URL.\n"
    )


def test_bad_chroma_url_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSRAG_CHROMA_URL", "localhost:8000")
    code, _, err = run("stats")
    assert code == 1
    assert err == (
        "Error: chroma_url='localhost:8000' is not a Chroma server address — use "
        "http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:8000 (--chroma-url / "
        "NEWSRAG_CHROMA_URL).\n"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_chroma_url(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0 and "--chroma-url URL" in out and "NEWSRAG_CHROMA_URL" in out
