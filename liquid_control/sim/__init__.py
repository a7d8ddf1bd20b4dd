"""Embedded MuJoCo simulator: quadrotor and diff-drive rover, camera + IMU, experts, perturbations.

Importing this package picks a headless GL backend (``MUJOCO_GL=egl`` unless
set) before anything imports mujoco. No ROS imports anywhere in this layer.
"""

from liquid_control.sim.rendering import ensure_gl_backend

ensure_gl_backend()


def make_sim(robot: str, perturbation=None, render: bool = True):
    """A RoverSim or DroneSim (imported lazily) under an optional Perturbation."""
    if robot == "rover":
        from liquid_control.sim.rover import RoverSim

        return RoverSim(perturbation, render=render)
    if robot == "drone":
        from liquid_control.sim.drone import DroneSim

        return DroneSim(perturbation, render=render)
    raise ValueError(f"robot={robot!r} is not simulated; allowed: 'rover', 'drone'")
