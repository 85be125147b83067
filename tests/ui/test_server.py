"""ui.server in-process on a real uvicorn over a small index built with the fake embedder: page
logins on the API, an open API without logins, the deadline for a stalled request body; and
the page's upload keeping two files of one name (issue 24 item 8)."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant import Assistant
from index import Article, NewsIndex
from tests.conftest import free_port
from ui.server import ServerOptions, build_server, mask


class Running:
    """build_server(...) served by uvicorn on a thread, at ``url``."""

    def __init__(self, assistant: Assistant, options: ServerOptions) -> None:
        config = uvicorn.Config(
            build_server(assistant, options),
            host="127.0.0.1",
            port=options.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{options.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def small(fake_index: NewsIndex, tiny_corpus: list[Article]) -> Assistant:
    fake_index.ingest_articles(tiny_corpus)
    return Assistant(fake_index)


def serving(assistant: Assistant, **options: object) -> Iterator[Running]:
    running = Running(assistant, ServerOptions(port=free_port(), page=False, **options))  # type: ignore[arg-type]
    yield running
    running.stop()


@pytest.fixture
def with_logins(small: Assistant) -> Iterator[Running]:
    yield from serving(small, users=(("ada", "lovelace-1815"),))


@pytest.fixture
def open_server(small: Assistant) -> Iterator[Running]:
    yield from serving(small, body_seconds=1.0)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_page_logins_guard_the_api_when_no_key_is_given(with_logins: Running) -> None:
    url = with_logins.url
    denied = httpx.get(f"{url}/api/stats")
    assert denied.status_code == 401
    assert denied.json()["error"]["message"] == (
        "Missing or wrong credentials — send HTTP Basic with a --auth login."
    )
    assert httpx.get(f"{url}/api/stats", headers=basic("ada", "wrong")).status_code == 401
    stats = httpx.get(f"{url}/api/stats", headers=basic("ada", "lovelace-1815"))
    assert stats.status_code == 200 and stats.json()["articles"] == 12
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_without_keys_or_logins_the_api_is_open(open_server: Running) -> None:
    answer = httpx.post(f"{open_server.url}/api/ask", json={"question": "Who won the derby?"})
    assert answer.status_code == 200 and answer.json()["question"] == "Who won the derby?"


def test_a_stalled_body_gets_408(open_server: Running) -> None:
    port = int(open_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"question": '
        )
        started = time.monotonic()
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 408")
    assert "The request body stalled for over 1 s" in reply
    assert time.monotonic() - started < 5


def test_keys_are_masked_to_four_characters() -> None:
    assert mask("sk-local-0123456789") == "sk-l…"
    assert mask("short-key") == "…"


def test_the_page_keeps_two_uploads_of_one_name(fake_index: NewsIndex, tmp_path: Path) -> None:
    from ui.app import build_app

    demo = build_app(Assistant(fake_index))
    add = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "add_files")  # type: ignore[attr-defined]
    for n, text in enumerate(
        ["Ferry strike\n\nCrews walked out.\n", "Tram fares\n\nFares froze.\n"]
    ):
        folder = tmp_path / f"browser-{n}"
        folder.mkdir()
        (folder / "notes.txt").write_text(text, encoding="utf-8")
        summary, *_ = add([str(folder / "notes.txt")], progress=lambda *a, **k: None)  # type: ignore[operator]
        assert summary.startswith("**1 added, 0 updated"), summary
    assert {a.title for a in fake_index.articles()} == {"Ferry strike", "Tram fares"}


def test_the_configured_llm_is_a_model_of_its_own(small: Assistant) -> None:
    """With an LLM answerer (a LangChain fake chat model here), /v1/models lists it beside
    ``newsrag``; each model answers with its own answerer, and the LLM streams in pieces."""
    import openai
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    from assistant.llm import LLMAnswerer

    reply = "Striker Okafor headed the winner in the 89th minute of the derby [1]."
    model = GenericFakeChatModel(messages=iter([reply, reply]))
    with_llm = Assistant(small.index, LLMAnswerer(model, small.extractive, spec="fake:model"))
    for running in serving(with_llm):
        client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="none", max_retries=0)
        assert [m.id for m in client.models.list()] == ["newsrag", "llm:fake:model"]
        question = [{"role": "user", "content": "Who won the derby?"}]
        plain = client.chat.completions.create(model="newsrag", messages=question)  # type: ignore[arg-type]
        assert (plain.model_extra or {})["newsrag"]["answerer"] == "extractive"
        written = client.chat.completions.create(model="llm:fake:model", messages=question)  # type: ignore[arg-type]
        assert (written.model_extra or {})["newsrag"]["answerer"] == "llm:fake:model"
        assert "Okafor" in (written.choices[0].message.content or "")
        chunks = list(
            client.chat.completions.create(model="llm:fake:model", messages=question, stream=True)  # type: ignore[arg-type]
        )
        pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
        assert len(pieces) > 3 and "".join(pieces).startswith("Striker Okafor")
