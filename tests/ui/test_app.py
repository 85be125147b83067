"""The chat app: its callbacks over a stand-in assistant, then the real app served over HTTP."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import dataclasses
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from assistant import Answer, Assistant, Citation, NewsIndex, NewsragError
from index.records import ArticleInfo, IndexStats
from ui import build_app, launch, render
from ui.app import ANSWER_CONCURRENCY, ChatCallbacks, upload_name

RUTTE = "What did Rutte say about a European army?"


class StubAssistant:
    """Just what the app uses of an Assistant, answering from a fixed table."""

    def __init__(self, answers: dict[str, Answer | NewsragError]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int | None]] = []
        self.histories: list[list[Any]] = []
        self.filters: list[Any] = []
        self.searches: list[dict[str, Any]] = []
        self.settings = SimpleNamespace(top_k=5, index_dir="/nowhere")
        stats = IndexStats(
            articles=2,
            chunks=5,
            embedding_model="fake:64",
            embedding_dimension=64,
            chunk_size=160,
            chunk_overlap=30,
            index="/nowhere",
            collection="newsrag",
            sources={"Gazette": 1, "Ledger": 1},
        )
        infos = [
            ArticleInfo("a", "Tram line opens", None, "2025-07-15", None, 2),
            ArticleInfo("b", "River bursts its banks", None, "2025-05-09", None, 3),
        ]
        texts = {"a": "Intro. It opened <b>today</b>. Outro."}
        self.index = SimpleNamespace(
            stats=lambda: stats,
            articles=lambda: infos,
            article=lambda article_id: SimpleNamespace(text=texts[article_id]),
        )

    def ask(self, question: str, k: int | None = None, **search: Any) -> Answer:
        self.asked.append((question, k))
        self.searches.append(search)
        result = self.answers[question]
        if isinstance(result, NewsragError):
            raise result
        return result

    def stream(
        self, question: str, filters: Any = None, history: Any = None
    ) -> Iterator[str | Answer]:
        """The answer in two pieces, then the Answer (as an LLM would stream it)."""
        self.histories.append(list(history or []))
        self.filters.append(filters)
        answer = self.ask(question)
        middle = len(answer.answer) // 2
        yield answer.answer[:middle]
        yield answer.answer[middle:]
        yield answer


TRAM = Answer(
    "When did the tram open?",
    "It opened <b>today</b>. [1]",
    False,
    (
        Citation(
            1,
            "a",
            "Tram <i>line</i> opens",
            "Gazette",
            "2025-07-15",
            "https://gazette.example/tram",
            "It opened <b>today</b>.",
            7,
            30,
        ),
    ),
)
REFUSED = Answer("Who won the lottery?", "I could not find an answer.", True)


def endpoint(demo: gr.Blocks, api_name: str) -> Callable[..., Any]:
    return next(f.fn for f in demo.fns.values() if f.api_name == api_name)


def handler(demo: gr.Blocks, name: str) -> Callable[..., Any]:
    """The page's event handler called ``name`` (a ChatCallbacks method)."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == name)


@pytest.fixture
def stub() -> StubAssistant:
    return StubAssistant(
        {
            TRAM.question: TRAM,
            REFUSED.question: REFUSED,
            "Broken?": NewsragError("No index at ./idx — run 'newsrag ingest PATH' first."),
        }
    )


def last(updates: Iterator[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The final update a streaming callback yields."""
    *_, final = updates
    return final


def test_chat_appends_escaped_turn_and_sources(stub: StubAssistant) -> None:
    chat = handler(build_app(stub), "chat")
    earlier = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    box, history, sources, turns, cited, notice, passage = last(
        chat("  When did the tram open? ", earlier, [], [])
    )
    assert notice == "" and passage == render.PASSAGE_PLACEHOLDER
    assert box == ""
    assert history[:-1] == [*earlier, {"role": "user", "content": "When did the tram open?"}]
    reply = history[-1]["content"]
    assert reply.startswith(
        'It opened &lt;b&gt;today&lt;/b&gt;. <a href="#cite-0-1" class="newsrag-cite">[1]</a>'
    )
    assert "Sources: " in reply and "Tram &lt;i&gt;line&lt;/i&gt; opens — Gazette" in reply
    passage = TRAM.citations[0].passage  # the answer quotes all of it
    assert cited == [
        {"citations": [TRAM.citations[0].to_dict()], "quoted": {1: [(0, len(passage))]}}
    ]
    assert "Tram &lt;i&gt;line&lt;/i&gt; opens</a>" in sources
    assert stub.asked == [("When did the tram open?", None)]
    assert turns == [
        {
            "question": "When did the tram open?",
            "answer": TRAM.answer,
            "resolved_question": "When did the tram open?",
        }
    ]


def test_chat_streams_and_passes_the_tabs_turns_as_history(stub: StubAssistant) -> None:
    chat = handler(build_app(stub), "chat")
    updates = list(chat("When did the tram open?", [], [], []))
    assert len(updates) == 3  # two streamed pieces, then the answer with its sources
    first_box, first_history, first_sources, first_turns, *_ = updates[0]
    assert first_box == ""
    assert first_history[-1]["content"] == "It opened &lt;b&gt; \u258c"  # escaped while streaming
    assert first_sources == gr.skip() and first_turns == []
    _, history, _, turns, cited, _, _ = updates[-1]
    cited = last(chat("Who won the lottery?", history, turns, cited))[4]
    assert stub.histories == [[], turns]
    assert len(cited) == 2  # the second answer's links point at turn 1


def test_filters_apply_and_show_in_the_answer(stub: StubAssistant) -> None:
    chat = handler(build_app(stub), "chat")
    _, history, *_ = last(chat("When did the tram open?", [], [], [], ["Gazette"], "2025-07-01"))
    assert stub.filters[-1].sources == ("Gazette",)
    assert str(stub.filters[-1].since) == "2025-07-01"
    assert history[-1]["content"].startswith("*Filters: source: Gazette · since 2025-07-01*")


def test_a_bad_date_is_a_notice_under_the_box_and_keeps_the_conversation(
    stub: StubAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    chat = handler(build_app(stub), "chat")
    earlier = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    turns = [{"question": "hi", "answer": "hello", "resolved_question": "hi"}]
    with caplog.at_level("WARNING", logger="newsrag.ui"):
        updates = list(chat("When did the tram open?", earlier, turns, [], [], "2025-13-01"))
    assert len(updates) == 1
    box, history, sources, kept_turns, cited, notice, passage = updates[0]
    assert box == "When did the tram open?"  # kept, to fix the date and send again
    assert history == earlier and kept_turns == turns and cited == []
    assert sources == gr.skip() and passage == gr.skip()
    assert notice == (
        "\u26a0\ufe0f since &#x27;2025-13-01&#x27; is not a date — write it as YYYY-MM-DD, "
        "e.g. 2026-01-14."
    )
    assert [r.getMessage() for r in caplog.records] == [
        "chat: since '2025-13-01' is not a date — write it as YYYY-MM-DD, e.g. 2026-01-14."
    ]
    assert all(r.exc_info is None for r in caplog.records)  # one line, no traceback
    assert stub.asked == []


def test_clicking_a_marker_opens_the_passage_in_its_article(stub: StubAssistant) -> None:
    demo = build_app(stub)
    cited = last(handler(demo, "chat")("When did the tram open?", [], [], []))[4]
    show = handler(demo, "show_passage")
    html = show(cited, gr.EventData(None, {"turn": 0, "n": 1}))
    assert (  # the sentence the answer quotes is in bold inside the highlighted passage
        '<mark class="cited"><strong class="quoted">It opened &lt;b&gt;today&lt;/b&gt;.'
        "</strong></mark>"
    ) in html
    assert html.index("Intro.") < html.index("<mark") < html.index("Outro.")
    assert 'href="https://gazette.example/tram"' in html
    assert "Click a [n]" in show(cited, gr.EventData(None, {"turn": 5, "n": 1}))


def test_chat_marks_refusals_and_ignores_blank_messages(stub: StubAssistant) -> None:
    chat = handler(build_app(stub), "chat")
    _, history, sources, *_ = last(chat("Who won the lottery?", [], [], []))
    assert history[-1]["content"] == "*No answer found.* I could not find an answer."
    assert "No passages cited" in sources
    assert last(chat("   ", history, [], [])) == ("   ", history, gr.skip(), [], [], "", gr.skip())
    assert len(stub.asked) == 1


def test_library_errors_become_gradio_errors(stub: StubAssistant) -> None:
    demo = build_app(stub)
    with pytest.raises(
        gr.Error, match=re.escape("No index at ./idx — run 'newsrag ingest PATH' first.")
    ):
        endpoint(demo, "chat")("Broken?", [])
    notice = last(handler(demo, "chat")("Broken?", [], [], []))[5]
    assert notice.endswith("No index at ./idx — run &#x27;newsrag ingest PATH&#x27; first.")
    with pytest.raises(
        gr.Error, match=re.escape("The question is empty — type a question about the news.")
    ):
        endpoint(demo, "ask")(" ")
    with pytest.raises(gr.Error, match=re.escape("k=0 is not a number of passages — use 1 to 50.")):
        endpoint(demo, "ask")("When did the tram open?", 0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 2.5}, "k=2.5 is not a whole number of passages — send 1 to 50."),
        ({"k": "3"}, "k='3' is not a whole number of passages — send 1 to 50."),
        ({"k": True}, "k=True is not a whole number of passages — send 1 to 50."),
        ({"k": 51}, "k=51 is not a number of passages — use 1 to 50."),
        (
            {"mode": "fuzzy"},
            "mode='fuzzy' is not a search mode — use one of hybrid, dense, keyword.",
        ),
        ({"since": "2026-02-30"}, "since '2026-02-30' is not a date — write it as YYYY-MM-DD"),
        ({"until": 20260101}, "until=20260101 is not a date — write it as YYYY-MM-DD."),
        ({"sources": [1, 2]}, "sources=[1, 2] is not a list of source names."),
        (
            {"since": "2026-03-01", "until": "2026-01-01"},
            "since=2026-03-01 is after until=2026-01-01",
        ),
    ],
)
def test_api_arguments_are_checked_with_a_clear_message(
    stub: StubAssistant, arguments: dict[str, Any], message: str
) -> None:
    """/ask with k=2.5 once answered "slice indices must be integers"."""
    with pytest.raises(gr.Error, match=re.escape(message)):
        endpoint(build_app(stub), "ask")(TRAM.question, **arguments)
    assert stub.asked == []


def test_api_arguments_in_range_are_passed_on(stub: StubAssistant) -> None:
    ask = endpoint(build_app(stub), "ask")
    ask(TRAM.question, 3.0, "keyword", ["Gazette"], "2025-07-01", "")
    assert stub.asked == [(TRAM.question, 3)]
    search = stub.searches[0]
    assert search["mode"] == "keyword" and search["filters"].sources == ("Gazette",)
    assert str(search["filters"].since) == "2025-07-01" and search["filters"].until is None
    with pytest.raises(gr.Error, match=re.escape("until '2026-13-45' is not a date")):
        endpoint(build_app(stub), "chat")(TRAM.question, [], [], "", "2026-13-45")


def test_ask_endpoint_returns_answer_dict(stub: StubAssistant) -> None:
    ask = endpoint(build_app(stub), "ask")
    assert ask(TRAM.question) == TRAM.to_dict()
    assert ask(TRAM.question, 2) == TRAM.to_dict()
    assert stub.asked == [(TRAM.question, 5), (TRAM.question, 2)]


def test_answers_run_side_by_side_and_writes_one_at_a_time(stub: StubAssistant) -> None:
    """Every answering event carries the limit: Gradio keeps a concurrency group's lowest, so
    one left at the default (1) would serialise all answering once it was first called."""
    demo = build_app(stub)
    limits = {
        (f.api_name, getattr(f.fn, "__name__", None)): (f.concurrency_id, f.concurrency_limit)
        for f in demo.fns.values()
    }
    by_name = {name: limit for (_, name), limit in limits.items()}
    assert ANSWER_CONCURRENCY > 1
    assert limits["chat", "chat_api"] == limits["ask", "ask"] == limits["chat_page", "chat"]
    assert by_name["chat"] == ("assistant", ANSWER_CONCURRENCY)
    assert by_name["add_files"] == by_name["delete_article"] == ("writes", 1)


def test_examples_default_to_newest_titles_or_callers_list(stub: StubAssistant) -> None:
    def examples(demo: gr.Blocks) -> list[str]:
        return [
            row[0]
            for b in demo.blocks.values()
            if isinstance(b, gr.Dataset)
            for row in b.raw_samples
        ]

    assert examples(build_app(stub)) == [
        "What happened: Tram line opens?",
        "What happened: River bursts its banks?",
    ]
    assert examples(build_app(stub, ["Q1?"])) == ["Q1?"]
    assert examples(build_app(stub, [])) == []


# --- the real thing: bundled model, real Chroma index, app served on a loopback port ----------
# (Gradio's queue sets pandas options that pandas 3 deprecates: those warnings are filtered.)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(sample_index: NewsIndex) -> Iterator[str]:
    """The app over the sample corpus (conftest's session index, built once with the real model
    from ``sample_corpus/``), served on a free loopback port."""
    demo = launch(Assistant(sample_index), port=free_port(), prevent_thread_lock=True, quiet=True)
    assert demo.local_url
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(served: str) -> Any:
    from gradio_client import Client

    return Client(served, verbose=False)


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:::gradio.queueing")
def test_ask_api_returns_cited_answer(client: Any) -> None:
    result = client.predict(question=RUTTE, api_name="/ask")
    assert isinstance(result, dict)
    assert list(result)[:4] == ["question", "answer", "refused", "citations"]  # the contract
    assert set(result) == {
        "question",
        "answer",
        "refused",
        "citations",
        "related",
        "notices",
        "unsupported",
        "answerer",
        "resolved_question",
        "choice",
    }
    assert result["choice"] is None  # no options were given
    assert result["question"] == RUTTE
    assert result["refused"] is False
    assert "[1]" in result["answer"]
    numbers = {c["n"] for c in result["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])} <= numbers
    assert any("command structures" in c["passage"] for c in result["citations"])


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:::gradio.queueing")
def test_ask_api_takes_k(client: Any) -> None:
    result = client.predict(question=RUTTE, k=1, api_name="/ask")
    assert [c["n"] for c in result["citations"]] == [1]


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:::gradio.queueing")
def test_chat_api_returns_history_with_citations(client: Any) -> None:
    box, history, sources = client.predict(message=RUTTE, history=[], api_name="/chat")
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "[1]" in _text(history[1])
    assert "command structures" in sources and 'class="source-passage"' in sources


def _text(message: dict[str, Any]) -> str:
    """A chat message's text, whether its content is a string or a list of text parts."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict))


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("<img src=x onerror=alert(1)>.md", "_img src_x onerror_alert_1_.md"),
        ("  .hidden.json", "hidden.json"),
        ("Zoë's notes 2026.md", "Zoë_s notes 2026.md"),
        ("..", "upload"),
    ],
)
def test_upload_names_stay_inside_the_upload_folder(name: str, stored: str) -> None:
    assert upload_name(name) == stored
    assert "/" not in upload_name(name) and "\\" not in upload_name(name)


def test_upload_and_delete_through_the_articles_tab(fake_index: NewsIndex, tmp_path: Path) -> None:
    demo = build_app(Assistant(fake_index))
    add = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "add_files")
    delete = next(
        f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "delete_article"
    )
    good = tmp_path / "../tram line.md"
    good.write_text("---\ntitle: Tram line opens\n---\n\nThe tram line opened today.\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    summary, stats_md, rows, _, header, cleared = add(
        [str(good), str(empty)], progress=lambda *a, **k: None
    )
    assert summary.startswith("**1 added, 0 updated, 0 unchanged, 1 skipped**")
    assert "empty.txt" in summary and str(fake_index.settings.index_dir) not in summary
    assert len(list((fake_index.settings.index_dir / "uploads").glob("*/tram line.md"))) == 1
    assert [r[3] for r in rows] == ["Tram line opens"] and "**1** article" in stats_md
    assert "1 article" in header and cleared is None
    again, *_ = add([str(good)], progress=lambda *a, **k: None)
    assert again.startswith("**0 added, 0 updated, 1 unchanged, 0 skipped**")
    asked = handler(demo, "ask_to_delete")(rows[0][0])
    assert asked[0] == gr.update(visible=False) and asked[1] == gr.update(visible=True)
    assert asked[3].startswith(f"Delete `{rows[0][0]}` and all its passages from the index?")
    assert len(Assistant(fake_index).index.articles()) == 1  # asking deleted nothing
    note, _, rows, _, _, delete_button, confirm, cancel = delete(rows[0][0])
    assert note.startswith("Deleted `") and rows == []
    assert delete_button == gr.update(visible=True) and confirm == cancel == gr.update(
        visible=False
    )
    with pytest.raises(gr.Error, match="No article chosen"):
        delete("  ")
    with pytest.raises(gr.Error, match="No article chosen"):
        handler(demo, "ask_to_delete")("")
    with pytest.raises(gr.Error, match="No files chosen"):
        add(None, progress=lambda *a, **k: None)


@pytest.mark.filterwarnings("ignore:::gradio.queueing")
def test_behind_a_login_the_page_serves_nothing_of_the_index(
    fake_index: NewsIndex, tiny_corpus: list[Any]
) -> None:
    """Before login, neither the page, its config nor its API info names a source, an article
    or an example question; after login the page fills them in."""
    import httpx

    fake_index.ingest_articles(
        [dataclasses.replace(a, source="Quayside Courier Secret") for a in tiny_corpus]
    )
    title = tiny_corpus[0].title
    demo = launch(
        Assistant(fake_index),
        port=free_port(),
        auth=[("ann", "pw-1")],
        prevent_thread_lock=True,
        quiet=True,
    )
    try:
        url = demo.local_url.rstrip("/")
        with httpx.Client() as anonymous:
            seen = [anonymous.get(f"{url}{path}").text for path in ("/", "/config", "/info")]
            seen.append(anonymous.get(f"{url}/gradio_api/info").text)
        for text in seen:
            assert "Quayside Courier Secret" not in text and title not in text
            assert "What happened:" not in text
        with httpx.Client() as user:
            login = user.post(f"{url}/login", data={"username": "ann", "password": "pw-1"})
            assert login.status_code == 200
            config = user.get(f"{url}/config").json()
        loads = [d for d in config["dependencies"] if [t[1] for t in d["targets"]] == ["load"]]
        assert len(loads) == 1  # the index's names arrive once the page opens, logged in
        opened = ChatCallbacks(Assistant(fake_index)).opened()
        assert opened[2]["choices"] == ["Quayside Courier Secret"]
        assert any(title == row[3] for row in opened[1])
        assert opened[4]["samples"][0][0].startswith("What happened:")
    finally:
        demo.close()


def test_the_page_mounts_in_a_fastapi_app(stub: StubAssistant) -> None:
    """What the HTTP API does with it: ``gr.mount_gradio_app`` of the unlaunched page."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = gr.mount_gradio_app(
        FastAPI(), build_app(stub, private=True), path="/chat", auth=[("ann", "pw-1")]
    )
    with TestClient(app) as client:
        page = client.get("/chat/")
        assert page.status_code == 200 and "Gazette" not in page.text
        assert client.post("/chat/login", data={"username": "ann", "password": "pw-1"}).is_success
        config = client.get("/chat/config").json()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert {"opened", "chat_page", "ask", "chat"} <= names
