"""Records of an evaluation run — one result per question and the report over them — and their
JSON and table renderings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.records import Answer
from eval.qa import QAItem

# (key in to_dict, label in the table, digits shown); the order is the table's.
HEADLINE: tuple[tuple[str, str, int], ...] = (
    ("hit@1", "hit@1", 4),
    ("hit@5", "hit@5", 4),
    ("hit@10", "hit@10", 4),
    ("mrr@10", "MRR@10", 4),
    ("answer_recall", "answer recall", 4),
    ("evidence_cited", "evidence cited", 4),
    ("evidence_all_cited", "evidence all cited", 4),
    ("choice_accuracy", "choice accuracy", 4),
    ("refusal_accuracy", "refusal accuracy", 4),
    ("false_refusal_rate", "false refusal rate", 4),
    ("citation_validity", "citation validity", 4),
    ("mean_answer_words", "mean answer words", 1),
    ("p50_ms", "p50 latency (ms)", 1),
    ("p95_ms", "p95 latency (ms)", 1),
)


# what each group of ``newsrag eval --by`` reports: its counts and metrics
GROUP_KEYS = (
    "n",
    "n_answerable",
    "n_unanswerable",
    "n_with_choices",
    *(key for key, _, _ in HEADLINE),
)
# the columns of the groups' table: (key, header)
GROUP_COLUMNS = (
    ("n", "n"),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("mrr@10", "MRR@10"),
    ("answer_recall", "recall"),
    ("choice_accuracy", "choice"),
    ("refusal_accuracy", "refusal"),
)


@dataclass(frozen=True)
class QuestionResult:
    """How the assistant did on one question. Scores that do not apply to it are None."""

    item: QAItem
    answer: Answer
    ms: float
    first_relevant_rank: int | None = None
    answer_hit: bool | None = None
    evidence_cited: bool | None = None  # a citation's passage holds the evidence or gold answer
    evidence_all_cited: bool | None = None  # every evidence span is in the answer or a citation
    chosen_choice: str | None = None
    correct_choice: bool | None = None
    invalid_citations: tuple[int, ...] = ()  # the [n] whose passage is not the article's text

    def to_dict(self) -> dict[str, Any]:
        """One entry of the report's ``results``."""
        return {
            "id": self.item.id,
            "question": self.item.question,
            "answer": self.answer.answer,
            "refused": self.answer.refused,
            "citations": [c.to_dict() for c in self.answer.citations],
            "answerable": self.item.answerable,
            "gold": list(self.item.gold),
            "first_relevant_rank": self.first_relevant_rank,
            "answer_hit": self.answer_hit,
            "evidence_cited": self.evidence_cited,
            "evidence_all_cited": self.evidence_all_cited,
            "chosen_choice": self.chosen_choice,
            "correct_choice": self.correct_choice,
            "invalid_citations": list(self.invalid_citations),
            "ms": round(self.ms, 1),
            "notices": list(self.answer.notices),
        }


@dataclass(frozen=True)
class EvalReport:
    """Scores of an assistant on a Q&A set; a metric with nothing to average over is None.

    >>> report = run_eval(Assistant.open("./idx"), load_qa("eval/sample_qa.jsonl"))
    >>> report.to_dict()["hit@5"], report.choice_accuracy
    """

    n: int
    n_answerable: int
    n_unanswerable: int
    n_with_choices: int
    choices_given: bool  # the items' options went to the assistant (no ``newsrag eval --open``)
    k: int
    index: str
    embedding_model: str
    hit_at_1: float | None
    hit_at_5: float | None
    hit_at_10: float | None
    mrr_at_10: float | None
    answer_recall: float | None
    evidence_cited: float | None
    evidence_all_cited: float | None
    choice_accuracy: float | None
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    citation_validity: float | None
    mean_answer_words: float | None
    p50_ms: float | None
    p95_ms: float | None
    results: tuple[QuestionResult, ...] = ()
    by: str | None = None  # the Q&A field the questions are grouped by (``newsrag eval --by``)
    groups: tuple[tuple[str, EvalReport], ...] = ()  # (the field's value, its questions' report)

    def to_dict(self) -> dict[str, Any]:
        """The ``newsrag eval --json`` object: counts, settings, metrics, with ``--by`` the field
        and each group's counts and metrics, then ``results``."""
        data = self._summary()
        if self.by is not None:
            data["by"] = self.by
            data["groups"] = {
                value: {k: v for k, v in group._summary().items() if k in GROUP_KEYS}
                for value, group in self.groups
            }
        data["results"] = [r.to_dict() for r in self.results]
        return data

    def _summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_answerable": self.n_answerable,
            "n_unanswerable": self.n_unanswerable,
            "n_with_choices": self.n_with_choices,
            "choices_given": self.choices_given,
            "k": self.k,
            "index": self.index,
            "embedding_model": self.embedding_model,
            "hit@1": self.hit_at_1,
            "hit@5": self.hit_at_5,
            "hit@10": self.hit_at_10,
            "mrr@10": self.mrr_at_10,
            "answer_recall": self.answer_recall,
            "evidence_cited": self.evidence_cited,
            "evidence_all_cited": self.evidence_all_cited,
            "choice_accuracy": self.choice_accuracy,
            "refusal_accuracy": self.refusal_accuracy,
            "false_refusal_rate": self.false_refusal_rate,
            "citation_validity": self.citation_validity,
            "mean_answer_words": self.mean_answer_words,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
        }


def format_table(report: EvalReport) -> str:
    """The headline metrics, one per line with values aligned; "n/a" where a metric is None."""
    data = report.to_dict()
    given = "given to the assistant" if report.choices_given else "not given: open answers"
    counts = (
        f"{report.n} ({report.n_answerable} answerable, {report.n_unanswerable} "
        f"unanswerable, {report.n_with_choices} with choices, {given})"
    )
    rows = [
        ("questions", counts),
        ("index", report.index),
        ("embedding model", f"{report.embedding_model} (k={report.k})"),
    ]
    rows += [(label, _number(data[key], digits)) for key, label, digits in HEADLINE]
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
    if report.by is None:
        return table
    return table + "\n\n" + _groups_table(report.by, data["groups"])


def _groups_table(by: str, groups: dict[str, dict[str, Any]]) -> str:
    """One row per value of ``by``: its question count and headline metrics."""
    first = max([len(by), *(len(value) for value in groups)])
    header = f"{by:<{first}}" + "".join(f"  {title:>7}" for _, title in GROUP_COLUMNS)
    lines = [header, "-" * len(header)]
    for value, metrics in groups.items():
        cells = [
            f"{metrics[key]:>7}" if key == "n" else f"{_number(metrics[key], 3):>7}"
            for key, _ in GROUP_COLUMNS
        ]
        lines.append(f"{value:<{first}}" + "".join(f"  {cell}" for cell in cells))
    return "\n".join(lines)


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def write_report(report: EvalReport, path: str | Path) -> Path:
    """Write ``report.to_dict()`` as indented UTF-8 JSON to ``path`` (making its folder);
    return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return path
