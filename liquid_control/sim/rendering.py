"""Offscreen CPU rendering of the simulator's camera, with a clear error when GL is missing.

MuJoCo picks its OpenGL platform when it is first imported, so ``MUJOCO_GL``
must be set before that import: ``liquid_control.sim`` sets it to ``egl`` unless
the user already chose one. The settings that make llvmpipe fast enough
(no multisampling, no shadows, no reflections, a small offscreen buffer) are in
the MJCF built by :mod:`liquid_control.sim.mjcf`.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from liquid_control.sim.mjcf import ROBOT_GROUP

GL_BACKENDS = ("egl", "osmesa", "glfw")

_INSTALL_HINT = (
    "MuJoCo offscreen rendering could not start with MUJOCO_GL={backend!r}: {error}. "
    "On Debian/Ubuntu install 'libegl1 libegl-mesa0 libgl1-mesa-dri' and use MUJOCO_GL=egl, "
    "or install 'libosmesa6' and set MUJOCO_GL=osmesa (and PYOPENGL_PLATFORM=osmesa). "
    "MUJOCO_GL must be set before mujoco is first imported."
)


_LATE = (
    " Note: mujoco was imported before MUJOCO_GL was set, so it chose a display-based"
    " platform; export MUJOCO_GL=egl or import liquid_control.sim before mujoco."
)
_imported_too_early = False


def ensure_gl_backend() -> str:
    """Choose a headless GL backend (egl unless set) before mujoco is imported; return it."""
    global _imported_too_early
    if "MUJOCO_GL" not in os.environ and "mujoco" in sys.modules:
        _imported_too_early = True
    backend = os.environ.setdefault("MUJOCO_GL", "egl")
    if backend == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    # llvmpipe: render on the calling thread; extra threads only fight over 2 shared cores
    os.environ.setdefault("LP_NUM_THREADS", "0")
    return backend


class OffscreenCamera:
    """Renders one named MJCF camera into uint8 RGB arrays and re-uploads edited textures."""

    def __init__(
        self,
        model,
        camera_name: str,
        width: int,
        height: int,
        cull_below_z: float | None = None,
    ) -> None:
        """``cull_below_z``: leave out geoms wholly below this height while the camera is
        above z = 0 (objects parked under an opaque ground plane cost llvmpipe ~50 us each
        and never show; None draws everything)."""
        backend = ensure_gl_backend()
        if backend not in GL_BACKENDS:
            raise ValueError(f"MUJOCO_GL={backend!r} is not supported; allowed: {GL_BACKENDS}")
        import mujoco

        self._mujoco = mujoco
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as error:  # GL errors come as several exception types
            hint = _INSTALL_HINT.format(backend=backend, error=error)
            raise RuntimeError(hint + (_LATE if _imported_too_early else "")) from error
        self._camera_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera_name)
        if self._camera_id < 0:
            raise ValueError(f"camera {camera_name!r} is not in the model")
        # the robot's own body is hidden from its camera
        self._options = mujoco.MjvOption()
        self._options.geomgroup[ROBOT_GROUP] = 0
        # the Renderer's own render() rebuilds its camera, copies the scene flags and flips
        # the image in place each call; these are built once and used directly
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera.fixedcamid = self._camera_id
        self._categories = int(mujoco.mjtCatBit.mjCAT_ALL)
        self.cull_below_z = cull_below_z
        self._buffer = np.empty((height, width, 3), dtype=np.uint8)

    def render(self, data) -> np.ndarray:
        """Render the current state of ``data`` and return a fresh (H, W, 3) uint8 RGB image."""
        mujoco, renderer = self._mujoco, self._renderer
        if renderer._mjr_context is None:
            raise RuntimeError("render cannot be called after close")
        scene, context, model = renderer.scene, renderer._mjr_context, renderer.model
        culled = None
        if self.cull_below_z is not None and data.cam_xpos[self._camera_id, 2] > 0.0:
            culled = data.geom_xpos[:, 2] + model.geom_rbound < self.cull_below_z
            groups = model.geom_group[culled]  # a copy; the group hidden from this camera
            model.geom_group[culled] = ROBOT_GROUP  # for the scene update only
        try:
            mujoco.mjv_updateScene(
                model, data, self._options, None, self._camera, self._categories, scene
            )
        finally:
            if culled is not None:
                model.geom_group[culled] = groups
        if renderer._gl_context is not None:
            renderer._gl_context.make_current()  # another renderer may have taken over
        mujoco.mjr_render(renderer._rect, scene, context)
        mujoco.mjr_readPixels(self._buffer, None, renderer._rect, context)
        return self._buffer[::-1].copy()  # GL rows run bottom-up

    def upload_texture(self, texture_id: int) -> None:
        """Send an edited ``model.tex_data`` texture to the GL context."""
        gl_context = self._renderer._gl_context
        if gl_context is not None:
            gl_context.make_current()
        self._mujoco.mjr_uploadTexture(
            self._renderer.model, self._renderer._mjr_context, texture_id
        )

    def close(self) -> None:
        """Release the GL context (needed explicitly with osmesa)."""
        self._renderer.close()
