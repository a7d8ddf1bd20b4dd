"""Cost of the guardian in the runtime, on the shipped calibrated CfC-NCP policies.

Two figures, both measured in this run, one thread (BLAS and ORT capped):

(a) score overhead: ``OodScore.update`` (guardian.json's whitened distance of the
    step's features, windowed) as a share of the full policy step it rides on, the
    controller's work per camera frame (``encode_image`` + ``step``: encoder, IMU,
    core, head), per backend. Both are timed in the same interleaved rounds as thread
    CPU time, so load from other processes hits them alike. Target <= 10%.
(b) saliency: torch-free VisualBackProp of one frame (``runtime/saliency.py``, what
    the node publishes on ``~/saliency``), thread CPU time per frame times 5 Hz, as a
    fraction of one core. Target <= 10%.

    python bench/bench_guardian.py [--iterations 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from liquid_control.interface.guardian_file import load_guardian  # noqa: E402
from liquid_control.interface.model_dir import load_model  # noqa: E402
from liquid_control.runtime.backends import load_backend  # noqa: E402
from liquid_control.runtime.guardian import OodScore  # noqa: E402
from liquid_control.runtime.saliency import VisualBackProp  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models" / "policies"
ROBOTS = ("rover", "drone")
BACKENDS = ("numpy", "onnxruntime")
SCORE_TARGET = 0.10  # of the full policy step
SALIENCY_RATE_HZ = 5.0
SALIENCY_TARGET = 0.10  # of one core


def cpu_us(candidates: dict[str, Callable[[], object]], iterations: int, rounds: int = 5) -> dict:
    """Thread-CPU p50 and p99 per call in microseconds, candidates interleaved in rounds."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():
        for _ in range(20):
            fn()
    for _ in range(rounds):
        for name, fn in candidates.items():
            for _ in range(max(iterations // rounds, 1)):
                start = time.thread_time_ns()
                fn()
                times[name].append((time.thread_time_ns() - start) / 1000.0)
    return {
        name: {"p50": float(np.median(t)), "p99": float(np.percentile(t, 99))}
        for name, t in times.items()
    }


def step_candidates(model: Path, backend_name: str, image: np.ndarray) -> dict:
    """The full per-frame policy step and the guardian's score update on its outputs."""
    backend = load_backend(model, backend_name)
    score = OodScore(load_guardian(model))
    imu = np.zeros(backend.spec.imu_dim, np.float32)
    hidden = backend.initial_state()
    features = backend.encode_image(image)
    _, new_hidden = backend.step(features, imu, hidden, 1.0)

    def full_step() -> None:
        backend.step(backend.encode_image(image), imu, hidden, 1.0)

    return {
        f"{backend_name} full step": full_step,
        f"{backend_name} score": lambda: score.update(features, new_hidden),
    }


def main() -> None:
    """Measure and print both tables (and the verdicts against the targets)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000, help="calls per candidate")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    out: dict = {"score": {}, "saliency": {}}
    lines = [
        "score step overhead (thread CPU us, p50; ratio of score to full policy step)",
        "| model | backend | full step p50 | score p50 | ratio p50 | ratio p99 | target <= 10% |",
        "|---|---|---|---|---|---|---|",
    ]
    saliency_lines = [
        f"saliency at {SALIENCY_RATE_HZ:g} Hz (VisualBackProp, thread CPU per frame)",
        "| model | image | ms per frame p50 | core fraction at 5 Hz | target <= 10% |",
        "|---|---|---|---|---|",
    ]
    for robot in ROBOTS:
        model = MODELS / f"{robot}_cfc_ncp"
        shape = tuple(load_model(model).config.image_shape)
        image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        candidates = {}
        for name in BACKENDS:
            candidates.update(step_candidates(model, name, image))
        saliency = VisualBackProp(load_model(model))
        candidates["saliency"] = lambda saliency=saliency, image=image: saliency(image)
        times = cpu_us(candidates, args.iterations)
        for name in BACKENDS:
            full, score = times[f"{name} full step"], times[f"{name} score"]
            ratio = score["p50"] / full["p50"]
            ratio99 = score["p99"] / full["p99"]
            out["score"][f"{robot}/{name}"] = {
                "full_step_us": full,
                "score_us": score,
                "ratio_p50": ratio,
                "ratio_p99": ratio99,
                "meets_target": ratio <= SCORE_TARGET,
            }
            lines.append(
                f"| {robot}_cfc_ncp | {name} | {full['p50']:.0f} | {score['p50']:.1f} | "
                f"{ratio:.1%} | {ratio99:.1%} | {'yes' if ratio <= SCORE_TARGET else 'NO'} |"
            )
        per_frame_ms = times["saliency"]["p50"] / 1000.0
        fraction = per_frame_ms / 1000.0 * SALIENCY_RATE_HZ
        out["saliency"][robot] = {
            "ms_per_frame_p50": per_frame_ms,
            "core_fraction_at_5hz": fraction,
            "meets_target": fraction <= SALIENCY_TARGET,
        }
        saliency_lines.append(
            f"| {robot}_cfc_ncp | {shape[1]}x{shape[0]} | {per_frame_ms:.2f} | {fraction:.2%} | "
            f"{'yes' if fraction <= SALIENCY_TARGET else 'NO'} |"
        )
    print("\n".join([*lines, "", *saliency_lines]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
