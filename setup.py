"""ament_python setup for liquid_control: builds with colcon and installs with pip."""

import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "liquid_control"


def tree(directory: str) -> list[tuple[str, list[str]]]:
    """Map every file below ``directory`` to share/<package>/<same relative dir>."""
    entries: dict[str, list[str]] = {}
    for path in sorted(glob(os.path.join(directory, "**", "*"), recursive=True)):
        if os.path.isfile(path) and "__pycache__" not in path:
            target = os.path.join("share", PACKAGE, os.path.dirname(path))
            entries.setdefault(target, []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*", "bench"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *tree("launch"),
        *tree("config"),
        *tree("worlds"),
        *tree("models"),
    ],
    python_requires=">=3.10",
    # Runtime needs only NumPy and PyYAML (+ onnxruntime for that backend): the companion-computer
    # footprint, all rosdep keys. Weights are read by interface/safetensors_io (NumPy), and
    # threadpoolctl is optional (a no-op when missing).
    install_requires=["numpy>=1.24", "pyyaml>=6", "threadpoolctl>=3.1"],
    extras_require={
        "onnx": ["onnxruntime>=1.17"],
        "train": [
            "torch>=2.1",
            "safetensors>=0.4",
            "onnxruntime>=1.17",
            "onnx>=1.15",
            "onnxscript>=0.1",
            "mujoco>=3.1",
            "rosbags>=0.10",
            "gymnasium>=1.0",
            "matplotlib>=3.7",
            "imageio>=2.31",
            "imageio-ffmpeg>=0.4",
            "tqdm>=4.66",
        ],
        "test": [
            "pytest>=7,<9",
            "pytest-timeout>=2.2",
            "hypothesis>=6.100",
            "ncps==1.0.1",
            "ruff>=0.5",
            "flwr==1.42.0",  # the fleet test runs a real Flower server and clients (~50 MB)
        ],
        # federated fine-tuning (`liquid-control fleet`); pins protobuf < 7 (onnx needs >= 6.31)
        "fleet": ["flwr==1.42.0"],
    },
    zip_safe=True,
    maintainer="liquid_control maintainers",
    maintainer_email="maintainers@liquid-control.dev",
    description="Liquid neural network (LTC/CfC NCP) control for drones and rovers on ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "controller = liquid_control.nodes.controller_node:main",
            "sim = liquid_control.nodes.sim_node:main",
            "mavros_adapter = liquid_control.nodes.mavros_adapter:main",
            "liquid-control = liquid_control.cli:main",
        ],
    },
)
