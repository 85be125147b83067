"""The HTTP API of `newsrag serve` with real clients: OpenAI's Python client, LangChain's
ChatOpenAI in a chain, and httpx on the REST routes, over the real model and sample index."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import RUTTE_QUESTION
from tests.ui.conftest import API_KEY, ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RUTTE_ID = "harbour-ledger-2026-01-14-rutte-nato"
ASK_KEYS = {"n", "article_id", "title", "source", "published", "url", "passage", "start", "end"}
ASK_KEYS |= {"quoted"}


@pytest.fixture
def client(api_server: ApiServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{api_server.url}/v1", api_key=API_KEY, max_retries=0)


def test_openai_client_asks_and_gets_citations(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="newsrag",
        messages=[{"role": "user", "content": RUTTE_QUESTION}],
        temperature=0.2,  # ignored, as OpenAI clients expect of a server that has no use for it
    )
    text = reply.choices[0].message.content or ""
    assert "[1]" in text and "Rutte" in text
    assert reply.choices[0].finish_reason == "stop"
    citations = (reply.model_extra or {})["citations"]
    assert citations and set(citations[0]) == ASK_KEYS
    assert citations[0]["article_id"] == RUTTE_ID
    assert (reply.model_extra or {})["newsrag"]["citations"] == citations


def test_openai_client_streams_the_answer(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": RUTTE_QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "[1]" in text and "Rutte" in text
    last = chunks[-1].model_extra or {}
    assert last["citations"][0]["article_id"] == RUTTE_ID
    assert last["newsrag"]["answer"] == text


def test_openai_client_follow_up_reads_the_history(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": RUTTE_QUESTION}]
    )
    reply = client.chat.completions.create(
        model="newsrag",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": RUTTE_QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content or ""},
            {"role": "user", "content": "What about the Arctic?"},
        ],
    )
    newsrag = (reply.model_extra or {})["newsrag"]
    assert newsrag["resolved_question"] == "What did Rutte say about the Arctic?"
    assert "Arctic" in (reply.choices[0].message.content or "")


def test_openai_client_gets_openai_errors(client: openai.OpenAI, api_server: ApiServer) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="newsrag", messages=[{"role": "assistant", "content": "Hello"}]
        )
    assert bad.value.status_code == 400
    assert bad.value.param == "messages"
    assert isinstance(bad.value.body, dict)
    assert str(bad.value.body["message"]).startswith("The last message must be the user's question")
    with pytest.raises(openai.BadRequestError) as bad_k:
        client.chat.completions.create(
            model="newsrag",
            messages=[{"role": "user", "content": RUTTE_QUESTION}],
            extra_body={"k": 2.5},
        )
    assert bad_k.value.param == "k"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": RUTTE_QUESTION}]
        )
    assert unknown.value.code == "model_not_found"
    wrong = openai.OpenAI(
        base_url=f"{api_server.url}/v1", api_key="sk-wrong-key-000", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as denied:
        wrong.models.list()
    assert denied.value.code == "invalid_api_key"


def test_openai_client_lists_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["newsrag"]


def test_langchain_chat_openai_in_a_two_step_chain(api_server: ApiServer) -> None:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model="newsrag", base_url=f"{api_server.url}/v1", api_key=API_KEY, max_retries=0
    )
    question = ChatPromptTemplate.from_messages([("user", "What did {person} say about {topic}?")])
    chain = (
        question
        | model
        | StrOutputParser()
        | RunnableLambda(lambda answer: {"cited": "[1]" in answer, "answer": answer})
    )
    result = chain.invoke({"person": "Rutte", "topic": "a European army"})
    assert result["cited"] and "Rutte" in result["answer"]


def test_rest_ask_and_search_speak_the_clis_json(api: httpx.Client) -> None:
    answer = api.post("/api/ask", json={"question": RUTTE_QUESTION, "k": 3}).json()
    assert not answer["refused"] and answer["citations"][0]["article_id"] == RUTTE_ID
    assert answer["answerer"] == "extractive"
    hits = api.post(
        "/api/search", json={"query": "European army Rutte", "k": 3, "mode": "keyword"}
    ).json()
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert RUTTE_ID in {h["article_id"] for h in hits}
    filtered = api.post(
        "/api/search", json={"query": "European army", "source": ["No Such Paper"]}
    ).json()
    assert filtered == []


def test_rest_validates_every_argument(api: httpx.Client) -> None:
    cases = [
        ({"question": RUTTE_QUESTION, "k": 2.5}, "k"),
        ({"question": RUTTE_QUESTION, "k": 51}, "k"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "   "}, "question"),
        ({"question": RUTTE_QUESTION, "since": "2026-13-45"}, "since"),
        ({"question": RUTTE_QUESTION, "since": "2026-02-01", "until": "2026-01-01"}, None),
        ({"question": RUTTE_QUESTION, "mode": "fuzzy"}, "mode"),
        ({"qestion": RUTTE_QUESTION}, "question"),
    ]
    for body, param in cases:
        response = api.post("/api/ask", json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["param"] == param, (body, error)
    since = api.post("/api/ask", json={"question": RUTTE_QUESTION, "since": "2026-13-45"})
    assert "since" in since.json()["error"]["message"]


def test_rest_needs_the_key(api_server: ApiServer) -> None:
    response = httpx.post(f"{api_server.url}/api/ask", json={"question": RUTTE_QUESTION})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(f"{api_server.url}/healthz").json() == {"status": "ok"}


def test_rest_upload_keeps_same_named_files_and_deletes(api: httpx.Client, tmp_path: Path) -> None:
    texts = [
        "Ferry strike\n\nFerry crews on the Kestrel Sound crossing walked out over rosters.\n",
        "Tram fares frozen\n\nThe council froze tram fares for another year on Monday.\n",
    ]
    ids = []
    for text in texts:
        response = api.post("/api/articles", files={"files": ("notes.txt", text.encode())})
        assert response.status_code == 200, response.text
        ids += response.json()["added_ids"]
    listed = {a["id"]: a["title"] for a in api.get("/api/articles").json()}
    assert listed[ids[0]] == "Ferry strike" and listed[ids[1]] == "Tram fares frozen"
    assert api.get("/api/stats").json()["articles"] == len(listed)
    for article_id in ids:
        assert api.delete(f"/api/articles/{article_id}").json() == {"deleted": article_id}
    missing = api.delete(f"/api/articles/{ids[0]}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "article_not_found"


def test_rest_upload_limits(api: httpx.Client) -> None:
    many = [("files", (f"{n}.txt", b"Title\n\nBody text.\n")) for n in range(21)]
    response = api.post("/api/articles", files=many)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "21 files in one upload; the limit is 20 — send them in smaller batches."
    )
    big = b"Title\n\n" + b"word " * 2_100_000  # 10.5 MB
    response = api.post("/api/articles", files={"files": ("big.txt", big)})
    assert response.status_code == 200
    problem = response.json()["problems"][0]
    assert (
        problem["where"] == "big.txt"
        and "larger than the upload limit of 10 MB" in (problem["reason"])
    )
    huge = api.post("/api/ask", content=b"{" + b" " * 1_100_000 + b"}")
    assert huge.status_code == 413
    assert huge.json()["error"]["message"] == (
        "The request is too large (over 1 MB) — send fewer or smaller files, or a shorter body."
    )


def test_docs_and_openapi_are_served_without_a_cdn(api_server: ApiServer) -> None:
    schema = httpx.get(f"{api_server.url}/openapi.json").json()
    assert {"/api/ask", "/api/search", "/v1/chat/completions", "/healthz"} <= set(schema["paths"])
    page = httpx.get(f"{api_server.url}/docs").text
    assert "cdn." not in page and "https://" not in page
    assert httpx.get(f"{api_server.url}/docs-static/swagger-ui-bundle.js").status_code == 200


def test_the_page_is_served_on_the_same_port(api_server: ApiServer) -> None:
    page = httpx.get(f"{api_server.url}/")
    assert page.status_code == 200 and "gradio" in page.text.lower()


def test_keys_are_masked_in_the_log_and_the_lock_owner_file(
    api_server: ApiServer, api: httpx.Client, api_index: Path
) -> None:
    httpx.get(f"{api_server.url}/healthz", params={"token": API_KEY})
    note = b"Quay lights\n\nThe harbour board replaced the quay lights on Friday.\n"
    assert api.post("/api/articles", files={"files": ("quay.txt", note)}).status_code == 200
    # the write lock's owner file (masked while held: tests/index/test_redact.py) is gone after
    assert not (api_index / "newsrag-write.owner.json").exists()
    log = api_server.log()
    assert "/healthz?token=sk-n…" in log and "API keys: sk-n…" in log
    assert API_KEY not in log
    assert f"Uvicorn running on http://127.0.0.1:{api_server.port}" in log


def test_docs_page_renders_in_chromium_from_the_server_alone(api_server: ApiServer) -> None:
    """/docs in a real browser: Swagger UI renders the schema, and every request the page makes
    goes to the server itself (FastAPI's default page would fetch Swagger UI from a CDN)."""
    from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make setup does).")
    requested: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{api_server.url}/docs")
        page.get_by_text("/api/ask", exact=True).first.wait_for(timeout=60_000)
        title = page.locator(".swagger-ui .info .title").inner_text()
        browser.close()
    assert title.startswith("newsrag")
    assert requested and all(url.startswith(api_server.url) for url in requested), requested
    assert f"{api_server.url}/openapi.json" in requested
