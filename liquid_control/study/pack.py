"""Carry a study's work to another machine or session: `--pack FILE` / `--unpack FILE`.

A study longer than the life of its work directory (a CI runner, a session that ends)
resumes elsewhere from a pack unpacked into the same work_dir: unit keys name their
inputs by path relative to the current directory, so a pack refuses any other. It holds
every complete unit of every stage but ``collect``, whose expert demonstrations are the
bulk of the work directory (frames) and cheap to remake. The pack records a digest of
every demonstration file; the resumed run remakes them and stops with a clear error if
they differ from those the packed units were trained on, rather than mixing units
trained on different data in one table.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from liquid_control.study.config import portable
from liquid_control.study.units import DONE, StageError, Store, Unit

MANIFEST = "packed.json"  # in the pack's root and, once unpacked, in the work directory
REMADE = "collect"  # the stage left out of a pack


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _array_digests(path: Path) -> dict[str, str]:
    """SHA-256 of each array of an .npz (so a differing file names the arrays that differ)."""
    import numpy as np

    with np.load(path) as data:
        return {k: hashlib.sha256(np.ascontiguousarray(data[k]).tobytes()).hexdigest()
                for k in data.files}  # fmt: skip


def _spelling(root: Path) -> str:
    """The work directory as unit keys spell it (relative to the current directory)."""
    return str(portable(str(root)))


def _complete(root: Path) -> list[Path]:
    """Every finished unit directory under ``root`` (holds done.json; not a tmp dir)."""
    return sorted(p.parent for p in root.rglob(DONE) if ".tmp-" not in str(p.relative_to(root)))


def pack(store: Store, path: str | Path) -> dict[str, int]:
    """Write the complete units of ``store`` (demonstrations as digests) to a .tar.xz."""
    root = store.root
    if not root.is_dir():
        raise ValueError(f"no work directory at {root}: nothing to pack")
    units = _complete(root)
    remade = {}
    kept = []
    for unit in units:
        name = unit.relative_to(root).as_posix()
        if name.split("/", 1)[0] == REMADE:
            record = json.loads((unit / DONE).read_text())
            files = {p.relative_to(unit).as_posix(): _digest(p)
                     for p in sorted(unit.rglob("*")) if p.is_file() and p.name != DONE}  # fmt: skip
            arrays = {f: _array_digests(unit / f) for f in files if f.endswith(".npz")}
            remade[name] = {"key": record["key"], "sha256": files, "arrays": arrays}
        else:
            kept.append(unit)
    manifest = {"work_dir": _spelling(root), "remade": remade, "units": len(kept)}
    manifest = json.dumps(manifest, indent=1).encode()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w:xz") as tar:  # xz's window spans models: a frozen encoder's
        # weights, the same in every model of a task, are stored about once
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for unit in kept:
            tar.add(unit, arcname=unit.relative_to(root).as_posix())
    tmp.replace(out)
    return {"units": len(kept), "remade": len(remade)}


def unpack(store: Store, path: str | Path) -> dict[str, int]:
    """Unpack a pack into ``store`` (new units only: a unit already complete here is kept)."""
    root = store.root
    try:
        tar = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as err:
        raise ValueError(f"{path}: not a study pack ({err})") from err
    with tar:
        names = tar.getnames()
        if MANIFEST not in names:
            raise ValueError(f"{path}: not a study pack (no {MANIFEST})")
        manifest = json.load(tar.extractfile(MANIFEST))
        if manifest.get("work_dir") != _spelling(root):
            raise ValueError(
                f"{path} was packed from work_dir {manifest.get('work_dir')!r}: unpack it into "
                f"that work_dir, not {_spelling(root)!r} (unit keys name their inputs by path, "
                "so elsewhere every unit would be redone)"
            )
        here = {u.relative_to(root).as_posix() for u in _complete(root)} if root.is_dir() else set()

        def kept_here(name: str) -> bool:  # the name, or a folder above it, is a unit here
            parts = name.split("/")
            return any("/".join(parts[:k]) in here for k in range(1, len(parts) + 1))

        members = [m for m in tar.getmembers() if m.name != MANIFEST and not kept_here(m.name)]
        root.mkdir(parents=True, exist_ok=True)
        try:  # the "data" filter refuses absolute paths, links out and special files
            tar.extractall(root, members=members, filter="data")
        except tarfile.TarError as err:
            raise ValueError(f"{path}: refused ({err})") from err
    previous = root / MANIFEST
    if previous.is_file():  # an earlier pack's digests stay checked too
        old = json.loads(previous.read_text())["remade"]
        manifest["remade"] = {**old, **manifest["remade"]}
    previous.write_text(json.dumps(manifest, indent=1))
    added = sum(m.name.endswith("/" + DONE) for m in members)
    return {"units": added, "already_here": manifest["units"] - added}


def check_remade(store: Store, collect: list[Unit], accept: bool = False) -> list[str]:
    """After ``collect``: its demonstrations must be those the unpacked units were trained on.

    A difference stops the run, unless ``accept`` (``--accept-remade``): then the files that
    differ are returned, for the run to record as a deviation (the units built on them keep
    the pack's data; units trained from now on use the remade one)."""
    path = store.root / MANIFEST
    if not path.is_file():
        return []
    remade: dict[str, Any] = json.loads(path.read_text())["remade"]
    differs = []
    for unit in collect:
        name = f"{unit.stage}/{unit.name}"
        packed = remade.get(name)
        if packed is None or packed["key"] != unit.key:
            continue  # not in the pack, or other inputs: the units built on it are redone
        for file, digest in packed["sha256"].items():
            here = store.path(unit) / file
            if _digest(here) == digest:
                continue
            arrays = packed.get("arrays", {}).get(file)  # packs before 2026-12-02 have none
            if arrays is not None:
                now = _array_digests(here)
                named = sorted(k for k in {*arrays, *now} if arrays.get(k) != now.get(k))
                file += f" (arrays {', '.join(named)})" if named else " (same arrays)"
            differs.append(f"{unit.name}: {file}")
    if differs and not accept:
        raise StageError(
            f"remade demonstrations differ from those the unpacked units were trained on "
            f"({path}): {'; '.join(differs)}. The simulator or expert changed since the pack "
            "was made, or this machine's floating point differs: run those units again in a "
            "fresh work_dir, with the code the pack was made with, or knowingly with "
            "--accept-remade (the run records the files as a deviation)"
        )
    return differs
