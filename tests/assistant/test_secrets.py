"""API keys never reach what newsrag prints, logs or returns: not when the chat model fails with
an error that quotes the key, nor in ``newsrag ask`` output, plain or ``--json``."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import SecretStr

from assistant.answerer import ExtractiveAnswerer
from assistant.chat_models import load_chat_model, model_secrets, redact, short_reason
from assistant.cli import main
from assistant.llm import LLMAnswerer
from index.embeddings import FakeEmbedder
from index.records import Chunk, Hit
from tests.conftest import RUTTE_QUESTION

# Not shaped like a provider key (sk-…): only knowing the value can mask these.
MODEL_KEY = "corp-gateway-7Hq2vX9pL4mN8rT1"
ENV_KEY = "proxy-3c9f1e7a5b2d8046"
PASSAGE = Chunk(
    "nato:0",
    "nato",
    0,
    0,
    120,
    "NATO chief Mark Rutte said a European army would duplicate command structures. "
    "He urged allies to build a stronger European pillar.",
    "Rutte warns against a separate European army",
    "Test Wire",
    "2026-01-14",
    None,
)


def test_redact_masks_known_values_headers_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", ENV_KEY)
    monkeypatch.setenv("DB_PASSWORD", "hunter2-but-longer")
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # too short to mask: it would mask every "abc"
    text = (
        f"401 for {MODEL_KEY} and {ENV_KEY}; db hunter2-but-longer; headers "
        "{'Authorization': 'Bearer opaque.jwt-value_123'}; key sk-proj-abcdefghijkl; abc"
    )
    assert redact(text, [MODEL_KEY]) == (
        "401 for *** and ***; db ***; headers {'Authorization': 'Bearer ***'}; key ***; abc"
    )
    assert MODEL_KEY in redact(text)  # unknown and not shaped like a key: the caller names it
    assert short_reason(PermissionError(text), secrets=[MODEL_KEY]).startswith(
        "PermissionError: 401 for *** and ***;"
    )


def test_model_secrets_are_its_api_key_and_auth_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model(
        "openai:m",
        base_url="http://127.0.0.1:9/v1",
        api_key=MODEL_KEY,
        default_headers={"X-Api-Key": ENV_KEY, "User-Agent": "newsrag-test"},
    )
    assert set(model_secrets(model)) == {MODEL_KEY, ENV_KEY}


class LeakyModel(BaseChatModel):
    """Fails the way some providers do: the error quotes the key and the Authorization header."""

    api_key: SecretStr

    @property
    def _llm_type(self) -> str:
        return "leaky"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        key = self.api_key.get_secret_value()
        raise PermissionError(
            f"invalid api key {key} (headers: {{'Authorization': 'Bearer {key}'}})"
        )


def test_a_model_error_quoting_its_key_is_masked_everywhere(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the key is known only to the model
    answerer = LLMAnswerer(
        LeakyModel(api_key=SecretStr(MODEL_KEY)), ExtractiveAnswerer(FakeEmbedder(256)), "leaky:m"
    )
    with caplog.at_level(logging.DEBUG):
        answer = answerer.answer(RUTTE_QUESTION, [Hit(PASSAGE, 0.7, 1)])
    assert answer.answerer == "extractive" and "command structures" in answer.answer
    assert answer.notices == (
        "The language model (leaky:m) failed: PermissionError: invalid api key *** (headers: "
        "{'Authorization': 'Bearer ***'}); showing the extractive answer.",
    )
    assert "failed" in caplog.text
    for seen in (json.dumps(answer.to_dict()), caplog.text, repr(answer)):
        assert MODEL_KEY not in seen


class EchoingHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that turns every key down, quoting the header it got."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers["Authorization"]
        EchoingHandler.seen.append(auth)
        body = {"error": {"message": f"Invalid credentials: {auth}", "type": "invalid_api_key"}}
        payload = json.dumps(body).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echoing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    EchoingHandler.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    thread.join()


@pytest.mark.integration
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_ask_never_prints_or_logs_the_key(
    as_json: bool,
    sample_index_dir: Path,
    echoing_server: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real OpenAI client against a server whose 401 quotes the key: ``newsrag ask`` falls
    back to the extractive answer, saying why, without the key."""
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    args = ["ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "--llm", "openai:m"]
    args += ["--llm-base-url", echoing_server] + (["--json"] if as_json else [])
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert EchoingHandler.seen == [f"Bearer {ENV_KEY}"]  # the key did go where it belongs
    failed = "The language model (openai:m) failed: "  # then the client's 401, masked
    if as_json:
        answer = json.loads(result.stdout)
        assert answer["answerer"] == "extractive" and not answer["refused"]
        (notice,) = answer["notices"]
    else:
        (notice,) = [line for line in result.stdout.splitlines() if failed in line]
    assert notice.startswith(failed if as_json else f"Note: {failed}"), notice
    assert "401" in notice and "Invalid credentials: Bearer ***" in notice
    assert "failed" in caplog.text
    for seen in (result.stdout, result.stderr, caplog.text):
        assert ENV_KEY not in seen
