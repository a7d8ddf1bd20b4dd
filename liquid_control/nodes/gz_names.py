"""Names and transforms of a robot in Gazebo, derived from its ROS namespace (gz_robot.launch.py).

The shipped SDF models and bridge files name everything after ``liquid_<robot>``; a
namespaced robot gets its own gz model name, gz topics and TF frames, so several robots
share one world. Pure string work, tested without Gazebo.
"""

from __future__ import annotations

import math
import re

# the camera's pose on base_link in the SDFs (x, y, z, pitch): the optical frame hangs off it
CAMERA_POSE = {"drone": (0.12, 0.0, 0.02, 0.0), "rover": (0.18, 0.0, 0.12, 0.35)}
FRAME_TAGS = ("frame_id", "child_frame_id", "odom_frame", "robot_base_frame", "optical_frame_id")
OPTICAL = (-0.5, 0.5, -0.5, 0.5)  # body (x fwd, z up) -> optical (z fwd, x right): rpy -90, 0, -90


def entity_name(robot: str, namespace: str) -> str:
    """The gz model name: the namespace (``/a/b`` -> ``a_b``), else ``liquid_<robot>``."""
    name = namespace.strip("/").replace("/", "_")
    return name or f"liquid_{robot}"


def rename(text: str, robot: str, namespace: str, frame_tags: bool = True) -> str:
    """The SDF or bridge text with gz names (and frame ids) moved under the namespace."""
    entity = entity_name(robot, namespace)
    text = text.replace(f"liquid_{robot}", entity)
    prefix = namespace.strip("/")
    if prefix and frame_tags:
        for tag in FRAME_TAGS:
            text = re.sub(rf"<{tag}>\s*([^<]+?)\s*</{tag}>", rf"<{tag}>{prefix}/\1</{tag}>", text)
    return text


def optical_transform(robot: str) -> list[str]:
    """static_transform_publisher arguments: base_link -> camera_optical (z forward, x right)."""
    x, y, z, pitch = CAMERA_POSE[robot]
    # the camera's pitch about y, then the optical rotation (quaternions x, y, z, w)
    a = (0.0, math.sin(pitch / 2), 0.0, math.cos(pitch / 2))
    b = OPTICAL
    q = (
        a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
        a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
        a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
        a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
    )
    values = {"x": x, "y": y, "z": z, "qx": q[0], "qy": q[1], "qz": q[2], "qw": q[3]}
    return [arg for key, value in values.items() for arg in (f"--{key}", f"{value:.6f}")]
