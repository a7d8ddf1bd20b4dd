"""Read the physical numbers out of our SDF models: poses, masses, inertia, sensors, plugins.

Just enough SDF semantics for the parity tests (poses relative to the parent element,
Euler roll-pitch-yaw), written with xml.etree and NumPy so the tests need no
libsdformat.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def load_model(path: Path) -> ET.Element:
    """The ``<model>`` element of a model file."""
    model = ET.parse(path).getroot().find("model")
    if model is None:
        raise ValueError(f"{path} has no <model> element")
    return model


def numbers(element: ET.Element | None, tag: str, default: str = "") -> np.ndarray:
    """The whitespace-separated numbers of child ``tag`` (or ``default`` when absent)."""
    text = element.findtext(tag) if element is not None else None
    return np.array([float(v) for v in (text or default).split()])


def pose(element: ET.Element) -> np.ndarray:
    """x y z roll pitch yaw of an element relative to its parent (zeros when absent)."""
    return numbers(element, "pose", "0 0 0 0 0 0")


def rotation(rpy: np.ndarray) -> np.ndarray:
    """The rotation matrix of SDF Euler angles (extrinsic x, then y, then z)."""
    (cr, cp, cy), (sr, sp, sy) = np.cos(rpy), np.sin(rpy)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def links(model: ET.Element) -> dict[str, ET.Element]:
    """The model's links by name."""
    return {link.get("name", ""): link for link in model.findall("link")}


def link_mass(link: ET.Element) -> float:
    """A link's mass in kg (SDF's default of 1 kg when no inertial is given)."""
    return float(link.findtext("inertial/mass", "1"))


def inertia_about_com(model: ET.Element) -> tuple[float, np.ndarray, np.ndarray]:
    """Total mass, centre of mass and 3x3 inertia about it, in the model frame."""
    parts = []
    for link in links(model).values():
        inertial = link.find("inertial")
        link_pose, inertial_pose = pose(link), pose(inertial)
        rot_link = rotation(link_pose[3:])
        centre = link_pose[:3] + rot_link @ inertial_pose[:3]
        rot = rot_link @ rotation(inertial_pose[3:])
        i = {k: float(inertial.findtext(f"inertia/{k}", "0")) for k in
             ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")}  # fmt: skip
        tensor = np.array(
            [[i["ixx"], i["ixy"], i["ixz"]], [i["ixy"], i["iyy"], i["iyz"]],
             [i["ixz"], i["iyz"], i["izz"]]]
        )  # fmt: skip
        parts.append((link_mass(link), centre, rot @ tensor @ rot.T))
    mass = sum(m for m, _, _ in parts)
    com = sum(m * c for m, c, _ in parts) / mass
    total = np.zeros((3, 3))
    for m, c, tensor in parts:
        d = c - com
        total += tensor + m * (d @ d * np.eye(3) - np.outer(d, d))
    return mass, com, total


def sensor(model: ET.Element, kind: str) -> ET.Element:
    """The model's only sensor of type ``kind`` (camera, imu)."""
    found = [s for s in model.iter("sensor") if s.get("type") == kind]
    if len(found) != 1:
        raise ValueError(f"expected one {kind} sensor, found {len(found)}")
    return found[0]


def plugins(model: ET.Element, classname: str) -> list[ET.Element]:
    """The model's plugins of one gz-sim system class (e.g. gz::sim::systems::DiffDrive)."""
    return [p for p in model.findall("plugin") if p.get("name") == classname]


def geometry(element: ET.Element, shape: str) -> ET.Element:
    """The ``<shape>`` under an element's ``geometry`` (box, cylinder, sphere, plane)."""
    found = element.find(f"geometry/{shape}")
    if found is None:
        raise ValueError(f"{element.get('name')} has no {shape} geometry")
    return found
