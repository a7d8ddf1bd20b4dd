"""Embedded simulator speed: times real time per core, against MuJoCo's physics alone (plain script).

.venv/bin/python bench/bench_sim.py [--seconds 20] [--repeats 3] [--robot rover] [--no-breakdown]

Prints where the 64x48 loop's CPU goes (control hook, task checks, IMU, rendering, image
effects, expert, physics, loop), then per robot: physics alone (mj_step on the same world,
the in-run reference), the loop without camera, and the full loop at each camera size.
"""

from liquid_control.sim.benchmark import main

if __name__ == "__main__":
    main()
