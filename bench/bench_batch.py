"""Would batching episodes per policy call make evaluation cheaper? (issue 15's alternative to 100x)

Evaluation runs one episode per policy call: every camera frame goes through the
runtime's NumPy encoder alone (batch 1). Batching N episodes in lockstep could only
save on the policy's side, so this measures, in the same interleaved rounds:

- the encoder per frame: the runtime's NumPy encoder (batch 1, the reference), the
  same im2col maths over N frames at once, and torch's conv2d over N frames (one
  thread each; the same 64x48 encoder, weights of a freshly built default drone);
- the evaluation loop per camera frame: learner-driven episodes through
  ``learn.rollout.run_job`` (simulator, rendering, IMU features, controller, policy),
  CPU time of this process.

It prints the encoder's share of the loop and the most any batch size could save
(the loop's frame cost minus the encoder's batch-1 cost plus its best batched cost).
The batched encoders here are measuring devices, not a runtime path.

    python bench/bench_batch.py [--sizes 4 16 64] [--iterations 400] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_core import measure  # noqa: E402  (bench/ is the script's directory)
from numpy.lib.stride_tricks import as_strided  # noqa: E402

from liquid_control.core.policy import LiquidNetwork  # noqa: E402
from liquid_control.core.torch_backend import policy_from_model  # noqa: E402
from liquid_control.export.onnx import export_onnx  # noqa: E402
from liquid_control.interface.backend import encoder_input  # noqa: E402
from liquid_control.interface.choices import Pooling  # noqa: E402
from liquid_control.interface.model_dir import load_model  # noqa: E402
from liquid_control.interface.policy_config import PolicyConfig  # noqa: E402
from liquid_control.runtime.backends import load_backend  # noqa: E402


def numpy_batched(encoder, images: np.ndarray) -> np.ndarray:
    """The runtime encoder's im2col maths over (N, H, W, 3) frames at once."""
    x = encoder_input(images)
    p, k, s = encoder.pad, encoder.kernel, encoder.stride
    for weight, bias in encoder.convs:
        n, h, w, c = x.shape
        padded = np.zeros((n, h + 2 * p, w + 2 * p, c), np.float32)
        padded[:, p : p + h, p : p + w] = x
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        b, r, col, e = padded.strides
        windows = as_strided(padded, (n, oh, ow, k, k, c), (b, s * r, s * col, r, col, e))
        x = encoder.act((windows.reshape(n * oh * ow, -1) @ weight).reshape(n, oh, ow, -1) + bias)
    x = x.reshape(len(x), -1) if encoder.pooling == Pooling.FLATTEN else x.mean(axis=(1, 2))
    return x @ encoder.fc_weight + encoder.fc_bias


def loop_cost_per_frame(model_dir: Path, seconds: float) -> tuple[float, int]:
    """CPU microseconds per camera frame of learner-driven drone episodes, and frames run."""
    from liquid_control.learn.rollout import Job, run_job

    def job(seed: int, max_time_s: float) -> Job:
        return Job("drone", seed, "{}", str(model_dir), "numpy", 0.0, 0.0, False, max_time_s)

    run_job(job(0, 1.0))  # renderer, backend and caches built outside the timing
    spent, frames, seed = 0.0, 0, 1
    while frames * 0.05 < seconds:  # the camera runs at 20 Hz
        start = time.process_time()
        info = run_job(job(seed, seconds)).info
        spent += time.process_time() - start
        frames += max(int(round(float(info.get("time_s", 0.0)) / 0.05)), 1)
        seed += 1
    return spent / frames * 1e6, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64], help="batch sizes")
    parser.add_argument("--iterations", type=int, default=400, help="calls per candidate")
    parser.add_argument("--seconds", type=float, default=30.0, help="simulated s of the loop")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        torch.manual_seed(0)
        model_dir = Path(root) / "drone"
        export_onnx(LiquidNetwork(PolicyConfig(robot="drone")), model_dir)
        backend = load_backend(model_dir, "numpy")
        torch_encoder = policy_from_model(load_model(model_dir)).encoder.eval()
        frames = {n: rng.integers(0, 256, (n, 48, 64, 3), dtype=np.uint8) for n in args.sizes}
        one = frames[args.sizes[0]][0]
        same = np.abs(numpy_batched(backend.encoder, one[None])[0] - backend.encode_image(one))
        if same.max() > 1e-4:
            raise SystemExit(f"the batched NumPy encoder differs from the runtime's: {same.max()}")
        calls = {"numpy runtime, batch 1": lambda: backend.encode_image(one)}
        per_call = {"numpy runtime, batch 1": 1}
        for n, batch in frames.items():
            tensor = torch.from_numpy(batch)
            calls[f"numpy im2col, batch {n}"] = lambda b=batch: numpy_batched(backend.encoder, b)
            calls[f"torch conv2d, batch {n}"] = lambda t=tensor: torch_encoder(t)
            per_call[f"numpy im2col, batch {n}"] = per_call[f"torch conv2d, batch {n}"] = n
        with torch.inference_mode():
            timed = measure(calls, args.iterations)
        loop_us, loop_frames = loop_cost_per_frame(model_dir, args.seconds)
    encoder = {name: timed[name]["cpu_p50"] / per_call[name] for name in calls}
    reference = encoder["numpy runtime, batch 1"]
    lines = [
        "encoder per frame, 64x48 (CPU us, p50 of calls / frames per call)",
        f"{'candidate':28s} {'us/frame':>9s} {'vs batch 1':>11s}",
    ]
    lines += [f"{name:28s} {us:9.1f} {reference / us:10.2f}x" for name, us in encoder.items()]
    best_name = min(encoder, key=encoder.get)
    saving = (reference - encoder[best_name]) / loop_us
    lines += [
        "",
        f"evaluation loop per camera frame (drone, {loop_frames} frames): {loop_us:.0f} us CPU",
        f"encoder share of the loop at batch 1: {reference / loop_us:.0%}",
        f"most any batch saves ({best_name}): {saving:.0%} of the loop, "
        f"{1 / (1 - saving):.2f}x faster evaluation at best",
    ]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "encoder_us_per_frame": encoder,
                    "loop_us_per_frame": loop_us,
                    "loop_frames": loop_frames,
                    "best": best_name,
                    "max_saving": saving,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
