"""C backend: the policy's exported C99 library (float or int8 encoder) through ctypes.

The shared library is built at export time (``liquid-control export MODEL --c
OUT_DIR [--int8]``) into the model directory; config.json records the sha256 of
it and of the C source and header it was built from, and the machine it was
built for. Loading refuses a missing or altered file, a library built for
another OS or CPU, and one generated from other weights. No torch, no compiler
needed at run time.
"""

from __future__ import annotations

import ctypes
import platform
from typing import Any

import numpy as np

from liquid_control.interface.backend import BackendSpec, fit_image, step_inputs
from liquid_control.interface.model_dir import ModelFiles, ModelLoadError, verified_file

_FLOAT_P = ctypes.c_void_p


def c_export_record(model: ModelFiles, variant: str) -> dict[str, Any]:
    """The config.json entry of a C export variant, or a FileNotFoundError saying how to make it."""
    record = (model.meta.get("c_exports") or {}).get(variant)
    if not record:
        flag = " --int8" if variant == "int8" else ""
        raise FileNotFoundError(
            f"{model.path} has no {variant} C export: run `liquid-control export {model.path} "
            f"--c OUT_DIR{flag}` on a machine with a C compiler"
        )
    return record


class CBackend:
    """Batch-1 inference through the exported C library (not thread-safe: reuses buffers)."""

    def __init__(self, model: ModelFiles, threads: int = 1, variant: str = "float") -> None:
        """Verify the library and its sources, check where it was built, load and check it."""
        record = c_export_record(model, variant)
        built_for = record.get("built_for", {})
        here = {"system": platform.system(), "machine": platform.machine()}
        if built_for != here:
            raise ModelLoadError(
                f"{model.path}: the {variant} C library was built for {built_for}, this machine "
                f"is {here}: re-run `liquid-control export {model.path} --c OUT_DIR` here"
            )
        sums, folder = record.get("sha256", {}), record.get("dir", f"c_{variant}")
        for name in ("lc_policy.h", "lc_policy.c", record.get("library", "liblc_policy.so")):
            verified_file(model.path, f"{folder}/{name}", sums.get(name))
        library = model.path / folder / record.get("library", "liblc_policy.so")
        try:
            self._lib = ctypes.CDLL(str(library.resolve()))
        except OSError as error:
            raise ModelLoadError(
                f"{library} cannot be loaded here ({error}); re-export it"
            ) from None
        self.spec = BackendSpec.from_model(
            "c" if variant == "float" else f"c_{variant}", model, int(model.meta["hidden_size"])
        )
        self._check_library(model, variant == "int8")
        lib = self._lib
        lib.lc_core_step.argtypes = [
            _FLOAT_P,
            _FLOAT_P,
            _FLOAT_P,
            ctypes.c_float,
            _FLOAT_P,
            _FLOAT_P,
        ]
        lib.lc_core_step.restype = ctypes.c_int
        lib.lc_encode.argtypes = [_FLOAT_P, _FLOAT_P, _FLOAT_P]
        lib.lc_encode.restype = ctypes.c_int
        s = self.spec
        self._features = np.zeros(s.feature_dim, np.float32)
        self._imu = np.zeros(s.imu_dim, np.float32)
        self._hidden = np.zeros(s.hidden_size, np.float32)
        self._command = np.zeros(len(s.command_names), np.float32)
        self._hidden_out = np.zeros(s.hidden_size, np.float32)
        self._image = np.zeros(s.image_shape, np.uint8)
        self._encoded = np.zeros(s.feature_dim, np.float32)
        self._workspace = np.zeros(self._workspace_bytes, np.uint8)
        self._step_args = tuple(
            a.ctypes.data
            for a in (self._features, self._imu, self._hidden, self._command, self._hidden_out)
        )
        self._encode_args = tuple(
            a.ctypes.data for a in (self._image, self._encoded, self._workspace)
        )
        self._core_step, self._encode = lib.lc_core_step, lib.lc_encode

    def _check_library(self, model: ModelFiles, int8: bool) -> None:
        """The library must come from these weights and have this model's sizes."""
        lib, s = self._lib, self.spec
        lib.lc_weights_sha256.restype = ctypes.c_char_p
        made_from = lib.lc_weights_sha256().decode()
        if made_from != model.meta["weights_sha256"]:
            raise ModelLoadError(
                f"{model.path}: the C library was generated from weights {made_from[:12]}..., "
                f"not this model's {model.meta['weights_sha256'][:12]}...: re-export it"
            )
        dims = (ctypes.c_int32 * 8)()
        lib.lc_dims(dims)
        expected = (
            *s.image_shape[:2],
            s.feature_dim,
            s.imu_dim,
            s.hidden_size,
            len(s.command_names),
            int(int8),
        )
        if tuple(dims)[:7] != expected:
            raise ModelLoadError(
                f"{model.path}: C library sizes {tuple(dims)[:7]} differ from the model's "
                f"{expected}: re-export it"
            )
        self._workspace_bytes = int(dims[7])

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (feature_dim,) float32."""
        self._image[...] = fit_image(image, self.spec.image_shape)  # lc_expose() is in the library
        self._encode(*self._encode_args)
        return self._encoded.copy()

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One event -> (command, hidden); dt in seconds (the library divides by the time unit)."""
        features, imu, hidden, dt = step_inputs(self.spec, features, imu, hidden, dt)
        self._features[...] = features
        self._imu[...] = imu
        self._hidden[...] = hidden
        f, i, h, command, hidden_out = self._step_args
        if self._core_step(f, i, h, dt, command, hidden_out) != 0:
            raise ValueError(f"dt={dt}: elapsed time must be a finite number > 0")
        return self._command.copy(), self._hidden_out.copy()

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(self.spec.hidden_size, dtype=np.float32)
