"""How long each memory task's cue must be kept, with the privileged expert driving.

rover.fork and rover.fork_near: time from passing the sign to reaching the fork; rover.gaps: time through
the unmarked stretch. (drone.occlusion hides the ball for its scene.occlusion_s, 4 s.)
Evaluation scenes 100000-100005, no rendering, about 30 s:

    python results/study/memory_gaps.py
"""

from __future__ import annotations

from liquid_control.sim import make_sim
from liquid_control.sim.experts import rover_cue_gap_s
from liquid_control.sim.tasks import TASKS


def main() -> None:
    for task in ("rover.fork", "rover.fork_near", "rover.gaps"):
        sim = make_sim("rover", TASKS[task].conditions(), render=False)
        gaps = [rover_cue_gap_s(sim, seed) for seed in range(100000, 100006)]
        sim.close()
        print(f"{task}: {min(gaps):.2f}-{max(gaps):.2f} s over {len(gaps)} scenes")


if __name__ == "__main__":
    main()
