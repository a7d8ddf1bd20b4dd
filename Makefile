# liquid_control: `make demo` and `make test` are all a newcomer needs (each runs `setup`).
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done
# A second venv with the ROS 2 Jazzy wheels (ros-jazzy-*): the ROS-facing tests run on both distros.
JAZZY_VENV  ?= .venv-jazzy
JAZZY_STAMP := $(JAZZY_VENV)/.setup-done
ROS_TESTS   ?= test/nodes test/reliability test/deploy test/test_demo.py test/test_packaging.py
# Offscreen MuJoCo, the venv as an ament prefix (launch_ros finds us), ROS traffic kept on this host.
export MUJOCO_GL ?= egl
export AMENT_PREFIX_PATH := $(abspath $(VENV))$(if $(AMENT_PREFIX_PATH),:$(AMENT_PREFIX_PATH))
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
PYTEST_ARGS ?=
BENCH_OUT   ?= results/bench

.PHONY: setup setup-jazzy test test-kilted test-jazzy test-all soak demo bench results lint clean

setup: $(STAMP)

$(STAMP): setup.py setup.cfg scripts/setup.sh
	VENV=$(VENV) ./scripts/setup.sh
	touch $@

setup-jazzy: $(JAZZY_STAMP)

$(JAZZY_STAMP): setup.py setup.cfg scripts/setup.sh
	VENV=$(JAZZY_VENV) ROS_WHEEL_PREFIX=ros-jazzy ./scripts/setup.sh
	touch $@

test: test-kilted test-jazzy  ## fast suite (CI): everything on Kilted, the ROS-facing tests on Jazzy too

test-kilted: setup  ## fast suite on the Kilted wheels: unit, ROS graph, simulator, colcon build
	$(PY) -m pytest -m "not slow and not soak" -q $(PYTEST_ARGS)

test-jazzy: setup-jazzy  ## the ROS-facing tests (nodes, reliability, deploy, demo) on the Jazzy wheels
	AMENT_PREFIX_PATH=$(abspath $(JAZZY_VENV)) $(JAZZY_VENV)/bin/python -m pytest \
		-m "not slow and not soak" -q -p no:cacheprovider $(PYTEST_ARGS) $(ROS_TESTS)

test-all: setup  ## everything but the soak runs
	$(PY) -m pytest -m "not soak" -q $(PYTEST_ARGS)

soak: setup  ## long reliability runs (>= 10,000 fuzz cases), writes results/reliability.md
	$(PY) -m pytest -m soak -q $(PYTEST_ARGS)

demo: setup  ## closed loop rover + drone over ROS 2 topics; writes demo_output/
	$(VENV)/bin/liquid-control demo --out demo_output

bench: setup setup-jazzy  ## latency / speed tables, as ratios against references measured in the same run
	$(VENV)/bin/liquid-control bench --out-dir $(BENCH_OUT)
	$(VENV)/bin/liquid-control bench bench_node --out-dir $(BENCH_OUT) --tag events --script-arg=--executor --script-arg=events
	@echo "--- controller node vs pass-through on Jazzy (single, then events executor)"
	AMENT_PREFIX_PATH=$(abspath $(JAZZY_VENV)) $(JAZZY_VENV)/bin/python -m liquid_control.bench bench_node --out-dir $(BENCH_OUT) --tag jazzy --script-arg=--executor --script-arg=single
	AMENT_PREFIX_PATH=$(abspath $(JAZZY_VENV)) $(JAZZY_VENV)/bin/python -m liquid_control.bench bench_node --out-dir $(BENCH_OUT) --tag jazzy_events --script-arg=--executor --script-arg=events

results: setup  ## collect, train every model, evaluate nominal + shifts (hours on 2 cores)
	PATH=$(abspath $(VENV))/bin:$$PATH sh results/regenerate.sh

lint: setup
	$(VENV)/bin/ruff check liquid_control test bench launch
	$(VENV)/bin/ruff format --check liquid_control test bench launch

clean:
	rm -rf $(VENV) $(JAZZY_VENV) build install log demo_output .pytest_cache
