"""The ROS side of `liquid-control demo`: sim and controller processes, and a recorder node.

``run_demo`` starts, per robot, the simulator bridge and the controller (with
``config/<robot>.yaml``, on sim time) as processes, listens to them with a
``DemoRecorder`` and returns what it saw; ``liquid_control.demo`` turns that into
media. The records are made by a factory the caller passes in, so this module never
imports the plotting layer.

Everything the demo starts lives under a namespace of its own, ``/liquid_demo_<pid>``,
and so does its clock (``/clock`` is remapped into it): a robot, simulator or stray
test node already running on the same ROS domain can neither feed the demo's
controller a second camera stream or clock nor receive the demo's commands.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, String
from std_srvs.srv import Trigger

from liquid_control.interface.robots import robot_profile
from liquid_control.nodes import conversions as conv
from liquid_control.nodes.controller_params import Robot, resolve_model_path, share_dirs
from liquid_control.nodes.sim_node import EPISODE_QOS

NODE_NAME = "liquid_demo_recorder"
CONTROLLER = "liquid_controller"
SIM = "liquid_sim"
# Best effort matches either sensor QoS the sim offers; the deep queue keeps every frame
# while this process lags behind the sim and controller on a busy machine (with depth 5
# a CI run recorded 17 of ~390 frames).
FRAME_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.BEST_EFFORT
)
RecordFactory = Callable[[str], Any]  # robot -> an empty record (frames, neurons, ...)


class DemoRecorder(Node):
    """Splits what the sim and controller publish into one record per episode."""

    def __init__(
        self,
        robot: str,
        controller_name: str,
        sim_name: str,
        new_record: RecordFactory,
        namespace: str = "",
    ) -> None:
        super().__init__(NODE_NAME, namespace=namespace)
        self.robot = robot
        self._new_record = new_record
        self.done: list[Any] = []
        self.current = new_record(robot)
        self._latest_neurons: np.ndarray | None = None
        # zero until the controller's first command: every frame carries one value per axis
        self._latest_command = np.zeros(len(robot_profile(robot).command_names), np.float32)
        # False between an episode's report and the sim's reset, so no message of a finished
        # episode leaks into the next record.
        self.recording = True
        self.received = {"frames": 0, "commands": 0, "odom": 0, "neurons": 0}  # for diagnosis
        self.frames_sub = self.create_subscription(
            Image, "camera/image_raw", self._on_image, FRAME_QOS
        )
        self.create_subscription(
            Float32MultiArray, f"{controller_name}/neurons", self._on_neurons, 10
        )
        self.create_subscription(Twist, "cmd_vel", self._on_cmd, 10)
        self.create_subscription(Odometry, "odom", self._on_odom, 10)
        self.episode_sub = self.create_subscription(
            String, f"{sim_name}/episode", self._on_episode, EPISODE_QOS
        )

    def _on_image(self, msg: Image) -> None:
        self.received["frames"] += 1
        if not self.recording:
            return
        self.current.frames.append(conv.image_to_rgb(msg))
        if self._latest_neurons is not None:
            self.current.neurons.append(self._latest_neurons)
        self.current.commands.append(self._latest_command)

    def _on_neurons(self, msg: Float32MultiArray) -> None:
        self.received["neurons"] += 1
        self._latest_neurons = np.asarray(msg.data, np.float32)

    def _on_cmd(self, msg: Twist) -> None:
        self.received["commands"] += 1
        self._latest_command = conv.twist_to_command(msg, self.robot)

    def _on_odom(self, msg: Odometry) -> None:
        self.received["odom"] += 1
        if not self.recording:
            return
        position = msg.pose.pose.position
        self.current.positions.append((position.x, position.y))

    def _on_episode(self, msg: String) -> None:
        self.current.outcome = json.loads(msg.data)
        self.done.append(self.current)
        self.current = self._new_record(self.robot)
        self._latest_neurons = None
        self.recording = False

    def resume(self) -> None:
        """Record again: the sim has started the next episode."""
        self.recording = True


def params_file(robot: str) -> Path:
    """config/<robot>.yaml from the installed share dir, else the source tree."""
    candidates = [share / "config" / f"{robot}.yaml" for share in share_dirs()]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no {robot}.yaml in {[str(p) for p in candidates]}")


def demo_namespace() -> str:
    """The namespace of this demo run's nodes, topics and clock."""
    return f"/liquid_demo_{os.getpid()}"


def _start(module: str, ros_args: list[str], log: Path) -> subprocess.Popen:
    namespace = demo_namespace()
    isolate = ["-r", f"__ns:={namespace}", "-r", f"/clock:={namespace}/clock"]
    command = [sys.executable, "-m", module, "--ros-args", *isolate, *ros_args]
    with log.open("w") as handle:  # the child keeps its own descriptor
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_demo(
    robots: list[str], settings: Any, out: Path, new_record: RecordFactory
) -> tuple[dict[str, list], dict[str, float]]:
    """Run every robot's episodes in one ROS session; (records, wall seconds) per robot.

    ``settings`` carries episodes, seed, real_time_factor, timeout and model (per robot).
    """
    rclpy.init()  # plain init + try/finally: Jazzy's init() is not a context manager
    records, wall = {}, {}
    try:
        for robot in robots:
            start = time.monotonic()
            print(
                f"[demo] {robot}: sim + controller over ROS 2 in {demo_namespace()}, "
                f"{settings.episodes} episode(s)...",
                flush=True,
            )
            records[robot] = _run_robot(robot, settings, out, new_record)
            wall[robot] = round(time.monotonic() - start, 1)
    finally:
        rclpy.try_shutdown()
    return records, wall


def _run_robot(robot: str, settings: Any, out: Path, new_record: RecordFactory) -> list:
    """Run ``settings.episodes`` closed-loop episodes of one robot; return their records."""
    model = resolve_model_path(settings.model.get(robot, ""), Robot(robot))
    params = params_file(robot)  # before anything starts: a missing file leaves no process
    sim_args = {
        "robot": robot,
        "seed": settings.seed,
        "real_time_factor": settings.real_time_factor,
        "wait_for_command_s": 0.5,
        "auto_reset": "false",
    }
    # the recorder first: its subscriptions are being discovered while the processes start
    recorder = DemoRecorder(robot, CONTROLLER, SIM, new_record, namespace=demo_namespace())
    resets = [recorder.create_client(Trigger, f"{name}/reset") for name in (CONTROLLER, SIM)]
    executor = SingleThreadedExecutor()
    executor.add_node(recorder)
    sim = _start(
        "liquid_control.nodes.sim_node",
        [a for k, v in sim_args.items() for a in ("-p", f"{k}:={v}")],
        out / f"{robot}_sim.log",
    )
    # the controller only once the recorder hears the sim: until then the sim waits
    # wait_for_command_s per frame, so a slow discovery cannot cost the episode's frames
    matched = time.monotonic() + 60.0
    while (
        time.monotonic() < matched
        and sim.poll() is None
        and not (
            recorder.frames_sub.get_publisher_count() and recorder.episode_sub.get_publisher_count()
        )
    ):
        executor.spin_once(timeout_sec=0.1)
    controller = _start(
        "liquid_control.nodes.controller_node",
        [
            "--params-file",
            str(params),
            *("-p", "use_sim_time:=true", "-p", f"model_path:={model}"),
            *("-p", "publish_neurons:=true"),
        ],
        out / f"{robot}_controller.log",
    )
    deadline = time.monotonic() + settings.timeout
    try:
        while len(recorder.done) < settings.episodes:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{robot}: {len(recorder.done)}/{settings.episodes} episodes after "
                    f"{settings.timeout} s; the recorder received {recorder.received}\n"
                    + _log_tails(out, robot)
                )
            for name, proc in (("sim", sim), ("controller", controller)):
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{robot} {name} exited ({proc.returncode})\n" + _log_tails(out, robot)
                    )
            finished = len(recorder.done)
            executor.spin_once(timeout_sec=0.1)
            if finished < len(recorder.done) < settings.episodes:
                _next_episode(executor, recorder, resets)
    finally:
        _stop(controller)
        _stop(sim)
        executor.remove_node(recorder)
        recorder.destroy_node()
    return recorder.done


def _log_tails(out: Path, robot: str, lines: int = 20) -> str:
    """The last lines of the robot's sim and controller logs, to read a failure from its message."""
    parts = []
    for name in ("sim", "controller"):
        log = out / f"{robot}_{name}.log"
        text = log.read_text(errors="replace").splitlines() if log.is_file() else ["(no log)"]
        parts.append(f"--- {log} (last {lines} lines) ---\n" + "\n".join(text[-lines:]))
    return "\n".join(parts)


def _next_episode(executor: SingleThreadedExecutor, recorder: DemoRecorder, resets: list) -> None:
    """Reset the controller's hidden state, then the sim; record again once both answered."""
    for client in resets:
        if not client.wait_for_service(timeout_sec=5.0):
            raise TimeoutError(f"service {client.srv_name} not available; is the node running?")
        future = client.call_async(Trigger.Request())
        executor.spin_until_future_complete(future, timeout_sec=10.0)
        if not future.done() or not future.result().success:
            raise RuntimeError(f"{client.srv_name} failed: {future.result()}")
    recorder.resume()
