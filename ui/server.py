"""One server on one port: the HTTP API (REST and OpenAI-compatible) with the chat page mounted
on it, over one Assistant, one writer of uploads and one set of logins.

>>> from assistant import Assistant
>>> from ui.server import ServerOptions, serve
>>> serve(Assistant.open("./idx"), ServerOptions(api_keys=("sk-local-1",)))  # :7860
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import Assistant
from assistant.uploads import UploadLimits, Uploads
from index.config import Settings
from ui.api_models import error_body
from ui.http_api import ApiError, Service, health_router, rest_router
from ui.openai_api import openai_router

log = logging.getLogger("uvicorn.error")  # uvicorn gives it a handler; keys are masked there
API_PREFIXES = ("/api/", "/v1/", "/healthz")
JSON_BODY_BYTES = 1_000_000  # a question, its history and its filters fit many times over
WRITE_WAIT_SECONDS = 30.0  # the page's and the API's writers queue behind each other this long


@dataclass(frozen=True)
class ServerOptions:
    """How the server listens and whom it lets in.

    ``api_keys``: Bearer keys for /api and /v1 (none: the API is open, or, with ``users``,
    takes their logins by HTTP Basic). ``users``: the page's logins (``--auth``).
    ``allow_private``: the page's Add URL box may fetch private and loopback addresses.
    ``body_seconds``: the most a client may pause while sending a request body;
    ``send_seconds``: the most it may stall reading a response, before it is cut off.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    api_keys: tuple[str, ...] = ()
    users: tuple[tuple[str, str], ...] = ()
    examples: tuple[str, ...] | None = None
    page: bool = True
    limits: UploadLimits = field(default_factory=UploadLimits)
    body_seconds: float = 30.0
    send_seconds: float = 60.0
    allow_private: bool = False


def server_settings(settings: Settings) -> Settings:
    """``settings`` for a server: its writers (page and API) wait for each other's lock."""
    return settings.replace(lock_wait=max(settings.lock_wait, WRITE_WAIT_SECONDS))


def mask(secret: str) -> str:
    """How a key appears in logs: its first four characters at most ("sk-l…")."""
    return secret[:4] + "…" if len(secret) >= 12 else "…"


class MaskSecrets(logging.Filter):
    """Replaces every configured key and password in a log line with its mask."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, mask(secret))
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_masking(secrets: Sequence[str]) -> MaskSecrets:
    """Mask ``secrets`` in everything the root, uvicorn and newsrag loggers' handlers write."""
    masking = MaskSecrets(secrets)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "newsrag", "gradio"):
        logger = logging.getLogger(name)
        logger.addFilter(masking)
        for handler in logger.handlers:
            handler.addFilter(masking)
    return masking


class Guard:
    """ASGI middleware for the API's paths: a body over its limit gets 413 (uploads may carry
    ``upload_bytes``, other requests JSON_BODY_BYTES); a client that pauses over
    ``body_seconds`` while sending its request gets 408, and one that stops reading a response
    for ``send_seconds`` is cut off, so neither holds a worker."""

    def __init__(
        self, app: ASGIApp, upload_bytes: int, body_seconds: float, send_seconds: float
    ) -> None:
        self.app, self.upload_bytes = app, upload_bytes
        self.body_seconds, self.send_seconds = body_seconds, send_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/api/articles"
        limit = self.upload_bytes if upload else JSON_BODY_BYTES
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0

        async def timed_receive() -> Message:
            nonlocal received
            try:
                with anyio.fail_after(self.body_seconds):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408,
                    f"The request body stalled for over {self.body_seconds:g} s — send it "
                    "without pauses.",
                ) from None
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, too_large_message(limit))
            return message

        async def timed_send(message: Message) -> None:
            with anyio.fail_after(self.send_seconds):
                await send(message)

        try:
            await self.app(scope, timed_receive, timed_send)
        except TimeoutError:
            log.warning(
                "%s %s: the client stopped reading; cut off", scope["method"], scope["path"]
            )


def too_large_message(limit: int) -> str:
    return (
        f"The request is too large (over {limit / 1_000_000:g} MB) — send fewer or smaller "
        "files, or a shorter body."
    )


def too_large(limit: int) -> JSONResponse:
    body = error_body(too_large_message(limit), "invalid_request_error", None, "too_large")
    return JSONResponse(body, status_code=413)


def build_server(assistant: Assistant, options: ServerOptions | None = None) -> FastAPI:
    """The FastAPI app: /api, /v1, /healthz, /docs and /openapi.json, and the chat page at /
    (unless ``options.page`` is False), all over ``assistant``."""
    options = options or ServerOptions()
    service = Service(
        assistant, Uploads(assistant.index, options.limits), options.api_keys, options.users
    )
    app = FastAPI(
        title="newsrag",
        summary="Cited answers over news articles: REST and OpenAI-compatible chat.",
        version=_version(),
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(
        Guard,
        upload_bytes=options.limits.max_request_bytes,
        body_seconds=options.body_seconds,
        send_seconds=options.send_seconds,
    )
    add_error_handlers(app)
    app.include_router(health_router(service))
    app.include_router(rest_router(service))
    app.include_router(openai_router(service))
    add_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if options.page:
        import gradio as gr

        from ui.app import PAGE_CSS, build_app

        examples = list(options.examples) if options.examples is not None else None
        page = build_app(
            assistant,
            examples,
            private=bool(options.users),
            allow_private=options.allow_private,
        )
        app = gr.mount_gradio_app(
            app,
            page,
            path="/",
            auth=list(options.users) or None,
            css=PAGE_CSS,
            show_error=True,
            max_file_size=options.limits.max_file_bytes,
        )
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Every error of the API as OpenAI's error object."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        param = problems[0][0] if problems else None
        text = "; ".join(f"{where}: {what}" if where else what for where, what in problems)
        body = error_body(f"Invalid request — {text}.", "invalid_request_error", param, None)
        return JSONResponse(body, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return JSONResponse(
            error_body(message, kind, None, None),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def _problem(error: Any) -> tuple[str, str]:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return where, str(error.get("msg", "invalid"))


def add_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from the files of the fastapi-offline package, never from a CDN."""
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="newsrag API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, without the 422 responses it adds by itself: invalid requests get 400
    with OpenAI's error object."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        app.openapi_schema = schema
    return app.openapi_schema


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsrag")
    except PackageNotFoundError:
        return "0"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(assistant: Assistant, options: ServerOptions | None = None) -> None:
    """Serve :func:`build_server` at http://host:port until interrupted."""
    import uvicorn

    options = options or ServerOptions()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = build_server(assistant, options)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
        limit_concurrency=256,
        log_level="info",
    )
    install_masking([*options.api_keys, *(p for _, p in options.users)])
    keys = ", ".join(mask(k) for k in options.api_keys) or "none"
    log.info(
        "newsrag serving http://%s:%d (page %s; API keys: %s)",
        options.host,
        options.port,
        "on" if options.page else "off",
        keys,
    )
    uvicorn.Server(config).run()
