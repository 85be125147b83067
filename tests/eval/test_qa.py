import json
from importlib.resources import files
from pathlib import Path

import pytest

from eval.qa import QAFormatError, QAItem, load_qa
from index.errors import NewsragError

REALTIMEQA_DEV = Path(__file__).parents[3] / "shared/data/realtimeqa-2026/questions-dev.jsonl"


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loads_every_field_and_skips_blank_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path,
        json.dumps(
            {
                "id": "q1",
                "question": "Who threatens NATO most?",
                "answer": "Russia",
                "answers": ["the Russian Federation"],
                "evidence": ["Russia remains"],
                "choices": ["Russia", "China"],
                "question_date": "2026-01-16",
            }
        ),
        "",
        json.dumps({"id": 7, "question": "What did Rutte say about Taiwan?", "answerable": False}),
    )

    assert load_qa(path) == [
        QAItem(
            "q1",
            "Who threatens NATO most?",
            answer="Russia",
            answers=("the Russian Federation",),
            evidence=("Russia remains",),
            choices=("Russia", "China"),
            question_date="2026-01-16",
        ),
        QAItem("7", "What did Rutte say about Taiwan?", answerable=False),
    ]


def test_reads_the_realtimeqa_format_and_ignores_extra_keys(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path,
        json.dumps(
            {
                "id": "20260109_1",
                "question": "Where was ousted President Nicolás Maduro captured?",
                "answer": "Venezuela",
                "choices": ["Colombia", "Cuba", "Venezuela", "Nicaragua"],
                "question_date": "2026-01-08",
                "source": "CNN",
                "answer_in_search_results": True,
            },
            ensure_ascii=False,
        ),
    )

    [item] = load_qa(path)

    assert item.answerable
    assert item.correct_choice == "Venezuela"
    assert item.gold == ("Venezuela",)
    assert item.evidence == ()
    # kept as labels, for newsrag eval --by
    assert item.labels == (("source", "CNN"), ("answer_in_search_results", "true"))
    assert item.label("answer_in_search_results") == "true" and item.label("source") == "CNN"
    assert item.label("question_date") == "2026-01-08" and item.label("answerable") == "true"
    assert item.label("topic") is None


def test_labels_are_the_plain_fields_newsrag_does_not_read_itself(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path,
        json.dumps(
            {
                "id": "q",
                "question": "?",
                "answer": "58",
                "week": 3,
                "score": 0.5,
                "hard": False,
                "tags": ["a"],
                "meta": {"x": 1},
                "note": None,
            }
        ),
    )
    [item] = load_qa(path)
    assert item.labels == (("week", "3"), ("score", "0.5"), ("hard", "false"))
    assert item.label("answer") is None  # its own fields are not labels


def test_gold_joins_answer_and_answers_without_repeats() -> None:
    item = QAItem("q", "?", answer="58", answers=("58", "fifty-eight"))

    assert item.gold == ("58", "fifty-eight")


def test_correct_choice_ignores_case_and_accents() -> None:
    item = QAItem("q", "?", answer="zoe brandt", choices=("Rafael Mendes", "Zoë Brandt"))

    assert item.correct_choice == "Zoë Brandt"


def test_the_bundled_sample_set_loads() -> None:
    items = load_qa(Path(str(files("eval") / "sample_qa.jsonl")))

    assert len(items) == 40
    assert sum(not item.answerable for item in items) == 16
    assert all(item.evidence for item in items if item.answerable)
    assert all(item.correct_choice for item in items if item.choices)


@pytest.mark.realdata
@pytest.mark.skipif(not REALTIMEQA_DEV.exists(), reason="realtimeqa-2026 data not present")
def test_the_realtimeqa_dev_set_loads() -> None:
    items = load_qa(REALTIMEQA_DEV)

    assert len(items) == 156
    assert all(item.choices and item.correct_choice == item.answer for item in items)


def test_a_malformed_line_names_file_line_and_fix(tmp_path: Path) -> None:
    path = write_lines(tmp_path, '{"id": "q1", "question": "Who?"}', '{"id": "q2", "question": }')

    with pytest.raises(QAFormatError) as info:
        load_qa(path)

    assert str(info.value) == (
        f"{path}:2: not valid JSON (Expecting value at column 26) — write one JSON object per line."
    )
    assert isinstance(info.value, NewsragError)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('["q1", "Who?"]', "expected a JSON object, got list — write one JSON object per line."),
        ('{"question": "Who?"}', "missing 'id' — give each question a unique string id."),
        ('{"id": "q1"}', "missing 'question' — set 'question' to a non-empty string."),
        (
            '{"id": "q1", "question": "Who?", "answer": 5}',
            "5 is not a usable 'answer' — set 'answer' to a non-empty string.",
        ),
        (
            '{"id": "q1", "question": "Who?", "answers": "Russia"}',
            "'answers' is str, not a list — write it as a list of strings, "
            'e.g. "answers": ["..."].',
        ),
        (
            '{"id": "q1", "question": "Who?", "evidence": ["ok", ""]}',
            "'evidence' has an empty or non-string entry — make every entry a non-empty string.",
        ),
        (
            '{"id": "q1", "question": "Who?", "answerable": "no"}',
            "'answerable' is 'no' — use true or false.",
        ),
        (
            '{"id": "q1", "question": "Who?", "question_date": "8 Jan 2026"}',
            "'question_date' is '8 Jan 2026' — use YYYY-MM-DD.",
        ),
        (
            '{"id": "q1", "question": "Who?", "answer": "Iran", "choices": ["Russia", "China"]}',
            "no gold answer is one of the choices ['Russia', 'China'] — set 'answer' to the right "
            "choice.",
        ),
    ],
)
def test_bad_fields_are_reported_with_their_fix(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(tmp_path, line)

    with pytest.raises(QAFormatError) as info:
        load_qa(path)

    assert str(info.value) == f"{path}:1: {message}"


def test_a_repeated_id_names_both_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path, '{"id": "q1", "question": "Who?"}', "", '{"id": "q1", "question": "When?"}'
    )

    with pytest.raises(QAFormatError) as info:
        load_qa(path)

    assert str(info.value) == (
        f"{path}:3: id 'q1' is already used on line 1 — give every question its own id."
    )


def test_a_missing_or_empty_file_is_an_error(tmp_path: Path) -> None:
    empty = write_lines(tmp_path, "", "  ")

    with pytest.raises(QAFormatError, match=r"^No Q&A file at .*nope\.jsonl — pass the path"):
        load_qa(tmp_path / "nope.jsonl")
    with pytest.raises(QAFormatError) as info:
        load_qa(empty)
    assert str(info.value) == (
        f"{empty} has no questions — write one JSON object per line with 'id' and 'question'."
    )
