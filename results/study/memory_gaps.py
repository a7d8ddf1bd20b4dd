"""How long each memory task's cue must be kept, with the privileged expert driving.

rover.fork: time from passing the sign to reaching the fork; rover.gaps: time through
the unmarked stretch. (drone.occlusion hides the ball for its scene.occlusion_s, 4 s.)
Evaluation scenes 100000-100005, no rendering, about 30 s:

    python results/study/memory_gaps.py
"""

from __future__ import annotations

from liquid_control.sim import make_sim
from liquid_control.sim.experts import expert_action
from liquid_control.sim.tasks import TASKS


def main() -> None:
    for task in ("rover.fork", "rover.gaps"):
        sim = make_sim("rover", TASKS[task].conditions(), render=False)
        gaps = []
        for seed in range(100000, 100006):
            sim.reset(seed)
            if task == "rover.fork":
                marks = (sim.fork.sign_s_m, sim.fork.fork_s_m)
            else:
                marks = sim.gap_s_m
            times: list[float | None] = [None, None]
            while not sim.done and sim.time < 60.0:
                s = sim.arc_length_m
                for i, mark in enumerate(marks):
                    if times[i] is None and s >= mark:
                        times[i] = sim.time
                sim.step(expert_action(sim))
            gaps.append(times[1] - times[0])
        sim.close()
        print(f"{task}: {min(gaps):.2f}-{max(gaps):.2f} s over {len(gaps)} scenes")


if __name__ == "__main__":
    main()
