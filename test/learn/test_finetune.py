"""`liquid-control finetune`: corrections are learned, nominal skill is kept, provenance is kept."""

from __future__ import annotations

import json

import numpy as np
import pytest
from learn_helpers import TINY_POLICY, stripe_episode

from liquid_control.learn import finetune as ft
from liquid_control.learn import train
from liquid_control.learn.dataset import write_bag

TINY_DATA = ["--data.window=12", "--data.burn_in=4", "--data.chunk=8", "--data.batch_size=4"]


def _shifted(seed: int) -> object:
    """The stripe task after a shift: a dark stripe on bright ground (the parent saw bright on
    dark) where the operator drives faster (0.9 m/s, not 0.5) and corrects two stretches of
    every episode."""
    ep = stripe_episode(seed)
    ep.frames = 255 - ep.frames
    ep.commands[:, 0] = 0.9
    flags = np.zeros(len(ep.cmd_stamps_ns), bool)
    flags[3:13] = flags[18:27] = True
    ep.intervention_stamps_ns, ep.intervention = ep.cmd_stamps_ns.copy(), flags
    ep.__post_init__()
    return ep


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """A tiny parent trained on nominal stripes, nominal bags and shifted correction bags."""
    root = tmp_path_factory.mktemp("finetune")
    for i in range(6):
        write_bag(stripe_episode(100 + i), root / "nominal" / f"ep{i}")
        write_bag(_shifted(200 + i), root / "shifted" / f"ep{i}")
    args = [
        f"--out_dir={root / 'parent_run'}",
        f"--data.bags=[{root / 'nominal'}]",
        f"--policy={json.dumps(TINY_POLICY)}",
        *TINY_DATA,
        "--data.val_fraction=0.2",
        "--optim.max_steps=150",
        "--optim.eval_every=50",
        "--optim.lr=0.01",
        "--optim.threads=1",
        "--optim.closed_loop_episodes=0",
        "--no-progress",
    ]
    assert train.main(args) == 0
    return root, root / "parent_run" / "best"


def _nominal_loss(model, root) -> float:
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.learn.models import command_scale
    from liquid_control.learn.trainer import evaluate_loss

    data = ft.load_bags([root / "nominal"], "rover", "replay")
    cfg = ft.finetune_config(json.loads((model / "config.json").read_text()), root / "x", 1, 1.0)
    scale = torch.tensor(command_scale("rover"))
    return evaluate_loss(load_policy(model), [d.steps for d in data], cfg, scale)


def test_finetune_learns_corrections_and_keeps_nominal_loss(setting, tmp_path):
    root, parent = setting
    out = tmp_path / "child"
    code = ft.main(
        [
            str(parent),
            "--bags",
            str(root / "shifted"),
            "--replay",
            str(root / "nominal"),
            "--out",
            str(out),
            "--steps",
            "100",
            "--correction-weight",
            "4",
            *TINY_DATA,
            "--optim.lr=0.01",
            "--no-progress",
        ]
    )
    assert code == 0
    meta = json.loads((out / "config.json").read_text())
    prov = meta["provenance"]
    before, after = prov["loss_before"], prov["loss_after"]
    assert after["corrections"] < 0.6 * before["corrections"], prov
    # nominal skill kept: the loss on the nominal demonstrations does not grow
    parent_nominal, child_nominal = _nominal_loss(parent, root), _nominal_loss(out, root)
    assert child_nominal < 1.2 * parent_nominal + 0.01, (parent_nominal, child_nominal)
    # provenance names the parent's sha256s and every bag (with a hash of its files)
    parent_meta = json.loads((parent / "config.json").read_text())
    assert prov["parent"]["weights_sha256"] == parent_meta["weights_sha256"]
    assert prov["correction_steps"] == 6 * 19
    roles = sorted((b["role"], b["path"].split("/")[-1]) for b in prov["bags"])
    assert roles == sorted(
        [("corrections", f"ep{i}") for i in range(6)] + [("replay", f"ep{i}") for i in range(6)]
    )
    assert all(len(b["sha256"]) == 64 for b in prov["bags"])
    assert meta["weights_sha256"] != parent_meta["weights_sha256"]
    assert (out / "training" / "log.csv").exists()
    # a verified model directory that the torch-free runtime loads; the ONNX export keeps
    # the provenance (same weights)
    from liquid_control.core.torch_backend import load_policy
    from liquid_control.export.onnx import export_onnx
    from liquid_control.runtime import load_backend

    load_backend(out, "numpy")
    export_onnx(load_policy(out), out)
    exported = json.loads((out / "config.json").read_text())
    assert exported["provenance"] == prov and exported["onnx_sha256"]
    load_backend(out, "onnxruntime")


def test_interventions_only_refuses_a_bag_without_marks(setting, tmp_path, capsys):
    root, parent = setting
    code = ft.main(
        [str(parent), "--bags", str(root / "nominal"), "--out", str(tmp_path / "x")]
        + ["--interventions-only", "--no-progress"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "has no intervention marks" in err and "ep0" in err
    assert not (tmp_path / "x").exists()


def test_finetune_refuses_to_overwrite_its_parent(setting):
    root, parent = setting
    with pytest.raises(ValueError, match="is the parent model"):
        ft.finetune(parent, [root / "shifted"], parent)


def test_interventions_only_weighs_only_corrections(setting):
    root, _ = setting
    data = ft.load_bags([root / "shifted"], "rover", "corrections", require_marks=True)
    seqs = ft.weighted(data, 3.0, interventions_only=True)
    for d, s in zip(data, seqs, strict=True):
        np.testing.assert_array_equal(s.weight, np.where(d.steps.correction, 3.0, 0.0))
    seqs = ft.weighted(data, 3.0, interventions_only=False)
    assert set(np.unique(np.concatenate([s.weight for s in seqs]))) == {1.0, 3.0}
