"""Run a Python module with torch made unimportable, as on a companion computer without torch.

    python no_torch.py REPORT.json MODULE [ARGS...]

An import hook makes ``import torch`` (and torchvision/torchaudio) raise
ModuleNotFoundError, exactly what a machine without the wheels does. At exit the
report lists every blocked import attempt and any torch module that got loaded
anyway (there must be none). The bench and the torch-free node test use it.
"""

from __future__ import annotations

import atexit
import importlib.abc
import json
import runpy
import sys

BLOCKED = ("torch", "torchvision", "torchaudio")
attempts: list[str] = []


class TorchBlocker(importlib.abc.MetaPathFinder):
    """Refuse to find any blocked top-level package or its submodules."""

    def find_spec(self, name, path=None, target=None):  # noqa: D102 (importlib protocol)
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (torch-free run)", name=name)
        return None


def _write_report(path: str) -> None:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED and sys.modules[m])
    with open(path, "w") as stream:
        json.dump({"attempts": attempts, "loaded": loaded, "module": sys.argv[0]}, stream)


def main() -> None:
    """Install the blocker, register the report, run the module as __main__."""
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    report, module, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            raise SystemExit(f"{name} was imported before the blocker: cannot run torch-free")
    sys.meta_path.insert(0, TorchBlocker())
    atexit.register(_write_report, report)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
