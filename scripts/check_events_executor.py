#!/usr/bin/env python3
"""Does this rclpy's EventsExecutor survive a publish from a second thread?

The controller node takes ``executor: events`` (rclpy.experimental.EventsExecutor), which
spins it with about half the CPU of the default single-threaded executor
(docs/deploy.md). In the ROS 2 Kilted (rclpy 9) and Jazzy (rclpy 7) wheels we measured, it
deadlocks as soon as a thread other than the spinning one publishes in the same process:
the publish never returns. The controller node itself publishes only from its executor
thread, but a process that composes it with other code may not. Run this before choosing
``events`` on your distro:

    python scripts/check_events_executor.py [--seconds 3]

It spins with the node's own ``make_executor``, in a child process (the deadlock cannot
be interrupted from inside), on a private localhost ROS graph, for the single-threaded
executor first (the control), and exits 0 when the EventsExecutor delivered every
message, 1 when it hung or lost messages, 2 when this rclpy has no EventsExecutor.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys

CHILD = r"""
import sys, threading, time
import rclpy
from std_msgs.msg import UInt32

from liquid_control.nodes.run import make_executor  # the node's own choice of executor

kind, seconds = sys.argv[1], float(sys.argv[2])
context = rclpy.Context()
rclpy.init(context=context)
receiver = rclpy.create_node("events_check_receiver", context=context)
sender = rclpy.create_node("events_check_sender", context=context)
got = []
receiver.create_subscription(UInt32, "events_check", lambda m: got.append(m.data), 1000)
publisher = sender.create_publisher(UInt32, "events_check", 1000)
executor = make_executor(kind, context)
executor.add_node(receiver)
executor.add_node(sender)
threading.Thread(target=executor.spin, daemon=True).start()
deadline = time.monotonic() + 10.0
while publisher.get_subscription_count() < 1 and time.monotonic() < deadline:
    time.sleep(0.05)
sent, end = 0, time.monotonic() + seconds
while time.monotonic() < end:  # this (main) thread publishes while the executor spins
    publisher.publish(UInt32(data=sent))
    sent += 1
    time.sleep(0.002)
time.sleep(0.5)
print(sent, len(got), flush=True)
import os
os._exit(0)  # no teardown: only the delivery is being checked
"""


def run(kind: str, seconds: float) -> tuple[str, str]:
    """('ok' | 'hung' | 'lost' | 'failed', detail) for one executor kind."""
    env = {
        **os.environ,
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_DOMAIN_ID": os.environ.get("ROS_DOMAIN_ID", "87"),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(seconds)],
            capture_output=True,
            text=True,
            timeout=seconds + 12.0,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return "hung", f"no reply within {seconds + 12:.0f} s: a publish never returned"
    if done.returncode != 0 or not done.stdout.strip():
        return "failed", (done.stderr or done.stdout).strip()[-500:]
    sent, received = (int(x) for x in done.stdout.split()[:2])
    detail = f"{received}/{sent} messages delivered"
    return ("ok" if sent > 0 and received == sent else "lost"), detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to publish")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("rclpy") is None:
        print("rclpy is not importable here: source a ROS 2 install or its venv", file=sys.stderr)
        return 2
    if importlib.util.find_spec("rclpy.experimental") is None:
        print("this rclpy has no rclpy.experimental.EventsExecutor: keep executor: single")
        return 2
    verdicts = {}
    for kind in ("single", "events"):
        verdicts[kind], detail = run(kind, args.seconds)
        print(f"{kind:>6}: {verdicts[kind]} ({detail})")
    if verdicts["single"] != "ok":
        print("the control (single-threaded executor) failed too: the check says nothing")
        return 1
    if verdicts["events"] == "ok":
        print("EventsExecutor: a publish from a second thread is delivered")
        return 0
    print("EventsExecutor: unsafe when another thread publishes; keep executor: single")
    return 1


if __name__ == "__main__":
    sys.exit(main())
