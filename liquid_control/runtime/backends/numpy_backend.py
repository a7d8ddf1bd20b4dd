"""NumPy backend: the whole policy (encoder, core, head) in vectorised float32 NumPy, no torch.

The convolutions run channels-last as one matrix product per layer over
strided patches (im2col); the flatten order of torch (C, H, W) is folded into
the final Linear's columns at load, so no transpose happens per frame.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from liquid_control.interface.backend import (
    BackendSpec,
    encoder_input,
    prepare_image,
    step_inputs,
)
from liquid_control.interface.choices import WIRED_CORES, Pooling
from liquid_control.interface.model_dir import ModelFiles
from liquid_control.interface.policy_config import conv_output_hw
from liquid_control.interface.timing import model_time
from liquid_control.runtime.backends.numpy_cores import ACTIVATIONS, build_core


class NumpyEncoder:
    """core.encoders.ImageEncoder in NumPy, channels-last (not thread-safe: reuses buffers)."""

    def __init__(self, model: ModelFiles, prefix: str = "encoder.") -> None:
        """Reshape conv kernels to (k*k*Cin, Cout) and permute the Linear to HWC order."""
        c = model.config
        self.kernel, self.stride, self.pad = (
            c.encoder_kernel,
            c.encoder_stride,
            c.encoder_kernel // 2,
        )
        self.act = ACTIVATIONS[c.encoder_activation]
        self.pooling = c.encoder_pooling
        self.convs, self.buffers = [], []
        previous, height, width = 3, c.image_shape[0], c.image_shape[1]
        for i, out in enumerate(c.encoder_channels):
            k = self.kernel
            w = model.tensor(f"{prefix}convs.{2 * i}.weight", (out, previous, k, k))
            b = model.tensor(f"{prefix}convs.{2 * i}.bias", (out,))
            # patches are laid out (kh, kw, Cin), channels-last
            self.convs.append((np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, out)), b))
            # zero-padded input buffers, reused on every frame (borders stay zero)
            pad = self.pad
            self.buffers.append(np.zeros((height + 2 * pad, width + 2 * pad, previous), np.float32))
            height, width = conv_output_hw(height, width, 1, k, self.stride)
            previous = out
        out_h, out_w = conv_output_hw(
            c.image_shape[0], c.image_shape[1], len(c.encoder_channels), self.kernel, self.stride
        )
        flat = previous * (out_h * out_w if self.pooling == Pooling.FLATTEN else 1)
        w = model.tensor(f"{prefix}fc.weight", (c.feature_dim, flat))
        if self.pooling == Pooling.FLATTEN:
            w = w.reshape(c.feature_dim, previous, out_h, out_w).transpose(0, 2, 3, 1)
        self.fc_weight = np.ascontiguousarray(w.reshape(c.feature_dim, flat).T)
        self.fc_bias = model.tensor(f"{prefix}fc.bias", (c.feature_dim,))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (feature_dim,) float32."""
        p = self.pad
        x = encoder_input(image)
        for (weight, bias), buffer in zip(self.convs, self.buffers, strict=True):
            buffer[p : buffer.shape[0] - p, p : buffer.shape[1] - p] = x
            x = self.act(self._conv(buffer, weight) + bias)
        x = x.reshape(-1) if self.pooling == Pooling.FLATTEN else x.mean(axis=(0, 1))
        return x @ self.fc_weight + self.fc_bias

    def _conv(self, padded: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Strided convolution of an already padded HWC array as patches @ weight."""
        k, s = self.kernel, self.stride
        rows, cols, depth = padded.shape
        out_h, out_w = (rows - k) // s + 1, (cols - k) // s + 1
        r, c, e = padded.strides
        windows = as_strided(
            padded, (out_h, out_w, k, k, depth), (s * r, s * c, r, c, e), writeable=False
        )
        return (windows.reshape(out_h * out_w, -1) @ weight).reshape(out_h, out_w, -1)


def limit_blas_threads(threads: int) -> None:
    """Cap the BLAS thread pools of this process (threadpoolctl); a no-op when it is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=max(1, int(threads)), user_api="blas")


class NumpyBackend:
    """Batch-1 policy in NumPy: ``encode_image`` per frame, ``step`` per event."""

    def __init__(self, model: ModelFiles, threads: int = 1) -> None:
        """Precompute every weight and cap the BLAS pool at ``threads``.

        The encoder's im2col matmuls are small: a BLAS pool with one thread per
        core only adds synchronisation, which on a busy companion computer made
        frames 20-100x slower (bench/bench_deploy.py). The cap is process-wide.
        """
        limit_blas_threads(threads)
        c = model.config
        self.encoder = NumpyEncoder(model)
        self.imu_offset = model.tensor("imu_norm.offset", (c.imu_dim,))
        self.imu_scale = model.tensor("imu_norm.scale", (c.imu_dim,))
        n, ncp = c.n_commands, c.core in WIRED_CORES
        self.head_matrix = not ncp
        self.core = build_core(model)  # first, so a wrong hidden size names the core's tensor
        if self.head_matrix:
            self.head_weight = model.tensor("head.linear.weight", (n, c.hidden_size))
            self.head_bias = model.tensor("head.linear.bias", (n,))
        else:  # one motor neuron per command, scaled and shifted
            self.head_weight = model.tensor("head.weight", (n,))
            self.head_bias = model.tensor("head.bias", (n,))
        self.scale = np.asarray(c.command_scale, dtype=np.float32)
        self.time_unit_s = np.float32(c.time_unit_s)
        self.spec = BackendSpec.from_model("numpy", model, self.core.state_size)

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (feature_dim,) float32."""
        image = prepare_image(image, self.spec.image_shape, self.spec.auto_exposure)
        return self.encoder(image).astype(np.float32)

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One liquid step of ``dt`` seconds -> (command, hidden)."""
        features, imu, hidden, dt = step_inputs(self.spec, features, imu, hidden, dt)
        x = np.concatenate([features, (imu - self.imu_offset) * self.imu_scale])
        t = float(model_time(np.float32(dt), self.time_unit_s))
        y, hidden = self.core.step(x, hidden, t)
        z = self.head_weight @ y if self.head_matrix else self.head_weight * y
        command = np.tanh(z + self.head_bias) * self.scale
        return command.astype(np.float32, copy=False), hidden.astype(np.float32, copy=False)

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(self.spec.hidden_size, dtype=np.float32)
