"""The chat in a real browser: Debian's chromium driven by Playwright against `newsrag chat`.

Each step saves a screenshot under the folder printed at the end of the run (default
``.newsrag/screenshots``; set NEWSRAG_SCREENSHOTS to change it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RUTTE_QUESTION, free_port
from tests.index.local_site import LocalSite, article_html

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("NEWSRAG_SCREENSHOTS", ".newsrag/screenshots")).absolute()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 60_000
# an article whose title, source, URL and text carry script, event handlers and javascript: links
HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile" / "markup.md"
TITLE = "Harbour <script>window.__pwned = 'title'</script> council"
# anything the hostile article could have planted in the page
PLANTED = "[onerror], [onload], [onmouseover], iframe, a[href^='javascript'], img[src*='pwned']"
UPLOADED = "\n".join(
    [
        "---",
        "title: Glassworks museum opens in Wrenford",
        "source: Test Wire",
        "published: 2026-03-02",
        "---",
        "",
        "A museum of glassmaking opened in Wrenford on Monday in the restored Kiln Street "
        "glassworks. The curator, Ada Merrow, said the collection holds about 3,400 pieces of "
        "local glass. Visitors can watch glassblowers at work every Saturday.",
    ]
)

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is part of the test extra"
)


@pytest.fixture(scope="module")
def server(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newsrag chat` on a free loopback port over a copy of the sample index."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make setup does).")
    index = tmp_path_factory.mktemp("browser") / "idx"
    shutil.copytree(sample_index_dir, index)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    exe = shutil.which("newsrag", path=str(Path(sys.executable).parent))
    assert exe, "the newsrag script is not installed next to this Python"
    command = [exe, "chat", "--index", str(index)]
    command += ["--port", str(port), "--example", RUTTE_QUESTION]
    command += ["--allow-private"]  # test 10 adds a page from a server on 127.0.0.1
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"newsrag chat did not start in 90 s:\n{out}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server)
        page.wait_for_selector("#newsrag-question textarea")
        page.dialogs = dialogs  # type: ignore[attr-defined]
        yield page
        browser.close()


BOT = "#newsrag-chat [data-testid='bot']"
# The last answer is complete: present, not loading, not streaming (no cursor).
ANSWER_DONE = """n => {
  const bots = document.querySelectorAll("#newsrag-chat [data-testid='bot']");
  if (bots.length <= n) return false;
  const text = bots[bots.length - 1].innerText;
  return text.length > 0 && !text.includes('Loading') && !text.includes('\\u258c');
}"""


def ask(page: object, question: str) -> object:
    """Type ``question``, send it, and wait for the answer to finish; returns the last reply."""
    box = page.locator("#newsrag-question textarea")  # type: ignore[attr-defined]
    replies = page.locator(BOT)  # type: ignore[attr-defined]
    before = replies.count()
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(ANSWER_DONE, arg=before)  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    return replies.last


def shot(page: object, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def test_1_ask_the_example_question(page: object) -> None:
    page.get_by_text(RUTTE_QUESTION).first.click()  # type: ignore[attr-defined]  # the example
    box = page.locator("#newsrag-question textarea")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "q => document.querySelector('#newsrag-question textarea').value === q", arg=RUTTE_QUESTION
    )
    assert box.input_value() == RUTTE_QUESTION
    ask(page, RUTTE_QUESTION)
    page.wait_for_selector("#newsrag-chat a[href^='#cite-']")  # type: ignore[attr-defined]
    chat = page.locator("#newsrag-chat").inner_text()  # type: ignore[attr-defined]
    assert "[1]" in chat and "According to The Harbour Ledger" in chat
    assert "command structures" in chat
    shot(page, "1-answer")


def test_2_clicking_a_marker_opens_the_passage(page: object) -> None:
    page.locator("#newsrag-chat a[href^='#cite-']").first.click()  # type: ignore[attr-defined]
    mark = page.locator("#newsrag-passage mark.cited")  # type: ignore[attr-defined]
    mark.wait_for()
    panel = page.locator("#newsrag-passage").inner_text()  # type: ignore[attr-defined]
    assert "Rutte tells MEPs" in panel and "The Harbour Ledger" in panel
    assert mark.inner_text() in panel
    quoted = page.locator("#newsrag-passage mark.cited strong.quoted")  # type: ignore[attr-defined]
    chat = page.locator("#newsrag-chat").inner_text()  # type: ignore[attr-defined]
    assert quoted.count() >= 1
    for i in range(quoted.count()):  # each bold sentence is one the answer quotes
        assert " ".join(quoted.nth(i).inner_text().split()) in " ".join(chat.split())
    link = page.locator("#newsrag-passage a[target=_blank]")  # type: ignore[attr-defined]
    assert link.get_attribute("href").startswith("https://harbourledger.example/")
    shot(page, "2-chat-with-source-panel")
    # a short box, so that a quote is in view only if the panel scrolls to it
    page.add_style_tag(content="#newsrag-passage .passage-text { max-height: 90px !important }")  # type: ignore[attr-defined]
    for i in range(page.locator("#newsrag-chat a[href^='#cite-']").count()):  # type: ignore[attr-defined]
        page.locator("#newsrag-chat a[href^='#cite-']").nth(i).click()  # type: ignore[attr-defined]
        page.wait_for_function(QUOTE_IN_VIEW_JS)  # type: ignore[attr-defined]


# The first bold sentence of the opened passage starts inside its scrolling box's visible part.
QUOTE_IN_VIEW_JS = """
() => {
  const box = document.querySelector('#newsrag-passage .passage-text');
  const quote = box && box.querySelector('strong.quoted');
  if (!quote) return false;
  const b = box.getBoundingClientRect(), q = quote.getBoundingClientRect();
  return q.top >= b.top && q.top + 10 <= b.bottom;
}
"""


def test_3_upload_a_file_and_ask_about_it(page: object, tmp_path: Path) -> None:
    article = tmp_path / "glassworks museum.md"
    article.write_text(UPLOADED, encoding="utf-8")
    page.get_by_role("tab", name="Your articles").click()  # type: ignore[attr-defined]
    page.locator("#newsrag-upload input[type=file]").set_input_files(str(article))  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    page.locator("#newsrag-add").click()  # type: ignore[attr-defined]
    summary = page.locator("#newsrag-upload-summary")  # type: ignore[attr-defined]
    summary.get_by_text("1 added").wait_for()
    assert "0 skipped" in summary.inner_text()
    table = page.locator("#newsrag-articles").inner_text()  # type: ignore[attr-defined]
    assert "Glassworks museum opens in Wrenford" in table
    shot(page, "3-upload-summary")
    page.get_by_role("tab", name="Chat").click()  # type: ignore[attr-defined]
    reply = ask(page, "How many pieces of glass does the Wrenford museum hold?")
    assert "3,400" in reply.inner_text()  # type: ignore[attr-defined]
    shot(page, "4-answer-from-upload")


def test_4_a_date_filter_applies_to_the_next_questions(page: object) -> None:
    page.locator("#newsrag-filters").get_by_text("Filters").first.click()  # type: ignore[attr-defined]
    until = page.locator("#newsrag-until textarea, #newsrag-until input").first  # type: ignore[attr-defined]
    until.fill("2025-12-31")
    # leave the box as a person would (the value reaches Gradio's state on its events; a
    # question sent within the same instant on a loaded machine was once asked without it)
    until.press("Tab")
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    reply = ask(page, RUTTE_QUESTION)
    text = reply.inner_text()  # type: ignore[attr-defined]
    assert "Filters:" in text and "2025-12-31" in text
    assert "14 Jan 2026" not in text  # the Rutte article is newer than the filter allows
    shot(page, "5-date-filter")
    page.locator("#newsrag-until textarea, #newsrag-until input").first.fill("")  # type: ignore[attr-defined]


def test_5_hostile_article_text_stays_inert(page: object, tmp_path: Path) -> None:
    article = tmp_path / "<img src=x onerror=alert(1)>.md"
    shutil.copyfile(HOSTILE, article)
    page.get_by_role("tab", name="Your articles").click()  # type: ignore[attr-defined]
    page.locator("#newsrag-upload input[type=file]").set_input_files(str(article))  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    page.locator("#newsrag-add").click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('#newsrag-articles').innerText.includes('__pwned')"
    )
    table = page.locator("#newsrag-articles").inner_text()  # type: ignore[attr-defined]
    assert TITLE in table  # as text
    page.get_by_role("tab", name="Chat").click()  # type: ignore[attr-defined]
    reply = ask(page, "What did Petra Lund say about the Saltmarsh ferry pier?")
    assert "2027" in reply.inner_text()  # type: ignore[attr-defined]
    page.locator("#newsrag-chat a[href^='#cite-']").last.click()  # type: ignore[attr-defined]
    page.locator("#newsrag-passage mark.cited").wait_for()  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    assert "<script>" in page.locator("#newsrag-passage").inner_text()  # type: ignore[attr-defined]
    sources = page.locator("#newsrag-sources").inner_text()  # type: ignore[attr-defined]
    assert TITLE in sources and "<script>window.__pwned = 'text'</script>" in sources
    assert page.locator(PLANTED).count() == 0  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__pwned === undefined")  # type: ignore[attr-defined]
    assert page.locator("#newsrag-passage script, #newsrag-passage img").count() == 0  # type: ignore[attr-defined]
    assert page.locator("#newsrag-passage a[href^='javascript']").count() == 0  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
    shot(page, "6-hostile-text-inert")


def test_6_each_tab_has_its_own_conversation(page: object, server: str) -> None:
    ask(page, RUTTE_QUESTION)
    first = ask(page, "What about the Arctic?")
    assert "Searched for: What did Rutte say about the Arctic?" in first.inner_text()  # type: ignore[attr-defined]
    other = page.context.browser.new_context().new_page()  # type: ignore[attr-defined]
    try:
        other.set_default_timeout(TIMEOUT_MS)
        other.goto(server)
        other.wait_for_selector("#newsrag-question textarea")
        assert other.locator(BOT).count() == 0  # the first tab's chat is not here
        reply = ask(other, "What about the Arctic?")
        assert "Searched for" not in reply.inner_text()  # no history to resolve against
        shot(other, "7-second-tab")
    finally:
        other.context.close()


def test_7_questions_are_answered_while_a_large_upload_runs(
    page: object, server: str, tmp_path: Path
) -> None:
    big = tmp_path / "wire-archive.jsonl"
    body = " ".join(
        f"Sentence {i} of a long wire report about regional transport." for i in range(60)
    )
    big.write_text(
        "\n".join(
            json.dumps({"id": f"wire-{n}", "title": f"Wire report {n}", "text": body})
            for n in range(120)
        ),
        encoding="utf-8",
    )
    uploader = page.context.browser.new_context().new_page()  # type: ignore[attr-defined]
    try:
        uploader.set_default_timeout(180_000)
        uploader.goto(server)
        uploader.get_by_role("tab", name="Your articles").click()
        uploader.locator("#newsrag-upload input[type=file]").set_input_files(str(big))
        uploader.wait_for_timeout(1000)
        uploader.locator("#newsrag-add").click()
        uploader.wait_for_timeout(1500)  # the upload is embedding now
        started = time.monotonic()
        reply = ask(page, "Who scored Port Calder's late winner against Redmere United?")
        answered = time.monotonic() - started
        assert "Okafor" in reply.inner_text()  # type: ignore[attr-defined]
        summary = uploader.locator("#newsrag-upload-summary")
        still_uploading = "120 added" not in summary.inner_text()
        summary.get_by_text("120 added").wait_for()
        print(f"answered in {answered:.1f} s while the upload ran: {still_uploading}")
        assert still_uploading, "the upload finished before the question was answered"
    finally:
        uploader.context.close()


# Every text the last answer shows while it is written, recorded as the page changes.
RECORD_STREAM_JS = """() => {
  window.__newsragSeen = [];
  const chat = document.querySelector('#newsrag-chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll("[data-testid='bot']");
    if (bots.length) window.__newsragSeen.push(bots[bots.length - 1].innerText);
  }).observe(chat, {childList: true, subtree: true, characterData: true});
}"""


def test_8_answers_stream_sentence_by_sentence_and_replace_the_passage(page: object) -> None:
    ask(page, RUTTE_QUESTION)
    page.locator("#newsrag-chat a[href^='#cite-']").last.click()  # type: ignore[attr-defined]
    page.locator("#newsrag-passage mark.cited").wait_for()  # type: ignore[attr-defined]
    page.evaluate(RECORD_STREAM_JS)  # type: ignore[attr-defined]
    reply = ask(page, "Who scored Port Calder's late winner against Redmere United?")
    final = reply.inner_text()  # type: ignore[attr-defined]
    seen = page.evaluate("() => window.__newsragSeen")  # type: ignore[attr-defined]
    partial = {s for s in seen if "\u258c" in s and s.replace("\u258c", "").strip()}
    assert len(partial) >= 2, f"the answer arrived in one piece: {seen}"
    assert all(len(s.replace("\u258c", "").strip()) < len(final) for s in partial)
    panel = page.locator("#newsrag-passage")  # type: ignore[attr-defined]
    assert "Click a [n]" in panel.inner_text()  # the last answer's passage went with it
    assert page.locator("#newsrag-passage mark.cited").count() == 0  # type: ignore[attr-defined]
    page.locator("#newsrag-chat a[href^='#cite-']").last.click()  # type: ignore[attr-defined]
    page.locator("#newsrag-passage mark.cited").wait_for()  # type: ignore[attr-defined]
    refused = ask(page, "What did Rutte say about Taiwan?")
    assert "No answer found" in refused.inner_text()  # type: ignore[attr-defined]
    assert "Click a [n]" in panel.inner_text()  # a refusal clears it too
    shot(page, "8-streamed-answer")


def test_9_a_bad_date_is_a_notice_and_the_conversation_stays(page: object) -> None:
    since = page.locator("#newsrag-since textarea, #newsrag-since input").first  # type: ignore[attr-defined]
    if not since.is_visible():
        page.locator("#newsrag-filters").get_by_text("Filters").first.click()  # type: ignore[attr-defined]
    since.fill("2026-13-45")
    since.press("Tab")
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    replies = page.locator(BOT)  # type: ignore[attr-defined]
    before = replies.count()
    box = page.locator("#newsrag-question textarea")  # type: ignore[attr-defined]
    box.fill(RUTTE_QUESTION)
    box.press("Enter")
    notice = page.locator("#newsrag-notice")  # type: ignore[attr-defined]
    notice.get_by_text("is not a date").wait_for()
    assert "since '2026-13-45' is not a date — write it as YYYY-MM-DD" in notice.inner_text()
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    assert replies.count() == before  # the conversation is as it was
    assert box.input_value() == RUTTE_QUESTION  # kept, to send again once the date is fixed
    assert page.get_by_text("Error", exact=True).count() == 0  # type: ignore[attr-defined]
    assert page.locator(".toast-body.error, .error").count() == 0  # type: ignore[attr-defined]
    shot(page, "9-bad-date-notice")
    since.fill("")
    since.press("Tab")
    until = page.locator("#newsrag-until textarea, #newsrag-until input").first  # type: ignore[attr-defined]
    until.fill("")  # as test 4 left it
    until.press("Tab")
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    box.press("Enter")
    page.wait_for_function(ANSWER_DONE, arg=before)  # type: ignore[attr-defined]
    shot(page, "9-date-fixed")
    assert replies.count() == before + 1  # asked and answered this time
    asked = page.locator("#newsrag-chat [data-testid='user']").last  # type: ignore[attr-defined]
    assert asked.inner_text().strip() == RUTTE_QUESTION
    assert "is not a date" not in notice.inner_text()


def test_10_a_url_typed_in_the_articles_tab_is_fetched_and_indexed(page: object) -> None:
    wind = (
        "The Fenwick Shoal wind farm delivered its first electricity to the grid on Friday. "
        "Engineers expect full output by the spring.\n\nThe farm has 62 turbines."
    )
    with LocalSite() as site:
        # dated today: the table lists newest first, before test 7's 120 undated reports
        html = article_html("Fenwick Shoal sends first power", wind, date="2026-12-04")
        url = site.page("/wind.html", html)
        missing = site.url("/gone.html")
        page.get_by_role("tab", name="Your articles").click()  # type: ignore[attr-defined]
        box = page.locator("#newsrag-url textarea, #newsrag-url input").first  # type: ignore[attr-defined]
        summary = page.locator("#newsrag-upload-summary")  # type: ignore[attr-defined]
        box.fill(missing)
        box.press("Enter")
        summary.get_by_text("HTTP 404").wait_for()
        assert f"Skipped: {missing}: HTTP 404 Not Found — check the address" in (
            summary.inner_text()
        )
        assert page.locator(".toast-body.error, .error").count() == 0  # type: ignore[attr-defined]
        assert box.input_value() == missing  # kept, to be corrected
        shot(page, "10-bad-url-notice")
        box.fill(url)
        page.locator("#newsrag-add-url").click()  # type: ignore[attr-defined]
        summary.get_by_text("1 added").wait_for()
        assert "0 skipped" in summary.inner_text() and box.input_value() == ""
        assert site.hits("/wind.html") == 1
    table = page.locator("#newsrag-articles").inner_text()  # type: ignore[attr-defined]
    assert "Fenwick Shoal sends first power" in table
    shot(page, "10-url-added")
    page.get_by_role("tab", name="Chat").click()  # type: ignore[attr-defined]
    reply = ask(page, "How many turbines does the Fenwick Shoal wind farm have?")
    assert "62" in reply.inner_text()  # type: ignore[attr-defined]
