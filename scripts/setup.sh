#!/usr/bin/env bash
# Create .venv with everything liquid_control needs; safe to run again (skips what is done).
#   torch==2.13.0 first (a CPU build: any other torch request pulls CUDA), then the ROS 2
#   PyPI wheels (skipped when a sourced ROS 2 install provides rclpy), then this package.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
ROS_WHEEL_PREFIX=${ROS_WHEEL_PREFIX:-ros}   # "ros-jazzy" gives Jazzy wheels instead of Kilted
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- system libraries: offscreen OpenGL for MuJoCo, SDFormat tools for the Gazebo tests ---
APT_REQUIRED="libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6"
APT_OPTIONAL="libsdformat12-12 sdformat-sdf ignition-tools libsdformat-dev pkg-config"
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  missing=""
  for p in $APT_REQUIRED $APT_OPTIONAL; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    log "apt-get install$missing"
    if $SUDO apt-get update -qq && \
       DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $APT_REQUIRED >/dev/null; then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $APT_OPTIONAL >/dev/null \
        || log "optional SDFormat packages unavailable: SDF validation tests will skip"
    else
      log "WARNING: could not apt-get install $APT_REQUIRED (not root?); MuJoCo rendering needs them"
    fi
  fi
else
  log "no apt-get: install EGL/Mesa (or OSMesa) for MuJoCo offscreen rendering yourself"
fi

# --- virtual environment ---
ros_sourced=0
if [ -n "${ROS_DISTRO:-}" ] && "$PYTHON" -c "import rclpy" >/dev/null 2>&1; then ros_sourced=1; fi
if [ ! -x "$VENV/bin/python" ]; then
  if [ "$ros_sourced" = 1 ]; then
    log "ROS 2 $ROS_DISTRO is sourced: venv with system site-packages (uses its rclpy)"
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PIP="$VENV/bin/python -m pip -q --disable-pip-version-check"
$PIP install --upgrade pip >/dev/null

if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  log "pip install torch==2.13.0 (CPU build)"
  $PIP install torch==2.13.0
fi

if [ "$ros_sourced" = 0 ] && ! "$VENV/bin/python" -c "import rclpy, rclpy.lifecycle, diagnostic_msgs" >/dev/null 2>&1; then
  log "pip install ROS 2 wheels (${ROS_WHEEL_PREFIX}-*)"
  wheels=""
  for w in rclpy sensor-msgs geometry-msgs std-msgs nav-msgs rosgraph-msgs diagnostic-msgs \
           std-srvs lifecycle-msgs rmw-fastrtps-cpp ament-index-python; do
    wheels="$wheels ${ROS_WHEEL_PREFIX}-$w"
  done
  $PIP install $wheels
fi

log "pip install -e .[train,test]"
$PIP install -e ".[train,test]"
"$VENV/bin/liquid-control" ament-prefix --prefix "$VENV" >/dev/null
log "ready: source $VENV/bin/activate; export AMENT_PREFIX_PATH=$(cd "$VENV" && pwd):\${AMENT_PREFIX_PATH:-}"
