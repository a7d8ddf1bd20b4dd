# liquid_control: `make demo` and `make test` are all a newcomer needs (each runs `setup`).
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done
# Offscreen MuJoCo, the venv as an ament prefix (launch_ros finds us), ROS traffic kept on this host.
export MUJOCO_GL ?= egl
export AMENT_PREFIX_PATH := $(abspath $(VENV))$(if $(AMENT_PREFIX_PATH),:$(AMENT_PREFIX_PATH))
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
export ROS_LOCALHOST_ONLY ?= 1
PYTEST_ARGS ?=

.PHONY: setup test test-all soak demo bench results lint clean

setup: $(STAMP)

$(STAMP): setup.py setup.cfg scripts/setup.sh
	VENV=$(VENV) ./scripts/setup.sh
	touch $@

test: setup  ## fast suite (CI): unit, ROS graph, simulator, colcon build
	$(PY) -m pytest -m "not slow and not soak" -q $(PYTEST_ARGS)

test-all: setup  ## everything but the soak runs
	$(PY) -m pytest -m "not soak" -q $(PYTEST_ARGS)

soak: setup  ## long reliability runs (>= 10,000 fuzz cases), writes results/reliability.md
	$(PY) -m pytest -m soak -q $(PYTEST_ARGS)

demo: setup  ## closed loop rover + drone over ROS 2 topics; writes demo_output/
	$(VENV)/bin/liquid-control demo --out demo_output

bench: setup  ## latency / speed tables, as ratios against references measured in the same run
	$(VENV)/bin/liquid-control bench

results: setup  ## collect, train every model, evaluate nominal + shifts (hours on 2 cores)
	PATH=$(abspath $(VENV))/bin:$$PATH sh results/regenerate.sh

lint: setup
	$(VENV)/bin/ruff check liquid_control test bench launch
	$(VENV)/bin/ruff format --check liquid_control test bench launch

clean:
	rm -rf $(VENV) build install log demo_output .pytest_cache
