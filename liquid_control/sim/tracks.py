"""Random smooth lane centrelines for the rover task, and projection of a pose onto them.

A track is a polyline sampled every few centimetres from a piecewise-constant,
smoothed curvature profile, so its shape (how often and how sharply it turns)
is set by the seed while the minimum turning radius stays within what the
rover and its camera can follow.
"""

from __future__ import annotations

import math
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

    def segment(self, from_m: float, to_m: float) -> Track:
        """The samples between two arc lengths (for painting part of a lane)."""
        lo, hi = self.index_at(from_m), self.index_at(to_m) + 1
        if hi - lo < 2:
            raise ValueError(f"segment {from_m}..{to_m} m holds fewer than 2 samples")
        part = slice(lo, hi)
        return Track(
            self.points[part],
            self.headings[part],
            self.curvature[part],
            self.arc_length[part],
            float(self.arc_length[lo]),
            float(self.arc_length[hi - 1]),
        )


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
    s = _arc_lengths(total)
    kappa = np.zeros(len(s))
    pos = lead_in_m + 1.0  # a straight metre after the start
    while pos < total:
        seg = rng.uniform(1.5, 3.5)
        sign = rng.choice((-1.0, 1.0))
        kappa[(s >= pos) & (s < pos + seg)] = sign * rng.uniform(0.0, max_curvature)
        pos += seg
    kappa = _smooth(kappa, 0.8)  # curvature ramps over 0.8 m
    kappa[s < lead_in_m] = 0.0
    return track_from_curvature(kappa, lead_in_m, lead_in_m + task_length_m)


def track_from_curvature(kappa: np.ndarray, start_s_m: float, goal_s_m: float) -> Track:
    """Integrate a curvature profile (one value per sample) from the origin heading +x."""
    n = len(kappa)
    if n < 2 or not 0 <= start_s_m < goal_s_m <= (n - 1) * SAMPLE_SPACING_M:
        raise ValueError(
            f"start_s_m={start_s_m} and goal_s_m={goal_s_m} must satisfy "
            f"0 <= start < goal <= {(n - 1) * SAMPLE_SPACING_M:g} (the track length)"
        )
    s = np.arange(n) * SAMPLE_SPACING_M
    headings = np.concatenate(([0.0], np.cumsum(kappa[:-1] * SAMPLE_SPACING_M)))
    steps = SAMPLE_SPACING_M * np.stack((np.cos(headings), np.sin(headings)), axis=1)
    points = np.concatenate((np.zeros((1, 2)), np.cumsum(steps[:-1], axis=0)))
    return Track(points, headings, np.asarray(kappa, dtype=float), s, start_s_m, goal_s_m)


@dataclass(frozen=True)
class Corner:
    """A track with one corner of fixed turn angle, for the lane-gap task (sim/rover.py)."""

    track: Track
    start_s_m: float  # where the curvature starts to ramp up
    end_s_m: float  # where it has ramped back to zero
    side: float  # +1 turns left, -1 right


CORNER_ANGLE_RAD = math.pi / 2
CORNER_RADIUS_RANGE_M = (1.4, 1.8)


def corner_track(
    rng: np.random.Generator, side: float | None = None, exit_m: float = 14.0
) -> Corner:
    """Straight approach, one 90-degree corner of random radius and side, a long straight exit.

    ``side`` (+1 left, -1 right) overrides the drawn side; the draws are the same either
    way, so the same seed gives the same radius and approach on both sides.
    """
    lead_in, approach = 1.0, rng.uniform(1.5, 2.5)
    radius = rng.uniform(*CORNER_RADIUS_RANGE_M)
    drawn = float(rng.choice((-1.0, 1.0)))
    side = drawn if side is None else float(side)
    if side not in (-1.0, 1.0):
        raise ValueError(f"corner side={side} must be +1 (left) or -1 (right)")
    start = lead_in + approach
    arc = radius * CORNER_ANGLE_RAD
    s = _arc_lengths(start + arc + exit_m)
    kappa = np.where((s >= start) & (s < start + arc), side / radius, 0.0)
    ramp = 0.4
    kappa = _smooth(kappa, ramp)  # keeps the turn angle; spreads it over ramp metres each end
    return Corner(
        track_from_curvature(kappa, lead_in, start + arc + exit_m - 5.0),
        start - ramp / 2,
        start + arc + ramp / 2,
        side,
    )


@dataclass(frozen=True)
class Fork:
    """A straight trunk splitting into two mirrored branches, for the fork task (sim/rover.py)."""

    branches: tuple[Track, Track]  # (left, right): trunk + branch, each its own centreline
    fork_s_m: float  # where the branches separate
    sign_s_m: float  # where the cue sign stands beside the trunk


FORK_TURN_RAD = math.pi / 3
FORK_CURVATURE = 0.5


def fork_tracks(rng: np.random.Generator, cue_m: float) -> Fork:
    """Trunk with a sign ``cue_m`` before a Y fork; each branch turns 60 degrees then runs straight."""
    if cue_m <= 0:
        raise ValueError(f"cue_m={cue_m} must be > 0")
    lead_in = 1.0
    sign = lead_in + rng.uniform(2.0, 2.5)
    fork = sign + cue_m
    arc = FORK_TURN_RAD / FORK_CURVATURE
    goal = fork + arc + 1.5
    s = _arc_lengths(goal + 5.0)
    left = np.where((s >= fork) & (s < fork + arc), FORK_CURVATURE, 0.0)
    left = _smooth(left, 0.3)
    left[s < fork] = 0.0  # the trunk stays straight up to the fork (both branches share it)
    return Fork(
        (
            track_from_curvature(left, lead_in, goal),
            track_from_curvature(-left, lead_in, goal),
        ),
        fork,
        sign,
    )


def _arc_lengths(total_m: float) -> np.ndarray:
    """Sample arc lengths 0, SAMPLE_SPACING_M, ... up to ``total_m``."""
    return np.arange(int(round(total_m / SAMPLE_SPACING_M)) + 1) * SAMPLE_SPACING_M


def _smooth(kappa: np.ndarray, width_m: float) -> np.ndarray:
    """Box-filter a curvature profile over ``width_m`` (keeps its integral, the turn angle)."""
    kernel = np.ones(max(1, int(width_m / SAMPLE_SPACING_M)))
    return np.convolve(kappa, kernel / kernel.sum(), mode="same")
