"""Episodes to and from rosbag2, so simulator runs and real robot bags load alike.

Writing uses the same topics as the ROS nodes (``camera/image_raw`` rgb8,
``imu/data``, ``cmd_vel``) through ``rosbags`` (no ROS needed). Reading accepts
any bag with those topics, including ones made by ``ros2 bag record``: images
in rgb8/bgr8/rgba8/bgra8/mono8, ``Twist`` or ``TwistStamped`` commands.
Messages with a header are stamped by their header; headerless ``Twist`` is
stamped by its bag time, shifted onto the header clock (sim time vs wall time)
by the median offset seen on the camera topic.

Operator takeover: when the bag holds the controller's ``~/intervention`` topic
(``std_msgs/Bool``, one per published command, True while the operator drives),
every message becomes an intervention mark (bag time, shifted the same way), and
:func:`~liquid_control.learn.episode.to_steps` marks each step as a correction or
not. Bags without it read as before (no marks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liquid_control.interface import messages
from liquid_control.interface.robots import parse_robot, robot_profile
from liquid_control.learn.episode import Episode

_META_KEY = "liquid_control.episode"


@dataclass(frozen=True)
class Topics:
    """Topic names; a bag topic matches if it equals the name or ends with '/' + name."""

    image: str = "camera/image_raw"
    imu: str = "imu/data"
    cmd: str = "cmd_vel"
    intervention: str = "intervention"  # optional: the controller's ~/intervention (Bool)


# where write_bag puts intervention marks: the controller node's ~/intervention
INTERVENTION_TOPIC = "/liquid_controller/intervention"


def _typestore():
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_KILTED)


def _header(ts, stamp_ns: int, frame_id: str):
    time = ts.types["builtin_interfaces/msg/Time"](
        sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000)
    )
    return ts.types["std_msgs/msg/Header"](stamp=time, frame_id=frame_id)


def _twist(ts, robot: str, command: np.ndarray):
    vector3 = ts.types["geometry_msgs/msg/Vector3"]
    twist = ts.types["geometry_msgs/msg/Twist"](
        linear=vector3(0.0, 0.0, 0.0), angular=vector3(0.0, 0.0, 0.0)
    )
    return messages.fill_twist(twist, command, robot)


def write_bag(episode: Episode, path: str | Path, storage: str = "mcap") -> Path:
    """Write one episode as a rosbag2 directory (MCAP or sqlite3) and return its path."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    plugins = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
    if storage not in plugins:
        raise ValueError(f"storage {storage!r} is not one of {sorted(plugins)}")
    ts, path = _typestore(), Path(path)
    msgs = ts.types
    records: list[tuple[int, int, object]] = []  # (stamp, connection slot, message)
    for stamp, frame in zip(episode.frame_stamps_ns, episode.frames, strict=True):
        h, w, _ = frame.shape
        records.append(
            (
                int(stamp),
                0,
                msgs["sensor_msgs/msg/Image"](
                    header=_header(ts, stamp, "camera"),
                    height=h,
                    width=w,
                    encoding="rgb8",
                    is_bigendian=0,
                    step=w * 3,
                    data=np.ascontiguousarray(frame).reshape(-1),
                ),
            )
        )
    for i, stamp in enumerate(episode.imu_stamps_ns):
        records.append((int(stamp), 1, _imu_msg(ts, episode, i)))
    for stamp, command in zip(episode.cmd_stamps_ns, episode.commands, strict=True):
        records.append((int(stamp), 2, _twist(ts, episode.robot, command)))
    bool_msg = msgs["std_msgs/msg/Bool"]
    for stamp, flag in zip(episode.intervention_stamps_ns, episode.intervention, strict=True):
        records.append((int(stamp), 3, bool_msg(data=bool(flag))))
    records.sort(key=lambda r: (r[0], r[1]))
    with Writer(path, version=9, storage_plugin=plugins[storage]) as writer:
        meta = dict(episode.metadata, robot=episode.robot)
        writer.set_custom_data(_META_KEY, json.dumps(meta, sort_keys=True))
        conns = [
            writer.add_connection("/" + Topics.image, "sensor_msgs/msg/Image", typestore=ts),
            writer.add_connection("/" + Topics.imu, "sensor_msgs/msg/Imu", typestore=ts),
            writer.add_connection("/" + Topics.cmd, "geometry_msgs/msg/Twist", typestore=ts),
        ]
        if episode.has_interventions:
            conns.append(
                writer.add_connection(INTERVENTION_TOPIC, "std_msgs/msg/Bool", typestore=ts)
            )
        for stamp, slot, msg in records:
            writer.write(conns[slot], stamp, ts.serialize_cdr(msg, conns[slot].msgtype))
    return path


def _imu_msg(ts, episode: Episode, i: int):
    msgs = ts.types
    quat = episode.quat_xyzw[i]
    known = not np.isnan(quat).any()
    ocov = np.zeros(9) if known else np.array([-1.0] + [0.0] * 8)
    return msgs["sensor_msgs/msg/Imu"](
        header=_header(ts, episode.imu_stamps_ns[i], "imu"),
        orientation=msgs["geometry_msgs/msg/Quaternion"](*(quat if known else (0, 0, 0, 1.0))),
        orientation_covariance=ocov,
        angular_velocity=msgs["geometry_msgs/msg/Vector3"](*episode.gyro[i]),
        angular_velocity_covariance=np.zeros(9),
        linear_acceleration=msgs["geometry_msgs/msg/Vector3"](*episode.accel[i]),
        linear_acceleration_covariance=np.zeros(9),
    )


def _match(topics: dict, name: str, what: str) -> str:
    want = name.strip("/")
    found = [t for t in topics if t.strip("/") == want or t.endswith("/" + want)]
    if len(found) != 1:
        raise ValueError(
            f"{what} topic {name!r} matches {found or 'nothing'} in the bag; topics are "
            f"{sorted(topics)} (pass Topics(...) to choose)"
        )
    return found[0]


def _match_optional(topics: dict, name: str) -> str | None:
    """Like ``_match`` for a topic a bag may lack (None then); two candidates are an error."""
    want = name.strip("/")
    if not any(t.strip("/") == want or t.endswith("/" + want) for t in topics):
        return None
    return _match(topics, name, name)


def _stamp(header) -> int:
    return messages.stamp_ns(header.stamp)


def read_bag(path: str | Path, robot: str | None = None, topics: Topics = Topics()) -> Episode:
    """Read one rosbag2 (directory or .mcap/.db3) into an Episode with real stamps."""
    from rosbags.rosbag2 import Reader

    ts = _typestore()
    with Reader(Path(path)) as reader:
        meta = json.loads((reader.storage.metadata.custom or {}).get(_META_KEY, "{}"))
        robot = robot or meta.pop("robot", None)
        meta.pop("robot", None)
        if robot is None:
            raise ValueError(f"{path} does not say which robot: pass robot='rover' or 'drone'")
        robot = parse_robot(robot).value
        names = {k: _match(reader.topics, getattr(topics, k), k) for k in ("image", "imu", "cmd")}
        marks_topic = _match_optional(reader.topics, topics.intervention)
        if marks_topic is not None:
            names["intervention"] = marks_topic
        streams: dict[str, list] = {"image": [], "imu": [], "cmd": [], "intervention": []}
        offsets: list[int] = []
        kind_of = {v: k for k, v in names.items()}
        conns = [c for c in reader.connections if c.topic in kind_of]
        for conn, bag_ns, raw in reader.messages(connections=conns):
            kind = kind_of[conn.topic]
            msg = ts.deserialize_cdr(raw, conn.msgtype)
            if kind == "image":
                offsets.append(_stamp(msg.header) - bag_ns)
                streams["image"].append((_stamp(msg.header), messages.image_to_rgb(msg)))
            elif kind == "imu":
                streams["imu"].append((_stamp(msg.header), msg))
            elif kind == "intervention":
                streams["intervention"].append((bag_ns, bool(msg.data)))
            else:
                streams["cmd"].append(_command(msg, robot, bag_ns))
    shift = int(np.median(offsets)) if offsets else 0
    cmds = sorted((s + (shift if headerless else 0), c) for s, c, headerless in streams["cmd"])
    marks = sorted((s + shift, flag) for s, flag in streams["intervention"])
    return _episode(robot, streams, cmds, meta, marks)


def _command(msg, robot: str, bag_ns: int) -> tuple[int, np.ndarray, bool]:
    """(stamp, command, stamped-by-bag-time) from a Twist or TwistStamped."""
    headerless = not hasattr(msg, "twist")
    command = messages.twist_to_command(msg if headerless else msg.twist, robot)
    return (bag_ns if headerless else _stamp(msg.header), command, headerless)


def _episode(robot: str, streams: dict, cmds: list, meta: dict, marks: list) -> Episode:
    images = sorted(streams["image"], key=lambda r: r[0])
    imus = sorted(streams["imu"], key=lambda r: r[0])
    n_cmd = len(robot_profile(robot).command_names)
    quats = []
    for _, m in imus:
        known = m.orientation_covariance[0] != -1.0
        q = m.orientation
        quats.append([q.x, q.y, q.z, q.w] if known else [np.nan] * 4)
    return Episode(
        robot=robot,
        frame_stamps_ns=np.array([s for s, _ in images], np.int64),
        frames=np.stack([f for _, f in images]) if images else np.zeros((0, 1, 1, 3), np.uint8),
        imu_stamps_ns=np.array([s for s, _ in imus], np.int64),
        gyro=np.array(
            [[m.angular_velocity.x, m.angular_velocity.y, m.angular_velocity.z] for _, m in imus]
        ).reshape(-1, 3),
        accel=np.array(
            [
                [m.linear_acceleration.x, m.linear_acceleration.y, m.linear_acceleration.z]
                for _, m in imus
            ]
        ).reshape(-1, 3),
        quat_xyzw=np.array(quats).reshape(-1, 4),
        cmd_stamps_ns=np.array([s for s, _ in cmds], np.int64),
        commands=np.stack([c for _, c in cmds]) if cmds else np.zeros((0, n_cmd), np.float32),
        metadata={str(k): str(v) for k, v in meta.items()},
        intervention_stamps_ns=np.array([s for s, _ in marks], np.int64),
        intervention=np.array([f for _, f in marks], bool),
    )


def list_bags(root: str | Path) -> list[Path]:
    """Every rosbag2 under a directory (dirs holding metadata.yaml), sorted by path."""
    root = Path(root)
    if (root / "metadata.yaml").exists():
        return [root]
    bags = sorted(p.parent for p in root.rglob("metadata.yaml"))
    if not bags:
        raise ValueError(f"no rosbag2 (a directory with metadata.yaml) under {root}")
    return bags
