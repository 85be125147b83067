"""The chat server under load: 20 gradio_client users asking 5 questions each while another user
uploads an article, over the real model and a copy of the sample index. The latency figures go
to the end of the pytest output (tests/conftest.py ``pytest_terminal_summary``)."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from eval.qa import load_qa
from index import NewsIndex, Settings
from index.embeddings import Embedder
from tests.conftest import SAMPLE_QA, free_port
from ui import launch
from ui.app import ANSWER_CONCURRENCY

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:::gradio.queueing"),
    pytest.mark.timeout(240),
]

USERS = 20
QUESTIONS_EACH = 5
UPLOAD_AFTER = 10  # answers given before the upload starts, so it runs amid the questions
UPLOADED_ID = "kestrel-ferry-strike"
UPLOADED = "\n".join(
    [
        "---",
        f"id: {UPLOADED_ID}",
        "title: Kestrel ferry crews walk out over rosters",
        "source: Test Wire",
        "published: 2026-03-04",
        "---",
        "",
        "Ferry crews on the Kestrel Sound crossing walked out on Wednesday in a dispute over "
        "new shift rosters, leaving about 2,100 commuters to find other ways across. The "
        "union's spokeswoman, Maren Holt, said the rosters would cut rest time between "
        "sailings to nine hours.",
        "",
        "The operator said it would run a reduced timetable with agency crews from Friday. "
        "Talks at the conciliation service are planned for next week.",
    ]
)
UPLOADED_QUESTION = "How many commuters did the Kestrel Sound ferry walkout affect?"


@dataclass(frozen=True)
class Reply:
    user: int
    position: int  # the question's place in the user's conversation
    question: str
    content: str  # the assistant's chat message
    sources: str  # the Sources panel
    started: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@pytest.fixture(scope="module")
def served(
    sample_index_dir: Path, real_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, NewsIndex]]:
    """The chat app over a copy of the sample index (the upload must not touch the shared one)."""
    folder = tmp_path_factory.mktemp("load") / "idx"
    shutil.copytree(sample_index_dir, folder)
    index = NewsIndex.open(folder, settings=Settings(), embedder=real_embedder)
    demo = launch(Assistant(index), port=free_port(), prevent_thread_lock=True, quiet=True)
    assert demo.local_url
    try:
        yield demo.local_url, index
    finally:
        demo.close()


def client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, max_workers=2)


def upload(url: str, path: Path) -> tuple[Any, ...]:
    """Send ``path`` through the "Add to the index" button's event, as the page does. The app
    keeps that event out of its public API, so the browser (and this client) call it by its
    index; gradio_client refuses an endpoint marked private unless told otherwise."""
    from gradio_client import handle_file

    uploader = client(url)
    try:
        (fn_index,) = [
            i for i, e in uploader.endpoints.items() if e.dependency.get("api_name") == "add_files"
        ]
        uploader.endpoints[fn_index].is_valid = True
        return tuple(uploader.predict([handle_file(str(path))], fn_index=fn_index))
    finally:
        uploader.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def test_20_users_ask_while_an_article_is_uploaded(
    served: tuple[str, NewsIndex], tmp_path: Path, run_notes: list[str]
) -> None:
    """No errors under load: every reply is an answer citing its sources or a refusal, users in
    the same conversation get the same replies, and the article uploaded meanwhile is in both
    the vector and the keyword index afterwards."""
    url, index = served
    questions = [item.question for item in load_qa(SAMPLE_QA)]
    answered = threading.Semaphore(0)
    upload_window: list[float] = []

    def converse(user: int) -> list[Reply]:
        """One user: their own client and session, five questions in one conversation."""
        chat = client(url)
        replies = []
        try:
            for position in range(QUESTIONS_EACH):
                # users share conversations in a rotation, so each is held by two or three
                question = questions[(user * QUESTIONS_EACH + position) % len(questions)]
                started = time.monotonic()
                box, history, sources = chat.predict(message=question, history=[], api_name="/chat")
                ended = time.monotonic()
                assert box == "", question
                replies.append(
                    Reply(user, position, question, text(history[-1]), sources, started, ended)
                )
                answered.release()
        finally:
            chat.close()
        return replies

    def add_article() -> tuple[Any, ...]:
        for _ in range(UPLOAD_AFTER):
            if not answered.acquire(timeout=120):
                raise TimeoutError(f"fewer than {UPLOAD_AFTER} answers in 120 s: no upload")
        article = tmp_path / "kestrel ferry.md"
        article.write_text(UPLOADED, encoding="utf-8")
        upload_window.append(time.monotonic())
        result = upload(url, article)
        upload_window.append(time.monotonic())
        return result

    started = time.monotonic()
    with ThreadPoolExecutor(USERS + 1) as pool:
        uploading = pool.submit(add_article)
        conversations = [pool.submit(converse, user) for user in range(USERS)]
        replies = [reply for c in conversations for reply in c.result()]  # re-raises errors
        summary, *_ = uploading.result()
    wall = time.monotonic() - started

    assert len(replies) == USERS * QUESTIONS_EACH
    for reply in replies:
        assert_answer_or_refusal(reply)
    assert_same_conversation_same_answers(replies, upload_window)
    upload_start, upload_end = upload_window
    during = [r for r in replies if r.started < upload_end and r.ended > upload_start]
    assert during, "no question was being answered while the upload ran"

    assert summary.startswith("**1 added, 0 updated, 0 unchanged, 0 skipped**"), summary
    assert UPLOADED_ID in {a.id for a in index.articles()}
    for mode in ("keyword", "dense"):  # both indexes hold it: the keyword index is not stale
        hits = index.search(UPLOADED_QUESTION, 3, mode=mode)
        assert hits and hits[0].chunk.article_id == UPLOADED_ID, mode
    answer = Assistant(index).ask(UPLOADED_QUESTION)
    assert "2,100" in answer.answer and answer.citations[0].article_id == UPLOADED_ID

    seconds = [r.seconds for r in replies]
    run_notes.append(
        f"chat load: {len(replies)} answers to {USERS} gradio_client users (answering "
        f"concurrency {ANSWER_CONCURRENCY}) in {wall:.1f} s = {len(replies) / wall:.2f} answers/s; "
        f"latency p50 {statistics.median(seconds):.2f} s, p95 {percentile(seconds, 0.95):.2f} s, "
        f"max {max(seconds):.2f} s; {len(during)} answered while the upload ran "
        f"({upload_end - upload_start:.1f} s), {os.cpu_count()} CPUs"
    )


def text(message: dict[str, Any]) -> str:
    """A chat message's text, whether its content is a string or a list of text parts."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict))


def assert_answer_or_refusal(reply: Reply) -> None:
    """A non-empty answer whose every [n] is a source in the panel, or the marked refusal."""
    assert reply.content.strip(), reply
    if reply.content.startswith("*No answer found.*"):
        assert "No passages cited" in reply.sources, reply
        return
    cited = {int(n) for n in re.findall(r'href="#cite-\d+-(\d+)"', reply.content)}
    panel = {int(n) for n in re.findall(r'id="source-(\d+)"', reply.sources)}
    assert cited, reply
    assert cited == panel, reply
    assert reply.sources.count('class="source-passage"') == len(panel), reply


def assert_same_conversation_same_answers(replies: list[Reply], window: list[float]) -> None:
    """Users holding the same conversation got the same answers (both before the upload, or
    both after it: the new article may change what is retrieved): load mixes nothing up."""
    start, end = window
    groups: dict[tuple[str, ...], list[str]] = {}
    for reply in replies:
        phase = "before" if reply.ended < start else "after" if reply.started > end else ""
        if phase:
            asked = [r.question for r in replies if r.user == reply.user][: reply.position + 1]
            groups.setdefault((phase, *asked), []).append(reply.content)
    shared = [answers for answers in groups.values() if len(answers) > 1]
    assert len(shared) >= 5, groups.keys()
    for answers in shared:
        assert len(set(answers)) == 1, answers
