"""The study's statistics in NumPy: hierarchical bootstrap, Holm, TOST and the verdict rule.

Data of one arm in one endpoint is a (seeds, scenes) array of episode outcomes
(1 = success). The training seed is the unit of replication; scenes are paired
across arms (every arm and seed runs the same scene seeds) and seeds are paired
across arms too (seed k of every arm trains on the same windows and augmentation
draws), so a difference is resampled as pairs: seeds with replacement, then scenes
with replacement within each drawn seed (within each stratum, e.g. a task x shift
cell, when strata are given), the same draws for both arms.

The rule, fixed before any confirmatory run (``verdict_for``):
- floor: when the reference arm's nominal success is below ``min_nominal`` there is no
  skill to lose under a shift and the comparison is not read ("floor");
- nominal first: the arms are nominally equivalent when the 1 - 2 alpha bootstrap
  interval of the nominal difference lies inside +-nominal_margin (TOST at alpha);
  otherwise the OOD difference is not read ("nominal_differs");
- OOD: the two-sided bootstrap p-value of the OOD difference, Holm-adjusted over all
  comparisons; adjusted p < alpha with the reference ahead: "supports", behind:
  "contradicts"; otherwise "refutes" when the 1 - 2 alpha interval lies inside
  +-ood_margin (no advantage that matters), else "inconclusive";
- a claim is "confirmed" when every comparison supports it, "refuted" when any
  comparison refutes or contradicts it, and "inconclusive" otherwise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

OUTCOMES = ("supports", "contradicts", "refutes", "inconclusive", "nominal_differs", "floor")
VERDICTS = ("confirmed", "refuted", "inconclusive")


def _check(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"{name} must be a (seeds, scenes) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds non-finite values")
    return x


def _strata(strata: np.ndarray | None, scenes: int) -> list[np.ndarray]:
    """Scene indices of each stratum (one stratum: all scenes)."""
    if strata is None:
        return [np.arange(scenes)]
    strata = np.asarray(strata)
    if strata.shape != (scenes,):
        raise ValueError(f"strata has shape {strata.shape}, expected ({scenes},)")
    return [np.flatnonzero(strata == s) for s in np.unique(strata)]


def bootstrap_means(
    arrays: list[np.ndarray],
    n_boot: int,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """(n_boot, len(arrays)) bootstrap means, seeds then scenes resampled, shared across arrays.

    Every array is (seeds, scenes) with the same shape: the same seed and scene draws
    apply to each, which keeps the pairing when arrays are different arms.
    """
    xs = [_check(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    if len({a.shape for a in xs}) != 1:
        raise ValueError(f"paired arrays differ in shape: {[a.shape for a in xs]}")
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot} must be >= 1")
    seeds, scenes = xs[0].shape
    groups = _strata(strata, scenes)
    out = np.empty((n_boot, len(xs)))
    for lo in range(0, n_boot, chunk):
        b = min(chunk, n_boot - lo)
        seed_idx = rng.integers(0, seeds, (b, seeds))
        scene_idx = np.concatenate(
            [g[rng.integers(0, len(g), (b, seeds, len(g)))] for g in groups], axis=2
        )
        for k, x in enumerate(xs):
            out[lo : lo + b, k] = x[seed_idx[:, :, None], scene_idx].mean(axis=(1, 2))
    return out


def interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of bootstrap samples at ``level`` (e.g. 0.95)."""
    if not 0 < level < 1:
        raise ValueError(f"level={level} must be in (0, 1)")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(samples, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_p(differences: np.ndarray) -> float:
    """Two-sided p-value of "difference = 0" by inverting the percentile interval."""
    d = np.asarray(differences, dtype=np.float64)
    n = len(d)
    below = (1 + np.count_nonzero(d <= 0)) / (n + 1)
    above = (1 + np.count_nonzero(d >= 0)) / (n + 1)
    return float(min(1.0, 2 * min(below, above)))


def holm(pvalues: list[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or ((p < 0) | (p > 1)).any():
        raise ValueError(f"p-values must be a 1-D array in [0, 1], got {p}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def equivalent(low: float, high: float, margin: float) -> bool:
    """TOST by interval inclusion: the (1 - 2 alpha) interval lies inside (-margin, margin)."""
    return -margin < low and high < margin


@dataclass
class Comparison:
    """Reference arm minus one comparator: nominal check, OOD difference and its outcome."""

    claim: str
    reference: str
    comparator: str
    reference_nominal: float  # the reference arm's nominal success (the floor check)
    nominal_diff: float
    nominal_tost_ci: list[float]  # 1 - 2 alpha interval
    nominal_equivalent: bool
    ood_diff: float
    ood_ci95: list[float]
    ood_tost_ci: list[float]
    p: float
    p_holm: float = float("nan")
    outcome: str = "inconclusive"

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def compare(
    claim: str,
    reference: str,
    comparator: str,
    nominal: tuple[np.ndarray, np.ndarray],
    ood: tuple[np.ndarray, np.ndarray],
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
    nominal_strata: np.ndarray | None = None,
    ood_strata: np.ndarray | None = None,
    nominal_margin: float = 0.1,
) -> Comparison:
    """Bootstrap the nominal and OOD differences (reference - comparator) of one pair of arms."""
    nom = bootstrap_means(list(nominal), n_boot, rng, nominal_strata)
    out = bootstrap_means(list(ood), n_boot, rng, ood_strata)
    d_nom, d_ood = nom[:, 0] - nom[:, 1], out[:, 0] - out[:, 1]
    nominal_diff = float(np.mean(nominal[0]) - np.mean(nominal[1]))
    tost_nom = interval(d_nom, 1 - 2 * alpha)
    return Comparison(
        claim=claim,
        reference=reference,
        comparator=comparator,
        reference_nominal=float(np.mean(nominal[0])),
        nominal_diff=nominal_diff,
        nominal_tost_ci=list(tost_nom),
        nominal_equivalent=equivalent(*tost_nom, nominal_margin),
        ood_diff=float(np.mean(ood[0]) - np.mean(ood[1])),
        ood_ci95=list(interval(d_ood, 0.95)),
        ood_tost_ci=list(interval(d_ood, 1 - 2 * alpha)),
        p=bootstrap_p(d_ood),
    )


def outcome_of(c: Comparison, alpha: float, ood_margin: float, min_nominal: float = 0.0) -> str:
    """The fixed rule for one comparison (module docstring); needs ``p_holm`` set."""
    if c.reference_nominal < min_nominal:
        return "floor"
    if not c.nominal_equivalent:
        return "nominal_differs"
    if c.p_holm < alpha:
        return "supports" if c.ood_diff > 0 else "contradicts"
    if equivalent(*c.ood_tost_ci, ood_margin):
        return "refutes"
    return "inconclusive"


def decide(
    comparisons: list[Comparison], alpha: float, ood_margin: float, min_nominal: float = 0.0
) -> list[Comparison]:
    """Holm-adjust the p-values of all comparisons together and set each outcome."""
    adjusted = holm([c.p for c in comparisons]) if comparisons else []
    for c, p in zip(comparisons, adjusted, strict=True):
        c.p_holm = float(p)
        c.outcome = outcome_of(c, alpha, ood_margin, min_nominal)
    return comparisons


def verdict_for(outcomes: list[str]) -> str:
    """A claim's verdict from its comparisons' outcomes (module docstring)."""
    if not outcomes:
        raise ValueError("a claim needs at least one comparison")
    unknown = sorted(set(outcomes) - set(OUTCOMES))
    if unknown:
        raise ValueError(f"unknown outcomes {unknown}; allowed {OUTCOMES}")
    if all(o == "supports" for o in outcomes):
        return "confirmed"
    if any(o in ("refutes", "contradicts") for o in outcomes):
        return "refuted"
    return "inconclusive"


def arm_interval(
    x: np.ndarray, n_boot: int, rng: np.random.Generator, strata: np.ndarray | None = None
) -> tuple[float, float, float]:
    """(mean, low, high): an arm's success with its 95% hierarchical bootstrap interval."""
    samples = bootstrap_means([x], n_boot, rng, strata)[:, 0]
    low, high = interval(samples, 0.95)
    return float(np.mean(x)), low, high


def binomial_p(k: int, n: int) -> float:
    """Exact two-sided binomial test of ``k`` successes in ``n`` trials against one half."""
    if not 0 <= k <= n:
        raise ValueError(f"binomial_p: need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2**n
    return min(1.0, 2.0 * tail)
