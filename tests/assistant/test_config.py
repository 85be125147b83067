"""AssistantSettings: the index's settings plus the answer's, from the same NEWSRAG_* names."""

from pathlib import Path

import pytest

from assistant.config import AssistantSettings
from index.config import Settings
from index.errors import ConfigError
from index.newsindex import NewsIndex


def test_answer_settings_come_from_the_same_environment(tmp_path: Path) -> None:
    s = AssistantSettings.from_env(
        {
            "NEWSRAG_INDEX": str(tmp_path),
            "NEWSRAG_TOP_K": "8",
            "NEWSRAG_MIN_SCORE": "0.25",
            "NEWSRAG_ANSWER_WORDS": "40",
            "NEWSRAG_LLM": "ollama:llama3.2",
            "NEWSRAG_LLM_BASE_URL": "http://127.0.0.1:8080/v1",
        }
    )
    assert (s.index_dir, s.top_k, s.min_score, s.answer_words) == (tmp_path, 8, 0.25, 40)
    assert (s.llm, s.llm_base_url) == ("ollama:llama3.2", "http://127.0.0.1:8080/v1")
    assert isinstance(s.replace(top_k=3), AssistantSettings)
    assert s.replace(llm=None).llm == "ollama:llama3.2"  # an unset flag keeps the value


def test_index_settings_get_the_answer_settings_of_the_environment(tmp_path: Path) -> None:
    index_settings = Settings(index_dir=tmp_path, top_k=7)
    s = AssistantSettings.of(index_settings, {"NEWSRAG_TOP_K": "3"})
    assert (s.index_dir, s.top_k, s.min_score, s.answer_words, s.llm) == (
        tmp_path,
        7,
        0.30,
        80,
        "",
    )
    assert AssistantSettings.of(s) is s
    env = {"NEWSRAG_LLM": "ollama:llama3.2", "NEWSRAG_MIN_SCORE": "0.2"}
    from_env = AssistantSettings.of(index_settings, env)  # as Assistant(index) reads them
    assert (from_env.llm, from_env.min_score, from_env.top_k) == ("ollama:llama3.2", 0.2, 7)


def test_bad_answer_settings_name_the_fix() -> None:
    with pytest.raises(ConfigError) as err:
        AssistantSettings(min_score=1.5)
    assert str(err.value) == (
        "min_score=1.5 is not a cosine similarity — use a value between -1 and 1 (default 0.30)."
    )
    with pytest.raises(ConfigError) as err:
        AssistantSettings(llm="gpt-4o-mini")
    assert str(err.value) == (
        "llm='gpt-4o-mini' names no provider — use PROVIDER:MODEL, e.g. openai:gpt-4o-mini or "
        "ollama:llama3.2 (NEWSRAG_LLM / --llm)."
    )
    with pytest.raises(ConfigError, match="answer_words=0 must be at least 1"):
        AssistantSettings(answer_words=0)
    with pytest.raises(ConfigError, match="chunk_overlap=50 must be at least 0"):
        AssistantSettings(chunk_size=40, chunk_overlap=50)  # the index's checks still run
    with pytest.raises(ConfigError) as err:
        AssistantSettings.from_env({"NEWSRAG_READER": "neural"})
    assert str(err.value) == (
        "reader='neural' is not an answerer — use one of rules, learned (NEWSRAG_READER)."
    )


def test_the_reader_setting_picks_the_extractive_answerer(fake_index: NewsIndex) -> None:
    from assistant.answerer import ExtractiveAnswerer
    from assistant.api import Assistant
    from assistant.learned import LearnedAnswerer

    rules = Assistant(fake_index)
    assert type(rules.answerer) is ExtractiveAnswerer
    settings = AssistantSettings.of(fake_index.settings, {"NEWSRAG_READER": "learned"})
    learned = Assistant(NewsIndex(fake_index.store, settings, fake_index.embedder))
    assert type(learned.answerer) is LearnedAnswerer
