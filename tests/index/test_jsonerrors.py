"""JSON syntax errors say the file, the line, the column and the fix, each once."""

from pathlib import Path

from index.loaders import load_file
from index.records import Problem


def test_a_cut_jsonl_line_names_its_line_and_column_once(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"title": "Fine", "text": "Ok."}\n{"title": "Cut, "text": "x\n', "utf-8")
    problems = [p for p in load_file(feed) if isinstance(p, Problem)]
    assert [str(p) for p in problems] == [
        f"{feed}:2: malformed JSON (Expecting ',' delimiter at column 18) — fix or remove this line"
    ]
    feed.write_text('{"title": "Cut\n', "utf-8")
    (problem,) = [str(p) for p in load_file(feed) if isinstance(p, Problem)]
    assert problem == (
        f"{feed}:1: malformed JSON (Unterminated string starting at column 11) — fix or remove "
        "this line"
    )  # once said "Unterminated string starting at at column 11"
