"""The camera + IMU policy network: image encoder + IMU scaler + recurrent core + motor head.

``LiquidNetwork`` only maps tensors to tensors; the hidden state is passed in
and out (the runtime controller and the training loop own it). Elapsed time comes
in seconds and is divided by the model's time unit (``interface.timing.model_time``)
in ``step``. Training uses ``forward_steps`` over the liquid steps of
docs/interfaces.md (one per camera frame, IMU averaged in between); the runtime
calls ``encode_image`` and ``step`` once per frame.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from liquid_control.core.baselines import FrameStackMLPCore, GRUCore, LSTMCore, MLPCore
from liquid_control.core.cfc_cell import CfCCell, WiredCfCCell
from liquid_control.core.encoders import ImageEncoder, ImuNormalizer, auto_exposure
from liquid_control.core.ltc_cell import LTCCell
from liquid_control.interface.choices import WIRED_CORES, CoreKind, Mapping
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.interface.timing import model_time
from liquid_control.interface.wiring import AutoNCP, RandomSparse, Wiring


def make_wiring(config: PolicyConfig) -> Wiring:
    """The AutoNCP wiring of an NCP core, built for the core input size; for ``cfc_sparse``
    a random one-layer wiring with the same neuron and synapse counts."""
    wiring = AutoNCP(config.units, config.n_commands, config.sparsity, config.seed)
    wiring.build(config.core_input_size)
    if config.core == CoreKind.CFC_SPARSE:
        return RandomSparse.like(wiring, config.seed).build(config.core_input_size)
    return wiring


def _cfc_ncp(c: PolicyConfig) -> nn.Module:
    return WiredCfCCell(c.core_input_size, make_wiring(c), c.cfc_mode, c.cfc_enforce_polarity)


def _ltc_ncp(c: PolicyConfig) -> nn.Module:
    return LTCCell(
        c.core_input_size,
        make_wiring(c),
        Mapping.AFFINE,
        Mapping.NONE,
        c.ltc_ode_unfolds,
        implicit_constraints=c.ltc_implicit_constraints,
        max_unfolds=c.ltc_max_unfolds,
    )


def _cfc_fc(c: PolicyConfig) -> nn.Module:
    return CfCCell(
        c.core_input_size,
        c.hidden_size,
        c.cfc_mode,
        c.backbone_activation,
        c.backbone_units,
        c.backbone_layers,
        c.backbone_dropout,
    )


def _cfc_sparse(c: PolicyConfig) -> nn.Module:
    return WiredCfCCell(c.core_input_size, make_wiring(c), c.cfc_mode, c.cfc_enforce_polarity)


def _lstm(c: PolicyConfig) -> nn.Module:
    return LSTMCore(c.core_input_size, c.hidden_size, c.baseline_dt_input)


def _gru(c: PolicyConfig) -> nn.Module:
    return GRUCore(c.core_input_size, c.hidden_size, c.baseline_dt_input)


def _mlp(c: PolicyConfig) -> nn.Module:
    return MLPCore(c.core_input_size, c.hidden_size, c.mlp_layers)


def _mlp_stack(c: PolicyConfig) -> nn.Module:
    return FrameStackMLPCore(c.core_input_size, c.stack_frames, c.hidden_size, c.mlp_layers)


# The explicit registry of core kinds: one builder each, no name rewriting.
CORE_BUILDERS: dict[CoreKind, Callable[[PolicyConfig], nn.Module]] = {
    CoreKind.CFC_NCP: _cfc_ncp,
    CoreKind.LTC_NCP: _ltc_ncp,
    CoreKind.CFC_FC: _cfc_fc,
    CoreKind.CFC_SPARSE: _cfc_sparse,
    CoreKind.LSTM: _lstm,
    CoreKind.GRU: _gru,
    CoreKind.MLP: _mlp,
    CoreKind.MLP_STACK: _mlp_stack,
}


class MotorHead(nn.Module):
    """Core output -> command: per-motor affine (NCP cores) or Linear, then tanh * scale."""

    def __init__(self, in_features: int, scale: tuple[float, ...], per_motor: bool) -> None:
        """``per_motor``: one motor neuron per command, scaled and shifted individually."""
        super().__init__()
        n = len(scale)
        if per_motor and in_features != n:
            raise ValueError(f"per-motor head needs {n} motor neurons, core gives {in_features}")
        self.per_motor = per_motor
        if per_motor:
            self.weight = nn.Parameter(torch.ones(n))
            self.bias = nn.Parameter(torch.zeros(n))
        else:
            self.linear = nn.Linear(in_features, n)
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Squash to the command range."""
        z = y * self.weight + self.bias if self.per_motor else self.linear(y)
        return torch.tanh(z) * self.scale


class LiquidNetwork(nn.Module):
    """Encoders + recurrent core + motor head, stepped with the true elapsed time."""

    def __init__(self, config: PolicyConfig) -> None:
        """Build every part from ``config`` (weights: torch's current RNG)."""
        super().__init__()
        self.config = config
        self.encoder = ImageEncoder(
            config.image_shape,
            config.encoder_channels,
            config.encoder_kernel,
            config.encoder_stride,
            config.feature_dim,
            config.encoder_activation,
            config.encoder_pooling,
        )
        self.imu_norm = ImuNormalizer(config.imu_dim, config.imu_scale)
        self.core = CORE_BUILDERS[config.core](config)
        self.head = MotorHead(
            self.core.output_size, config.command_scale, config.core in WIRED_CORES
        )

    @property
    def hidden_size(self) -> int:
        """Length of the flat hidden vector (0 for the MLP)."""
        return int(self.core.state_size)

    @property
    def wiring(self) -> Wiring | None:
        """The NCP wiring, or None for fully connected and baseline cores."""
        return getattr(self.core, "wiring", None)

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        """Zero hidden state (batch, hidden_size)."""
        return torch.zeros(batch, self.hidden_size)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 or float 0..1 -> (B, feature_dim).

        With ``config.auto_exposure`` the frames must be uint8; each is exposed
        (core/encoders.auto_exposure) before the encoder, as in every backend.
        """
        if self.config.auto_exposure:
            images = auto_exposure(images)
        return self.encoder(images)

    def step(
        self,
        features: torch.Tensor,
        imu: torch.Tensor,
        hidden: torch.Tensor,
        dt: torch.Tensor | float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: (B, F) features, (B, imu_dim) IMU, (B, H) hidden, dt seconds -> (command, hidden)."""
        x = torch.cat([features, self.imu_norm(imu)], dim=1)
        y, hidden = self.core.step(x, hidden, model_time(dt, self.config.time_unit_s))
        return self.head(y), hidden

    def forward_steps(
        self,
        frames: torch.Tensor,
        frame_index: torch.Tensor,
        imu: torch.Tensor,
        dt: torch.Tensor,
        hidden0: torch.Tensor | None = None,
        keep_states: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Liquid steps -> (commands (B, T, n_cmd), final hidden (B, H) or all (B, T, H)).

        frames (B, Nf, H, W, 3); frame_index (B, T) long, the frame of each step;
        imu (B, T, imu_dim) the IMU average of each step; dt (B, T) seconds.
        """
        batch, steps = frame_index.shape
        if frames.dim() != 5 or frames.shape[0] != batch:
            raise ValueError(f"frames of shape {tuple(frames.shape)}: expected (B, Nf, H, W, 3)")
        if imu.shape[:2] != (batch, steps) or dt.shape != (batch, steps):
            raise ValueError(
                f"imu {tuple(imu.shape)} and dt {tuple(dt.shape)} must start with ({batch}, "
                f"{steps}) like frame_index"
            )
        if int(frame_index.max()) >= frames.shape[1] or int(frame_index.min()) < 0:
            raise ValueError(
                f"frame_index in [{int(frame_index.min())}, {int(frame_index.max())}] but "
                f"there are {frames.shape[1]} frames"
            )
        feats = self.encode_image(frames.flatten(0, 1)).view(batch, frames.shape[1], -1)
        index = frame_index.long().unsqueeze(-1).expand(-1, -1, feats.shape[-1])
        step_feats = torch.gather(feats, 1, index)
        hidden = self.initial_state(batch).to(feats) if hidden0 is None else hidden0
        commands, states = [], []
        for t in range(steps):
            command, hidden = self.step(step_feats[:, t], imu[:, t], hidden, dt[:, t])
            commands.append(command)
            if keep_states:
                states.append(hidden)
        last = torch.stack(states, dim=1) if keep_states else hidden
        return torch.stack(commands, dim=1), last

    forward = forward_steps

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters per part; ``core_active`` excludes masked-out synapses."""

        def count(module: nn.Module) -> int:
            return sum(p.numel() for p in module.parameters() if p.requires_grad)

        counts = {
            "encoder": count(self.encoder) + count(self.imu_norm),
            "core": count(self.core),
            "head": count(self.head),
        }
        counts["total"] = counts["encoder"] + counts["core"] + counts["head"]
        counts["core_active"] = _active_core_parameters(self.core)
        return counts

    def summary(self) -> str:
        """A short printable description: kind, sizes, parameter counts."""
        c, n = self.config, self.parameter_counts()
        lines = [
            f"LiquidNetwork robot={c.robot.value} core={c.core.value} "
            f"hidden={self.hidden_size} commands={list(c.command_names)}",
            f"  image {c.image_shape} -> {c.feature_dim} features; imu {c.imu_dim}",
            "  parameters: " + ", ".join(f"{k}={v:,}" for k, v in n.items()),
        ]
        if self.wiring is not None:
            w = self.wiring
            roles = {r: len(w.neurons_with_role(r)) for r in ("inter", "command", "motor")}
            lines.append(
                f"  wiring {w.kind}: {roles}, synapses={w.synapse_count}, "
                f"sensory synapses={w.sensory_synapse_count}"
            )
        return "\n".join(lines)


def _active_core_parameters(core: nn.Module) -> int:
    """Parameters that can influence the output (masked synapse weights excluded)."""
    total = sum(p.numel() for p in core.parameters() if p.requires_grad)
    if isinstance(core, WiredCfCCell):
        for layer in core.layers:
            active = int(torch.count_nonzero(layer.sign))
            for module in layer.children():
                total -= module.weight.numel() - active
    elif isinstance(core, LTCCell):
        for names, mask in (
            (("w", "sigma", "mu", "erev"), core.sparsity_mask),
            (
                ("sensory_w", "sensory_sigma", "sensory_mu", "sensory_erev"),
                core.sensory_sparsity_mask,
            ),
        ):
            total -= len(names) * (mask.numel() - int(torch.count_nonzero(mask)))
    return total
