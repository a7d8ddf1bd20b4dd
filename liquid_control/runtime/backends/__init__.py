"""Inference backends for a saved policy: numpy, onnxruntime, c (torch-free) and torch.

``load_backend(model_dir, backend, threads)`` returns an object with the
``Backend`` API (``spec``, ``encode_image``, ``step``, ``initial_state``).
Each backend module is imported only when chosen, so the numpy, onnxruntime
and c paths never import torch. ``c`` and ``c_int8`` run the policy's exported
C library (float, or int8 encoder) built by ``liquid-control export --c``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from liquid_control.interface.backend import Backend, BackendSpec
from liquid_control.interface.model_dir import load_model

BACKENDS = ("numpy", "onnxruntime", "c", "c_int8", "torch")

__all__ = ["BACKENDS", "Backend", "BackendSpec", "load_backend"]


def load_backend(model_dir: str | Path, backend: str = "numpy", threads: int = 1) -> Backend:
    """Load a verified model directory into the named backend using ``threads`` threads."""
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {list(BACKENDS)}")
    if int(threads) < 1:
        raise ValueError(f"threads={threads} must be >= 1")
    model = load_model(model_dir)
    if backend == "numpy":
        from liquid_control.runtime.backends.numpy_backend import NumpyBackend

        return NumpyBackend(model, threads)
    if backend == "onnxruntime":
        from liquid_control.runtime.backends.onnx_backend import OnnxBackend

        return OnnxBackend(model, threads)
    if backend in ("c", "c_int8"):
        from liquid_control.runtime.backends.c_backend import CBackend

        return CBackend(model, threads, "float" if backend == "c" else "int8")
    # the torch backend lives in the torch layer (core/): loaded by name, as a plugin
    module = importlib.import_module("liquid_control.core.torch_backend")
    return module.TorchBackend(model, threads)
