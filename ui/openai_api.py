"""The OpenAI-compatible routes (/v1/chat/completions, /v1/models), for the chat front ends,
editors and scripts that already speak OpenAI's API.

The last user message is the question; earlier user and assistant messages are the
conversation a follow-up is read against. The reply keeps its ``[n]`` markers; ``citations``
(the ``ask --json`` keys) and ``newsrag`` (the whole ``ask --json`` object) ride along in the
response, or in the last chunk of a stream.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from assistant import Answer, Assistant, NewsragError
from ui.api_models import (
    MAX_QUESTION_CHARS,
    ChatCompletion,
    ChatRequest,
    ModelList,
    error_body,
)
from ui.http_api import ERRORS, ApiError, Service, filters_of, from_newsrag

EXTRACTIVE_MODEL = "newsrag"


def model_ids(service: Service) -> list[str]:
    """The answerers a request may name: ``newsrag`` (extractive), and the configured LLM as
    its answerer name (``llm:PROVIDER:MODEL``)."""
    ids = [EXTRACTIVE_MODEL]
    if service.assistant is not service.extractive:
        ids.append(answerer_name(service.assistant))
    return ids


def answerer_name(assistant: Assistant) -> str:
    """What ``Answer.answerer`` says for the assistant's answers (``llm:PROVIDER:MODEL``)."""
    return str(getattr(assistant.answerer, "name", f"llm:{assistant.settings.llm}"))


def pick_assistant(service: Service, model: str) -> Assistant:
    if model == EXTRACTIVE_MODEL:
        return service.extractive
    if service.assistant is not service.extractive and model == answerer_name(service.assistant):
        return service.assistant
    raise ApiError(
        404,
        f"The model {model!r} does not exist here — use one that GET /v1/models lists: "
        + ", ".join(model_ids(service))
        + ".",
        param="model",
        code="model_not_found",
    )


def conversation(request: ChatRequest) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, from the user) and the messages before it."""
    messages = [m for m in request.messages if m.role in ("user", "assistant")]
    last = messages[-1] if messages else None
    if last is None or last.role != "user" or not last.text().strip():
        raise ApiError(
            400,
            "The last message must be the user's question, with text — end 'messages' with "
            '{"role": "user", "content": "..."}.',
            param="messages",
        )
    question = last.text().strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(
            400,
            f"The question has {len(question)} characters; the limit is {MAX_QUESTION_CHARS} "
            "— ask a shorter question.",
            param="messages",
            code="question_too_long",
        )
    history = [{"role": m.role, "content": m.text()} for m in messages[:-1]]
    return question, history


def completion(answer: Answer, model: str, reply_id: str, created: int) -> dict[str, Any]:
    data = answer.to_dict()
    words_in, words_out = len(answer.question.split()), len(answer.answer.split())
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {  # in words: newsrag's extractive answerer has no tokens
            "prompt_tokens": words_in,
            "completion_tokens": words_out,
            "total_tokens": words_in + words_out,
        },
        "citations": data["citations"],
        "newsrag": data,
    }


def chunk(reply_id: str, created: int, model: str, delta: dict[str, str], **extra: Any) -> str:
    """One server-sent event in OpenAI's ``chat.completion.chunk`` format."""
    body = {
        "id": reply_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": extra.pop("finish", None)}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def openai_router(service: Service) -> APIRouter:
    router = APIRouter(
        prefix="/v1", dependencies=[Depends(service.authorize)], responses=ERRORS, tags=["openai"]
    )

    @router.get("/models", response_model=ModelList)
    def models() -> dict[str, Any]:
        """The answerers available: ``newsrag`` (extractive) and the configured LLM."""
        created = int(time.time())
        cards = [
            {"id": m, "object": "model", "created": created, "owned_by": "newsrag"}
            for m in model_ids(service)
        ]
        return {"object": "list", "data": cards}

    @router.post(
        "/chat/completions",
        response_model=ChatCompletion,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    def chat_completions(request: ChatRequest) -> Any:
        """OpenAI's chat completion: the answer, with ``[n]`` markers and ``citations``;
        ``stream: true`` sends server-sent events ending with ``data: [DONE]``."""
        if request.n not in (None, 1):
            raise ApiError(400, f"n={request.n} is not supported — use n=1.", param="n")
        assistant = pick_assistant(service, request.model)
        question, history = conversation(request)
        filters = filters_of(request)
        options: dict[str, Any] = {
            "mode": request.mode,
            "filters": filters,
            "as_of": request.as_of,
            "history": history,
        }
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not request.stream:
            with service.slot():
                try:
                    answer = assistant.ask(question, request.k, **options)
                except NewsragError as exc:
                    raise from_newsrag(exc) from exc
            return completion(answer, request.model, reply_id, created)
        parts = stream_answer(service, assistant, question, request.k, options)
        first = next(parts)  # errors before the first byte are still an error response
        return StreamingResponse(
            sse(first, parts, reply_id, created, request.model), media_type="text/event-stream"
        )

    return router


def stream_answer(
    service: Service, assistant: Assistant, question: str, k: int | None, options: dict[str, Any]
) -> Iterator[str | Answer]:
    """The answer's pieces, holding an answering slot while it is written; library errors
    become ApiError."""
    with service.slot():
        try:
            yield from assistant.stream(question, k, **options)
        except NewsragError as exc:
            raise from_newsrag(exc) from exc


def sse(
    first: str | Answer, parts: Iterator[str | Answer], reply_id: str, created: int, model: str
) -> Iterator[str]:
    """The events of a streamed reply: the role, the text as it is written, then a last chunk
    with ``finish_reason`` and the citations, and ``data: [DONE]``. An error after the first
    event is sent as an event holding OpenAI's error object."""
    yield chunk(reply_id, created, model, {"role": "assistant", "content": ""})
    streamed = ""
    try:
        for part in _chain(first, parts):
            if isinstance(part, str):
                streamed += part
                yield chunk(reply_id, created, model, {"content": part})
                continue
            if not streamed:  # a refusal or a fallback comes as the Answer alone
                yield chunk(reply_id, created, model, {"content": part.answer})
            elif streamed.strip() != part.answer.strip():  # checking changed it: as the CLI does
                checked = f"\n\nChecked answer: {part.answer}"
                yield chunk(reply_id, created, model, {"content": checked})
            data = part.to_dict()
            yield chunk(
                reply_id,
                created,
                model,
                {},
                finish="stop",
                citations=data["citations"],
                newsrag=data,
            )
    except ApiError as exc:
        body = error_body(exc.message, exc.kind, exc.param, exc.code)
        yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _chain(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest
