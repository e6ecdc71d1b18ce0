# Two commands do all set-up on a fresh machine (see README "Quick start"):
#   make main   - the example agent test suite, replaying its shipped cassettes (zero API calls)
#   make test   - the project's tests
# Both run plain `pytest`, as users do: every option lives in a pyproject.toml.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(abspath $(VENV))/bin/pytest

.PHONY: main test lint typecheck bench

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# instructor without its jiter<0.15 cap, which would force openai 3.3 (pyproject says why)
	$(PY) -m pip install -q --no-deps 'instructor>=1.17'
	touch $@

main: $(VENV)/.installed
	cd examples/agent_suite && $(PYTEST)

test: $(VENV)/.installed
	$(PYTEST)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) bench/bench_recorder.py
	$(PY) bench/bench_traced_agent.py --breakdown
	$(PY) bench/bench_plugin.py
	$(PY) bench/bench_exporters.py
	$(PY) bench/bench_http_replay.py
	$(PY) bench/bench_suite.py
	$(PY) bench/bench_pricing.py
	$(PY) bench/bench_scrub.py
	$(PY) bench/bench_cassette_read.py
	$(PY) bench/bench_network_guard.py
	$(PY) bench/bench_genai_span.py
