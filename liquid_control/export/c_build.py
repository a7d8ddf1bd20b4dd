"""Export a model directory as C99 and build the shared library the ``c`` runtime backend loads.

``export_c(model_dir, out_dir, int8)`` writes ``lc_policy.h`` + ``lc_policy.c``
to ``out_dir`` (to embed in firmware) and, inside the model directory under
``c_float/`` or ``c_int8/``, the same two files plus ``liblc_policy.so``
compiled with the system C compiler; the sha256 of all three and the machine
the library was built for go into config.json (``c_exports``), so the runtime
refuses a library that was altered or built elsewhere. Torch-free.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.export.c_plan import CExportError, c_plan
from liquid_control.export.c_quant import QuantPlan, calibrate
from liquid_control.export.c_source import HEADER_NAME, SOURCE_NAME, render
from liquid_control.interface.model_dir import load_model, read_meta, sha256_file, write_meta

LIBRARY_NAME = "liblc_policy.so"
VARIANTS = ("float", "int8")
# What the test suite and the export compile with: strict C99, every warning an error.
STRICT_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
CORTEX_M4F_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard")


def find_compiler() -> str | None:
    """The system C compiler: $CC, else cc, gcc or clang on PATH (None when there is none)."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def machine_tag() -> dict[str, str]:
    """Where a shared library built now can run: OS and CPU architecture."""
    return {"system": platform.system(), "machine": platform.machine()}


def variant_dir(variant: str) -> str:
    """Model-directory subfolder of a C export variant."""
    if variant not in VARIANTS:
        raise ValueError(f"C export variant {variant!r} is not one of {list(VARIANTS)}")
    return f"c_{variant}"


def export_c(
    model_dir: str | Path,
    out_dir: str | Path | None = None,
    int8: bool = False,
    calibration_frames: np.ndarray | None = None,
    compiler: str | None = None,
) -> dict[str, Path]:
    """Write the C library (float, or int8 encoder), build it, record it; return the paths.

    ``calibration_frames`` (N, H, W, 3) uint8 calibrate the int8 activation
    ranges; by default nominal simulator frames are rendered (sim/).
    """
    model = load_model(model_dir)
    plan = c_plan(model)
    plan.extra["command_names"] = tuple(model.config.command_names)
    quant: QuantPlan | None = None
    if int8:
        if calibration_frames is None:
            calibration_frames = simulator_frames(model.config.robot.value, plan.image_shape)
        quant = calibrate(plan, calibration_frames)
    header, source = render(plan, quant)
    compiler = compiler or find_compiler()
    if compiler is None:
        raise CExportError(
            "no C compiler found (set CC, or install gcc): the c backend's shared library is "
            "built at export time"
        )
    variant = "int8" if int8 else "float"
    target = Path(model_dir) / variant_dir(variant)
    target.mkdir(exist_ok=True)
    (target / HEADER_NAME).write_text(header)
    (target / SOURCE_NAME).write_text(source)
    library = build_shared(target / SOURCE_NAME, target / LIBRARY_NAME, compiler)
    paths = {"header": target / HEADER_NAME, "source": target / SOURCE_NAME, "library": library}
    _record(model_dir, variant, paths, compiler, quant)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name in (HEADER_NAME, SOURCE_NAME):
            shutil.copyfile(target / name, out / name)
        paths.update(out_header=out / HEADER_NAME, out_source=out / SOURCE_NAME)
    return paths


def build_shared(source: Path, library: Path, compiler: str) -> Path:
    """Compile ``source`` with the strict flags into a shared library (-O2, PIC)."""
    command = [
        compiler,
        *STRICT_FLAGS,
        "-O2",
        "-fPIC",
        "-shared",
        "-o",
        str(library),
        str(source),
        "-lm",
    ]
    compile_or_raise(command)
    return library


def compile_or_raise(command: list[str]) -> None:
    """Run a compiler command; a failure raises CExportError with the compiler's message."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise CExportError(f"{' '.join(command)} failed:\n{result.stderr[-4000:]}")


def _record(
    model_dir: str | Path,
    variant: str,
    paths: dict[str, Path],
    compiler: str,
    quant: QuantPlan | None,
) -> None:
    """Add the variant's files, checksums and build machine to config.json (atomically)."""
    meta = read_meta(model_dir)
    entry: dict[str, Any] = {
        "dir": variant_dir(variant),
        "sha256": {path.name: sha256_file(path) for path in paths.values()},
        "library": paths["library"].name,
        "built_for": machine_tag(),
        "compiler": _compiler_version(compiler),
    }
    if quant is not None:
        entry["calibration_frames"] = quant.calibration_frames
    exports = dict(meta.get("c_exports") or {})
    exports[variant] = entry
    meta["c_exports"] = exports
    write_meta(model_dir, meta)


def _compiler_version(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30)
    return (result.stdout.splitlines() or [compiler])[0].strip()


def simulator_frames(
    robot: str,
    image_shape: tuple[int, int, int],
    episodes: int = 4,
    steps: int = 400,
    seed: int = 1000,
) -> np.ndarray:
    """Nominal camera frames from the embedded simulator with the expert driving, whole episodes.

    Whole episodes matter: the drone's late frames (close to the target) drive
    some encoder channels 3-4x past what its first seconds do.
    """
    from liquid_control.sim import make_sim
    from liquid_control.sim.experts import expert_action

    sim = make_sim(robot)
    frames = []
    try:
        for episode in range(episodes):
            obs = sim.reset(seed + episode)
            for _ in range(steps):
                if obs.has_image:
                    frames.append(obs.image)
                obs, _, done, _ = sim.step(expert_action(sim))
                if done:
                    break
    finally:
        sim.close()
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.shape[1:] != tuple(image_shape):
        raise CExportError(
            f"simulator frames are {frames.shape[1:]}, the model expects {tuple(image_shape)}: "
            "pass calibration frames of the model's shape"
        )
    return frames
