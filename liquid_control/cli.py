"""`liquid-control`: one command line for demo, data, training, evaluation and deployment."""

from __future__ import annotations

import importlib
import sys

# name -> (module with `main(argv) -> int`, one-line help). An explicit registry: no name rewriting.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("liquid_control.demo", "run the closed-loop demo (sim + controller over ROS 2)"),
    "collect": ("liquid_control.learn.collect", "record expert demonstrations as rosbag2"),
    "train": ("liquid_control.learn.train", "train a policy from a YAML config"),
    "eval": ("liquid_control.learn.evaluate", "closed-loop evaluation, nominal and shifted"),
    "finetune": ("liquid_control.learn.finetune", "fine-tune a model on operator corrections"),
    "adapt": ("liquid_control.learn.adapt", "rounds of simulated-operator corrections + finetune"),
    "fleet": ("liquid_control.learn.fleet", "federated fine-tuning with Flower (server/client)"),
    "export": (
        "liquid_control.export.cli",
        "export a model (ONNX, C99 float/int8) or ship a training run, and check it",
    ),
    "calibrate": (
        "liquid_control.learn.calibrate",
        "calibrate a model's OOD guardian on nominal episodes (writes guardian.json)",
    ),
    "inspect": ("liquid_control.inspect.cli", "wiring diagram, neuron traces, saliency"),
    "study": ("liquid_control.study.cli", "the architecture study: tune, train, evaluate, verdict"),
    "monitor": ("liquid_control.nodes.monitor", "live terminal view of ~/neurons"),
    "bench": ("liquid_control.bench", "benchmarks (ratios vs references in the same run)"),
    "ament-prefix": ("liquid_control.ament_prefix", "make a pip install findable by launch_ros"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: liquid-control <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`liquid-control <command> --help` describes each command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the subcommand's own argument parser."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"liquid-control: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _ = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        print(
            f"liquid-control {name}: cannot import {module_name} ({err}); "
            "run `make setup` or `pip install -e .[train]`",
            file=sys.stderr,
        )
        return 2
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
