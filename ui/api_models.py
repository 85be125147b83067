"""The HTTP API's requests and responses (pydantic): what /api/* and /v1/* accept and return.

Request fields use the CLI's words (``question``, ``query``, ``k``, ``mode``, ``source``,
``since``, ``until``, ``as_of``). The REST requests reject unknown fields (a typo is an error
that names it); the OpenAI-compatible request ignores them, as OpenAI clients expect.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUESTION_CHARS = 2000
MAX_K = 50
MAX_SOURCES = 50
MAX_HISTORY = 50
MAX_CHOICES = 10
Mode = Literal["hybrid", "dense", "keyword"]
NOT_BLANK = r"\S"  # some character that is not a space


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(Strict):
    """How passages are found, as the CLI's --top-k, --mode, --source, --since, --until and
    --as-of say it."""

    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to retrieve (default 5).")
    mode: Mode | None = Field(None, description="Search mode (default hybrid).")
    source: list[str] = Field(
        default_factory=list,
        max_length=MAX_SOURCES,
        description="Only articles from these sources (as GET /api/stats lists them).",
    )
    since: date | None = Field(None, description="Only articles published on or after.")
    until: date | None = Field(None, description="Only articles published on or before.")
    as_of: date | Literal["today"] | None = Field(
        "today",
        description="The date the question is asked on; null turns the time preference off.",
    )


class ChatTurn(BaseModel):
    """A chat message of the conversation so far."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20 * MAX_QUESTION_CHARS)


class AskTurn(BaseModel):
    """An ``ask --json`` object of the conversation so far (its other keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(..., max_length=MAX_QUESTION_CHARS)
    answer: str = Field("", max_length=20 * MAX_QUESTION_CHARS)
    resolved_question: str | None = Field(None, max_length=MAX_QUESTION_CHARS)


class AskRequest(Filters):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK)
    history: list[ChatTurn | AskTurn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="The conversation so far, oldest first, to resolve a follow-up.",
    )
    choice: list[Annotated[str, Field(max_length=200, pattern=NOT_BLANK)]] = Field(
        default_factory=list,
        max_length=MAX_CHOICES,
        description="The options of a multiple-choice question (the CLI's --choice).",
    )


class SearchRequest(Filters):
    query: str = Field(..., max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK)


class CitationOut(BaseModel):
    n: int
    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    passage: str
    start: int
    end: int
    quoted: list[list[int]]


class AnswerOut(BaseModel):
    """The ``newsrag ask --json`` object."""

    question: str
    answer: str
    refused: bool
    citations: list[CitationOut]
    related: list[CitationOut]
    notices: list[str]
    unsupported: list[str]
    answerer: str
    resolved_question: str
    choice: str | None


class HitOut(BaseModel):
    """One passage of ``newsrag search --json``."""

    rank: int
    score: float
    relevance: float
    chunk_id: str
    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    start: int
    end: int
    passage: str


class ArticleOut(BaseModel):
    """One article of ``newsrag list --json``."""

    id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    chunks: int


class StatsOut(BaseModel):
    """``newsrag stats --json``."""

    articles: int
    chunks: int
    embedding_model: str
    embedding_dimension: int
    chunk_size: int
    chunk_overlap: int
    index: str
    collection: str
    sources: dict[str, int]
    oldest: str | None
    newest: str | None
    chunk_header: bool
    encoder: str
    encoder_version: int
    encoder_weight_bits: int


class ProblemOut(BaseModel):
    path: str
    reason: str
    fix: str
    line: int | None
    skipped: bool
    where: str


class StoredFile(BaseModel):
    """Where an uploaded file was kept: ``path`` is under the index folder."""

    name: str
    path: str


class UploadOut(BaseModel):
    """``newsrag ingest --json``, plus the ids by outcome and where each file was stored."""

    added: int
    updated: int
    unchanged: int
    skipped: int
    chunks_written: int
    ignored_files: int
    seconds: float
    problems: list[ProblemOut]
    added_ids: list[str]
    updated_ids: list[str]
    unchanged_ids: list[str]
    stored: list[StoredFile]


class DeletedOut(BaseModel):
    deleted: str


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorOut(BaseModel):
    """Every error, OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorDetail


# The OpenAI-compatible side (/v1)


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat request; fields newsrag has no use for (temperature, max_tokens, ...)
    are ignored. ``k``, ``mode``, ``source``, ``since``, ``until`` and ``as_of`` may ride
    along (the openai client's ``extra_body``)."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_HISTORY * 2 + 2)
    stream: bool | None = False
    n: int | None = None
    k: int | None = Field(None, ge=1, le=MAX_K)
    mode: Mode | None = None
    source: list[str] = Field(default_factory=list, max_length=MAX_SOURCES)
    since: date | None = None
    until: date | None = None
    as_of: date | Literal["today"] | None = "today"


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """OpenAI's chat completion, with the answer's ``citations`` (the ``ask --json`` keys)
    and ``newsrag``: the whole ``ask --json`` object."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationOut]
    newsrag: AnswerOut


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def error_body(
    message: str, kind: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return ErrorOut(
        error=ErrorDetail(message=message, type=kind, param=param, code=code)
    ).model_dump()
