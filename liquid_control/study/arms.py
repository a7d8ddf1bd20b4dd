"""The study's arms: size-matched cores behind the same encoder, by name.

Every arm is the same ``LiquidNetwork`` (same image encoder, IMU scaling and motor
head family) with a different core, given as ``PolicyConfig`` fields. The
non-liquid recurrent cores take dt as an input (``baseline_dt_input``) so they see
the same timing as the liquid cells. An explicit registry: a config naming an arm
that is not here is an error that lists the allowed names.
"""

from __future__ import annotations

from typing import Any

ARMS: dict[str, dict[str, Any]] = {
    "cfc_ncp": {"core": "cfc_ncp", "units": 19},
    "ltc_ncp": {"core": "ltc_ncp", "units": 19},
    # fully connected CfC with 19 units and no backbone: the NCP's heads without the wiring
    "cfc_fc19": {"core": "cfc_fc", "hidden_size": 19, "backbone_layers": 0},
    # one layer of 19 CfC neurons with as many random synapses as the NCP
    "cfc_sparse19": {"core": "cfc_sparse", "units": 19},
    "lstm19": {"core": "lstm", "hidden_size": 19, "baseline_dt_input": True},
    "gru19": {"core": "gru", "hidden_size": 19, "baseline_dt_input": True},
    "lstm64": {"core": "lstm", "hidden_size": 64, "baseline_dt_input": True},
    "gru64": {"core": "gru", "hidden_size": 64, "baseline_dt_input": True},
    "mlp": {"core": "mlp", "hidden_size": 64, "mlp_layers": 2},
    # the inputs of the last 4 frames (0.2 s at 20 Hz), temporal but not recurrent
    "mlp_stack": {"core": "mlp_stack", "hidden_size": 64, "mlp_layers": 2, "stack_frames": 4},
}

# fields an arm sets; the study's shared ``policy`` section may not override them
ARM_FIELDS = frozenset(k for fields in ARMS.values() for k in fields)


def arm_policy(arm: str, shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The PolicyConfig fields of ``arm``: the shared encoder/IMU fields plus the arm's core."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; allowed: {sorted(ARMS)}")
    shared = dict(shared or {})
    clash = sorted(set(shared) & ARM_FIELDS)
    if clash:
        raise ValueError(f"policy: {clash} are set per arm (study/arms.py), not for all arms")
    return {**shared, **ARMS[arm]}
