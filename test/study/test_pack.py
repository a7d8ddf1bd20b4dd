"""Carrying a study's work between sessions: the pack holds every finished unit but the
demonstrations (kept as digests), unpacking adds only new units, and a resumed run whose
remade demonstrations differ stops with a clear error instead of mixing data."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from liquid_control.study import pack
from liquid_control.study.units import StageError, Store, Unit


def _unit(root: Path, name: str, key: str, files: dict[str, bytes]) -> None:
    path = root / name
    path.mkdir(parents=True)
    for file, data in files.items():
        (path / file).parent.mkdir(parents=True, exist_ok=True)
        (path / file).write_bytes(data)
    (path / "done.json").write_text(json.dumps({"key": key, "elapsed_s": 1.0, "result": {}}))


def _npz(seed: int, imu_shift: float = 0.0) -> bytes:
    """An episodes.npz as collect writes it: frames and float streams."""
    buf = io.BytesIO()
    frames = np.full((2, 4, 4, 3), seed, np.uint8)
    np.savez(buf, frames=frames, imu=np.linspace(0.0, 1.0, 6) + seed + imu_shift)
    return buf.getvalue()


def _collect(name: str, key: str) -> Unit:
    return Unit("collect", name, key, lambda args, out: {})


@pytest.fixture
def work(tmp_path: Path) -> Store:
    root = tmp_path / "work"
    _unit(root, "collect/rover.fork/000", "c0", {"episodes.npz": _npz(0)})
    _unit(root, "collect/rover.fork/001", "c1", {"episodes.npz": _npz(1)})
    _unit(root, "train/cfc_ncp/rover.fork/seed0", "t0", {"model/config.json": b"{}"})
    _unit(root, "evaluate/cfc_ncp/rover.fork/seed0/nominal", "e0", {})
    partial = root / "train" / "cfc_ncp" / "rover.fork" / "seed1.tmp-123"
    partial.mkdir(parents=True)
    (partial / "done.json").write_text("{}")  # a stopped worker's leftovers: not packed
    return Store(root)


def test_a_pack_resumes_with_the_same_demonstrations(work: Store, tmp_path: Path) -> None:
    path = tmp_path / "memory.tar.xz"
    assert pack.pack(work, path) == {"units": 2, "remade": 2}
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert not any(n.startswith("collect") or ".tmp-" in n for n in names)
    with pytest.raises(ValueError, match="unpack it into that work_dir"):
        pack.unpack(Store(tmp_path / "elsewhere"), path)  # keys spell inputs by path
    shutil.rmtree(work.root)  # the session ended
    fresh = Store(work.root)
    assert pack.unpack(fresh, path) == {"units": 2, "already_here": 0}
    model = "train/cfc_ncp/rover.fork/seed0/model/config.json"
    assert (fresh.root / model).read_bytes() == b"{}"
    # the resumed run remakes the demonstrations: identical ones pass
    _unit(fresh.root, "collect/rover.fork/000", "c0", {"episodes.npz": _npz(0)})
    _unit(fresh.root, "collect/rover.fork/001", "c1", {"episodes.npz": _npz(1)})
    collect = [_collect("rover.fork/000", "c0"), _collect("rover.fork/001", "c1")]
    pack.check_remade(fresh, collect)
    # a demonstration of other inputs (key) is not compared: what was built on it is redone
    pack.check_remade(fresh, [_collect("rover.fork/000", "other")])
    # different frames from the same inputs: a clear error, not a mixed table
    # the same frames, one float stream a rounding away (another CPU): a clear error naming
    # the array, not a mixed table
    (fresh.root / "collect/rover.fork/001/episodes.npz").write_bytes(_npz(1, 1e-12))
    named = "rover.fork/001: episodes.npz (arrays imu)"
    with pytest.raises(
        StageError, match=re.escape(f"were trained on ({fresh.root / 'packed.json'}): {named}. ")
    ):
        pack.check_remade(fresh, collect)
    # or, knowingly, go on and name what differs
    assert pack.check_remade(fresh, collect, accept=True) == [named]
    # a pack made before arrays were digested names the file only
    manifest = json.loads((fresh.root / "packed.json").read_text())
    for record in manifest["remade"].values():
        del record["arrays"]
    (fresh.root / "packed.json").write_text(json.dumps(manifest))
    assert pack.check_remade(fresh, collect, accept=True) == ["rover.fork/001: episodes.npz"]
    assert pack.check_remade(fresh, collect[:1], accept=True) == []


def test_unpacking_keeps_the_units_already_there(work: Store, tmp_path: Path) -> None:
    path = tmp_path / "p.tar.xz"
    pack.pack(work, path)
    model = work.root / "train/cfc_ncp/rover.fork/seed0/model/config.json"
    model.write_bytes(b'{"newer": true}')
    shutil.rmtree(work.root / "evaluate")
    assert pack.unpack(work, path) == {"units": 1, "already_here": 1}
    assert model.read_bytes() == b'{"newer": true}'
    assert (work.root / "evaluate/cfc_ncp/rover.fork/seed0/nominal/done.json").is_file()


def test_bad_packs_are_refused(work: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a study pack"):
        pack.unpack(work, tmp_path / "missing.tar.gz")
    plain = tmp_path / "plain.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        tar.add(work.root / "evaluate", arcname="evaluate")
    with pytest.raises(ValueError, match="no packed.json"):
        pack.unpack(work, plain)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        head = json.dumps({"work_dir": str(tmp_path / "w2"), "remade": {}, "units": 1})
        for name, data in (("packed.json", head.encode()), ("../out", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ValueError, match="refused"):
        pack.unpack(Store(tmp_path / "w2"), evil)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="nothing to pack"):
        pack.pack(Store(tmp_path / "none"), tmp_path / "x.tar.gz")
