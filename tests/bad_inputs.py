"""The bad-input matrix: one folder holding every kind of bad input next to good articles, and
what ingest must say about each. Shared by the library, CLI and chat-upload tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

HUGE_BYTES = 50_000_000  # a 50 MB article


@dataclass(frozen=True)
class Expected:
    """One bad item: the file (relative to the matrix folder), its line, and words of the
    reason and the fix that the message must hold."""

    name: str
    line: int | None
    reason: str
    fix: str


@dataclass(frozen=True)
class Matrix:
    folder: Path
    good_titles: frozenset[str]
    bad: tuple[Expected, ...]


def build_matrix(folder: Path) -> Matrix:
    """Write the matrix into ``folder`` (which must be empty or new)."""
    folder.mkdir(parents=True, exist_ok=True)
    bad: list[Expected] = []

    (folder / "tram line opens.md").write_text(
        "---\ntitle: Tram line opens\nsource: Gazette\ndate: 2025-07-15\n---\n\n"
        "The crosstown tram line opened on Tuesday to large crowds.\n",
        encoding="utf-8",
    )
    (folder / "Über café — Zürich.txt").write_text(
        "Café in Zürich wins a baking prize\n\nThe café on the Limmat won the national "
        "baking prize for its plum tart, the jury said on Friday.\n",
        encoding="utf-8",
    )

    (folder / "empty.txt").write_bytes(b"")
    bad.append(Expected("empty.txt", None, "file is empty", "remove it or add the article text"))

    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    bad.append(Expected("photo.txt", None, "binary file, not text", "right extension"))

    latin1 = "Title\n\nLine two\nCaf\xe9 on line four\n".encode("latin-1")
    (folder / "latin1.md").write_bytes(latin1)
    bad.append(Expected("latin1.md", 4, "not valid UTF-8", "re-save the file as UTF-8"))

    good_record = {"id": "jsonl-1", "title": "Harbour reopens", "text": "The harbour reopened."}
    other_record = {"id": "jsonl-2", "title": "Bridge closes", "text": "The bridge closed."}
    (folder / "feed.jsonl").write_text(
        "\n".join(
            [
                json.dumps(good_record),
                '{"id": "broken", "title": "Unclosed',
                json.dumps(other_record),
                json.dumps({"id": "no-text", "title": "Only a title"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    bad.append(Expected("feed.jsonl", 2, "malformed JSON", "fix or remove this line"))
    bad.append(Expected("feed.jsonl", 4, "record has no text", "non-empty 'text'"))

    with (folder / "huge.txt").open("w", encoding="utf-8") as out:
        out.write("A very long article\n\n")
        line = "The council met again and discussed the budget at length. " * 100 + "\n"
        while out.tell() < HUGE_BYTES:
            out.write(line)
    bad.append(Expected("huge.txt", None, "over the 10.0 MB limit", "--max-article-mb"))

    (folder / "scripts.html").write_text(
        "<html><head><script>var a = 1;</script></head><body><script>document.write('x')"
        "</script><script src='app.js'></script></body></html>",
        encoding="utf-8",
    )
    bad.append(Expected("scripts.html", None, "no article text found in the HTML", "save the text"))

    loop = folder / "loop"
    loop.mkdir()
    (loop / "inner.txt").write_text("Inner story\n\nA story inside the looped folder.\n")
    (loop / "again").symlink_to(loop, target_is_directory=True)
    bad.append(Expected("loop/again", None, "symlink loop", "remove the symlink"))

    (folder / "ring-a.txt").symlink_to(folder / "ring-b.txt")
    (folder / "ring-b.txt").symlink_to(folder / "ring-a.txt")
    for name in ("ring-a.txt", "ring-b.txt"):
        bad.append(Expected(name, None, "symbolic links", "fix or remove the symlink"))

    os.mkfifo(folder / "pipe.txt")  # reading it would wait forever for a writer
    bad.append(Expected("pipe.txt", None, "not a regular file", "remove it"))
    if os.geteuid() != 0:  # root reads any file, whatever its mode
        locked = folder / "locked.txt"
        locked.write_text("Locked\n\nNobody may read this.\n")
        locked.chmod(0)
        bad.append(Expected("locked.txt", None, "Permission denied", "make it readable"))
    good = {"Tram line opens", "Café in Zürich wins a baking prize", "Harbour reopens"}
    good |= {"Bridge closes", "Inner story"}
    return Matrix(folder, frozenset(good), tuple(bad))


def many_small_files(folder: Path, count: int = 5000) -> Path:
    """``count`` one-paragraph articles in one folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"notice-{n:04d}.txt").write_text(
            f"Notice {n}\n\nThe parish council posted notice number {n} about road works on "
            f"street {n % 97} and the market on square {n % 13}.\n",
            encoding="utf-8",
        )
    return folder
