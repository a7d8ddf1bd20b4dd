"""Strict SDFormat checks for our worlds and models, beyond what ``ign sdf -k`` enforces.

``ign sdf -k`` (libsdformat12) rejects bad XML, missing required attributes and bad
values, but lets unknown elements through with a warning, so a misspelt
``<update_rat>`` would ship silently and Gazebo would fall back to a default. This
module walks each file against the SDF element descriptions shipped by the Debian
``sdformat-sdf`` package and reports every element or attribute the spec does not
define. Plugin bodies are free-form in the spec, so plugins are checked against the
gz-sim systems we use and the parameters each of them reads.

Run it by hand: ``python test/gazebo/sdf_validate.py worlds/*.sdf models/*/model.sdf``.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

SPEC_VERSION = "1.9"
APT_HINT = "apt-get install libsdformat12-12 sdformat-sdf ignition-tools libsdformat-dev"

# gz-sim (Harmonic/Ionic) systems we use: filename -> (class name, parameters it reads).
# Parameter lists come from each system's header docs and Configure() in gazebosim/gz-sim.
_DIFF_DRIVE_LIMITS = " ".join(
    f"{bound}_{axis}{kind}"
    for bound in ("min", "max")
    for axis in ("", "linear_", "angular_")
    for kind in ("velocity", "acceleration", "jerk")
)
KNOWN_SYSTEMS: dict[str, tuple[str, frozenset[str]]] = {
    filename: (classname, frozenset(params.split()))
    for filename, classname, params in (
        ("gz-sim-physics-system", "gz::sim::systems::Physics", "engine"),
        (
            "gz-sim-sensors-system",
            "gz::sim::systems::Sensors",
            "render_engine background_color ambient_light disable_on_drained_battery",
        ),
        ("gz-sim-imu-system", "gz::sim::systems::Imu", ""),
        (
            "gz-sim-scene-broadcaster-system",
            "gz::sim::systems::SceneBroadcaster",
            "dynamic_pose_hertz state_hertz",
        ),
        ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands", ""),
        (
            "gz-sim-multicopter-motor-model-system",
            "gz::sim::systems::MulticopterMotorModel",
            "robotNamespace jointName linkName turningDirection timeConstantUp timeConstantDown"
            " maxRotVelocity motorConstant momentConstant commandSubTopic actuator_number"
            " motorNumber rotorDragCoefficient rollingMomentCoefficient motorSpeedPubTopic"
            " rotorVelocitySlowdownSim motorType",
        ),
        (
            "gz-sim-multicopter-control-system",
            "gz::sim::systems::MulticopterVelocityControl",
            "robotNamespace commandSubTopic enableSubTopic comLinkName velocityGain attitudeGain"
            " angularRateGain maximumLinearAcceleration maximumLinearVelocity"
            " maximumAngularVelocity linearVelocityNoiseMean linearVelocityNoiseStdDev"
            " angularVelocityNoiseMean angularVelocityNoiseStdDev rotorConfiguration",
        ),
        (
            "gz-sim-diff-drive-system",
            "gz::sim::systems::DiffDrive",
            "left_joint right_joint wheel_separation wheel_radius odom_publish_frequency topic"
            " odom_topic tf_topic frame_id child_frame_id " + _DIFF_DRIVE_LIMITS,
        ),
        (
            "gz-sim-odometry-publisher-system",
            "gz::sim::systems::OdometryPublisher",
            "odom_frame robot_base_frame odom_publish_frequency odom_topic odom_covariance_topic"
            " tf_topic dimensions xyz_offset rpy_offset gaussian_noise",
        ),
    )
}


@dataclass
class SpecElement:
    """One element description: its attributes and the names of the children it allows."""

    name: str
    attributes: dict[str, bool] = field(default_factory=dict)  # name -> required
    children: dict[str, str | SpecElement] = field(default_factory=dict)  # name -> file or spec
    free_form: bool = False  # copy_data: any children (plugin bodies)
    ref: str = ""  # description file whose attributes and children this element reuses


class SdfSpec:
    """The SDF element tree of one spec version, read from the description files."""

    def __init__(self, directory: Path) -> None:
        if not (directory / "root.sdf").is_file():
            raise FileNotFoundError(f"no SDF descriptions in {directory}; install: {APT_HINT}")
        self.directory = directory
        self._files: dict[str, SpecElement] = {}

    def root(self) -> SpecElement:
        """The ``<sdf>`` element description."""
        return self.file("root.sdf")

    def file(self, filename: str) -> SpecElement:
        """The top element described by one description file (parsed once, then cached)."""
        if filename not in self._files:
            path = self.directory / filename
            if not path.is_file():  # Debian's sdformat-sdf lacks navsat.sdf (libsdformat embeds it)
                self._files[filename] = SpecElement(path.stem, free_form=True)
            else:
                self._files[filename] = self._element(ET.parse(path).getroot())
        return self._files[filename]

    def child(self, parent: SpecElement, name: str) -> SpecElement | None:
        """The description of child ``name`` of ``parent``, or None if the spec forbids it."""
        entry = parent.children.get(name)
        if entry is None and parent.ref:
            entry = self.file(parent.ref).children.get(name)
        if isinstance(entry, str):
            return self.file(entry)
        return entry

    def attributes(self, element: SpecElement) -> dict[str, bool]:
        """Attribute name -> required, including those of a referenced description."""
        inherited = self.file(element.ref).attributes if element.ref else {}
        return {**inherited, **element.attributes}

    def _element(self, node: ET.Element) -> SpecElement:
        spec = SpecElement(node.get("name", ""), free_form=node.get("copy_data") == "true")
        if node.get("ref"):  # e.g. a nested <model> reuses model.sdf (resolved lazily)
            spec.ref = f"{node.get('ref')}.sdf"
        for item in node:
            if item.tag == "attribute":
                spec.attributes[item.get("name", "")] = item.get("required") == "1"
            elif item.tag == "element" and item.get("name"):
                spec.children[item.get("name", "")] = self._element(item)
            elif item.tag == "include":
                filename = item.get("filename", "")
                spec.children[self.file(filename).name] = filename
        return spec


def find_spec_dir(version: str = SPEC_VERSION) -> Path:
    """Where the installed sdformat-sdf package keeps the descriptions of ``version``."""
    candidates = sorted(Path("/usr/share").glob(f"sdformat*/{version}/root.sdf"), reverse=True)
    if not candidates:
        raise FileNotFoundError(f"no SDFormat {version} descriptions installed; {APT_HINT}")
    return candidates[0].parent


def _label(node: ET.Element) -> str:
    name = node.get("name")
    return f"{node.tag}[{name}]" if name else node.tag


def _check_plugin(node: ET.Element, where: str) -> list[str]:
    """A plugin must be a gz-sim system we know, and use only parameters that system reads."""
    filename, classname = node.get("filename", ""), node.get("name", "")
    if filename not in KNOWN_SYSTEMS:
        return [f"{where}: unknown plugin filename {filename!r}; allowed: {sorted(KNOWN_SYSTEMS)}"]
    expected, params = KNOWN_SYSTEMS[filename]
    errors = []
    if classname != expected:
        errors.append(f"{where}: plugin {filename!r} must be named {expected!r}, not {classname!r}")
    for child in node:
        if child.tag not in params:
            errors.append(f"{where}: {expected} has no parameter <{child.tag}>")
    return errors


# Elements that SDF 1.10+ defines (sdformat 13+: Gazebo Harmonic with Jazzy, Ionic with Kilted
# read them from a 1.9 file after conversion) but the local sdformat12 spec (1.9) lacks.
NEWER_ELEMENTS = {("camera", "optical_frame_id")}


def _walk(spec: SdfSpec, node: ET.Element, desc: SpecElement, where: str) -> list[str]:
    errors = []
    allowed = spec.attributes(desc)
    for attr in node.attrib:
        if ":" not in attr and "}" not in attr and attr not in allowed:
            errors.append(f"{where}: attribute {attr!r} is not defined by SDF {SPEC_VERSION}")
    for attr, required in allowed.items():
        if required and attr not in node.attrib:
            errors.append(f"{where}: missing required attribute {attr!r}")
    if desc.name == "plugin":
        return errors + _check_plugin(node, where)
    if desc.free_form:
        return errors
    for child in node:
        if not isinstance(child.tag, str) or ":" in child.tag:
            continue  # comments; namespaced custom elements are allowed by the spec
        if (node.tag, child.tag) in NEWER_ELEMENTS:
            continue
        child_where = f"{where}/{_label(child)}"
        child_desc = spec.child(desc, child.tag)
        if child_desc is None:
            errors.append(
                f"{child_where}: element <{child.tag}> is not defined by SDF "
                f"{SPEC_VERSION} inside <{node.tag}>"
            )
            continue
        errors.extend(_walk(spec, child, child_desc, child_where))
    return errors


def validate_file(path: Path, spec: SdfSpec | None = None) -> list[str]:
    """Every spec violation in one SDF file, as readable messages (empty when it is clean)."""
    spec = spec or SdfSpec(find_spec_dir())
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return [f"{path}: not well-formed XML: {exc}"]
    if root.tag != "sdf":
        return [f"{path}: root element is <{root.tag}>, expected <sdf>"]
    if root.get("version") != SPEC_VERSION:
        return [f"{path}: sdf version {root.get('version')!r}, expected {SPEC_VERSION!r}"]
    return _walk(spec, root, spec.root(), f"{path}:/sdf")


def main(argv: list[str]) -> int:
    """Validate the files named on the command line; print problems, exit 1 if any."""
    spec = SdfSpec(find_spec_dir())
    problems = [msg for name in argv for msg in validate_file(Path(name), spec)]
    print("\n".join(problems) if problems else f"{len(argv)} file(s) valid SDF {SPEC_VERSION}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
