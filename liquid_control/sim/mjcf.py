"""MJCF text for the rover and drone worlds, built from robots.py so Gazebo and MuJoCo agree.

The visual settings follow FACTS.md "MuJoCo offscreen rendering" (no
multisampling, no shadows, no reflections, an offscreen buffer the size of the
camera). Scene content that changes per episode (track paint, obstacle and
distractor poses, colours) is allocated here once and edited in the compiled
model, so one GL context serves every episode.
"""

from __future__ import annotations

import math

from liquid_control.interface.robots import CameraSpec, DroneSpec, RoverSpec
from liquid_control.sim.textures import ground_mean_rgb

PHYSICS_DT_S = 0.002
GROUND_EXTENT_M = 40.0  # the textured plane; a plain plane continues to the horizon
GROUND_TEXTURE_PX = 2048
SKY_RGB = ((0.45, 0.62, 0.90), (0.85, 0.90, 0.97))
MAX_OBSTACLES = 5
ROBOT_GROUP = 3  # geom group hidden from the robot's own camera


def _f(values) -> str:
    """Space-separated numbers for MJCF attributes."""
    return " ".join(f"{v:.6g}" for v in values)


def world_header(name: str, camera: CameraSpec, ground: str) -> str:
    """Compiler, physics, visual and asset sections shared by both worlds."""
    return f"""
<mujoco model="{name}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{PHYSICS_DT_S}" integrator="implicitfast"/>
  <statistic extent="10" center="0 0 1"/>
  <visual>
    <global offwidth="{camera.width}" offheight="{camera.height}"/>
    <quality offsamples="0" shadowsize="0"/>
    <headlight active="0"/>
    <map znear="{camera.near_clip_m / 10:.6g}" zfar="{camera.far_clip_m / 10:.6g}"/>
  </visual>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="{_f(SKY_RGB[0])}"
             rgb2="{_f(SKY_RGB[1])}" width="32" height="32"/>
    <texture name="ground" type="2d" builtin="flat" rgb1="{_f(ground_mean_rgb(ground))}"
             width="{GROUND_TEXTURE_PX}" height="{GROUND_TEXTURE_PX}"/>
    <material name="ground" texture="ground" texrepeat="1 1" texuniform="false"
              reflectance="0" specular="0" shininess="0"/>
  </asset>
"""


def world_body_start(ground: str) -> str:
    """Light and the two ground planes (textured near, plain far).

    A plane's third size is its rendering grid spacing: a fine grid on a large
    plane costs llvmpipe 30x the frame time, hence the coarse spacings.
    """
    half = GROUND_EXTENT_M / 2
    return f"""
  <worldbody>
    <light name="sun" directional="true" castshadow="false" pos="0 0 20" dir="-0.3 0.2 -1"
           diffuse="0.65 0.65 0.65" ambient="0.40 0.40 0.40" specular="0 0 0"/>
    <geom name="floor" type="plane" size="{half} {half} 5" material="ground"
          friction="1.0 0.005 0.0001"/>
    <geom name="floor_far" type="plane" size="300 300 50" pos="0 0 -0.01"
          rgba="{_f(ground_mean_rgb(ground))} 1" contype="0" conaffinity="0"/>
"""


def distractor_bodies(count: int) -> str:
    """Extra objects never seen in training; shape per index, pose and colour set per episode."""
    shapes = ("box", "sphere", "cylinder")
    return "".join(
        f"""    <body name="distractor_{i}" pos="0 0 -50">
      <geom name="distractor_{i}" type="{shapes[i % 3]}" size="0.25 0.25 0.25"
            rgba="1 0 1 1" contype="0" conaffinity="0"/>
    </body>
"""
        for i in range(count)
    )


def task_props(spheres: int, boxes: int) -> str:
    """Task objects (cue signs, decoy targets, probe markers) parked below the ground.

    The task code (sim/rover.py, sim/drone.py) places, sizes and colours them per episode.
    """
    shapes = [("sphere", i) for i in range(spheres)] + [("box", i) for i in range(boxes)]
    return "".join(
        f"""    <body name="prop_{kind}_{i}" pos="0 0 -50">
      <geom name="prop_{kind}_{i}" type="{kind}" size="0.1 0.1 0.1" rgba="0.5 0.5 0.5 1"
            contype="0" conaffinity="0"/>
    </body>
"""
        for kind, i in shapes
    )


def camera_element(camera: CameraSpec) -> str:
    """A MuJoCo camera looking along body +x, pitched down, with gz's horizontal FOV."""
    p = camera.pitch_down_rad
    fovy = math.degrees(
        2 * math.atan(math.tan(camera.horizontal_fov_rad / 2) * camera.height / camera.width)
    )
    xyaxes = (0, -1, 0, math.sin(p), 0, math.cos(p))
    return (
        f'      <camera name="front" pos="{_f(camera.position_m)}" xyaxes="{_f(xyaxes)}" '
        f'fovy="{fovy:.6g}"/>\n'
    )


def imu_sensors() -> str:
    """Accelerometer, gyro and orientation at the IMU site, as gz's IMU sensor reports them."""
    return """
  <sensor>
    <accelerometer name="accel" site="imu"/>
    <gyro name="gyro" site="imu"/>
    <framequat name="quat" objtype="site" objname="imu"/>
    <velocimeter name="velocity" site="imu"/>
  </sensor>
"""


def rover_xml(spec: RoverSpec, ground: str, distractors: int) -> str:
    """The rover world: a diff-drive rover on a textured plane with optional distractors."""
    r, sep, w = spec.wheel_radius_m, spec.wheel_separation_m, spec.wheel_width_m
    cx, cy, cz = (s / 2 for s in spec.chassis_size_m)
    wheel_mass, caster_mass = spec.wheel_mass_kg, spec.caster_mass_kg
    chassis_mass = spec.mass_kg - 2 * wheel_mass - caster_mass
    caster_z = -(r - spec.caster_radius_m)
    group = f'group="{ROBOT_GROUP}"'
    wheels = "".join(
        f"""      <body name="wheel_{side}" pos="0 {sign * sep / 2:.6g} 0">
        <joint name="wheel_{side}" type="hinge" axis="0 1 0" damping="0.005"/>
        <geom name="wheel_{side}" type="cylinder" size="{r} {w / 2}" euler="1.5708 0 0"
              mass="{wheel_mass}" friction="1.0 0.005 0.0001" {group}/>
      </body>
"""
        for side, sign in (("left", 1), ("right", -1))
    )
    return (
        world_header(spec.name + "_world", spec.camera, ground)
        + world_body_start(ground)
        + f"""    <body name="{spec.name}" pos="0 0 {r}">
      <freejoint name="root"/>
      <geom name="chassis" type="box" size="{cx} {cy} {cz}" pos="0 0 0.02"
            mass="{chassis_mass:.6g}" rgba="0.15 0.25 0.6 1" {group}/>
      <geom name="caster" type="sphere" size="{spec.caster_radius_m}"
            pos="{-cx + spec.caster_radius_m + 0.01:.6g} 0 {caster_z:.6g}"
            mass="{caster_mass}" condim="1" {group}/>
      <site name="imu" pos="0 0 0"/>
{camera_element(spec.camera)}{wheels}    </body>
"""
        + task_props(0, 3)
        + distractor_bodies(distractors)
        + """  </worldbody>
  <actuator>
    <velocity name="wheel_left" joint="wheel_left" kv="1.5" forcerange="-4 4"/>
    <velocity name="wheel_right" joint="wheel_right" kv="1.5" forcerange="-4 4"/>
  </actuator>
"""
        + imu_sensors()
        + "</mujoco>\n"
    )


def drone_xml(spec: DroneSpec, ground: str, distractors: int) -> str:
    """The drone world: a quadrotor, a coloured target, pole obstacles and distractors."""
    bx, by, bz = (s / 2 for s in spec.body_size_m)
    arm = spec.arm_length_m / math.sqrt(2)
    visual = f'contype="0" conaffinity="0" group="{ROBOT_GROUP}"'
    rotors = "".join(
        f"""      <geom type="capsule" fromto="0 0 0 {sx * arm:.6g} {sy * arm:.6g} 0" size="0.012"
            rgba="0.1 0.1 0.1 1" mass="0" {visual}/>
      <geom type="cylinder" pos="{sx * arm:.6g} {sy * arm:.6g} 0.02"
            size="{spec.rotor_radius_m} 0.004" rgba="0.5 0.5 0.5 0.6" mass="0" {visual}/>
"""
        for sx, sy in ((1, 1), (1, -1), (-1, 1), (-1, -1))
    )
    obstacles = "".join(
        f"""    <body name="obstacle_{i}" pos="0 0 -50">
      <geom name="obstacle_{i}" type="cylinder" size="0.2 2.0" pos="0 0 2.0"
            rgba="0.35 0.38 0.50 1" contype="0" conaffinity="0"/>
    </body>
"""
        for i in range(MAX_OBSTACLES)
    )
    return (
        world_header(spec.name + "_world", spec.camera, ground)
        + world_body_start(ground)
        + f"""    <body name="{spec.name}" pos="0 0 1.5">
      <freejoint name="root"/>
      <inertial pos="0 0 0" mass="{spec.mass_kg}" diaginertia="{_f(spec.inertia_kg_m2)}"/>
      <geom name="drone_body" type="box" size="{bx} {by} {bz}" rgba="0.8 0.8 0.85 1"
            mass="0" {visual}/>
{rotors}      <site name="imu" pos="0 0 0"/>
{camera_element(spec.camera)}    </body>
    <body name="target" pos="5 0 1.5">
      <geom name="target" type="sphere" size="0.25" rgba="0.90 0.08 0.08 1"
            contype="0" conaffinity="0"/>
    </body>
"""
        + obstacles
        + task_props(1, 1)
        + distractor_bodies(distractors)
        + "  </worldbody>\n"
        + imu_sensors()
        + "</mujoco>\n"
    )
