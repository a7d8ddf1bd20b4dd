"""Intervention segments (the controller's ~/intervention) survive a rosbag2 round trip."""

from __future__ import annotations

import numpy as np
import pytest
from learn_helpers import stripe_episode

from liquid_control.learn.dataset import read_bag, write_bag
from liquid_control.learn.episode import Episode, to_steps


def _with_segments(ep: Episode, segments: list[tuple[int, int]]) -> Episode:
    """Mark one flag per command (as the node publishes); True inside [start, stop) commands."""
    flags = np.zeros(len(ep.cmd_stamps_ns), bool)
    for start, stop in segments:
        flags[start:stop] = True
    ep.intervention_stamps_ns = ep.cmd_stamps_ns.copy()
    ep.intervention = flags
    ep.__post_init__()
    return ep


def _segments(flags: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_intervention_segments_survive_a_bag_round_trip(tmp_path, storage):
    ep = _with_segments(stripe_episode(3), [(4, 9), (17, 25)])
    write_bag(ep, tmp_path / "bag", storage=storage)
    back = read_bag(tmp_path / "bag")
    assert back.has_interventions
    np.testing.assert_array_equal(back.intervention_stamps_ns, ep.intervention_stamps_ns)
    np.testing.assert_array_equal(back.intervention, ep.intervention)
    steps = to_steps(back)
    # each step is a correction exactly when its command (the latest before the frame) was
    assert _segments(steps.correction) == [(4, 9), (17, 25)]
    np.testing.assert_array_equal(steps.commands, to_steps(ep).commands)


def test_bag_without_marks_has_no_corrections(tmp_path):
    write_bag(stripe_episode(1), tmp_path / "plain")
    back = read_bag(tmp_path / "plain")
    assert not back.has_interventions
    assert to_steps(back).correction is None


def test_recorded_bag_marks_follow_the_header_clock(tmp_path):
    """A `ros2 bag record` bag: wall-clock bag times, sim-time headers, headerless Bool/Twist."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    from liquid_control.learn import dataset

    ep = stripe_episode(5)
    offset = 1_800_000_000_000_000_000  # wall clock minus sim clock
    flags = np.zeros(len(ep.cmd_stamps_ns), bool)
    flags[10:20] = True
    ts = get_typestore(Stores.ROS2_JAZZY)
    m = ts.types
    with Writer(tmp_path / "rec", version=8, storage_plugin=StoragePlugin.SQLITE3) as w:
        img = w.add_connection("/r1/camera/image_raw", "sensor_msgs/msg/Image", typestore=ts)
        imu = w.add_connection("/r1/imu/data", "sensor_msgs/msg/Imu", typestore=ts)
        cmd = w.add_connection("/r1/cmd_vel", "geometry_msgs/msg/Twist", typestore=ts)
        flag = w.add_connection(
            "/liquid_controller/intervention", "std_msgs/msg/Bool", typestore=ts
        )
        shadow = w.add_connection(
            "/liquid_controller/policy_cmd", "geometry_msgs/msg/Twist", typestore=ts
        )
        for stamp, frame in zip(ep.frame_stamps_ns, ep.frames, strict=True):
            h, wd, _ = frame.shape
            msg = m["sensor_msgs/msg/Image"](
                header=dataset._header(ts, stamp, "cam"),
                height=h,
                width=wd,
                encoding="rgb8",
                is_bigendian=0,
                step=wd * 3,
                data=frame.reshape(-1),
            )
            w.write(img, int(stamp) + offset, ts.serialize_cdr(msg, img.msgtype))
        for i, stamp in enumerate(ep.imu_stamps_ns):
            w.write(
                imu, int(stamp) + offset, ts.serialize_cdr(dataset._imu_msg(ts, ep, i), imu.msgtype)
            )
        for stamp, command, f in zip(ep.cmd_stamps_ns, ep.commands, flags, strict=True):
            t = int(stamp) + offset + 1_000_000  # published 1 ms after the frame
            twist = dataset._twist(ts, "rover", command)
            w.write(cmd, t, ts.serialize_cdr(twist, cmd.msgtype))
            w.write(shadow, t, ts.serialize_cdr(twist, shadow.msgtype))
            w.write(
                flag, t + 1000, ts.serialize_cdr(m["std_msgs/msg/Bool"](data=bool(f)), flag.msgtype)
            )
    back = read_bag(tmp_path / "rec", robot="rover")
    steps = to_steps(back)
    # command i and its mark land just after frame i, so frame i + 1 (step i: frame 0 has
    # no command before it and is dropped) learns command i, a correction for i in [10, 20)
    assert _segments(steps.correction) == [(10, 20)]
    assert np.abs(back.intervention_stamps_ns - ep.cmd_stamps_ns - 1_001_000).max() < 1_000_000


def test_marks_must_match_their_stamps():
    ep = stripe_episode(0)
    ep.intervention_stamps_ns = ep.cmd_stamps_ns[:5]
    ep.intervention = np.ones(6, bool)
    with pytest.raises(ValueError, match="intervention has 6 rows but there are 5 stamps"):
        ep.__post_init__()
