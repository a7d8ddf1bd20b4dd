"""Episodes survive a rosbag2 round trip and become the runtime's liquid steps."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.interface.imu import imu_features
from liquid_control.interface.timing import TimingRule
from liquid_control.learn.dataset import Topics, list_bags, read_bag, write_bag
from liquid_control.learn.episode import Episode, to_steps
from liquid_control.runtime.controller import ControllerConfig, LiquidController


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


def test_steps_are_frames_with_real_dt_averaged_imu_and_the_latest_command():
    ep = _episode("rover", seed=1)
    steps = to_steps(ep)
    rule = TimingRule()
    assert np.all(np.diff(steps.stamps_ns) > 0)
    assert steps.dt[0] == pytest.approx(rule.first_dt_s)
    gaps = np.diff(steps.stamps_ns) * 1e-9
    # stamps become float seconds (as from a ROS header): sub-microsecond round-off
    np.testing.assert_allclose(steps.dt[1:], np.clip(gaps, rule.dt_min_s, rule.dt_max_s), atol=1e-6)
    assert np.ptp(steps.dt[1:]) > 0.005  # irregular dt (and the dropped frame) preserved
    feats = np.stack(
        [
            imu_features(
                ep.gyro[i],
                ep.accel[i],
                None if np.isnan(ep.quat_xyzw[i]).any() else ep.quat_xyzw[i],
            )
            for i in range(len(ep.imu_stamps_ns))
        ]
    )
    for t, stamp in enumerate(steps.stamps_ns):
        frame = np.searchsorted(ep.frame_stamps_ns, stamp)
        np.testing.assert_array_equal(steps.frames[steps.frame_index[t]], ep.frames[frame])
        c = np.searchsorted(ep.cmd_stamps_ns, stamp, side="right") - 1
        np.testing.assert_array_equal(steps.commands[t], ep.commands[c])
        previous = steps.stamps_ns[t - 1] if t else -1
        window = (ep.imu_stamps_ns > previous) & (ep.imu_stamps_ns <= stamp)  # tie: IMU first
        if t and window.any():
            np.testing.assert_allclose(steps.imu[t], feats[window].mean(axis=0), atol=1e-6)
    assert steps.stamps_ns[0] >= max(ep.imu_stamps_ns[0], ep.cmd_stamps_ns[0])


def test_dataset_and_runtime_take_identical_steps_on_the_same_stream():
    """One event-timing rule: the runtime controller and the dataset reader agree on dt."""
    ep = _episode("rover", seed=2)
    steps = to_steps(ep)

    class Recorder:
        spec = type(
            "Spec", (), {"image_shape": (6, 8, 3), "imu_dim": 9, "command_names": ("a", "b")}
        )

        def __init__(self):
            self.dts, self.imus = [], []

        def encode_image(self, image):
            return np.zeros(1, np.float32)

        def initial_state(self):
            return np.zeros(1, np.float32)

        def step(self, features, imu, hidden, dt):
            self.dts.append(dt)
            self.imus.append(imu)
            return np.zeros(2, np.float32), hidden

    backend = Recorder()
    controller = LiquidController(backend, ControllerConfig(limits=(1.0, 1.0)))
    events = sorted(
        [(int(s), 1, i) for i, s in enumerate(ep.frame_stamps_ns)]
        + [(int(s), 0, i) for i, s in enumerate(ep.imu_stamps_ns)]
    )
    for stamp_ns, is_frame, i in events:
        if is_frame:
            controller.update_image(ep.frames[i], stamp_ns * 1e-9)
        else:
            quat = None if np.isnan(ep.quat_xyzw[i]).any() else ep.quat_xyzw[i]
            controller.update_imu(imu_features(ep.gyro[i], ep.accel[i], quat), stamp_ns * 1e-9)
    skipped = len(backend.dts) - len(steps)  # frames before the first command only step live
    assert skipped >= 0
    np.testing.assert_array_equal(np.float32(backend.dts[skipped + 1 :]), steps.dt[1:])
    np.testing.assert_allclose(np.stack(backend.imus[skipped:]), steps.imu, atol=1e-6)
