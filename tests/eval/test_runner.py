import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.records import Answer, Citation
from eval import EvalReport, format_table, run_eval, write_report
from eval import runner as runner_module
from eval.qa import QAItem
from index.config import Settings
from index.errors import ArticleNotFoundError, ConfigError
from index.records import Article, Chunk, Hit

REFUSAL = "I could not find an answer to that in the indexed articles."

NATO = Article(
    "nato",
    "Rutte warns MEPs",
    "Rutte said Russia remains the most significant threat facing the alliance. "
    "Turning to the Middle East, Rutte called the situation in Iran repellent.",
)
LOTTO = Article(
    "lotto",
    "Syndicate wins jackpot",
    "Ticket sales rose as the jackpot rolled over eleven times. "
    "A syndicate of nurses won the draw.",
)
NORVIK = Article("norvik", "Norvik plant", "Norvik will build a chip plant in Eskerhavn.")
FILLER = Article("filler", "Weather", " ".join(f"Day {i} was mild." for i in range(10)))


def chunk(article: Article, sentence: str, shift: int = 0) -> Chunk:
    """The chunk of ``article`` holding ``sentence``; ``shift`` breaks its offsets on purpose."""
    start = article.text.index(sentence) + shift
    return Chunk(
        f"{article.id}:{start}",
        article.id,
        0,
        start,
        start + len(sentence),
        sentence,
        article.title,
    )


RUSSIA = chunk(NATO, "Rutte said Russia remains the most significant threat facing the alliance.")
IRAN = chunk(NATO, "Turning to the Middle East, Rutte called the situation in Iran repellent.")
ELEVEN = chunk(LOTTO, "Ticket sales rose as the jackpot rolled over eleven times.")
SYNDICATE_BAD = chunk(LOTTO, "A syndicate of nurses won the draw.", shift=1)
PLANT = chunk(NORVIK, "Norvik will build a chip plant in Eskerhavn.")
FILLERS = [chunk(FILLER, f"Day {i} was mild.") for i in range(10)]


def ranking(relevant: Chunk, rank: int, first: Chunk | None = None) -> list[Chunk]:
    """Ten fillers with ``relevant`` at 1-based ``rank`` and optionally ``first`` at rank 1."""
    chunks = FILLERS[:9] if first is None else [first, *FILLERS[:9]]
    chunks.insert(rank - 1, relevant)
    return chunks


@dataclass(frozen=True)
class Script:
    """What the fake returns for one question: its passages, best first, and its answer
    (None refuses) citing ``cite`` (0-based positions among the passages it was given); given
    the choices, it picks ``pick``."""

    passages: list[Chunk]
    answer: str | None
    cite: tuple[int, ...] = ()
    pick: str | None = None


class FakeIndex:
    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = {a.id: a for a in articles}
        self.embedder = SimpleNamespace(name="fake-embedder-8")
        self.fetched: Counter[str] = Counter()

    def article(self, article_id: str) -> Article:
        self.fetched[article_id] += 1
        if article_id not in self.articles:
            raise ArticleNotFoundError(f"No article with id {article_id!r}")
        return self.articles[article_id]


class FakeAssistant:
    """Retrieves and answers from a script, recording how it was called."""

    def __init__(
        self,
        scripts: dict[str, Script],
        top_k: int = 2,
        articles: Sequence[Article] = (NATO, LOTTO, NORVIK, FILLER),
    ) -> None:
        self.settings = Settings(index_dir=Path("/tmp/fake-idx"), top_k=top_k)
        self.index = FakeIndex(articles)
        self.scripts = scripts
        self.retrieve_k: list[int | None] = []
        self.answered_from: list[int] = []
        self.choices: list[tuple[str, ...]] = []
        self.as_of: list[str | None] = []

    def retrieve(
        self, query: str, k: int | None = None, *, mode: str | None = None, as_of: str | None = None
    ) -> list[Hit]:
        self.retrieve_k.append(k)
        self.as_of.append(as_of)
        passages = self.scripts[query].passages[:k]
        return [Hit(c, 0.9 - rank / 100, rank) for rank, c in enumerate(passages, start=1)]

    def answer_from(
        self, question: str, hits: Sequence[Hit], choices: Sequence[str] = ()
    ) -> Answer:
        self.answered_from.append(len(hits))
        self.choices.append(tuple(choices))
        script = self.scripts[question]
        if script.answer is None:
            return Answer(question, REFUSAL, True)
        citations = tuple(Citation.from_hit(n, hits[i]) for n, i in enumerate(script.cite, 1))
        pick = script.pick if choices else None
        return Answer(question, script.answer, False, citations, choice=pick)


class FakeClock:
    """perf_counter for the runner: each question takes 10 ms more than the one before."""

    def __init__(self) -> None:
        self.calls = 0

    def perf_counter(self) -> float:
        self.calls += 1
        question, is_end = divmod(self.calls - 1, 2)
        return 100.0 + question + (0.010 * (question + 1) if is_end else 0.0)


ITEMS = [
    QAItem(
        "q1",
        "Who threatens NATO most?",
        answer="Russia",
        choices=("Russia", "China", "Iran"),
        evidence=("Russia remains the most significant threat",),
    ),
    QAItem(
        "q2",
        "How did Rutte describe Iran?",
        answer="repellent",
        choices=("repellent", "encouraging"),
    ),
    QAItem(
        "q3",
        "How often did the jackpot roll over?",
        answer="eleven times",
        evidence=("rolled over eleven times",),
    ),
    QAItem("q4", "What did Rutte say about Taiwan?", answerable=False),
    QAItem("q5", "How much did Norvik\u2019s plant cost?", answerable=False),
]
SCRIPTS = {
    # evidence at rank 2; answered right, naming Russia twice and China once
    "Who threatens NATO most?": Script(
        ranking(RUSSIA, 2),
        "Russia, not China: Rutte said Russia remains the most "
        "significant threat facing the alliance [1].",
        cite=(1,),
    ),
    # gold answer at rank 1, but the answerer refuses
    "How did Rutte describe Iran?": Script(ranking(IRAN, 1), None),
    # evidence at rank 7 of 11; the answer misses it and cites a passage with broken offsets
    "How often did the jackpot roll over?": Script(
        ranking(ELEVEN, 7, first=SYNDICATE_BAD),
        "A syndicate of nurses won the draw [1][2].",
        cite=(0, 1),
    ),
    # unanswerable and refused
    "What did Rutte say about Taiwan?": Script(ranking(IRAN, 1), None),
    # unanswerable but answered anyway
    "How much did Norvik\u2019s plant cost?": Script(
        ranking(PLANT, 1), "Norvik will build a chip plant in Eskerhavn [1].", cite=(0,)
    ),
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(runner_module, "time", fake)
    return fake


@pytest.fixture
def report(clock: FakeClock) -> EvalReport:
    return run_eval(FakeAssistant(SCRIPTS), ITEMS)


def test_counts_and_settings(report: EvalReport) -> None:
    data = report.to_dict()

    assert (data["n"], data["n_answerable"], data["n_unanswerable"], data["n_with_choices"]) == (
        5,
        3,
        2,
        2,
    )
    assert (data["k"], data["index"], data["embedding_model"]) == (
        2,
        "/tmp/fake-idx",
        "fake-embedder-8",
    )


def test_retrieval_metrics_cover_answerable_questions_with_gold(report: EvalReport) -> None:
    data = report.to_dict()

    assert [r["first_relevant_rank"] for r in data["results"]] == [2, 1, 7, None, None]
    assert data["hit@1"] == 0.3333  # ranks 2, 1, 7
    assert data["hit@5"] == 0.6667
    assert data["hit@10"] == 1.0
    assert data["mrr@10"] == round((1 / 2 + 1 + 1 / 7) / 3, 4) == 0.5476


def test_answer_choice_and_refusal_metrics(report: EvalReport) -> None:
    data = report.to_dict()
    results = {r["id"]: r for r in data["results"]}

    assert [results[q]["answer_hit"] for q in ("q1", "q2", "q3", "q4")] == [
        True,
        False,
        False,
        None,
    ]
    assert data["answer_recall"] == 0.3333
    # only q1 cites a passage holding its evidence (q4 is unanswerable: not scored)
    assert [results[q]["evidence_cited"] for q in ("q1", "q2", "q3", "q4")] == [
        True,
        False,
        False,
        None,
    ]
    assert data["evidence_cited"] == 0.3333
    # every evidence span in the answer or a cited passage: q1 only
    assert [results[q]["evidence_all_cited"] for q in ("q1", "q2", "q3", "q4")] == [
        True,
        False,
        False,
        None,
    ]
    assert data["evidence_all_cited"] == 0.3333
    assert (results["q1"]["chosen_choice"], results["q1"]["correct_choice"]) == ("Russia", True)
    assert (results["q2"]["chosen_choice"], results["q2"]["correct_choice"]) == (None, False)
    assert results["q3"]["correct_choice"] is None
    assert data["choice_accuracy"] == 0.5  # the refusal of q2 counts as wrong
    assert data["refusal_accuracy"] == 0.5  # q4 refused, q5 answered
    assert data["false_refusal_rate"] == 0.3333  # q2 of q1-q3


def test_choices_go_to_the_assistant_unless_answers_are_open(clock: FakeClock) -> None:
    given, open_ = FakeAssistant(SCRIPTS), FakeAssistant(SCRIPTS)

    with_choices = run_eval(given, ITEMS).to_dict()
    without = run_eval(open_, ITEMS, choices=False).to_dict()

    assert given.choices == [("Russia", "China", "Iran"), ("repellent", "encouraging"), (), (), ()]
    assert open_.choices == [()] * 5
    assert (with_choices["choices_given"], without["choices_given"]) == (True, False)
    assert "not given: open answers)" in format_table(run_eval(open_, ITEMS, choices=False))


def test_the_assistants_pick_is_its_choice_over_what_the_text_names(clock: FakeClock) -> None:
    # the answer names Russia twice, but the assistant picked China
    scripts = {**SCRIPTS, ITEMS[0].question: replace(SCRIPTS[ITEMS[0].question], pick="China")}

    picked = run_eval(FakeAssistant(scripts), ITEMS[:1]).to_dict()
    read = run_eval(FakeAssistant(scripts), ITEMS[:1], choices=False).to_dict()

    assert (picked["results"][0]["chosen_choice"], picked["choice_accuracy"]) == ("China", 0.0)
    assert (read["results"][0]["chosen_choice"], read["choice_accuracy"]) == ("Russia", 1.0)


def test_citation_validity_checks_every_citation_and_fetches_articles_once(
    clock: FakeClock,
) -> None:
    assistant = FakeAssistant(SCRIPTS)

    data = run_eval(assistant, ITEMS).to_dict()

    assert [r["invalid_citations"] for r in data["results"]] == [[], [], [1], [], []]
    assert data["citation_validity"] == 0.75  # 4 citations, the shifted one is invalid
    assert assistant.index.fetched == Counter({"nato": 1, "lotto": 1, "filler": 1, "norvik": 1})


def test_a_citation_of_a_missing_article_is_invalid(clock: FakeClock) -> None:
    assistant = FakeAssistant(SCRIPTS, articles=(LOTTO, FILLER))

    data = run_eval(assistant, ITEMS).to_dict()

    assert data["citation_validity"] == 0.25
    assert [r["invalid_citations"] for r in data["results"]] == [[1], [], [1], [], [1]]


def test_answer_words_and_latency(report: EvalReport) -> None:
    data = report.to_dict()

    assert data["mean_answer_words"] == round((14 + 7 + 8) / 3, 4) == 9.6667
    assert [r["ms"] for r in data["results"]] == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert (data["p50_ms"], data["p95_ms"]) == (30.0, 48.0)


def test_results_carry_the_answer_json(report: EvalReport) -> None:
    first = report.to_dict()["results"][0]

    assert first["id"] == "q1"
    assert first["question"] == "Who threatens NATO most?"
    assert first["answer"].startswith("Russia, not China")
    assert first["refused"] is False
    assert first["answerable"] is True
    assert first["citations"] == [Citation.from_hit(1, Hit(RUSSIA, 0.88, 2)).to_dict()]


def test_retrieves_once_ten_deep_and_answers_from_top_k(clock: FakeClock) -> None:
    assistant = FakeAssistant(SCRIPTS, top_k=3)
    advanced: list[int] = []

    def progress(total: int) -> runner_module.Progress:
        advanced.append(total)
        return advanced.append

    data = run_eval(assistant, ITEMS, progress=progress).to_dict()

    assert assistant.retrieve_k == [10] * 5
    assert assistant.answered_from == [3] * 5
    assert data["k"] == 3
    assert advanced == [5, 1, 1, 1, 1, 1]


def test_k_overrides_top_k_and_deepens_retrieval_past_ten(clock: FakeClock) -> None:
    assistant = FakeAssistant(SCRIPTS)

    run_eval(assistant, ITEMS[2:3], k=12)  # q3 has 11 passages

    assert (assistant.retrieve_k, assistant.answered_from) == ([12], [11])


def test_k_below_one_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        run_eval(FakeAssistant(SCRIPTS), ITEMS, k=0)

    assert str(info.value) == "k=0 passages cannot answer a question — use k of at least 1."


def test_metrics_with_nothing_to_average_are_null(clock: FakeClock) -> None:
    only_unanswerable = [replace(ITEMS[3], choices=())]

    data = run_eval(FakeAssistant(SCRIPTS), only_unanswerable).to_dict()

    for key in (
        "hit@1",
        "hit@5",
        "hit@10",
        "mrr@10",
        "answer_recall",
        "evidence_cited",
        "choice_accuracy",
        "false_refusal_rate",
        "citation_validity",
        "mean_answer_words",
    ):
        assert data[key] is None, key
    assert data["refusal_accuracy"] == 1.0
    assert run_eval(FakeAssistant(SCRIPTS), []).to_dict()["p50_ms"] is None


def test_to_dict_has_every_documented_key(report: EvalReport) -> None:
    data = report.to_dict()

    assert set(data) == {
        "n",
        "n_answerable",
        "n_unanswerable",
        "n_with_choices",
        "choices_given",
        "k",
        "index",
        "embedding_model",
        "hit@1",
        "hit@5",
        "hit@10",
        "mrr@10",
        "answer_recall",
        "evidence_cited",
        "evidence_all_cited",
        "choice_accuracy",
        "refusal_accuracy",
        "false_refusal_rate",
        "citation_validity",
        "mean_answer_words",
        "p50_ms",
        "p95_ms",
        "results",
    }
    assert set(data["results"][0]) >= {
        "id",
        "question",
        "answer",
        "refused",
        "citations",
        "first_relevant_rank",
        "answerable",
        "chosen_choice",
        "correct_choice",
        "answer_hit",
        "evidence_cited",
        "ms",
        "notices",
    }


def test_format_table_aligns_one_metric_per_line(report: EvalReport) -> None:
    lines = format_table(report).splitlines()

    assert lines[0] == (
        "questions           5 (3 answerable, 2 unanswerable, 2 with choices, "
        "given to the assistant)"
    )
    assert "hit@5               0.6667" in lines
    assert "MRR@10              0.5476" in lines
    assert "p95 latency (ms)    48.0" in lines
    assert all(line[18:20] == "  " and line[20] != " " for line in lines)  # values in column 20


def test_format_table_shows_null_metrics_as_na(clock: FakeClock) -> None:
    table = format_table(run_eval(FakeAssistant(SCRIPTS), ITEMS[3:4]))

    assert "hit@1               n/a" in table.splitlines()


def test_by_a_field_reports_each_group_of_questions(clock: FakeClock) -> None:
    items = [
        replace(item, labels=(("in_results", flag),))
        for item, flag in zip(ITEMS[:3], ["true", "false", "true"], strict=True)
    ] + ITEMS[3:]
    report = run_eval(FakeAssistant(SCRIPTS), items, by="in_results")
    whole = run_eval(FakeAssistant(SCRIPTS), items)
    assert report.hit_at_5 == whole.hit_at_5 and report.by == "in_results"
    data = report.to_dict()
    assert list(data)[-3:] == ["by", "groups", "results"]  # after the metrics, before results
    assert list(data["groups"]) == ["true", "false", "(none)"]  # first seen; missing last
    true, false, none = (data["groups"][v] for v in ("true", "false", "(none)"))
    assert (true["n"], false["n"], none["n"]) == (2, 1, 2)
    # q1: evidence at rank 2; q3: at rank 7; q2: gold at rank 1
    assert true["hit@1"] == 0.0 and true["hit@5"] == 0.5 and true["hit@10"] == 1.0
    assert false["hit@1"] == 1.0 and false["mrr@10"] == 1.0
    assert none["n_unanswerable"] == 2 and none["refusal_accuracy"] == 0.5
    assert "results" not in true and "index" not in true

    table = format_table(report).split("\n\n")[1].splitlines()
    assert table[0].split() == [
        "in_results",
        "n",
        "hit@1",
        "hit@5",
        "hit@10",
        "MRR@10",
        "recall",
        "choice",
        "refusal",
    ]
    assert table[2].split() == [
        "true",
        "2",
        "0.000",
        "0.500",
        "1.000",
        "0.321",  # (1/2 + 1/7) / 2
        "0.500",
        "1.000",
        "n/a",
    ]
    assert table[4].split()[:3] == ["(none)", "2", "n/a"]


def test_by_a_field_no_question_has_names_the_fields_they_have(clock: FakeClock) -> None:
    items = [replace(ITEMS[0], labels=(("source", "CNN"),), question_date="2026-01-08")]
    with pytest.raises(ConfigError) as err:
        run_eval(FakeAssistant(SCRIPTS), items, by="topic")
    assert str(err.value) == (
        "No question has the field 'topic' to group by — use one of the fields they have: "
        "answerable, question_date, source."
    )
    by_answerable = run_eval(FakeAssistant(SCRIPTS), ITEMS, by="answerable").to_dict()
    assert {v: g["n"] for v, g in by_answerable["groups"].items()} == {"true": 3, "false": 2}


def test_write_report_writes_utf8_json(report: EvalReport, tmp_path: Path) -> None:
    path = write_report(report, tmp_path / "out" / "report.json")

    text = path.read_text(encoding="utf-8")
    assert "Norvik\u2019s plant" in text
    assert json.loads(text) == report.to_dict()


def test_by_kind_groups_questions_by_the_kind_read_from_their_text(clock: FakeClock) -> None:
    report = run_eval(FakeAssistant(SCRIPTS), ITEMS, by="kind").to_dict()

    # q1/q3/q5 ask for a fact, q2 "how did Rutte describe", q4 what Rutte said
    assert report["by"] == "kind"
    assert {kind: g["n"] for kind, g in report["groups"].items()} == {
        "fact": 3,
        "said": 2,
    }
