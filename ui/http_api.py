"""newsrag's REST API (/api/*, /healthz): routes that parse a request, call the library and
return its records as JSON. Shared by the OpenAI-compatible routes (ui/openai_api.py): the
service object, authorisation and the error objects.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from assistant import Assistant
from assistant.uploads import Upload, Uploads
from index.errors import (
    ArticleNotFoundError,
    ChromaServerError,
    ConfigError,
    DiskFullError,
    IndexBusyError,
    IndexNotFoundError,
    IndexReadOnlyError,
    NewsragError,
)
from index.retrieval import SearchFilters
from ui.api_models import (
    AnswerOut,
    ArticleOut,
    AskRequest,
    ChatRequest,
    DeletedOut,
    ErrorOut,
    Filters,
    HealthOut,
    HitOut,
    SearchRequest,
    StatsOut,
    UploadOut,
    error_body,
)

# Questions answered at once through the API; the others wait up to QUEUE_SECONDS for a turn.
# On 2 CPU cores two at a time answered the most per second (tests/ui/test_load.py).
API_CONCURRENCY = 2
QUEUE_SECONDS = 60.0
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in [
        (400, "Invalid request"),
        (401, "Missing or wrong API key"),
        (404, "No such article"),
        (409, "Another process is writing to the index"),
        (413, "Request too large"),
        (503, "Busy, or the index cannot be read"),
    ]
}


class ApiError(Exception):
    """An error response: HTTP ``status`` and OpenAI's error object."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.param, self.code, self.headers = param, code, headers

    def response(self) -> JSONResponse:
        body = error_body(self.message, self.kind, self.param, self.code)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


_STATUS: list[tuple[type[NewsragError], int, str, str]] = [
    (ArticleNotFoundError, 404, "not_found_error", "article_not_found"),
    (IndexBusyError, 409, "conflict_error", "index_busy"),
    (IndexNotFoundError, 503, "server_error", "index_not_found"),
    (ChromaServerError, 503, "server_error", "chroma_unavailable"),
    (DiskFullError, 503, "server_error", "disk_full"),
    (IndexReadOnlyError, 503, "server_error", "index_read_only"),
    (ConfigError, 400, "invalid_request_error", "invalid_value"),
]


def from_newsrag(exc: NewsragError) -> ApiError:
    """The response for a library error: its message as it is, with a fitting status."""
    for kind, status, name, code in _STATUS:
        if isinstance(exc, kind):
            return ApiError(status, str(exc), name, code=code)
    return ApiError(400, str(exc), code="invalid_value")


@dataclass
class Service:
    """What every route works with, built once per server: the assistant, the extractive
    assistant (the ``newsrag`` model when an LLM is configured), the one writer of uploads, who
    may call, and the answering slots."""

    assistant: Assistant
    uploads: Uploads
    keys: tuple[str, ...] = ()
    users: tuple[tuple[str, str], ...] = ()
    extractive: Assistant = field(init=False)
    slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(API_CONCURRENCY)
    )

    def __post_init__(self) -> None:
        a = self.assistant
        self.extractive = a if a.answerer is a.extractive else Assistant(a.index, a.extractive)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """A turn to answer, or 503 after QUEUE_SECONDS of waiting for one."""
        if not self.slots.acquire(timeout=QUEUE_SECONDS):
            raise ApiError(
                503,
                f"The server is busy (every answering slot was taken for {QUEUE_SECONDS:g} s) "
                "— try again shortly.",
                "server_error",
                code="busy",
                headers={"Retry-After": "5"},
            )
        try:
            yield
        finally:
            self.slots.release()

    def authorize(self, request: Request) -> None:
        """Let the request through if it carries a key of ``keys`` (Bearer) or the login of a
        page user (Basic); anyone may call when neither is configured."""
        if not self.keys and not self.users:
            return
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and _known(credential, self.keys):
            return
        if scheme.lower() == "basic" and self.users and self._user(credential):
            return
        how = "'Authorization: Bearer KEY' with a key of --api-key or NEWSRAG_API_KEYS"
        if self.users:
            how += (" or " if self.keys else "") + "HTTP Basic with a --auth login"
        if not self.keys:
            how = "HTTP Basic with a --auth login"
        raise ApiError(
            401,
            f"Missing or wrong credentials — send {how}.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer" if self.keys else "Basic"},
        )

    def _user(self, credential: str) -> bool:
        try:
            user, _, password = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        found = False
        for known_user, known_password in self.users:  # compare all: no timing hint
            same = secrets.compare_digest(user.encode(), known_user.encode())
            found |= same and secrets.compare_digest(password.encode(), known_password.encode())
        return found


def _known(key: str, keys: Sequence[str]) -> bool:
    found = False
    for known in keys:
        found |= secrets.compare_digest(key.encode(), known.encode())
    return bool(key) and found


def filters_of(request: Filters | ChatRequest) -> SearchFilters:
    try:
        return SearchFilters.build(request.source, request.since, request.until)
    except NewsragError as exc:
        raise from_newsrag(exc) from exc


def rest_router(service: Service) -> APIRouter:
    """/api/ask, /api/search, /api/articles (GET, POST, DELETE) and /api/stats."""
    router = APIRouter(
        prefix="/api", dependencies=[Depends(service.authorize)], responses=ERRORS, tags=["newsrag"]
    )
    _question_routes(router, service)
    _article_routes(router, service)
    return router


def _question_routes(router: APIRouter, service: Service) -> None:
    """/api/ask and /api/search."""

    @router.post("/ask", response_model=AnswerOut)
    def ask(request: AskRequest) -> dict[str, Any]:
        """Answer a question with citations (``newsrag ask --json``)."""
        filters = filters_of(request)
        history = [item.model_dump(exclude_none=True) for item in request.history]
        with service.slot():
            try:
                answer = service.assistant.ask(
                    request.question.strip(),
                    request.k,
                    mode=request.mode,
                    filters=filters,
                    as_of=request.as_of,
                    history=history,
                    choices=request.choice,
                )
            except NewsragError as exc:
                raise from_newsrag(exc) from exc
        return answer.to_dict()

    @router.post("/search", response_model=list[HitOut])
    def search(request: SearchRequest) -> list[dict[str, Any]]:
        """The passages retrieval finds, best first (``newsrag search --json``)."""
        filters = filters_of(request)
        with service.slot():
            try:
                hits = service.assistant.retrieve(
                    request.query.strip(),
                    request.k,
                    mode=request.mode,
                    filters=filters,
                    as_of=request.as_of,
                )
            except NewsragError as exc:
                raise from_newsrag(exc) from exc
        return [h.to_dict() for h in hits]


def _article_routes(router: APIRouter, service: Service) -> None:
    """/api/articles (GET, POST, DELETE) and /api/stats."""
    index = service.assistant.index

    @router.get("/articles", response_model=list[ArticleOut])
    def articles(
        response: Response,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[dict[str, Any]]:
        """Indexed articles, newest first (``newsrag list --json``); the header
        ``X-Total-Count`` says how many there are in all."""
        infos = index.articles()
        response.headers["X-Total-Count"] = str(len(infos))
        return [asdict(i) for i in infos[offset : offset + limit]]

    @router.post("/articles", response_model=UploadOut)
    def upload(
        files: Annotated[list[UploadFile], File(description="Articles to add", min_length=1)],
    ) -> dict[str, object]:
        """Add articles from files (.txt .md .html .json .jsonl); a file with the name of an
        earlier, different upload is kept beside it, never in its place."""
        try:
            result = service.uploads.add([Upload(f.filename or "upload", f.file) for f in files])
        except NewsragError as exc:
            raise from_newsrag(exc) from exc
        return result.to_dict()

    @router.delete("/articles/{article_id}", response_model=DeletedOut)
    def delete(article_id: str) -> dict[str, str]:
        """Remove an article and all its passages."""
        try:
            service.uploads.delete(article_id)
        except NewsragError as exc:
            raise from_newsrag(exc) from exc
        return {"deleted": article_id}

    @router.get("/stats", response_model=StatsOut)
    def stats() -> dict[str, Any]:
        """Counts and how the index was built (``newsrag stats --json``)."""
        try:
            return asdict(index.stats())
        except NewsragError as exc:
            raise from_newsrag(exc) from exc


def health_router(service: Service) -> APIRouter:
    """/healthz: open to all, says nothing of the index but that it answers."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=HealthOut, responses={503: ERRORS[503]})
    def healthz() -> dict[str, str]:
        try:
            service.assistant.index.store.counts()
        except NewsragError as exc:
            raise from_newsrag(exc) from exc
        return {"status": "ok"}

    return router
