"""What ``newsrag ask`` and ``search`` print: each passage opens where it bears on the answer
or the question."""

from assistant.console import PASSAGE_LINES, excerpt, format_answer, format_hits
from assistant.records import Answer, Citation
from index.records import Chunk, Hit

LEAD = " ".join(f"Delegates met in room {n} to discuss the agenda." for n in range(1, 16))
QUOTED = "Rutte warned that a European army would duplicate NATO's command structures."
PASSAGE = f"{LEAD}\n\n{QUOTED} He urged a stronger European pillar instead."


def citation(n: int, passage: str) -> Citation:
    return Citation(n, f"a{n}", f"Title {n}", "Test Wire", "2026-01-14", None, passage, 0, 99)


def shown(text: str, answer: str, width: int = 100) -> str:
    return format_answer(Answer("q", answer, False, (citation(1, text),)), width)


def test_a_passage_quoted_past_its_first_lines_is_shown_from_the_quote() -> None:
    out = shown(PASSAGE, f"{QUOTED} [1]")
    body = out.split("[1] Title 1")[1]
    assert "… " in body and "European army would duplicate NATO" in " ".join(body.split())
    assert "room 1 " not in body  # the passage's start is skipped to bring the quote into view
    assert len(body.strip().splitlines()) <= PASSAGE_LINES + 1


def test_a_passage_quoted_near_its_start_is_shown_from_its_start() -> None:
    text = f"{QUOTED} {LEAD}"
    out = shown(text, f"{QUOTED} [1]")
    assert "[1] Title 1 — Test Wire, 2026-01-14\n    Rutte warned" in out


def test_a_paraphrase_is_shown_from_the_sentence_sharing_most_of_its_words() -> None:
    claim = "NATO chief Rutte warned a European army duplicates structures."
    view = shown(PASSAGE, f"{claim} [1]").split("[1] Title 1")[1]
    assert "… " in view and "European army would duplicate" in " ".join(view.split())
    start = PASSAGE.index(QUOTED)
    assert excerpt(PASSAGE, [(start, start + len(QUOTED))], 200).index(QUOTED) < 200


def test_related_passages_and_uncited_text_keep_the_passage_start() -> None:
    assert excerpt(PASSAGE, [], 200) == PASSAGE
    assert "room 1 " in shown(PASSAGE, "Something the passage never says. [1]")


def test_search_hits_and_related_passages_open_at_the_sentence_matching_the_question() -> None:
    chunk = Chunk("a1:0", "a1", 0, 0, len(PASSAGE), PASSAGE, "Title 1", "Test Wire", None, None)
    shown_hit = format_hits([Hit(chunk, 0.5, 1)], query="Which army would duplicate NATO?")
    assert "… " in shown_hit and "European army would duplicate" in " ".join(shown_hit.split())
    assert "room 1 " not in format_hits([Hit(chunk, 0.5, 1)], query="European army")
    assert "room 1 " in format_hits([Hit(chunk, 0.5, 1)])  # no query: from the start
    refusal = Answer(
        "Who warned of a European army?", "No answer.", True, related=(citation(1, PASSAGE),)
    )
    assert "European army would duplicate" in " ".join(format_answer(refusal).split())


def test_repl_commands_are_not_questions() -> None:
    from assistant.console import repl_command, repl_help

    assert [repl_command(x) for x in (":help", ":HELP", ":new", ":q", ":quit", ":exit")] == [
        "help",
        "help",
        "new",
        "quit",
        "quit",
        "quit",
    ]
    assert repl_command(":sources") == "Unknown command :sources — type :help for the list."
    assert repl_command("What about the Arctic?") is None and repl_command("") is None
    assert repl_help().splitlines()[:4] == [
        "Commands:",
        "  :help   this list",
        "  :new    start a new conversation: follow-ups forget the questions before",
        "  :quit   leave (also :q, :exit or Ctrl-D)",
    ]


def test_counts_read_as_words_in_the_singular_too() -> None:
    from assistant.console import plural, repl_banner

    assert [plural(1, "chunk"), plural(2, "chunk"), plural(0, "article")] == [
        "1 chunk",
        "2 chunks",
        "0 articles",
    ]
    assert repl_banner(1, "/idx").startswith("newsrag repl over /idx (1 article). ")
    assert repl_banner(16, "/idx").endswith("Type :help for commands.")
