"""Random smooth lane centrelines for the rover task, and projection of a pose onto them.

A track is a polyline sampled every few centimetres from a piecewise-constant,
smoothed curvature profile, so its shape (how often and how sharply it turns)
is set by the seed while the minimum turning radius stays within what the
rover and its camera can follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_SPACING_M = 0.02


@dataclass(frozen=True)
class TrackProjection:
    """Where a point lies relative to the centreline (offset > 0: left of it, REP 103)."""

    index: int
    arc_length_m: float
    offset_m: float
    heading_rad: float


@dataclass(frozen=True)
class Track:
    """A centreline polyline with arc length, heading and curvature per sample."""

    points: np.ndarray  # (N, 2) world x, y in metres
    headings: np.ndarray  # (N,) rad
    curvature: np.ndarray  # (N,) 1/m, > 0 turns left
    arc_length: np.ndarray  # (N,) m
    start_s_m: float  # where the rover starts
    goal_s_m: float  # where the episode succeeds

    def project(self, xy: np.ndarray, hint: int, window_m: float = 1.5) -> TrackProjection:
        """Project ``xy`` onto the centreline, searching near sample ``hint`` so loops never alias."""
        half = int(window_m / SAMPLE_SPACING_M)
        lo, hi = max(0, hint - half), min(len(self.points), hint + half + 1)
        deltas = self.points[lo:hi] - np.asarray(xy, dtype=float)[None, :2]
        index = lo + int(np.argmin(np.einsum("ij,ij->i", deltas, deltas)))
        heading = float(self.headings[index])
        rel = np.asarray(xy, dtype=float)[:2] - self.points[index]
        along = rel[0] * np.cos(heading) + rel[1] * np.sin(heading)
        offset = -rel[0] * np.sin(heading) + rel[1] * np.cos(heading)
        return TrackProjection(index, float(self.arc_length[index] + along), float(offset), heading)

    def point_at(self, arc_length_m: float) -> np.ndarray:
        """Centreline point at a given arc length (clamped to the track)."""
        index = int(np.clip(round(arc_length_m / SAMPLE_SPACING_M), 0, len(self.points) - 1))
        return self.points[index]

    def index_at(self, arc_length_m: float) -> int:
        """Sample index nearest to an arc length (clamped)."""
        return int(np.clip(round(arc_length_m / SAMPLE_SPACING_M), 0, len(self.points) - 1))


def generate_track(
    rng: np.random.Generator,
    task_length_m: float,
    max_curvature: float = 0.5,
    lead_in_m: float = 1.0,
    run_out_m: float = 5.0,
) -> Track:
    """Draw a track starting at the origin heading +x: straight lead-in, random bends, run-out."""
    if task_length_m <= 0 or max_curvature <= 0:
        raise ValueError(
            f"task_length_m={task_length_m} and max_curvature={max_curvature} must be > 0"
        )
    total = lead_in_m + task_length_m + run_out_m
    n = int(round(total / SAMPLE_SPACING_M)) + 1
    s = np.arange(n) * SAMPLE_SPACING_M
    kappa = np.zeros(n)
    pos = lead_in_m + 1.0  # a straight metre after the start
    while pos < total:
        seg = rng.uniform(1.5, 3.5)
        sign = rng.choice((-1.0, 1.0))
        kappa[(s >= pos) & (s < pos + seg)] = sign * rng.uniform(0.0, max_curvature)
        pos += seg
    kernel = np.ones(int(0.8 / SAMPLE_SPACING_M))  # smooth the steps: curvature ramps over 0.8 m
    kappa = np.convolve(kappa, kernel / kernel.sum(), mode="same")
    kappa[s < lead_in_m] = 0.0
    headings = np.concatenate(([0.0], np.cumsum(kappa[:-1] * SAMPLE_SPACING_M)))
    steps = SAMPLE_SPACING_M * np.stack((np.cos(headings), np.sin(headings)), axis=1)
    points = np.concatenate((np.zeros((1, 2)), np.cumsum(steps[:-1], axis=0)))
    return Track(points, headings, kappa, s, lead_in_m, lead_in_m + task_length_m)
