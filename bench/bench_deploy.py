"""Deployment resource report: model files, process memory, import time, per-step latency.

    python bench/bench_deploy.py [--model DIR] [--events 600] [--json out.json]

Each backend runs in its own fresh process (the numpy and onnxruntime ones with
torch blocked, as on a companion computer) that imports the runtime, loads the
model, streams camera frames and IMU samples through a LiquidController on one
thread, and reports its RSS. Every figure is also given relative to the torch
backend measured in the same run: absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NO_TORCH = REPO / "test" / "deploy" / "no_torch.py"
BACKENDS = ("torch", "onnxruntime", "numpy")
LIBRARIES = {"torch": "torch", "onnxruntime": "onnxruntime", "numpy": "numpy"}
IMU_PER_FRAME = 5  # 100 Hz IMU, 20 Hz camera


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB, from /proc/self/status."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024.0
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def worker(model: str, backend: str, events: int) -> dict:
    """Run in a fresh process: import runtime + library, load, stream ``events`` events."""
    start = time.perf_counter()
    from liquid_control.runtime import ControllerConfig, LiquidController, load_backend

    importlib.import_module(LIBRARIES[backend])  # numpy itself is already imported: all need it
    loaded = time.perf_counter()
    backend_obj = load_backend(model, backend, threads=1)
    ready = time.perf_counter()
    spec = backend_obj.spec
    controller = LiquidController(backend_obj, ControllerConfig(limits=spec.command_scale))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (8, *spec.image_shape), dtype=np.uint8)
    imu = np.array([0.01, -0.02, 0.1, 0.0, 0.0, 9.81, 0.0, 0.0, -1.0], dtype=np.float32)
    image_us, imu_us = [], []
    for k in range(events):
        stamp = 0.01 * k
        t0 = time.perf_counter()
        if k % IMU_PER_FRAME == 0:
            controller.update_image(frames[k % len(frames)], stamp)
            image_us.append((time.perf_counter() - t0) * 1e6)
        else:
            controller.update_imu(imu, stamp)
            imu_us.append((time.perf_counter() - t0) * 1e6)
    rss, peak = rss_mb()
    warm = slice(len(image_us) // 10, None)  # drop the first 10% (allocations, caches)
    return {
        "backend": backend,
        "import_s": loaded - start,
        "load_s": ready - loaded,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "frame_event_us_p50": float(np.percentile(image_us[warm], 50)),
        "frame_event_us_p99": float(np.percentile(image_us[warm], 99)),
        "imu_event_us_p50": float(np.percentile(imu_us[len(imu_us) // 10 :], 50)),
        "imu_event_us_p99": float(np.percentile(imu_us[len(imu_us) // 10 :], 99)),
        "torch_loaded": "torch" in sys.modules,
    }


def run_worker(model: Path, backend: str, events: int, scratch: Path) -> dict:
    """Start one worker process (torch blocked unless it is the torch backend)."""
    args = ["--worker", backend, "--model", str(model), "--events", str(events)]
    if backend == "torch":
        command = [sys.executable, "-m", "bench_deploy", *args]
    else:
        report = scratch / f"imports_{backend}.json"
        command = [sys.executable, str(NO_TORCH), str(report), "bench_deploy", *args]
    path = os.pathsep.join([str(REPO / "bench"), str(REPO), os.environ.get("PYTHONPATH", "")])
    # one BLAS thread: the numpy backend ignores ``threads`` and OpenBLAS would otherwise
    # spin one thread per core, which on a loaded machine costs 20-100x in p50 latency
    single = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **single, "PYTHONPATH": path},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{backend} worker failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def node_rss_mb(model: Path, backend: str, scratch: Path, timeout_s: float = 120.0) -> float:
    """RSS (MB) of a real controller node process once it has loaded the model and activated."""
    report = scratch / f"node_imports_{backend}.json"
    args = ["liquid_control.nodes.controller_node", "--ros-args", "-r", f"__ns:=/bench_{backend}"]
    args += ["-p", f"model_path:={model}", "-p", f"backend:={backend}", "-p", "threads:=1"]
    command = [sys.executable, *([str(NO_TORCH), str(report)] if backend != "torch" else ["-m"])]
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + timeout_s
        for line in process.stdout:
            if "loaded" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)  # activation and the first timers run right after the load message
        with open(f"/proc/{process.pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024.0
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def file_sizes(model: Path) -> dict[str, int]:
    """Bytes of each model file the backends read."""
    names = ("model.safetensors", "encoder.onnx", "core.onnx", "config.json")
    return {name: (model / name).stat().st_size for name in names if (model / name).is_file()}


def ensure_model(model: str | None, scratch: Path) -> Path:
    """The model to measure: the given one, the shipped rover policy, or a fresh random one."""
    if model:
        return Path(model)
    shipped = REPO / "models" / "policies" / "rover_cfc_ncp"
    if (shipped / "encoder.onnx").is_file():
        return shipped
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(0)
    path = scratch / "rover_cfc_ncp"
    export_onnx(LiquidNetwork(PolicyConfig(robot="rover")), path)
    return path


def report(model: Path, sizes: dict[str, int], rows: list[dict]) -> str:
    """Markdown tables: files, then each backend with ratios to torch."""
    reference = next(r for r in rows if r["backend"] == "torch")
    lines = [
        f"## Deployment footprint of {model}",
        "",
        "| file | bytes | vs model.safetensors |",
        "|---|---|---|",
    ]
    base = sizes.get("model.safetensors", 1)
    lines += [f"| {n} | {b:,} | {b / base:.2f}x |" for n, b in sizes.items()]
    lines += [
        "",
        "| backend | torch loaded | node RSS MB (x torch) | RSS MB (x torch) | import s (x torch) | "
        "load s (x torch) | frame event us p50 (x torch) | p99 | IMU event us p50 "
        "(x torch) | p99 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:

        def cell(key: str, r: dict = r) -> str:
            return f"{r[key]:.3g} ({r[key] / reference[key]:.2f}x)"

        lines.append(
            f"| {r['backend']} | {'yes' if r['torch_loaded'] else 'no'} | {cell('node_rss_mb')} | "
            f"{cell('rss_mb')} | "
            f"{cell('import_s')} | {cell('load_s')} | {cell('frame_event_us_p50')} | "
            f"{r['frame_event_us_p99']:.0f} | {cell('imu_event_us_p50')} | "
            f"{r['imu_event_us_p99']:.0f} |"
        )
    lines += [
        "",
        "node RSS: the controller node process (rclpy included) after loading the model; "
        "RSS: a runtime-only process after streaming. One thread per backend; frame event = "
        "encode + core step + limits, IMU event = folding a sample into the average (no step). "
        "Ratios are against the "
        "torch backend in this run.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure every backend in its own process and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        help="model directory with ONNX export (default: shipped rover policy, else a random one)",
    )
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--json", help="write the raw measurements here")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.events < 50:
        parser.error(f"--events={args.events} must be >= 50")
    if args.worker:
        print(json.dumps(worker(args.model, args.worker, args.events)))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        model = ensure_model(args.model, Path(scratch))
        rows = [run_worker(model, b, args.events, Path(scratch)) for b in BACKENDS]
        for row in rows:
            row["node_rss_mb"] = node_rss_mb(model, row["backend"], Path(scratch))
        sizes = file_sizes(model)
        print(report(model, sizes, rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"files": sizes, "backends": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
