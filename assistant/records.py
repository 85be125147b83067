"""Records of answering: a citation of a verbatim passage, and an answer that carries them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.claims import backing_sentences, cited_claims
from index.records import Copy, Hit


@dataclass(frozen=True)
class Citation:
    """What ``[n]`` in an answer points at: ``passage == article.text[start:end]``."""

    n: int
    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    passage: str
    start: int
    end: int
    page: int | None = None  # the PDF page the passage starts on
    also_in: tuple[Copy, ...] = ()  # the same story from other outlets or URLs

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> Citation:
        c = hit.chunk
        return cls(
            n,
            c.article_id,
            c.title,
            c.source,
            c.published,
            c.url,
            c.text,
            c.start,
            c.end,
            c.page,
            hit.also_in,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "url": self.url,
            "passage": self.passage,
            "start": self.start,
            "end": self.end,
        }
        if self.page is not None:  # PDFs only, so other citations keep their shape
            data["page"] = self.page
        if self.also_in:  # syndicated stories only
            data["also_in"] = [asdict(c) if isinstance(c, Copy) else c for c in self.also_in]
        return data


@dataclass(frozen=True)
class Answer:
    """An answer with inline ``[n]`` markers, each backed by ``citations[n-1]``.

    ``hits`` are the passages the answer was composed from (not part of the JSON).
    ``related``: when refused, the closest passages, shown as "related" (numbered from 1).
    ``notices``: things the reader must see (an LLM error and the fallback, unsupported claims).
    ``unsupported``: sentences of an LLM answer that their cited passage does not back.
    ``answerer``: "extractive", or "llm:PROVIDER:MODEL".
    ``resolved``: the question actually searched for (a follow-up resolved against history).
    ``choice``: of a multiple-choice question's options, the one the answer picks (None when it
    picks none, or was given none).
    """

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)
    related: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    answerer: str = "extractive"
    resolved: str | None = None
    choice: str | None = None

    def quoted(self) -> dict[int, list[tuple[int, int]]]:
        """For each citation ``n``, the (start, end) spans in its passage of the sentences the
        answer cites it for: the ones it quotes, or for a paraphrase the closest in words.

        >>> answer.quoted()
        {1: [(112, 240)], 2: [(0, 96), (410, 470)]}
        """
        claims = cited_claims(self.answer)
        return {c.n: backing_sentences(c.passage, claims.get(c.n, [])) for c in self.citations}

    def to_dict(self) -> dict[str, Any]:
        """The ``newsrag ask --json`` object (the first four keys are the original contract;
        each citation's ``quoted`` lists :meth:`quoted`'s spans, ``[]`` for related passages)."""
        quoted = self.quoted()
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                c.to_dict() | {"quoted": [list(span) for span in quoted.get(c.n, [])]}
                for c in self.citations
            ],
            "related": [c.to_dict() | {"quoted": []} for c in self.related],
            "notices": list(self.notices),
            "unsupported": list(self.unsupported),
            "answerer": self.answerer,
            "resolved_question": self.resolved or self.question,
            "choice": self.choice,
        }
