"""Make a non-colcon install findable by launch_ros and ament_index.

`ros2 launch` and `launch_ros.actions.Node(package=..., executable=...)` look
for ``<prefix>/share/ament_index/resource_index/packages/liquid_control``,
``<prefix>/share/liquid_control/package.xml`` and an executable
``<prefix>/lib/liquid_control/<executable>`` under a prefix on
``AMENT_PREFIX_PATH``. colcon lays that out itself; a ``pip install -e .``
puts console scripts in ``<venv>/bin`` instead, so this module writes the
index marker, links the share directories to the source tree and writes one
small wrapper per console script.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from importlib import metadata
from pathlib import Path

PACKAGE = "liquid_control"
SHARE_DIRS = ("launch", "config", "worlds", "models")


def console_scripts() -> dict[str, str]:
    """Entry points of the installed distribution: name -> 'module:function'."""
    dist = metadata.distribution(PACKAGE)
    return {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}


def source_root() -> Path:
    """The directory holding package.xml (the repository root in a develop install)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "package.xml").is_file():
        raise FileNotFoundError(
            f"package.xml not found next to {root}; ament-prefix needs a source checkout "
            "(pip install -e .) — a colcon build already lays out its own prefix"
        )
    return root


def _replace_with_link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        raise FileExistsError(f"{link} is a real directory; remove it to let ament-prefix link it")
    link.symlink_to(target)


def _write_wrapper(path: Path, spec: str, python: str) -> None:
    module, _, function = spec.partition(":")
    path.write_text(
        f"#!{python}\n"
        f'"""launch_ros wrapper for the {PACKAGE} console script {path.name}."""\n'
        "import sys\n"
        f"from {module} import {function}\n"
        f"sys.exit({function}())\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def install(prefix: Path, python: str = sys.executable) -> list[Path]:
    """Lay out the ament prefix; return the paths written."""
    root = source_root()
    written: list[Path] = []
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True, exist_ok=True)
    (index / PACKAGE).touch()
    written.append(index / PACKAGE)
    share = prefix / "share" / PACKAGE
    share.mkdir(parents=True, exist_ok=True)
    for name in ("package.xml", *SHARE_DIRS):
        _replace_with_link(share / name, root / name)
        written.append(share / name)
    lib = prefix / "lib" / PACKAGE
    lib.mkdir(parents=True, exist_ok=True)
    for name, spec in sorted(console_scripts().items()):
        _write_wrapper(lib / name, spec, python)
        written.append(lib / name)
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI: ``liquid-control ament-prefix [--prefix DIR]``."""
    parser = argparse.ArgumentParser(
        prog="liquid-control ament-prefix",
        description=(
            "Register this (pip/editable) install in an ament prefix so that `ros2 launch "
            "liquid_control ...` and launch_ros find its share files and executables. "
            "Then: export AMENT_PREFIX_PATH=PREFIX:$AMENT_PREFIX_PATH"
        ),
    )
    parser.add_argument(
        "--prefix",
        type=Path,
        default=Path(sys.prefix),
        help="prefix to populate (default: the active environment, %(default)s)",
    )
    args = parser.parse_args(argv)
    for path in install(args.prefix.resolve()):
        print(path)
    print(f"export AMENT_PREFIX_PATH={args.prefix.resolve()}{os.pathsep}$AMENT_PREFIX_PATH")
    return 0


if __name__ == "__main__":
    sys.exit(main())
