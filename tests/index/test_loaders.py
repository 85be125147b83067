import json
from pathlib import Path

import pytest

from index.errors import IngestError
from index.loaders import load_file, load_paths
from index.records import Article, Problem
from tests.conftest import SAMPLE_CORPUS, SEED_DIR


def _only_article(path: Path) -> Article:
    items = list(load_file(path))
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def test_markdown_front_matter(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text(
        "---\nid: tram-1\ntitle: Tram opens\nsource: Gazette\nauthor: Ann Lee\n"
        "published: 2025-07-15\nurl: https://g.example/t\n---\n\nTrams run.\n\nDaily.\n"
    )
    a = _only_article(f)
    assert (a.id, a.title, a.source, a.author, a.published, a.url, a.text) == (
        "tram-1",
        "Tram opens",
        "Gazette",
        "Ann Lee",
        "2025-07-15",
        "https://g.example/t",
        "Trams run.\n\nDaily.",
    )


def test_plain_text_first_line_is_title_and_id_is_stable(tmp_path: Path) -> None:
    f = tmp_path / "Museum Reopens.txt"
    f.write_text("# Museum reopens\n\nThe museum opened its doors.\n")
    a = _only_article(f)
    assert (a.title, a.text) == ("Museum reopens", "The museum opened its doors.")
    assert a.id.startswith("museum-reopens-") and a.id == _only_article(f).id


def test_plain_text_copied_from_a_web_page_keeps_headline_byline_and_date(
    tmp_path: Path,
) -> None:
    f = tmp_path / "copied.txt"
    f.write_text(
        "Business, Energy\n\n"  # a section label above the headline
        "Harbour wind farm sends first power to the grid\n\n"
        "'Every milestone out here is earned,' the project director says\n\n"
        "Karin Lindqvist  | 27.10.2025 - Update : 28.10.2025\n"
        "Harbour wind farm sends first power to the grid\n\n"
        "SALTVIK\n\nThe wind farm delivered its first electricity on Sunday.\n"
    )
    a = _only_article(f)
    assert a.title == "Harbour wind farm sends first power to the grid"
    assert (a.author, a.published) == ("Karin Lindqvist", "2025-10-27")
    assert "Business, Energy" not in a.text and "Lindqvist" not in a.text
    assert "Harbour wind farm" not in a.text  # the repeated headline is dropped too
    assert a.text.startswith("'Every milestone") and a.text.endswith("on Sunday.")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Floods recede\n\nThe river fell overnight after days of rain.\n", "Floods recede"),
        ("Floods recede\nTessel Valley\n\nThe river fell overnight.\n", "Floods recede"),
    ],
)
def test_a_short_headline_over_a_paragraph_is_still_the_headline(
    tmp_path: Path, text: str, title: str
) -> None:
    f = tmp_path / "floods.txt"
    f.write_text(text)
    assert _only_article(f).title == title


def test_a_plain_article_takes_its_date_from_a_dated_file_name(tmp_path: Path) -> None:
    dated = tmp_path / "2025-04-14-museum-reopens.md"
    dated.write_text("Museum reopens\n\nThe museum opened its doors.\n")
    assert _only_article(dated).published == "2025-04-14"
    undated = tmp_path / "20250414-museum.md"
    undated.write_text("Museum reopens\n\nThe museum opened its doors.\n")
    assert _only_article(undated).published is None


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    f = tmp_path / "p.html"
    f.write_text(
        "<!doctype html><html><head><title>Tram opens | Gazette</title>"
        '<meta property="og:title" content="Tram opens">'
        '<meta name="author" content="Ann Lee">'
        '<meta property="article:published_time" content="2025-07-15T07:45:00Z">'
        '<meta property="og:site_name" content="Gazette">'
        '<link rel="canonical" href="https://g.example/tram"></head><body>'
        "<nav><a href='/'>Home</a><a href='/w'>World</a></nav>"
        "<script>var tracking = 1;</script>"
        "<article><h1>Tram opens</h1><p>The crosstown tram line opened on Tuesday morning to "
        "large crowds of passengers.</p><p>Trams will run every six minutes at peak times, "
        "the operator said.</p></article><footer>Copyright Gazette. All rights reserved."
        "</footer></body></html>"
    )
    a = _only_article(f)
    assert (a.title, a.author, a.published, a.source, a.url) == (
        "Tram opens",
        "Ann Lee",
        "2025-07-15",
        "Gazette",
        "https://g.example/tram",
    )
    assert "every six minutes" in a.text
    assert "tracking" not in a.text and "All rights reserved" not in a.text


def test_jsonl_bad_line_is_reported_and_good_lines_load(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    good = json.dumps({"id": "g1", "title": "T", "text": "Body."})
    f.write_text(
        good
        + "\n{not json\n\n"
        + json.dumps({"id": "g2", "title": "U"})
        + "\n"
        + json.dumps({"id": "g3", "title": "V", "text": "More."})
        + "\n"
    )
    items = list(load_file(f))
    assert [i.id for i in items if isinstance(i, Article)] == ["g1", "g3"]
    assert [str(p) for p in items if isinstance(p, Problem)] == [
        f"{f}:2: malformed JSON (Expecting property name enclosed in double quotes at "
        "column 2) — fix or remove this line",
        f"{f}:4: record has no text — give it a non-empty 'text' (or 'body') field",
    ]


def test_json_list_and_single_object(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps({"id": "o", "title": "T", "text": "x", "published_at": "14 Feb 2026"})
    )
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"id": "m1", "title": "A", "text": "x"}, {"title": "B"}]))
    assert _only_article(one).published == "2026-02-14"
    items = list(load_file(many))
    assert [str(i) if isinstance(i, Problem) else i.id for i in items] == [
        "m1",
        f"{many}: record 2: record has no text — give it a non-empty 'text' (or 'body') field",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "file is empty"),
        (b"   \n\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not text"),
        (b"Title\n\nCaf\xe9 au lait", "not valid UTF-8 (byte 0xe9 at offset 10)"),
        (b"Only a title", "only a title line, no article text"),
    ],
)
def test_bad_files_become_problems(tmp_path: Path, content: bytes, reason: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    items = list(load_file(f))
    assert len(items) == 1 and isinstance(items[0], Problem)
    assert items[0].reason == reason


def test_invalid_front_matter_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: [unclosed\n---\nBody\n")
    (problem,) = load_file(f)
    assert isinstance(problem, Problem) and problem.line == 3
    assert problem.reason.startswith("invalid YAML front matter")


def test_folder_walk_ignores_other_files_and_missing_path_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\n\nBody a.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("B\n\nBody b.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("H\n\nhidden")
    loaded = load_paths([tmp_path])
    assert [a.title for a in loaded.articles] == ["A", "B"]
    assert loaded.ignored_files == 2
    with pytest.raises(IngestError, match=r"No such file or folder: .*nope — check the path"):
        load_paths([tmp_path / "nope"])


def test_bundled_sample_corpus_loads_cleanly() -> None:
    loaded = load_paths([SAMPLE_CORPUS])
    assert loaded.problems == ()
    assert len(loaded.articles) >= 12
    assert len({a.source for a in loaded.articles if a.source}) >= 4
    assert all(a.published for a in loaded.articles if a.origin.endswith((".md", ".json")))
    assert any("Rutte" in a.text and "European army" in a.text for a in loaded.articles)


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="../shared/data/seed is not present")
def test_seed_files_load() -> None:
    loaded = load_paths([SEED_DIR])
    assert loaded.problems == ()
    by_suffix = {Path(a.origin).suffix: a for a in loaded.articles}
    assert by_suffix[".json"].id == "aa-2026-01-14-rutte-nato"
    assert by_suffix[".json"].published == "2026-01-14"
    assert "command structures" in by_suffix[".txt"].text
    txt = by_suffix[".txt"]  # a web page copied as text: section label, headline, byline
    assert txt.title == by_suffix[".json"].title and txt.published == "2026-01-14"
    assert txt.author and not txt.text.startswith("Americas")


REALTIMEQA = SEED_DIR.parent / "realtimeqa-2026" / "articles.jsonl"


@pytest.mark.realdata
@pytest.mark.skipif(not REALTIMEQA.is_file(), reason=f"{REALTIMEQA} is not present")
def test_realtimeqa_corpus_loads_without_problems() -> None:
    loaded = load_paths([REALTIMEQA])
    assert loaded.problems == ()
    assert len(loaded.articles) == 2960
    assert len({a.id for a in loaded.articles}) == 2960
    assert all(a.published and len(a.published) == 10 for a in loaded.articles)
    assert all(a.source and "." in a.source for a in loaded.articles)  # from the URL host


def test_unreadable_file_in_a_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good\n\nReadable text.")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    loaded = load_paths([tmp_path])
    assert [a.title for a in loaded.articles] == ["Good"]
    assert [str(p) for p in loaded.problems] == [
        f"{tmp_path / 'gone.txt'}: cannot read the file (No such file or directory) — fix or "
        "remove the symlink"
    ]
