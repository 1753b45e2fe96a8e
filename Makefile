# The bench's entry points. `make demo` and `make test` each install what is missing first.
#
#   make setup     system packages (ARM toolchain, gdb-multiarch, curl, tftp) and .venv
#   make firmware  bootloader, application v1/v2/v3 images and the known-bad variants
#   make test      the test suite: pytest (incl. host C tests) and Robot suites
#   make test-long only the longest campaigns (marked `long`; make test runs them too)
#   make demo      build, boot, update over HTTP and TFTP, power-cut sweep, report
#   make bench     benchmarks, printed figures
#   make lint      ruff over the Python code
#   make clean     remove build outputs (keeps .venv)

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYBENCH := $(VENV)/bin/pybench
BUILD   ?= build
REPORTS ?= reports

export PYBENCH_BUILD := $(abspath $(BUILD))

.PHONY: all setup system-deps venv firmware test test-long pytest robot demo bench lint clean distclean

all: firmware

setup: system-deps venv

system-deps:
	@scripts/install-system-deps.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

firmware: setup
	$(MAKE) -C firmware BUILD=$(abspath $(BUILD)) PYTHON=$(abspath $(PY))

test: firmware
	$(PY) -m pytest -q -p no:cacheprovider
	$(MAKE) robot

# The campaigns marked `long` (the whole matrix of refused images by transport, the
# 89-update chain, every journal word torn): about 3 minutes of make test's 11, on their own.
test-long: firmware
	$(PY) -m pytest -q -p no:cacheprovider -m long

# The suites run on each in-tree device, from its description; the tests tagged for our
# sample device (or its image format) are left out on the other.
robot: firmware
	@mkdir -p $(REPORTS)/robot $(REPORTS)/robot-sample-flag
	$(VENV)/bin/robot --outputdir $(REPORTS)/robot --consolewidth 100 robot/
	$(VENV)/bin/robot --outputdir $(REPORTS)/robot-sample-flag --consolewidth 100 \
	    --variable DEVICE:devices/sample-flag.toml --exclude sample --exclude format-pybench \
	    robot/

demo: firmware
	$(PYBENCH) demo --reports $(REPORTS)/demo

bench: firmware
	$(PYBENCH) bench

lint: venv
	$(VENV)/bin/ruff check pybench tests

clean:
	rm -rf $(BUILD) $(REPORTS)
	$(MAKE) -C firmware clean BUILD=$(abspath $(BUILD))

distclean: clean
	rm -rf $(VENV)
