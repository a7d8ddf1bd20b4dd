"""Closed-loop success of one model at the sensor rates it may meet in deployment.

The same scenes at the nominal rates and with the camera at 10, 15, 30 and 40 Hz or the
IMU at 50, 200 and 400 Hz (perturbation keys ``camera.rate_hz`` / ``imu.rate_hz``),
through the shipped runtime path (``liquid-control eval``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

CAMERA_RATES_HZ = (10.0, 15.0, 30.0, 40.0)
IMU_RATES_HZ = (50.0, 200.0, 400.0)


def rate_perturbations(directory: str | Path) -> list[str]:
    """Write one perturbation YAML per deployment rate into ``directory``; return the paths."""
    import yaml

    out = []
    for section, rates in (("camera", CAMERA_RATES_HZ), ("imu", IMU_RATES_HZ)):
        for rate in rates:
            path = Path(directory) / f"{section}_{rate:g}hz.yaml"
            name = f"{section}_{rate:g}Hz"
            path.write_text(yaml.safe_dump({"name": name, section: {"rate_hz": rate}}))
            out.append(str(path))
    return out


def rate_records(model_dir: str | Path, episodes: int, workers: int = 2, backend: str = "numpy"):
    """Eval records (nominal first, then each rate) for ``model_dir``."""
    from liquid_control.interface.model_dir import policy_config, read_meta
    from liquid_control.learn.evaluate import evaluate

    task = policy_config(model_dir, read_meta(model_dir)).robot.value
    with tempfile.TemporaryDirectory(prefix="rates_") as tmp:
        perturbs = [None, *rate_perturbations(tmp)]
        return evaluate(
            [str(model_dir)],
            task,
            perturbs,
            episodes,
            workers=workers,
            backend=backend,
            progress=False,
        )


def rate_table(
    model_dir: str | Path, episodes: int, workers: int = 2, backend: str = "numpy"
) -> str:
    """Markdown: success per rate and its share of the nominal success."""
    from liquid_control.learn.evaluate import model_label

    records = rate_records(model_dir, episodes, workers, backend)
    nominal = records[0].success_rate
    lines = [
        f"Closed-loop success of `{model_label(model_dir)}` by sensor rate ({episodes} episodes "
        "each, the same scenes)",
        "",
        "| condition | success | 95% CI | share of nominal |",
        "|---|---|---|---|",
    ]
    for r in records:
        share = r.success_rate / nominal if nominal > 0 else float("nan")
        low, high = r.success_ci95
        lines.append(
            f"| {r.perturbation} | {r.success_rate:.2f} | [{low:.2f}, {high:.2f}] | {share:.2f} |"
        )
    return "\n".join(lines)
