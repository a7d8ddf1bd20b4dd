"""The study's statistics on synthetic data: a known effect is found, no effect is not."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.study import stats


def _arm(rate: float, seeds: int, scenes: int, rng: np.random.Generator, spread: float = 0.05):
    """Episode outcomes: each seed's success rate varies around ``rate`` (seed effect)."""
    per_seed = np.clip(rate + rng.normal(0, spread, seeds), 0, 1)
    return (rng.random((seeds, scenes)) < per_seed[:, None]).astype(float)


def test_holm_matches_hand_computed_values() -> None:
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01, 0.03, 0.04, 0.5 -> 4*0.01, 3*0.03, 2*0.04 (monotone), 0.5
    assert stats.holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert stats.holm([0.9, 0.2]) == pytest.approx([0.9, 0.4])
    assert stats.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="p-values"):
        stats.holm([1.5])


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_data() -> None:
    rng = np.random.default_rng(0)
    small, large = _arm(0.6, 5, 20, rng), _arm(0.6, 20, 200, rng)
    m1, lo1, hi1 = stats.arm_interval(small, 2000, rng)
    m2, lo2, hi2 = stats.arm_interval(large, 2000, rng)
    assert lo1 <= m1 <= hi1 and lo2 <= 0.6 <= hi2
    assert hi2 - lo2 < (hi1 - lo1) / 2


def test_seed_variation_widens_the_interval() -> None:
    """The seed is the unit of replication: scenes alone cannot make a seed effect small."""
    rng = np.random.default_rng(1)
    calm = _arm(0.5, 5, 400, rng, spread=0.0)
    noisy = _arm(0.5, 5, 400, rng, spread=0.25)
    _, lo_c, hi_c = stats.arm_interval(calm, 2000, rng)
    _, lo_n, hi_n = stats.arm_interval(noisy, 2000, rng)
    assert hi_n - lo_n > 2 * (hi_c - lo_c)


def test_stratified_resampling_keeps_cells_apart() -> None:
    """Two cells at 0 and 1: resampling within cells keeps the pooled mean at exactly 0.5."""
    x = np.concatenate([np.zeros((4, 10)), np.ones((4, 10))], axis=1)
    strata = np.repeat([0, 1], 10)
    samples = stats.bootstrap_means([x], 500, np.random.default_rng(0), strata)
    assert np.allclose(samples, 0.5)
    loose = stats.bootstrap_means([x], 500, np.random.default_rng(0))
    assert loose.std() > 0.05


def _compare(nominal, ood, seed=0, margin=0.1):
    rng = np.random.default_rng(seed)
    c = stats.compare("claim", "ref", "other", nominal, ood, 0.05, 2000, rng, nominal_margin=margin)
    stats.decide([c], 0.05, 0.1, 0.5)
    return c


def test_a_known_ood_effect_supports_the_claim() -> None:
    rng = np.random.default_rng(2)
    nominal = (_arm(0.95, 6, 60, rng), _arm(0.95, 6, 60, rng))
    ood = (_arm(0.8, 6, 60, rng), _arm(0.4, 6, 60, rng))
    c = _compare(nominal, ood)
    assert c.nominal_equivalent
    assert c.ood_diff == pytest.approx(0.4, abs=0.1)
    assert c.ood_ci95[0] > 0.2 and c.p_holm < 0.01
    assert c.outcome == "supports"
    assert stats.verdict_for([c.outcome]) == "confirmed"


def test_no_effect_with_enough_data_refutes_and_a_reversal_contradicts() -> None:
    rng = np.random.default_rng(3)
    nominal = (_arm(0.95, 8, 150, rng), _arm(0.95, 8, 150, rng))
    same = (_arm(0.6, 8, 150, rng, 0.02), _arm(0.6, 8, 150, rng, 0.02))
    c = _compare(nominal, same)
    assert c.outcome == "refutes", c
    worse = (_arm(0.3, 8, 150, rng), _arm(0.7, 8, 150, rng))
    assert _compare(nominal, worse).outcome == "contradicts"


def test_too_little_data_is_inconclusive_and_nominal_gaps_are_not_read() -> None:
    rng = np.random.default_rng(4)
    nominal = (_arm(0.9, 3, 6, rng), _arm(0.9, 3, 6, rng))
    ood = (_arm(0.6, 3, 6, rng, 0.2), _arm(0.5, 3, 6, rng, 0.2))
    assert _compare(nominal, ood).outcome in ("inconclusive", "nominal_differs")
    gap = (_arm(0.95, 6, 60, rng, 0.0), _arm(0.55, 6, 60, rng, 0.0))
    big = (_arm(0.9, 6, 60, rng), _arm(0.1, 6, 60, rng))
    c = _compare(gap, big)
    assert not c.nominal_equivalent and c.outcome == "nominal_differs"
    floor = (np.zeros((4, 20)), np.zeros((4, 20)))
    assert _compare(floor, floor).outcome == "floor"


def test_holm_makes_one_lucky_comparison_among_many_insignificant() -> None:
    """Eight arms equal to the reference: Holm keeps the family-wise error near alpha."""
    rng = np.random.default_rng(5)
    false_claims = 0
    for _ in range(20):
        ref_nom, ref_ood = _arm(0.9, 5, 40, rng), _arm(0.6, 5, 40, rng)
        comps = [
            stats.compare("c", "ref", f"a{k}", (ref_nom, _arm(0.9, 5, 40, rng)),
                          (ref_ood, _arm(0.6, 5, 40, rng)), 0.05, 1000, rng)
            for k in range(8)
        ]  # fmt: skip
        stats.decide(comps, 0.05, 0.1)
        false_claims += any(c.outcome in ("supports", "contradicts") for c in comps)
    assert false_claims <= 4  # nominal 5%; the percentile bootstrap with 5 seeds is liberal


def test_verdict_rule() -> None:
    assert stats.verdict_for(["supports", "supports"]) == "confirmed"
    assert stats.verdict_for(["supports", "refutes"]) == "refuted"
    assert stats.verdict_for(["supports", "contradicts"]) == "refuted"
    assert stats.verdict_for(["supports", "inconclusive"]) == "inconclusive"
    assert stats.verdict_for(["supports", "nominal_differs"]) == "inconclusive"
    with pytest.raises(ValueError, match="unknown outcomes"):
        stats.verdict_for(["maybe"])
    with pytest.raises(ValueError, match="differ in shape"):
        stats.bootstrap_means([np.zeros((2, 3)), np.zeros((3, 3))], 10, np.random.default_rng(0))
