"""Episodes survive a rosbag2 round trip and become the runtime's event stream."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.learn.dataset import Topics, list_bags, read_bag, write_bag
from liquid_control.learn.episode import DtRule, Episode, to_events


def _episode(robot: str = "rover", seed: int = 0) -> Episode:
    """A short episode with jittered, irregular stamps and a dropped frame."""
    rng = np.random.default_rng(seed)
    t0 = 1_700_000_000_123_456_789
    frame_ns = t0 + np.cumsum(rng.integers(40_000_000, 60_000_000, 12))
    frame_ns = np.delete(frame_ns, 5)  # a dropped frame
    imu_ns = t0 + np.cumsum(rng.integers(7_000_000, 13_000_000, 60))
    imu_ns[np.searchsorted(imu_ns, frame_ns[2])] = frame_ns[2]  # a camera/IMU tie
    quat = rng.normal(size=(60, 4))
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    quat[3] = np.nan  # one sample without orientation
    n_cmd = 2 if robot == "rover" else 4
    return Episode(
        robot=robot,
        frame_stamps_ns=frame_ns,
        frames=rng.integers(0, 256, (len(frame_ns), 6, 8, 3), dtype=np.uint8),
        imu_stamps_ns=imu_ns,
        gyro=rng.normal(size=(60, 3)),
        accel=rng.normal(size=(60, 3)) + [0, 0, 9.81],
        quat_xyzw=quat,
        cmd_stamps_ns=frame_ns.copy(),
        commands=rng.normal(size=(len(frame_ns), n_cmd)).astype(np.float32),
        metadata={"seed": str(seed), "source": "test"},
    )


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_bag_round_trip_keeps_arrays_and_stamps(tmp_path, storage, robot):
    ep = _episode(robot)
    write_bag(ep, tmp_path / "ep", storage=storage)
    back = read_bag(tmp_path / "ep")
    assert back.robot == robot
    assert back.metadata == ep.metadata
    for name in ("frame_stamps_ns", "imu_stamps_ns", "cmd_stamps_ns", "frames"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ep, name), err_msg=name)
    for name in ("gyro", "accel", "quat_xyzw"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ep, name), err_msg=name)
    np.testing.assert_array_equal(back.commands, ep.commands)
    assert list_bags(tmp_path) == [tmp_path / "ep"]


def _recorded_style_bag(path, ep: Episode, clock_offset_ns: int) -> None:
    """A bag like `ros2 bag record` makes: bgr8 images, TwistStamped, wall-clock log times."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    from liquid_control.learn import dataset

    ts = get_typestore(Stores.ROS2_JAZZY)
    m = ts.types
    with Writer(path, version=8, storage_plugin=StoragePlugin.SQLITE3) as w:
        img = w.add_connection("/robot1/camera/image_raw", "sensor_msgs/msg/Image", typestore=ts)
        imu = w.add_connection("/robot1/imu/data", "sensor_msgs/msg/Imu", typestore=ts)
        cmd = w.add_connection("/robot1/cmd_vel", "geometry_msgs/msg/TwistStamped", typestore=ts)
        w.add_connection("/rosout", "rcl_interfaces/msg/Log", typestore=ts)
        for stamp, frame in zip(ep.frame_stamps_ns, ep.frames, strict=True):
            h, wd, _ = frame.shape
            padded = np.zeros((h, wd * 3 + 4), np.uint8)  # row padding in `step`
            padded[:, : wd * 3] = frame[:, :, ::-1].reshape(h, -1)
            msg = m["sensor_msgs/msg/Image"](
                header=dataset._header(ts, stamp, "cam"),
                height=h,
                width=wd,
                encoding="bgr8",
                is_bigendian=0,
                step=wd * 3 + 4,
                data=padded.reshape(-1),
            )
            w.write(img, int(stamp) + clock_offset_ns, ts.serialize_cdr(msg, img.msgtype))
        for i, stamp in enumerate(ep.imu_stamps_ns):
            msg = dataset._imu_msg(ts, ep, i)
            w.write(imu, int(stamp) + clock_offset_ns, ts.serialize_cdr(msg, imu.msgtype))
        for stamp, c in zip(ep.cmd_stamps_ns, ep.commands, strict=True):
            msg = m["geometry_msgs/msg/TwistStamped"](
                header=dataset._header(ts, stamp, "base"), twist=dataset._twist(ts, ep.robot, c)
            )
            late = int(stamp) + clock_offset_ns + 3_000_000  # received 3 ms after stamping
            w.write(cmd, late, ts.serialize_cdr(msg, cmd.msgtype))


def test_reads_recorded_bags_with_namespaces_bgr_and_twiststamped(tmp_path):
    ep = _episode("drone", seed=3)
    _recorded_style_bag(tmp_path / "rec", ep, clock_offset_ns=-1_000_000_000_000)
    with pytest.raises(ValueError, match="robot"):
        read_bag(tmp_path / "rec")
    back = read_bag(tmp_path / "rec", robot="drone")
    np.testing.assert_array_equal(back.frames, ep.frames)
    np.testing.assert_array_equal(back.cmd_stamps_ns, ep.cmd_stamps_ns)
    np.testing.assert_array_equal(back.commands, ep.commands)
    with pytest.raises(ValueError, match="matches nothing"):
        read_bag(tmp_path / "rec", robot="drone", topics=Topics(image="front/image"))


def test_headerless_twist_is_moved_onto_the_header_clock(tmp_path):
    ep = _episode("rover", seed=4)
    offset = 5_000_000_000  # bag (wall) clock runs 5 s ahead of the header (sim) clock
    from rosbags.rosbag2 import StoragePlugin, Writer

    from liquid_control.learn import dataset

    ts = dataset._typestore()
    with Writer(tmp_path / "b", version=9, storage_plugin=StoragePlugin.MCAP) as w:
        conns = [
            w.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=ts),
            w.add_connection("/imu/data", "sensor_msgs/msg/Imu", typestore=ts),
            w.add_connection("/cmd_vel", "geometry_msgs/msg/Twist", typestore=ts),
        ]
        write_bag(ep, tmp_path / "ref")
        ref = read_bag(tmp_path / "ref")
        from rosbags.rosbag2 import Reader

        with Reader(tmp_path / "ref") as r:
            for conn, t, raw in r.messages():
                slot = [c.topic for c in conns].index(conn.topic)
                w.write(conns[slot], t + offset, raw)
    back = read_bag(tmp_path / "b", robot="rover")
    np.testing.assert_array_equal(back.cmd_stamps_ns, ref.cmd_stamps_ns)


def test_events_merge_by_stamp_with_real_dt_and_held_values():
    ep = _episode("rover", seed=1)
    ev = to_events(ep)
    # every event after the first frame/IMU/command, in stamp order, IMU first on ties
    assert np.all(np.diff(ev.stamps_ns) >= 0)
    rule = DtRule.from_runtime()
    assert ev.dt[0] == pytest.approx(rule.first_dt_s)
    gaps = np.diff(ev.stamps_ns) * 1e-9
    np.testing.assert_allclose(ev.dt[1:], np.clip(gaps, rule.dt_min_s, rule.dt_max_s), rtol=1e-6)
    assert np.ptp(ev.dt[1:][gaps > 0]) > 0.005  # irregular dt preserved
    assert ev.is_frame.sum() == len(ev.frames) == len(ep.frames)
    tie = np.flatnonzero(ev.stamps_ns == ep.frame_stamps_ns[2])
    assert list(ev.is_frame[tie]) == [False, True]
    assert ev.dt[tie[1]] == pytest.approx(rule.dt_min_s)
    for t in range(len(ev)):
        side = "right" if ev.is_frame[t] else "left"  # IMU goes first on a tie
        f = np.searchsorted(ep.frame_stamps_ns, ev.stamps_ns[t], side=side) - 1
        c = np.searchsorted(ep.cmd_stamps_ns, ev.stamps_ns[t], side="right") - 1
        np.testing.assert_array_equal(ev.frames[ev.frame_index[t]], ep.frames[f])
        np.testing.assert_array_equal(ev.commands[t], ep.commands[c])
    first = ev.stamps_ns[0]
    assert first >= max(ep.frame_stamps_ns[0], ep.imu_stamps_ns[0], ep.cmd_stamps_ns[0])
