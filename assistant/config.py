"""AssistantSettings: the index's Settings plus how answers are written (the extractive
answerer's threshold and length, an optional LLM). Same NEWSRAG_* variables and flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from index.config import Settings, positive
from index.errors import ConfigError

READERS = ("rules", "learned")


@dataclass(frozen=True)
class AssistantSettings(Settings):
    """Everything configurable in newsrag: :class:`index.config.Settings` and the answer's.

    >>> s = AssistantSettings.from_env({"NEWSRAG_LLM": "ollama:llama3.2", "NEWSRAG_TOP_K": "8"})
    >>> s.llm, s.top_k
    ('ollama:llama3.2', 8)
    """

    min_score: float = 0.30  # the best passage's cosine below which the answer is a refusal
    answer_words: int = 80
    llm: str = ""  # PROVIDER:MODEL for a LangChain chat model; empty = extractive answers only
    llm_base_url: str = ""  # an OpenAI-compatible server (llama.cpp, vLLM, LM Studio)
    # which extractive answerer: "rules" (hand-weighted, the default) or "learned" (the models
    # under models/reader/, trained on 2025; opt-in until it beats the rules: docs/reader.md)
    reader: str = "rules"

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("answer_words", self.answer_words)
        if not -1.0 <= self.min_score <= 1.0:
            raise ConfigError(
                f"min_score={self.min_score} is not a cosine similarity — use a value "
                "between -1 and 1 (default 0.30)."
            )
        if self.reader not in READERS:
            raise ConfigError(
                f"reader={self.reader!r} is not an answerer — use one of {', '.join(READERS)} "
                "(NEWSRAG_READER)."
            )
        if self.llm and ":" not in self.llm:
            raise ConfigError(
                f"llm={self.llm!r} names no provider — use PROVIDER:MODEL, e.g. "
                "openai:gpt-4o-mini or ollama:llama3.2 (NEWSRAG_LLM / --llm)."
            )

    @classmethod
    def of(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> AssistantSettings:
        """``settings`` itself if it already holds the answer settings, else the same index
        settings with the answer settings of the ``NEWSRAG_*`` variables in ``environ``
        (default ``os.environ``), as ``Assistant.open`` reads them."""
        if isinstance(settings, AssistantSettings):
            return settings
        answer = cls.from_env(environ)
        return replace(answer, **{f.name: getattr(settings, f.name) for f in fields(Settings)})
