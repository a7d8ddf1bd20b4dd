"""Embedded simulator speed: real-time factors per robot and camera size (plain script).

.venv/bin/python bench/bench_sim.py [--seconds 20]
"""

from liquid_control.sim.benchmark import main

if __name__ == "__main__":
    main()
