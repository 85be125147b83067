"""Follow-up questions resolved against the conversation, and history files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.followup import Turn, load_history, resolve, turns_from
from index.errors import ConfigError

RUTTE = Turn("What did Rutte say about a European army?", "Rutte warned that ... [1]")


@pytest.mark.parametrize(
    ("question", "resolved"),
    [
        ("What about the Arctic?", "What did Rutte say about the Arctic?"),
        ("And China?", "What did Rutte say about China?"),
        ("how about Iran", "What did Rutte say about Iran?"),
        ("Why does he think that?", "Why does Rutte think that about a European army?"),
        ("What did his critics say?", "What did Rutte's critics say?"),
        ("Who agreed with him on that?", "Who agreed with Rutte on a European army?"),
    ],
)
def test_follow_ups_are_resolved_against_the_last_question(question: str, resolved: str) -> None:
    assert resolve(question, [RUTTE]) == resolved


def test_a_question_that_stands_alone_is_unchanged() -> None:
    question = "How many people have caught measles in Carrow County?"
    assert resolve(question, [RUTTE]) == question
    assert resolve("What about the Arctic?", []) == "What about the Arctic?"


def test_it_takes_the_place_of_the_previous_topic() -> None:
    history = [Turn("How many people have caught measles in the Carrow County outbreak?")]
    assert (
        resolve("What is the county doing about it?", history)
        == "What is the county doing about the Carrow County outbreak?"
    )
    assert resolve("What about Norway?", [Turn("Who won the election in Estmark?")]) == (
        "Who won the election in Norway?"
    )


def test_chains_build_on_what_was_searched_for() -> None:
    first = Turn("What about the Arctic?", "", resolved="What did Rutte say about the Arctic?")
    assert resolve("Why does he think that?", [RUTTE, first]) == (
        "Why does Rutte think that about the Arctic?"
    )


def test_turns_from_ask_json_and_chat_messages() -> None:
    asked = [{"question": "Q1", "answer": "A1", "refused": False, "citations": []}]
    assert turns_from(asked) == [Turn("Q1", "A1")]
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}]},
        {"role": "user", "content": "Q2"},
    ]
    assert turns_from(messages) == [Turn("Q1", "A1"), Turn("Q2")]
    with pytest.raises(ConfigError, match="item 1 is neither"):
        turns_from([{"text": "?"}])


def test_load_history_reads_json_lists_and_jsonl(tmp_path: Path) -> None:
    listed = tmp_path / "chat.json"
    listed.write_text(json.dumps([{"role": "user", "content": "Q1"}]), encoding="utf-8")
    assert load_history(listed) == [Turn("Q1")]
    lines = tmp_path / "chat.jsonl"
    lines.write_text(
        json.dumps({"question": "Q1", "answer": "A1", "resolved_question": "Q1"})
        + "\n\n"
        + json.dumps({"question": "Q2", "answer": "A2", "resolved_question": "Q2 full"})
        + "\n",
        encoding="utf-8",
    )
    assert load_history(lines) == [Turn("Q1", "A1", "Q1"), Turn("Q2", "A2", "Q2 full")]
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert load_history(tmp_path / "empty.jsonl") == []


def test_a_bad_history_file_names_the_line_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q1"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: not valid JSON .* each line of a JSONL"):
        load_history(bad)
    with pytest.raises(ConfigError, match="Cannot read the history file"):
        load_history(tmp_path / "missing.jsonl")
