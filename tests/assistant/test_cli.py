"""Every ``newsrag`` command, in-process through click (the real model and Chroma), plus one run
of the installed console script."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assistant.cli import main
from index.config import default_encoder
from index.errors import NewsragError
from tests.conftest import RUTTE_QUESTION, SAMPLE_CORPUS, SAMPLE_QA

pytestmark = pytest.mark.integration
CONTRACT_KEYS = ["question", "answer", "refused", "citations"]  # issue 2: never change these
EXTENSION_KEYS = ["related", "notices", "unsupported", "answerer", "resolved_question", "choice"]
CITATION_KEYS = [
    "n",
    "article_id",
    "title",
    "source",
    "published",
    "url",
    "passage",
    "start",
    "end",
]
CITATION_EXTENSION_KEYS = ["quoted"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_reports_counts_and_is_idempotent(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    code, out, _ = run("ingest", str(SAMPLE_CORPUS), "--index", idx, "--quiet")
    assert code == 0
    n = len([p for p in SAMPLE_CORPUS.iterdir() if p.suffix != ".jsonl"]) + 3
    assert out.startswith(f"{n} added, 0 updated, 0 unchanged, 0 skipped")
    code, out, _ = run("ingest", str(SAMPLE_CORPUS), "--index", idx, "--json")
    data = json.loads(out)
    assert code == 0
    assert (
        data["added"],
        data["updated"],
        data["unchanged"],
        data["skipped"],
        data["chunks_written"],
    ) == (0, 0, n, 0, 0)


def test_ingest_skips_bad_input_with_exit_code_3(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("Good headline\n\nThe council approved the budget on Monday.")
    (docs / "empty.txt").write_text("")
    (docs / "mixed.jsonl").write_text('{"id": "j1", "title": "T", "text": "Fine text."}\n{broken\n')
    code, out, err = run("ingest", str(docs), "--index", str(tmp_path / "idx"), "--quiet")
    assert code == 3
    assert out.startswith("2 added, 0 updated, 0 unchanged, 2 skipped")
    assert f"{docs / 'empty.txt'}: file is empty — remove it or add the article text" in err
    assert f"{docs / 'mixed.jsonl'}:2: malformed JSON" in err
    code, out, _ = run("stats", "--index", str(tmp_path / "idx"), "--json")
    assert json.loads(out)["articles"] == 2


def test_ask_json_is_exactly_the_contract(sample_index_dir: Path) -> None:
    code, out, _ = run("ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "-k", "5", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == CONTRACT_KEYS + EXTENSION_KEYS  # the contract first, extensions after
    assert data["question"] == RUTTE_QUESTION and data["refused"] is False
    assert all(list(c) == CITATION_KEYS + CITATION_EXTENSION_KEYS for c in data["citations"])
    flat = " ".join(data["answer"].split())
    for c in data["citations"]:  # the extractive answer quotes each cited sentence verbatim
        assert c["quoted"] and all(
            " ".join(c["passage"][a:b].split()) in flat for a, b in c["quoted"]
        )
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers == {c["n"] for c in data["citations"]}
    assert any("command structures" in c["passage"] for c in data["citations"])
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["published"]) for c in data["citations"])


def test_ask_text_shows_answer_and_sources(sample_index_dir: Path) -> None:
    code, out, _ = run("ask", RUTTE_QUESTION, "--index", str(sample_index_dir))
    assert code == 0
    assert "[1]" in out and "command structures" in out
    assert "\n[1] Rutte tells MEPs" in out or "\n[2] Rutte tells MEPs" in out


def test_ask_refusal_json(sample_index_dir: Path) -> None:
    code, out, _ = run(
        "ask", "What did Rutte say about Taiwan?", "--index", str(sample_index_dir), "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["refused"] is True and data["citations"] == []


HIT_KEYS = [
    "rank",
    "score",
    "relevance",
    "chunk_id",
    "article_id",
    "title",
    "source",
    "published",
    "url",
    "start",
    "end",
    "passage",
]


def test_search_json_in_every_mode(sample_index_dir: Path) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        code, out, _ = run(
            "search",
            RUTTE_QUESTION,
            "--index",
            str(sample_index_dir),
            "--mode",
            mode,
            "--json",
            "--as-of",
            "2026-01-17",
        )
        hits = json.loads(out)
        assert code == 0 and len(hits) == 5
        assert all(list(h) == HIT_KEYS for h in hits)
        assert hits[0]["article_id"] == "harbour-ledger-2026-01-14-rutte-nato"
    code, out, _ = run("search", "European army", "--index", str(sample_index_dir), "-k", "2")
    assert code == 0 and out.startswith("1. ") and "cosine" in out


def test_ask_filters_limit_sources_and_dates(sample_index_dir: Path) -> None:
    idx = str(sample_index_dir)
    code, out, _ = run("ask", RUTTE_QUESTION, "--index", idx, "--source", "Nobody Daily", "--json")
    assert code == 0 and json.loads(out)["refused"] is True
    code, out, _ = run(
        "ask",
        RUTTE_QUESTION,
        "--index",
        idx,
        "--since",
        "2026-01-14",
        "--until",
        "2026-01-14",
        "--json",
    )
    cited = json.loads(out)["citations"]
    assert code == 0 and cited and all(c["published"] == "2026-01-14" for c in cited)


def test_bad_dates_name_the_fix(sample_index_dir: Path) -> None:
    idx = str(sample_index_dir)
    code, _, err = run("ask", "x", "--index", idx, "--as-of", "soonish")
    assert code == 1 and "as_of 'soonish' is not a date — write it as YYYY-MM-DD" in err
    code, _, err = run("ask", "x", "--index", idx, "--since", "2026-02-01", "--until", "2026-01-01")
    assert code == 1 and "since=2026-02-01 is after until=2026-01-01" in err


def test_list_stats_and_delete(tmp_path: Path, sample_index_dir: Path) -> None:
    idx = tmp_path / "copy"
    shutil.copytree(sample_index_dir, idx)
    code, out, _ = run("list", "--index", str(idx), "--json")
    listed = json.loads(out)
    assert code == 0 and listed[0]["published"] >= listed[1]["published"]
    assert set(listed[0]) == {"id", "title", "source", "published", "url", "chunks"}
    code, out, _ = run("stats", "--index", str(idx), "--json")
    stats = json.loads(out)
    assert stats["articles"] == len(listed) and stats["embedding_model"] == "all-MiniLM-L6-v2"
    assert stats["chunks"] == sum(a["chunks"] for a in listed)
    code, out, _ = run("delete", "harbour-ledger-2026-01-14-rutte-nato", "--index", str(idx))
    assert code == 0 and out == "Deleted harbour-ledger-2026-01-14-rutte-nato\n"
    code, out, _ = run("stats", "--index", str(idx), "--json")
    assert json.loads(out)["articles"] == len(listed) - 1
    code, _, err = run("delete", "no-such-id", "--index", str(idx))
    assert code == 1
    assert f"Error: No article with id 'no-such-id' in {idx}" in err


def test_missing_index_and_model_mismatch_exit_1(tmp_path: Path, sample_index_dir: Path) -> None:
    code, _, err = run("ask", "Anything?", "--index", str(tmp_path / "none"))
    assert code == 1
    assert err == (
        f"Error: No index at {tmp_path / 'none'} — run 'newsrag ingest PATH --index "
        f"{tmp_path / 'none'}' first.\n"
    )
    code, _, err = run("stats", "--index", str(sample_index_dir), "--embedding-model", "fake:8")
    assert code == 1
    assert "built with embedding model 'all-MiniLM-L6-v2', but 'fake:8' is configured" in err
    assert "--rebuild" in err


def test_rebuild_switches_the_model(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    assert (
        run(
            "ingest", str(SAMPLE_CORPUS), "--index", idx, "--quiet", "--embedding-model", "fake:32"
        )[0]
        == 0
    )
    code, out, _ = run("ingest", str(SAMPLE_CORPUS), "--index", idx, "--rebuild", "--json")
    assert code == 0 and json.loads(out)["updated"] == 0
    assert json.loads(run("stats", "--index", idx, "--json")[1])["embedding_model"] == (
        "all-MiniLM-L6-v2"
    )


def test_warnings_are_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    model = ("--embedding-model", "fake:16")
    assert run("ingest", str(SAMPLE_CORPUS), "--index", idx, "--quiet", *model)[0] == 0
    code, _, err = run("ingest", str(SAMPLE_CORPUS), "--index", idx, "--encoder", "bf16", *model)
    assert code == 0
    assert err.splitlines()[0] == (
        f"warning: The index at {idx} was built with the {default_encoder()} encoder and keeps it "
        f"(bf16 is configured). To switch, rebuild: newsrag ingest PATH --index {idx} --rebuild "
        "--encoder bf16"
    )
    assert "UserWarning" not in err and "cli.py" not in err


def test_eval_on_the_sample_set(sample_index_dir: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    index = ("--index", str(sample_index_dir))
    code, out, _ = run("eval", str(SAMPLE_QA), *index, "--out", str(out_file), "--by", "answerable")
    assert code == 0
    assert "hit@5" in out
    report = json.loads(out_file.read_text())
    # --by: the answerable questions' retrieval and the unanswerable ones' refusals, apart
    assert report["by"] == "answerable" and list(report["groups"]) == ["true", "false"]
    answerable, unanswerable = report["groups"]["true"], report["groups"]["false"]
    assert (answerable["n"], unanswerable["n"]) == (24, 16)
    assert answerable["hit@5"] == report["hit@5"] and unanswerable["hit@5"] is None
    assert unanswerable["refusal_accuracy"] == report["refusal_accuracy"]
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("answerable "))
    assert lines[header].split()[:3] == ["answerable", "n", "hit@1"]
    assert lines[header + 3].split()[:3] == ["false", "16", "n/a"]
    assert report["citation_validity"] == 1.0
    # quality floors measured on this set (README results table), so regressions show up here
    assert report["hit@5"] >= 0.9 and report["answer_recall"] >= 0.85
    assert report["false_refusal_rate"] <= 0.05 and report["refusal_accuracy"] == 1.0
    assert report["choices_given"] is True and report["choice_accuracy"] >= 0.9
    assert report["n"] == len(report["results"]) == 40
    assert set(report["results"][0]) >= {
        "id",
        "answer",
        "refused",
        "citations",
        "first_relevant_rank",
    }


def test_eval_by_a_field_no_question_has_stops_before_asking(sample_index_dir: Path) -> None:
    code, _, err = run("eval", str(SAMPLE_QA), "--index", str(sample_index_dir), "--by", "topic")
    assert code == 1
    assert err == (
        "Error: No question has the field 'topic' to group by — use one of the fields they "
        "have: answerable, question_date.\n"
    )


def test_console_script_prints_one_json_object(sample_index_dir: Path) -> None:
    exe = shutil.which("newsrag", path=str(Path(sys.executable).parent))
    assert exe, "the newsrag console script is not installed next to this Python"
    proc = subprocess.run(
        [exe, "ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["citations"]


def test_console_script_freezes_the_garbage_collector_around_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import entry_points

    import assistant.cli

    (script,) = entry_points(group="console_scripts", name="newsrag")
    assert script.value == "assistant.cli:run"
    calls: list[str] = []

    def command() -> None:
        calls.append("command")
        raise SystemExit(3)  # click's standalone mode always ends in SystemExit

    monkeypatch.setattr(assistant.cli.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(assistant.cli, "main", command)
    with pytest.raises(SystemExit) as stopped:
        assistant.cli.run()
    assert stopped.value.code == 3
    assert calls == ["freeze", "command", "freeze"]


def test_help_has_examples() -> None:
    for command in ("ingest", "ask", "search", "chat", "eval"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Example:" in out and "--index" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_chat_command_serves_the_ask_api(sample_index_dir: Path) -> None:
    """`newsrag chat` as a user starts it; gradio_client gets the `ask --json` object back."""
    from gradio_client import Client

    exe = shutil.which("newsrag", path=str(Path(sys.executable).parent))
    assert exe
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen(
        [exe, "chat", "--index", str(sample_index_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "newsrag chat did not start in 90 s"
                time.sleep(0.5)
        result = Client(url, verbose=False).predict(question=RUTTE_QUESTION, api_name="/ask")
        assert list(result) == CONTRACT_KEYS + EXTENSION_KEYS
        assert result["refused"] is False and "[1]" in result["answer"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ask_history_file_resolves_a_follow_up(sample_index_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run("ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "--json")
    history = tmp_path / "chat.jsonl"
    history.write_text(json.dumps(json.loads(out)) + "\n", encoding="utf-8")
    code, out, _ = run(
        "ask",
        "What about the Arctic?",
        "--index",
        str(sample_index_dir),
        "--history",
        str(history),
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["question"] == "What about the Arctic?"
    assert data["resolved_question"] == "What did Rutte say about the Arctic?"
    assert "Arctic" in data["answer"] and not data["refused"]
    code, out, _ = run(
        "ask",
        "What about the Arctic?",
        "--index",
        str(sample_index_dir),
        "--history",
        str(history),
    )
    assert out.startswith("(searched for: What did Rutte say about the Arctic?)\n")
    history.write_text("{broken\n", encoding="utf-8")
    code, _, err = run(
        "ask",
        "What about the Arctic?",
        "--index",
        str(sample_index_dir),
        "--history",
        str(history),
    )
    assert code == 1 and "chat.jsonl:1: not valid JSON" in err


def test_refusal_text_lists_related_passages(sample_index_dir: Path) -> None:
    code, out, _ = run("ask", "What did Rutte say about Taiwan?", "--index", str(sample_index_dir))
    assert code == 0
    assert out.startswith("I could not find")
    assert "Related passages (they do not answer the question):\n\n[1] " in out


def test_repl_keeps_the_conversation(sample_index_dir: Path) -> None:
    questions = f"{RUTTE_QUESTION}\nWhat about the Arctic?\n:new\nWhat about the Arctic?\n"
    result = CliRunner().invoke(
        main, ["repl", "--index", str(sample_index_dir), "--json"], input=questions
    )
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["resolved_question"] for a in answers] == [
        RUTTE_QUESTION,
        "What did Rutte say about the Arctic?",
        "What about the Arctic?",  # :new forgot the conversation
    ]


def test_a_failing_llm_falls_back_to_the_extractive_answer(sample_index_dir: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, _ = run(
        "ask",
        RUTTE_QUESTION,
        "--index",
        str(sample_index_dir),
        "--json",
        "--llm",
        "openai:any-model",
        "--llm-base-url",
        f"http://127.0.0.1:{port}/v1",
    )
    data = json.loads(out)
    assert code == 0 and not data["refused"] and data["answerer"] == "extractive"
    assert data["notices"][0].startswith("The language model (openai:any-model) failed: ")
    assert "showing the extractive answer" in data["notices"][0]
    assert "command structures" in data["answer"]


def test_llm_setting_without_provider_names_the_fix(sample_index_dir: Path) -> None:
    code, _, err = run("ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "--llm", "gpt")
    assert code == 1 and "PROVIDER:MODEL" in err


def test_chat_auth_users_from_flags_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.cli_server import read_users

    users = tmp_path / "users.txt"
    users.write_text("# team\nana:s3cret\n\nbo:pa:ss\n", encoding="utf-8")
    monkeypatch.setenv("NEWSRAG_AUTH", "env:pw")
    assert read_users(["cli:pw"], users) == [
        ("cli", "pw"),
        ("env", "pw"),
        ("ana", "s3cret"),
        ("bo", "pa:ss"),
    ]
    users.write_text("nopassword\n", encoding="utf-8")
    with pytest.raises(click.UsageError, match=r"users.txt:1: expected USER:PASS"):
        read_users([], users)
    with pytest.raises(click.UsageError) as info:
        read_users(["ana:"], None)
    assert "s3cret" not in str(info.value)


RUSSIA_QUESTION = "According to Rutte, which country poses the most serious lasting threat to NATO?"
RUSSIA_CHOICES = ("--choice", "China", "--choice", "Russia", "--choice", "Iran")


def test_ask_with_choices_picks_one_in_json_and_text(sample_index_dir: Path) -> None:
    index = ("--index", str(sample_index_dir), "--as-of", "2026-01-16")
    code, out, _ = run("ask", RUSSIA_QUESTION, *index, *RUSSIA_CHOICES, "--json")
    data = json.loads(out)
    assert code == 0 and list(data) == CONTRACT_KEYS + EXTENSION_KEYS
    assert data["choice"] == "Russia" and data["refused"] is False
    lead = data["answer"].split("): ", 1)[1].split(" [1]")[0]
    assert "Russia" in lead and lead in data["citations"][0]["passage"]

    code, out, _ = run("ask", RUSSIA_QUESTION, *index, *RUSSIA_CHOICES)
    assert code == 0 and out.startswith("Choice: Russia\nAccording to ")
    assert "\n[1] " in out  # the cited passage follows


def test_ask_with_an_empty_choice_names_the_fix(sample_index_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["ask", RUSSIA_QUESTION, "--index", str(sample_index_dir), "--choice", " "]
    )
    assert result.exit_code == 1
    assert "Choice 1 (' ') is empty — give every option some text" in result.output


def test_eval_gives_choices_unless_open(sample_index_dir: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    item = {
        "id": "mc1",
        "question": RUSSIA_QUESTION,
        "answer": "Russia",
        "choices": ["China", "Russia", "Iran"],
        "question_date": "2026-01-16",
    }
    qa.write_text(json.dumps(item) + "\n", encoding="utf-8")
    index = ("--index", str(sample_index_dir), "--json")

    given = json.loads(run("eval", str(qa), *index)[1])
    opened = json.loads(run("eval", str(qa), *index, "--open")[1])

    assert (given["choices_given"], opened["choices_given"]) == (True, False)
    assert given["results"][0]["chosen_choice"] == "Russia" and given["choice_accuracy"] == 1.0
    assert opened["results"][0]["answer"] != given["results"][0]["answer"]
    assert "--open" in run("eval", "--help")[1] and "--choice" in run("ask", "--help")[1]


def test_a_source_matches_without_case_or_its_leading_the(sample_index_dir: Path) -> None:
    """`--source "Harbour Ledger"` (the README's example) once refused: the name is
    "The Harbour Ledger"."""
    idx = str(sample_index_dir)
    code, out, _ = run(
        "ask", RUTTE_QUESTION, "--index", idx, "--source", "harbour ledger", "--json"
    )
    data = json.loads(out)
    assert code == 0 and not data["refused"] and data["notices"] == []
    assert {c["source"] for c in data["citations"]} == {"The Harbour Ledger"}
    code, out, err = run("search", "European army", "--index", idx, "--source", "Harbour Ledger")
    assert code == 0 and "The Harbour Ledger" in out and err == ""


def test_an_unknown_source_is_a_notice_and_the_refusal_names_the_filters(
    sample_index_dir: Path,
) -> None:
    idx = str(sample_index_dir)
    code, out, _ = run(
        "ask", RUTTE_QUESTION, "--index", idx, "--source", "Meridian Paper", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["refused"]
    assert data["answer"] == "No article matches source 'Meridian Paper'; widen the filters."
    assert data["notices"] == [
        "No source in the index is named 'Meridian Paper' — the closest: 'The Meridian Post', "
        "'The Valley Courier', 'The Baltic Standard' ('newsrag stats' lists them all)."
    ]
    code, out, _ = run("ask", RUTTE_QUESTION, "--index", idx, "--source", "No Such Paper")
    assert code == 0
    assert out.startswith("No article matches source 'No Such Paper'; widen the filters.")
    assert "Note: No source in the index is named 'No Such Paper' — " in out
    code, out, err = run("search", "army", "--index", idx, "--source", "No Such Paper")
    assert out.strip() == "No article matches source 'No Such Paper'; widen the filters."
    assert err.startswith("Note: No source in the index is named 'No Such Paper'")


def test_filters_that_match_nothing_say_so(sample_index_dir: Path) -> None:
    args = ["--index", str(sample_index_dir), "--source", "The Harbour Ledger"]
    code, out, _ = run("ask", RUTTE_QUESTION, *args, "--since", "2027-05-01", "--json")
    data = json.loads(out)
    assert data["refused"] and data["answer"] == (
        "No article matches source 'The Harbour Ledger' and since 2027-05-01; widen the filters."
    )
    code, out, _ = run("ask", RUTTE_QUESTION, *args, "--since", "2027-05-01")
    assert code == 0
    assert out.startswith("No article matches source 'The Harbour Ledger' and since 2027-05-01")


def test_the_readme_follow_up_commands_work_as_written(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    """`newsrag ask … --json > chat.jsonl` writes pretty-printed JSON, which `--history
    chat.jsonl` once rejected; run through a shell, exactly as the README has them."""
    exe = shutil.which("newsrag", path=str(Path(sys.executable).parent))
    assert exe, "the newsrag script is not installed next to this Python"
    env = {**os.environ, "NEWSRAG_INDEX": str(sample_index_dir), "HF_HUB_OFFLINE": "1"}

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command.replace("newsrag ", f"{exe} ", 1),
            shell=True,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    first = shell(f'newsrag ask "{RUTTE_QUESTION}" --json > chat.jsonl')
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "chat.jsonl").read_text(encoding="utf-8").startswith('{\n  "question"')
    follow = shell('newsrag ask "What about the Arctic?" --history chat.jsonl')
    assert follow.returncode == 0, follow.stderr
    assert follow.stdout.startswith("(searched for: What did Rutte say about the Arctic?)\n")


def test_history_reads_every_shape_ask_json_and_chats_come_in(tmp_path: Path) -> None:
    from assistant.followup import Turn, load_history

    one = {"question": "What did Rutte say about a European army?", "answer": "A. [1]"}
    two = {"question": "What about the Arctic?", "answer": "B. [1]", "resolved_question": "R?"}
    turns = [Turn(one["question"], "A. [1]"), Turn(two["question"], "B. [1]", "R?")]
    shapes = {
        "pretty, appended": json.dumps(one, indent=2) + "\n" + json.dumps(two, indent=2) + "\n",
        "jsonl": json.dumps(one) + "\n\n" + json.dumps(two) + "\n",
        "list": json.dumps([one, two], indent=2),
        "back to back": json.dumps(one) + json.dumps(two),
        "chat messages": json.dumps(
            [
                {"role": "user", "content": one["question"]},
                {"role": "assistant", "content": "A. [1]"},
            ]
        )
        + "\n"
        + json.dumps(two),
    }
    for name, text in shapes.items():
        path = tmp_path / "chat.jsonl"
        path.write_text(text, encoding="utf-8")
        assert load_history(path) == turns, name
    path.write_text(json.dumps(one, indent=2) + '\n{\n  "question": "Who', encoding="utf-8")
    with pytest.raises(NewsragError) as err:
        load_history(path)
    assert str(err.value).startswith(
        f"{path}:6: not valid JSON (Unterminated string starting at column 15) — a history file "
        "holds what 'newsrag ask --json' writes"
    )
    assert str(err.value).count(" at ") == 1  # "starting at at column" once
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(NewsragError, match=re.escape(f"{path}:1: expected a JSON object, got int")):
        load_history(path)


def test_repl_greets_lists_its_commands_and_asks_only_questions(sample_index_dir: Path) -> None:
    lines = f":help\n:sources\n{RUTTE_QUESTION}\n:quit\nnot asked\n"
    result = CliRunner().invoke(
        main, ["repl", "--index", str(sample_index_dir), "--json"], input=lines
    )
    assert result.exit_code == 0, result.output
    banner = result.stderr.splitlines()[0]
    assert banner.startswith(f"newsrag repl over {sample_index_dir} (16 articles). ")
    assert banner.endswith("Type :help for commands.")
    assert "  :new    start a new conversation" in result.stderr
    assert "Unknown command :sources — type :help for the list." in result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [RUTTE_QUESTION]  # not ':help', not after :quit


def test_one_chunk_written_is_singular(tmp_path: Path) -> None:
    article = tmp_path / "note.md"
    article.write_text("---\ntitle: Short note\n---\n\nThe ferry runs again.\n", encoding="utf-8")
    code, out, _ = run("ingest", str(article), "--index", str(tmp_path / "idx"), "--quiet")
    assert code == 0
    assert "(1 chunk written in " in out and "holds 1 article, 1 chunk." in out
