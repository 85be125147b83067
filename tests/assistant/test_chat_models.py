"""Building chat models from PROVIDER:MODEL: errors that name the fix, OpenAI-compatible and
Ollama clients pointed at a base URL, and the OpenAI client streaming from a stub server."""

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage

from assistant.chat_models import load_chat_model, redact, short_reason
from index.errors import ConfigError


def test_a_spec_without_provider_or_model_is_refused() -> None:
    with pytest.raises(ConfigError) as error:
        load_chat_model("gpt-4o-mini")
    assert str(error.value) == (
        "llm='gpt-4o-mini' is not PROVIDER:MODEL — use e.g. openai:gpt-4o-mini, "
        "ollama:llama3.2 or gguf:/path/to/model.gguf (NEWSRAG_LLM / --llm)."
    )


def test_an_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"Cannot build the chat model 'nope:x': ValueError: "):
        load_chat_model("nope:x")


def test_a_missing_integration_package_is_named() -> None:
    if importlib.util.find_spec("langchain_groq") is not None:
        pytest.skip("langchain-groq is installed here")
    with pytest.raises(ConfigError) as error:
        load_chat_model("groq:llama-3.1-8b-instant")
    assert str(error.value) == (
        "llm='groq:llama-3.1-8b-instant' needs the langchain-groq package — pip install "
        "langchain-groq (openai and ollama come with pip install 'newsrag[llm]')."
    )


def test_openai_without_a_key_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini")


def test_openai_compatible_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model("openai:qwen2.5-7b", base_url="http://127.0.0.1:8080/v1")
    assert type(model).__name__ == "ChatOpenAI"
    assert (model.model_name, model.openai_api_base) == ("qwen2.5-7b", "http://127.0.0.1:8080/v1")  # type: ignore[attr-defined]
    assert (model.max_retries, model.request_timeout) == (1, 120.0)  # type: ignore[attr-defined]


def test_ollama_uses_the_base_url() -> None:
    model = load_chat_model("ollama:llama3.2", base_url="http://127.0.0.1:11434")
    assert type(model).__name__ == "ChatOllama"
    assert (model.model, model.base_url) == ("llama3.2", "http://127.0.0.1:11434")  # type: ignore[attr-defined]


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_TOKEN", "tok3n-value-123456")
    text = "401: bad key sk-proj-abcdefghijkl for user with tok3n-value-123456"
    assert redact(text) == "401: bad key *** for user with ***"
    assert short_reason(PermissionError(text + "\nmore")) == (
        "PermissionError: 401: bad key *** for user with ***"
    )


# --- the real OpenAI client against a stub OpenAI-compatible server on loopback ---

REPLY = ["Forty workers", " shared the jackpot", " [1]."]


class StubHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StubHandler.requests.append({"path": self.path, "auth": self.headers["Authorization"]})
        StubHandler.requests[-1]["body"] = body
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, text in enumerate(REPLY):
            chunk = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": text}
                        if i == 0
                        else {"content": text},
                        "finish_reason": None,
                    }
                ],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StubHandler.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    thread.join()


def test_openai_client_streams_from_a_compatible_server(
    stub_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model("openai:local-model", base_url=stub_server)
    chunks = [c.text for c in model.stream([HumanMessage("Who shared the jackpot?")])]
    assert [c for c in chunks if c] == REPLY
    (request,) = StubHandler.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer not-needed"
    assert request["body"]["model"] == "local-model" and request["body"]["stream"] is True
    assert request["body"]["messages"] == [{"role": "user", "content": "Who shared the jackpot?"}]
