"""`liquid-control monitor`: a live bar view of the controller's ``~/neurons`` topic in a terminal.

A viewer node, so it lives in nodes/ with the other rclpy code; rclpy is imported
inside ``main`` only, so the pure rendering helpers load without ROS. With ``--model``
the bars are labelled by neuron role and motor command, read from the model's
checked config.json (interface.model_dir, no torch). ``rich`` is used for a
flicker-free live view when it is installed; plain text otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_TOPIC = "/liquid_controller/neurons"  # the controller node's ~/neurons
FULL, HALF = "#", "+"


def neuron_labels(model_dir: str | Path, count: int | None = None) -> list[str]:
    """Labels like ``12 inter``, ``3 command``, ``0 motor:vx`` from a model's config.json."""
    from liquid_control.interface.model_dir import read_meta

    meta = read_meta(model_dir)
    wiring = meta.get("wiring")
    names = list(meta.get("command_names") or [])
    if wiring:
        labels = [f"{i} {role}" for i, role in enumerate(wiring["roles"])]
        for i in range(min(wiring["output_dim"], len(names))):
            labels[i] = f"{i} motor:{names[i]}"
    else:
        labels = [f"{i} h" for i in range(int(meta.get("hidden_size", count or 0)))]
    if count is not None and len(labels) != count:
        raise ValueError(
            f"{model_dir} describes {len(labels)} neurons but the topic carries {count} values"
        )
    return labels


def bar(value: float, scale: float, half_width: int) -> str:
    """A centre-zero bar: negative values grow left of ``|``, positive ones right."""
    if half_width < 1:
        raise ValueError(f"half_width={half_width} must be >= 1")
    if not math.isfinite(value):
        return " " * half_width + "?" + " " * half_width
    fraction = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    cells = fraction * half_width
    body = FULL * int(cells) + (HALF if cells - int(cells) >= 0.5 else "")
    if value < 0:
        return body.rjust(half_width) + "|" + " " * half_width
    return " " * half_width + "|" + body.ljust(half_width)


def render_bars(
    values: np.ndarray,
    labels: list[str] | None = None,
    width: int = 60,
    scale: float | None = None,
    header: str = "",
) -> str:
    """One line per neuron: label, centre-zero bar scaled to ``scale`` (default max |v|), value."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if labels is None:
        labels = [str(i) for i in range(values.size)]
    if len(labels) != values.size:
        raise ValueError(f"{len(labels)} labels for {values.size} values")
    finite = np.abs(values[np.isfinite(values)])
    if scale is None:
        scale = max(float(finite.max(initial=0.0)), 1e-6)
    label_width = max((len(label) for label in labels), default=1)
    half = max((width - label_width - 12) // 2, 4)
    lines = [header] if header else []
    lines.append(f"{'':>{label_width}}  {-scale:<+{half}.2f}0{scale:>+{half}.2f}")
    for label, value in zip(labels, values, strict=True):
        lines.append(f"{label:>{label_width}}  {bar(float(value), scale, half)}  {value:+.3f}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liquid-control monitor",
        description="Live terminal bars of a liquid controller's neuron states "
        "(std_msgs/Float32MultiArray, published with publish_neurons:=true).",
    )
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help="neurons topic (%(default)s)")
    parser.add_argument("--model", help="model directory: label bars by neuron role/command")
    parser.add_argument("--once", action="store_true", help="print the first message and exit")
    parser.add_argument(
        "--duration",
        type=float,
        default=math.inf,
        help="stop after this many seconds (default: until Ctrl-C)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="with --once: give up after this many seconds (%(default)s)",
    )
    parser.add_argument("--rate", type=float, default=10.0, help="max redraws per second")
    parser.add_argument("--scale", type=float, help="bar full scale (default: running max |v|)")
    parser.add_argument("--width", type=int, default=72, help="line width in characters")
    parser.add_argument("--plain", action="store_true", help="never use rich or cursor codes")
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("duration", "timeout", "rate"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name}={getattr(args, name)} must be > 0")
    if args.scale is not None and not args.scale > 0:
        parser.error(f"--scale={args.scale} must be > 0")
    if args.width < 30:
        parser.error(f"--width={args.width} must be >= 30")


class _Screen:
    """Where frames go: rich Live, an ANSI-redrawn terminal, or plain successive blocks."""

    def __init__(self, plain: bool) -> None:
        self._live = None
        self._tty = sys.stdout.isatty() and not plain
        if self._tty:
            try:
                from rich.live import Live
                from rich.text import Text
            except ImportError:
                return
            self._text = Text
            self._live = Live(auto_refresh=False)
            self._live.start()

    def show(self, frame: str) -> None:
        if self._live is not None:
            self._live.update(self._text(frame), refresh=True)
        elif self._tty:
            sys.stdout.write("\x1b[H\x1b[J" + frame + "\n")
            sys.stdout.flush()
        else:
            print(frame + "\n", flush=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()


def _watch(node: object, args: argparse.Namespace, screen: _Screen, limit: float) -> int:
    """Spin ``node`` on the neurons topic, drawing at most ``args.rate`` frames/s; return count."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from std_msgs.msg import Float32MultiArray

    latest: list[np.ndarray] = []
    node.create_subscription(
        Float32MultiArray,
        args.topic,
        lambda msg: latest.append(np.asarray(msg.data, dtype=np.float32)),
        qos_profile_sensor_data,
    )
    received, peak, last_draw, labels = 0, 0.0, -math.inf, None
    start = time.monotonic()
    while time.monotonic() - start < limit:
        rclpy.spin_once(node, timeout_sec=min(0.05, 1.0 / args.rate))
        if not latest:
            continue
        values, received = latest[-1], received + len(latest)
        latest.clear()
        if labels is None and args.model:
            labels = neuron_labels(args.model, values.size)
        peak = max(peak, float(np.nanmax(np.abs(values), initial=0.0)))
        now = time.monotonic()
        if args.once or now - last_draw >= 1.0 / args.rate:
            header = f"{args.topic}  messages={received}  t={now - start:.1f}s"
            screen.show(
                render_bars(values, labels, args.width, args.scale or max(peak, 1e-6), header)
            )
            last_draw = now
        if args.once:
            break
    return received


def main(argv: list[str] | None = None) -> int:
    """Subscribe to the neurons topic and draw bars until Ctrl-C, --duration or --once."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    import rclpy
    from rclpy.executors import ExternalShutdownException

    screen = _Screen(args.plain)
    limit = args.timeout if args.once else args.duration
    received = 0
    rclpy.init()  # plain init + try/finally: Jazzy's init() is not a context manager
    try:
        node = rclpy.create_node("liquid_control_monitor")
        try:
            received = _watch(node, args, screen, limit)
        finally:
            node.destroy_node()
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0  # the user stopped it: not an error
    finally:
        screen.close()
        rclpy.try_shutdown()
    if received == 0:
        print(
            f"liquid-control monitor: no message on {args.topic} within {limit:g} s; start "
            "the controller with publish_neurons:=true (and check ROS_DOMAIN_ID)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
