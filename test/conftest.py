"""Session-wide test settings: a private ROS domain, offscreen MuJoCo, the venv as ament prefix."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# A private DDS domain per test session so parallel runs on one machine never cross-talk
# (1..101: the IDs whose ports stay below Linux's ephemeral range), traffic kept on this host
# (ROS_LOCALHOST_ONLY is deprecated from Jazzy on).
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 101)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
# Every process this session starts inherits this mark; pytest_sessionfinish kills the ones
# still running (a test that timed out, an orphaned sim), so no node outlives its session and
# talks to the next one on the same machine.
SESSION_MARK = f"LIQUID_CONTROL_TEST_SESSION={uuid.uuid4().hex}"
os.environ["LIQUID_CONTROL_TEST_SESSION"] = SESSION_MARK.split("=", 1)[1]
# MuJoCo picks its GL backend at import: set it before any test imports mujoco.
os.environ.setdefault("MUJOCO_GL", "egl")
# launch_ros / ament_index find this package through the venv prefix (see liquid_control.ament_prefix).
_prefix = str(Path(sys.prefix))
if _prefix not in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
    os.environ["AMENT_PREFIX_PATH"] = os.pathsep.join(
        p for p in (_prefix, os.environ.get("AMENT_PREFIX_PATH", "")) if p
    )


# Libraries a plain ROS 2 machine may lack (colcon test there must skip, not error): a test
# module that imports one of them at module level is skipped with the reason when it is absent.
OPTIONAL_LIBRARIES = {
    "torch", "mujoco", "PIL", "ncps", "onnx", "onnxruntime", "onnxscript", "matplotlib",
    "rosbags", "imageio", "gymnasium", "hypothesis", "safetensors", "launch", "launch_ros",
    "launch_testing",
}  # fmt: skip


def _absent_optional(name: str) -> bool:
    """``name``'s library is optional and not installed. An installed library that fails to
    import (a name it no longer has, a broken build) is an error, not a skip."""
    top = name.split(".")[0]
    if top not in OPTIONAL_LIBRARIES:
        return False
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return True


class _OptionalImportsModule(pytest.Module):
    """A test module that is skipped, not errored, when an optional library is missing."""

    def _getobj(self):  # pytest's module import (it wraps an ImportError in CollectError)
        try:
            return super()._getobj()
        except self.CollectError as error:
            cause = error.__cause__
            missing = getattr(cause, "name", None) or ""
            if isinstance(cause, ImportError) and _absent_optional(missing):
                pytest.skip(f"{missing} is not installed", allow_module_level=True)
            raise


def pytest_pycollect_makemodule(module_path, parent):
    """Collect every test module through _OptionalImportsModule, except launch tests when
    launch_testing's plugin is loaded: returning None lets that plugin collect them."""
    if parent.config.pluginmanager.hasplugin("launch_testing") and (
        "generate_test_description" in module_path.read_text()
    ):
        return None
    return _OptionalImportsModule.from_parent(parent, path=module_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A fixture or test that imports a missing optional library is skipped, not errored."""
    outcome = yield
    report = outcome.get_result()
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, ImportError) and _absent_optional(error.name or ""):
        missing = (error.name or "").split(".")[0]
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"{missing} is not installed")


# Model directories shared by the export and inspect tests (random weights, fixed seeds).
@pytest.fixture(scope="session")
def rover_model(tmp_path_factory) -> Path:
    """A rover CfC-NCP policy (19 neurons, 2 motors, the default liquid mode) with ONNX."""
    from model_factory import save_model

    return save_model(tmp_path_factory.mktemp("models") / "rover_cfc_ncp", 0)


@pytest.fixture(scope="session")
def drone_ltc_model(tmp_path_factory) -> Path:
    """A drone LTC-NCP policy (19 neurons, 4 motors) with ONNX."""
    from model_factory import save_model

    return save_model(
        tmp_path_factory.mktemp("models") / "drone_ltc_ncp", 1, robot="drone", core="ltc_ncp"
    )


@pytest.fixture(scope="session")
def rover_lstm_model(tmp_path_factory) -> Path:
    """A rover LSTM baseline policy (no wiring) with ONNX."""
    from model_factory import save_model

    return save_model(
        tmp_path_factory.mktemp("models") / "rover_lstm", 2, core="lstm", hidden_size=16
    )


def _marked_processes() -> list[int]:
    """PIDs (other than this one) whose environment carries this session's mark."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone already, or not ours to read
            continue
        if SESSION_MARK.encode() in environ and not _exits_with_us(entry):
            found.append(int(entry.name))
    return found


def _exits_with_us(proc: Path) -> bool:
    """multiprocessing's resource tracker / fork server: they leave when this process does
    (and the tracker must live to unlink the semaphores the test run leaves behind)."""
    try:
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return True
    return any(
        helper in cmdline
        for helper in (b"multiprocessing.resource_tracker", b"multiprocessing.forkserver")
    )


def pytest_sessionfinish(session, exitstatus):
    """Kill what the session's tests left running, and say so: a leak is a bug to fix."""
    leftovers = _marked_processes() if Path("/proc").is_dir() else []
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if leftovers:
        sys.stderr.write(f"\nconftest: killed {len(leftovers)} process(es) left running by tests\n")
