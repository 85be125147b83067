"""The top of a plain-text article: its headline (past a short section label), and a byline
giving the author and date; what is left is the body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.metadata import clean_text, parse_date


@dataclass(frozen=True)
class Header:
    """What the top of a plain-text article says about it."""

    title: str
    body: str
    author: str | None = None
    published: str | None = None


_KICKER_WORDS = 4  # "Americas, Europe" above a headline is a section label, not the title
_HEADLINE_WORDS = 30
_BYLINE = re.compile(r"^(?:by\s+)?(?P<author>[^|\d]{3,60}?)\s*\|\s*(?P<date>\d.*)$", re.IGNORECASE)


def read_header(text: str) -> Header:
    """The headline (the first line, or the second when the first is a short section label such
    as "Americas, Europe"), and a byline among the next lines ("Melike Pala | 14.01.2026 -
    Update : 14.01.2026") giving the author and date. Lines the header used, and a repeat of the
    headline, are left out of the body."""
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return Header("", "")
    at = 0
    first = lines[filled[0]].strip()
    if (
        len(filled) > 2
        and len(first.split()) <= _KICKER_WORDS
        and not re.search(r"[.!?:;\"\u201d]$", first)
        and _KICKER_WORDS < len(lines[filled[1]].split()) <= _HEADLINE_WORDS
        and not re.search(r"[.!?]$", lines[filled[1]].strip())  # a headline, not a paragraph
    ):
        at = 1
    title = re.sub(r"^#+\s*", "", lines[filled[at]]).strip()
    skip = set(filled[: at + 1])
    author = published = None
    for i in filled[at + 1 : at + 4]:
        match = _BYLINE.match(lines[i].strip())
        date = parse_date(re.split(r"\s+[-\u2013|]\s+", match.group("date"))[0]) if match else None
        if match and date:
            author, published = match.group("author").strip(), date
            skip.add(i)
            break
    repeat = next((i for i in filled[at + 1 : at + 5] if lines[i].strip() == title), None)
    if repeat is not None:  # a web page copied as text repeats its headline above the story
        skip.add(repeat)
    body = [line for i, line in enumerate(lines) if i not in skip]
    return Header(title, clean_text("\n".join(body)), author, published)
