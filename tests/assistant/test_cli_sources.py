"""`newsrag ingest URL...` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from tests.index.local_site import LocalSite, article_html, make_pdf
from tests.index.test_web import LONG

FAKE = ("--embedding-model", "fake:32")


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as s:
        s.page("/tram.html", article_html("Tram line to reach the airport", LONG))
        s.add(
            "/report.pdf",
            make_pdf(["Quay report, page one.", "Dredging on page two."]),
            "application/pdf",
        )
        yield s


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_urls_and_files_together(site: LocalSite, tmp_path: Path) -> None:
    (tmp_path / "local.txt").write_text("Local headline\n\nA local story about the harbour.\n")
    idx = str(tmp_path / "idx")
    args = ["ingest", site.url("/tram.html"), site.url("/report.pdf"), str(tmp_path / "local.txt")]
    code, out, err = run(*args, "--index", idx, "--allow-private", "--json", *FAKE)
    assert code == 0, err
    data = json.loads(out)
    assert (data["added"], data["skipped"]) == (3, 0)
    code, out, _ = run("list", "--index", idx, "--json", *FAKE)
    titles = sorted(a["title"] for a in json.loads(out))
    assert titles == ["Local headline", "Quay report, page one.", "Tram line to reach the airport"]


def test_a_private_url_is_skipped_with_the_fix_and_exit_3(site: LocalSite, tmp_path: Path) -> None:
    url = site.url("/tram.html")
    code, out, err = run("ingest", url, "--index", str(tmp_path / "idx"), "--quiet", *FAKE)
    assert code == 3
    assert (
        f"{url}: 127.0.0.1 is a private, loopback or link-local address (127.0.0.1) — newsrag "
        "only fetches public addresses; pass --allow-private to read it"
    ) in out + err
    assert site.requests == []
