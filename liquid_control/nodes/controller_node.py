"""ROS 2 lifecycle node: camera + IMU in, velocity commands out, at sensor rate.

Thin by design: messages become arrays (``conversions``), the streaming
``LiquidController`` keeps the liquid hidden state between messages, and the watchdog
(``runtime.watchdog``) commands zero velocity whenever a sensor goes stale. Configure
loads and checks the model; activate starts commanding; ``autostart`` does both. Mixed in
from their modules: model loading and hot swap (``model_swap.SwappableModel``), each sensor
message's handling (``sensor_input.SensorInput``), the statuses (``diagnostics``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.clock import JumpThreshold
from rclpy.duration import Duration
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image, Imu
from std_msgs.msg import Float32MultiArray
from std_srvs.srv import SetBool, Trigger

from liquid_control.nodes import conversions as conv
from liquid_control.nodes.controller_params import (
    COMMAND_NAMES,
    PARAMS,
    check_robot_values,
    controller_config,
    default_value,
    robot_of,
)
from liquid_control.nodes.diagnostics import ControllerStatus, NodeDiagnostics
from liquid_control.nodes.guardian_io import NodeGuardian
from liquid_control.nodes.model_swap import (
    BackendLoader,
    ModelSwap,
    SwappableModel,
    load_runtime_backend,
)
from liquid_control.nodes.parameters import NodeParameters
from liquid_control.nodes.run import spin_node
from liquid_control.nodes.sensor_input import (
    SensorInput,
    check_blank,
    check_frame_id,
    decode_frame,
    fit_frame,
    header_stamp,
    imu_input,
)
from liquid_control.nodes.takeover import OperatorTakeover
from liquid_control.runtime.controller import LiquidController
from liquid_control.runtime.watchdog import Watchdog, WatchdogState

NODE_NAME = "liquid_controller"
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE
ACK_TIMEOUT_S = 0.5  # how long the last zero command may wait for subscribers to acknowledge


class ControllerNode(SwappableModel, SensorInput, ControllerStatus, LifecycleNode):
    """Streams camera frames and IMU samples through a liquid controller to cmd_vel."""

    def __init__(self, backend_loader: BackendLoader | None = None, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._backend_loader = backend_loader or load_runtime_backend
        self.params = NodeParameters(
            self,
            PARAMS,
            check=lambda values: (
                check_robot_values(values, self.robot)
                or self._guardian_problem(values)
                or self._model_problem(values)
            ),
            on_change=self._apply_parameters,
            default_for=lambda spec, declared: default_value(spec, robot_of(declared)),
        )
        self.values = self.params.values
        self.robot = robot_of(self.values)
        self.controller: LiquidController | None = None
        self.guardian: NodeGuardian | None = None  # OOD score and action (configure)
        self.watchdog = Watchdog(self.values["camera_timeout_s"], self.values["imu_timeout_s"])
        self.takeover = OperatorTakeover(
            self.robot, self.values["override_timeout_s"], self.values["command_limits"]
        )
        self._zero = np.zeros(len(COMMAND_NAMES[self.robot]), np.float32)
        self.enabled = True
        self.active = False
        self.commands_published = 0
        self.timeline_restarts = 0
        self._jump_handle = self.get_clock().create_jump_callback(
            JumpThreshold(min_forward=None, min_backward=Duration(nanoseconds=-1_000_000)),
            post_callback=self._on_clock_jump,
        )
        self.swap = ModelSwap(self._load_model, self._swap_in, self._swap_failed)
        self.model_value: str | None = None  # the model_path of the model running
        self.model_swaps = 0
        self.last_model_swap = ""
        self._swap_note = ""  # a hidden-state reset or a refusal, said once on /diagnostics
        self._reverting = False
        self._entities: list[Any] = []  # subscriptions, services: destroyed on cleanup
        self._timers: list[Any] = []  # created on activate, destroyed on deactivate
        self.diagnostics = NodeDiagnostics(  # statuses "<node>: controller" and ": guardian"
            self,
            [("controller", self._controller_status), ("guardian", self._guardian_status)],
            self.hardware_id,
            self.values["diagnostics_period_s"],
        )

    # ---- parameters ---------------------------------------------------------------------
    def _apply_parameters(self, changed: set[str]) -> None:
        """Apply accepted changes at once: limits, gains, timing and timeouts."""
        self.watchdog.set_timeouts(self.values["camera_timeout_s"], self.values["imu_timeout_s"])
        self.takeover.configure(self.values["override_timeout_s"], self.values["command_limits"])
        if self.controller is not None:
            self.controller.config = controller_config(self.values)
        if self.guardian is not None:
            self.guardian.apply(self.values)
        if "model_path" in changed and self.controller is not None and not self._reverting:
            self.swap.start(self.values["model_path"])

    # ---- lifecycle ----------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and check the model, then create publishers, subscriptions and services."""
        reason = self.params.problem()
        try:
            if reason is not None:
                raise ValueError(reason)
            loaded = self._load_model(self.values["model_path"])
            self.controller = LiquidController(loaded.guardian.tap, controller_config(self.values))
        except Exception as error:  # any reason a model cannot run: refuse to configure
            self.get_logger().error(f"configure failed: {error}")
            return FAILURE
        self._use_model(loaded)
        self.get_logger().info(
            f"loaded {loaded.path} ({self.values['backend']}, {self.robot.value})"
        )
        self._create_entities()
        return SUCCESS

    def _create_entities(self) -> None:
        """Publishers (lifecycle-managed), subscriptions and services."""
        v = self.values
        twist_type = TwistStamped if v["cmd_vel_stamped"] else Twist
        self.cmd_pub = self.create_lifecycle_publisher(twist_type, v["cmd_vel_topic"], 10)
        self.neurons_pub = self.create_output_publisher(Float32MultiArray, "~/neurons", 10)
        self.diagnostics.configure()
        self._entities = [
            self._sensor_subscription(Image, v["image_topic"], self._on_image),
            self._sensor_subscription(Imu, v["imu_topic"], self._on_imu),
            self.create_service(Trigger, "~/reset", self._on_reset),
            self.create_service(SetBool, "~/enable", self._on_enable),
        ]
        self.guardian.create_publishers(self)
        self._entities.append(
            self.takeover.create_entities(
                self, v["override_stamped"], v["cmd_vel_stamped"], self._on_override
            )
        )
        if v["compressed_image_topic"]:
            self._entities.append(
                self._sensor_subscription(
                    CompressedImage, v["compressed_image_topic"], self._on_compressed
                )
            )

    def _sensor_subscription(self, msg_type: Any, topic: str, callback: Callable) -> Any:
        """A sensor-data QoS (best effort, volatile) subscription. No publisher's QoS can be
        incompatible with it, so only a publisher of another type is watched for: one
        event handler, not rclpy's default two (see create_output_publisher)."""
        logger = self.get_logger()
        events = SubscriptionEventCallbacks(
            incompatible_type=lambda event: logger.warning(
                f"a publisher on {topic} sends another type than {msg_type.__name__}: "
                "no messages will be received from it"
            ),
            use_default_callbacks=False,
        )
        return self.create_subscription(
            msg_type, topic, callback, qos_profile_sensor_data, event_callbacks=events
        )

    def create_output_publisher(self, msg_type: Any, topic: str, depth: int) -> Any:
        """A lifecycle publisher for an auxiliary output, without rclpy's default QoS-event
        handlers: each is one more entity the executor walks on every wait, i.e. at sensor
        rate (bench/bench_node.py); a mismatched subscriber still reports on its own side.
        cmd_vel and the subscriptions keep theirs."""
        quiet = PublisherEventCallbacks(use_default_callbacks=False)
        return self.create_lifecycle_publisher(msg_type, topic, depth, event_callbacks=quiet)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start from a fresh hidden state and start the watchdog and timers."""
        self.swap.poll()  # a model set while inactive
        self.controller.reset()
        self.guardian.reset()
        self.takeover.reset()
        self.watchdog.restart()
        self.active = True
        timeouts = min(self.values["camera_timeout_s"], self.values["imu_timeout_s"])
        self._timers = [
            self.create_timer(min(max(timeouts / 4, 0.005), 0.05), self._on_watchdog),
        ]
        self.diagnostics.activate()
        if self.values["command_rate_hz"] > 0:
            period = 1.0 / self.values["command_rate_hz"]
            self._timers.append(self.create_timer(period, self._on_command_timer))
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Command zero, then stop the timers and stop commanding."""
        self._publish_command(None)
        self.active = False
        self._destroy(self._timers, self.destroy_timer)
        self.diagnostics.deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the model, publishers, subscriptions and services."""
        self._release()
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Command zero if active (and wait for it to be acknowledged), then release everything."""
        if self.active:
            self._publish_command(None)
            self.active = False
            self.cmd_pub.wait_for_all_acked(Duration(nanoseconds=int(ACK_TIMEOUT_S * 1e9)))
        self._release()
        return SUCCESS

    def stop(self) -> None:
        """Leave a zero command on cmd_vel (SIGINT, SIGTERM, shutdown): the shutdown transition."""
        try:
            self.trigger_shutdown()
        except Exception as error:  # already finalized, or a transition in progress
            self.get_logger().warning(f"shutdown transition: {error}")
            if self.active:
                self._publish_command(None)

    def _release(self) -> None:
        """Destroy timers, entities and publishers; drop the model."""
        self.swap.cancel()
        self._destroy(self._timers, self.destroy_timer)
        self._destroy(self._entities, self._destroy_entity)
        self.diagnostics.release()
        for name in ("cmd_pub", "neurons_pub"):
            if hasattr(self, name):
                self.destroy_lifecycle_publisher(getattr(self, name))
                delattr(self, name)
        if self.guardian is not None:
            self.guardian.release(self)
        self.takeover.release(self)
        self.guardian = None
        self.controller = None

    def _destroy_entity(self, entity: Any) -> None:
        """Destroy a subscription or a service."""
        if hasattr(entity, "srv_type"):
            self.destroy_service(entity)
        else:
            self.destroy_subscription(entity)

    @staticmethod
    def _destroy(items: list[Any], destroy: Callable[[Any], Any]) -> None:
        while items:
            destroy(items.pop())

    # ---- sensor callbacks ---------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        """A raw camera frame: convert, fit to the model, step, publish."""
        self._process(self.watchdog.camera, lambda now: self._frame(msg, now))

    def _on_compressed(self, msg: CompressedImage) -> None:
        """A compressed camera frame: same as a raw one after decoding."""
        self._process(self.watchdog.camera, lambda now: self._frame(msg, now))

    def _on_imu(self, msg: Imu) -> None:
        """An IMU sample: features, step (latest frame held)."""
        self._process(self.watchdog.imu, lambda now: self._imu(msg, now))

    def _on_override(self, msg: Twist | TwistStamped) -> None:
        """An operator command: it drives while fresh (deadman); NaN/inf is refused."""
        if not self.active:
            return
        reason = self.takeover.receive(msg, self._now())
        if reason is not None:
            self.get_logger().warning(
                f"override refused ({reason}): NaN or inf in the operator's command "
                f"[{sum(self.takeover.bad.values())} so far]",
                throttle_duration_sec=2.0,
            )

    def _frame(self, msg: Image | CompressedImage, now: float) -> None:
        """Check, decode, fit and feed one frame; publish the command when per frame."""
        check_frame_id(msg, self.values["expected_frame_id"])
        image = fit_frame(decode_frame(msg), *self._image_hw, self.values["resize_method"])
        check_blank(image, self.values["blank_frame_range"])
        stamp = header_stamp(msg, now, self.values["max_future_stamp_s"])
        steps = self.guardian.tap.steps
        command = self._feed(
            self.watchdog.camera, lambda: self.controller.update_image(image, stamp), now
        )
        self._on_guardian_frame(msg, image, stamp, steps)
        if self.values["command_rate_hz"] == 0:
            self._publish_command(command)

    def _imu(self, msg: Imu, now: float) -> None:
        """Check and feed one IMU sample."""
        check_frame_id(msg, self.values["expected_imu_frame_id"])
        features = imu_input(msg)
        stamp = header_stamp(msg, now, self.values["max_future_stamp_s"])
        self._feed(self.watchdog.imu, lambda: self.controller.update_imu(features, stamp), now)

    # ---- outputs ------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _publish_command(self, command: np.ndarray | None) -> None:
        """Publish a command with ~/intervention and ~/policy_cmd (see nodes/takeover.py).

        ``command`` is the policy's; ``None`` means zero (a stop). While the watchdog is OK
        and the node enabled, a fresh operator override replaces the policy's command;
        otherwise zero goes out when disabled, stale, not primed, non-finite or ``None``.
        """
        if not hasattr(self, "cmd_pub"):
            return
        now = self.get_clock().now()
        policy = operator = None
        if command is not None and self.enabled and self.watchdog.state is WatchdogState.OK:
            operator = self.takeover.command(now.nanoseconds * 1e-9)
            if self.controller.primed and np.all(np.isfinite(command)):
                policy = self._guarded(command)
        policy_msg = self._twist(self._zero if policy is None else policy, now)
        command_msg = policy_msg if operator is None else self._twist(operator, now)
        self.commands_published += 1
        self.takeover.published(operator is not None, policy_msg)
        self.cmd_pub.publish(command_msg)

    def _twist(self, values: np.ndarray, now: Any) -> Twist | TwistStamped:
        """cmd_vel's message type carrying ``values`` (stamped ``now`` when TwistStamped)."""
        stamped = self.values["cmd_vel_stamped"]
        return conv.command_to_twist(
            values,
            self.robot,
            stamped,
            now.to_msg() if stamped else None,
            self.values["cmd_frame_id"],
        )

    def _on_watchdog(self) -> None:
        """Publish zero while a sensor is stale (or has not started); finish a model swap."""
        self.swap.poll()
        state, _ = self.watchdog.check(self._now())
        if state is not WatchdogState.OK:
            self._publish_command(None)

    def _on_command_timer(self) -> None:
        """Fixed-rate commanding: the latest command (zero when unsafe)."""
        if self.watchdog.state is WatchdogState.OK:
            self._publish_command(self.controller.command)

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """~/reset: clear the liquid hidden state."""
        if self.controller is None:
            response.success, response.message = False, "not configured: no model loaded"
            return response
        self.controller.reset()
        response.success, response.message = True, "hidden state cleared"
        return response

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        """~/enable: false commands zero; true resumes from a fresh hidden state."""
        if request.data and not self.enabled and self.controller is not None:
            self.controller.reset()
        self.enabled = bool(request.data)
        if not self.enabled:
            self._publish_command(None)
        response.success, response.message = True, "enabled" if self.enabled else "disabled"
        return response

    # ---- guardian (runtime/guardian.py via nodes/guardian_io.py) -------------------------
    def _guardian_problem(self, values: dict[str, Any]) -> str | None:
        """Why ``values`` cannot apply to the loaded guardian (None before configure)."""
        return self.guardian.problem(values) if self.guardian is not None else None

    def _guarded(self, command: np.ndarray) -> np.ndarray:
        """The command under the guardian's alarm (ood_action: warn, slow, stop)."""
        return self.guardian.guard(command) if self.guardian is not None else command

    def _on_guardian_frame(self, msg: Any, image: np.ndarray, stamp: float, steps: int) -> None:
        """After a frame: score, alarm and ~/ood_score when it stepped; ~/saliency throttled."""
        self.guardian.on_frame(msg.header, image, stamp, self.guardian.tap.steps > steps)

    @property
    def hardware_id(self) -> str:
        """The robot this controller drives: its namespace and profile (``/rover1/rover``)."""
        return f"{self.get_namespace().rstrip('/')}/{self.robot.value}"


def _start() -> ControllerNode:
    """The controller node; with ``autostart`` it configures and activates itself."""
    node = ControllerNode()
    if node.values["autostart"] and node.trigger_configure() == SUCCESS:
        node.trigger_activate()
    return node


def main(args: list[str] | None = None) -> None:
    """Console entry point ``controller``: exits 0 on SIGINT/SIGTERM after a zero command."""
    raise SystemExit(spin_node(_start, args, executor=lambda node: node.values["executor"]))


if __name__ == "__main__":
    main()
