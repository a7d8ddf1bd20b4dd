"""A namespaced robot gets its own gz model, topics and frames; the optical frame is right."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import yaml
from gz_paths import REPO
from sdf_read import load_model, sensor

from liquid_control.nodes.gz_names import CAMERA_POSE, entity_name, optical_transform, rename


def _rotate(q: tuple[float, float, float, float], v: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    u = np.array([x, y, z])
    return 2 * np.dot(u, v) * u + (w * w - np.dot(u, u)) * v + 2 * w * np.cross(u, v)


def test_entity_names_come_from_the_namespace():
    assert entity_name("rover", "") == "liquid_rover"
    assert entity_name("rover", "/rover1") == "rover1"
    assert entity_name("drone", "/fleet/d2/") == "fleet_d2"


@pytest.mark.parametrize("robot", ["drone", "rover"])
def test_two_namespaces_never_share_a_gz_topic_or_frame(robot: str):
    sdf = (REPO / "models" / f"liquid_{robot}" / "model.sdf").read_text()
    bridge = (REPO / "config" / f"{robot}_bridge.yaml").read_text()
    seen = []
    for namespace in ("rover1", "rover2"):
        model, entries = rename(sdf, robot, namespace), rename(bridge, robot, namespace, False)
        assert f"liquid_{robot}" not in model and f"liquid_{robot}" not in entries
        gz = {e["gz_topic_name"] for e in yaml.safe_load(entries)} - {"/clock"}
        assert all(t.startswith(f"/model/{namespace}/") for t in gz), gz
        topics = set(re.findall(r"<(?:topic|odom_topic)>([^<]+)<", model))
        assert topics <= gz, topics - gz  # every SDF topic is bridged under the new name
        frames = re.findall(
            r"<(?:frame_id|child_frame_id|odom_frame|optical_frame_id)>([^<]+)<", model
        )
        assert frames and all(f.startswith(f"{namespace}/") for f in frames), frames
        seen.append(gz | set(frames))
    assert not seen[0] & seen[1]


@pytest.mark.parametrize("robot", ["drone", "rover"])
def test_optical_frame_looks_where_the_sdf_camera_looks(robot: str):
    camera = sensor(load_model(REPO / "models" / f"liquid_{robot}" / "model.sdf"), "camera")
    x, y, z, roll, pitch, yaw = (float(v) for v in camera.findtext("pose").split())
    assert (x, y, z, pitch) == CAMERA_POSE[robot] and roll == yaw == 0
    args = optical_transform(robot)
    values = {args[i][2:]: float(args[i + 1]) for i in range(0, len(args), 2)}
    q = (values["qx"], values["qy"], values["qz"], values["qw"])
    assert math.isclose(np.linalg.norm(q), 1.0, abs_tol=1e-5)
    forward = _rotate(q, np.array([0.0, 0.0, 1.0]))  # optical z: where the camera looks
    np.testing.assert_allclose(forward, [math.cos(pitch), 0, -math.sin(pitch)], atol=1e-5)
    right = _rotate(q, np.array([1.0, 0.0, 0.0]))  # optical x: image right = body -y
    np.testing.assert_allclose(right, [0, -1, 0], atol=1e-5)
