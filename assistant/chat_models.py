"""Chat models for LLM answers: any LangChain provider through ``init_chat_model`` (a GGUF file
run offline, ``gguf:PATH``, goes to llama.cpp instead: see assistant.local_models)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from index.errors import ConfigError

LOCAL_PROVIDER = "gguf"
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

    The provider goes to LangChain's ``init_chat_model`` with ``base_url`` (an
    OpenAI-compatible server for ``openai:MODEL``, the Ollama host for ``ollama:MODEL``);
    ``kwargs`` go to the model class.

    >>> model = load_chat_model("openai:qwen2.5-7b", base_url="http://127.0.0.1:8080/v1")
    """
    provider, _, name = spec.partition(":")
    if not provider or not name:
        raise ConfigError(
            f"llm={spec!r} is not PROVIDER:MODEL — use e.g. openai:gpt-4o-mini, "
            "ollama:llama3.2 or gguf:/path/to/model.gguf (NEWSRAG_LLM / --llm)."
        )
    if provider == LOCAL_PROVIDER:
        raise ConfigError(
            f"llm={spec!r} is a local GGUF model, run by llama.cpp, not a LangChain chat model "
            "— use assistant.local_models.load_local_model (Assistant does so for --llm gguf:…)."
        )
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
