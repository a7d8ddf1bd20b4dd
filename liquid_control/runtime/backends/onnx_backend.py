"""ONNX Runtime backend: runs the exported encoder.onnx and core.onnx (checksums verified)."""

from __future__ import annotations

import numpy as np

from liquid_control.interface.backend import BackendSpec, fit_image, step_inputs
from liquid_control.interface.model_dir import CORE_IO, ENCODER_IO, ModelFiles, onnx_paths


class OnnxBackend:
    """Batch-1 inference with onnxruntime on ``threads`` intra-op threads."""

    def __init__(self, model: ModelFiles, threads: int = 1) -> None:
        """Open both graphs on the CPU provider with fixed thread counts."""
        import onnxruntime as ort

        paths = onnx_paths(model.path, model.meta)
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(str(paths["encoder"]), options, providers=providers)
        self.core = ort.InferenceSession(str(paths["core"]), options, providers=providers)
        self._core_inputs = [i.name for i in self.core.get_inputs()]
        self._dt = np.zeros(1, dtype=np.float32)
        self.spec = BackendSpec.from_model("onnxruntime", model, int(model.meta["hidden_size"]))

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (feature_dim,) float32."""
        image = fit_image(image, self.spec.image_shape)  # auto-exposure is in encoder.onnx
        (features,) = self.encoder.run(ENCODER_IO[1], {ENCODER_IO[0][0]: image[None]})
        return features[0]

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One event -> (command, hidden)."""
        features, imu, hidden, dt = step_inputs(self.spec, features, imu, hidden, dt)
        self._dt[0] = dt
        values = {
            "features": features[None],
            "imu": imu[None],
            "hidden": hidden[None],
            "dt": self._dt,
        }
        # an exporter may prune inputs a core ignores (the MLP's hidden, say)
        feed = {name: values[name] for name in self._core_inputs}
        command, hidden_out = self.core.run(CORE_IO[1], feed)
        return command[0], hidden_out[0]

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(self.spec.hidden_size, dtype=np.float32)
