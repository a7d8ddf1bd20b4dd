"""The study's report: tables (markdown, CSV, JSON), plots and the verdict, from the numbers.

Every evaluation unit must be present: a missing one is an error naming it, never a
partial table. Cells are (arm, task, shift) with the mean success over seeds and
scenes and a 95% hierarchical bootstrap interval. The endpoints pool cells (scenes
resampled within each cell): nominal = every task's nominal scenes; primary =
every task under every cue-preserving shift at the primary severities; the
cue-changing shifts are reported beside them, outside the verdict.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.study import stats
from liquid_control.study.config import StudyConfig
from liquid_control.study.episodes import answer
from liquid_control.study.units import Store, Unit


def outcomes(
    cfg: StudyConfig, store: Store, evaluate: list[Unit]
) -> dict[tuple[str, str, str], np.ndarray]:
    """(arm, task, shift) -> (seeds, scenes) success array; every unit must be complete."""
    missing = [u.name for u in evaluate if store.record(u) is None]
    if missing:
        raise ValueError(
            f"{len(missing)} evaluation units are missing (e.g. {missing[:3]}): "
            "run the study again to finish them; no partial table is written"
        )
    cells: dict[tuple[str, str, str], dict[int, list[bool]]] = {}
    for u in evaluate:
        rows = sorted(store.result(u)["episodes"], key=lambda r: r["scene"])
        key = (u.args["arm"], u.args["task"], u.args["shift"])
        cells.setdefault(key, {})[u.args["seed"]] = [r["success"] for r in rows]
    return {
        key: np.array([by_seed[s] for s in cfg.training.seeds], dtype=np.float64)
        for key, by_seed in cells.items()
    }


def tally(rows: list[dict[str, Any]]) -> list[int] | None:
    """``drive``'s rows of a two-answer memory task -> [cued (success), other, neither, took
    answer 0 (left branch or ball, whatever the cue)]; None if the rows record no choice."""
    counts = [0, 0, 0, 0]
    for row in rows:
        took = answer(row)
        if took is None:
            return None
        counts[took[0]] += 1
        counts[3] += took[1] == 0
    return counts


def choices(
    cfg: StudyConfig, store: Store, evaluate: list[Unit]
) -> dict[tuple[str, str], list[int]]:
    """(arm, memory task) -> ``tally`` of its nominal episodes. Only tasks whose episodes
    record a wrong choice (a fork, two balls; a study run before 2026-12-02 recorded the
    drone's not)."""
    memory = {t.name for t in cfg.task_list if t.memory}
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for u in evaluate:
        task = u.args["task"]
        if u.args["shift"] != "nominal" or task not in memory:
            continue
        rows.setdefault((u.args["arm"], task), []).extend(store.result(u)["episodes"])
    counts = {key: tally(r) for key, r in rows.items()}
    return {key: c for key, c in counts.items() if c is not None}


def choice_table(
    chose: dict[tuple[str, str], list[int]], order: list[tuple[str, str]]
) -> list[str]:
    """Markdown rows of what each (arm, task) in ``order`` took (``tally`` counts), with an
    exact two-sided binomial test of cued against other at one half (uncorrected)."""
    lines = [
        "What each arm took in the nominal scenes: the cued branch or ball (a success), the "
        "other one, or neither. A kept cue shows as cued > other; p: exact two-sided binomial "
        "test of cued against other at one half (uncorrected). Took answer 0: of those that "
        "chose, how many took the left branch or ball, whatever the cue (half when the choice "
        "follows the cue)",
        "",
        "| task | arm | cued | other | neither | cued share of those that chose | p | "
        "took answer 0 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm, task in order:
        if (arm, task) not in chose:
            continue
        cued, other, neither, first = chose[(arm, task)]
        share = f"{cued / (cued + other):.2f}" if cued + other else "-"
        lines.append(
            f"| {task} | {arm} | {cued} | {other} | {neither} | {share} | "
            f"{stats.binomial_p(cued, cued + other):.2g} | {first} of {cued + other} |"
        )
    return lines


def _endpoint(data, arm: str, keys: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate cells along scenes; strata label each cell's scenes."""
    parts = [data[(arm, task, shift)] for task, shift in keys]
    strata = np.concatenate([np.full(p.shape[1], i) for i, p in enumerate(parts)])
    return np.concatenate(parts, axis=1), strata


def analyse(cfg: StudyConfig, data: dict, params: dict[str, dict]) -> dict[str, Any]:
    """Cells, endpoints, comparisons and verdicts as one JSON-ready dict."""
    st = cfg.statistics
    rng = np.random.default_rng(st.seed)
    shift_by_name = {s.name: s for s in cfg.shift_list}
    tasks = [t.name for t in cfg.task_list]
    cells = []
    for (arm, task, shift), x in sorted(data.items()):
        mean, low, high = stats.arm_interval(x, st.bootstrap, rng)
        s = shift_by_name.get(shift)
        family = s.family if s else shift  # nominal, or the probe's test variant
        cells.append(
            {
                "arm": arm,
                "task": task,
                "shift": shift,
                "family": family,
                "kind": s.kind if s else family,
                "severity": s.severity if s else "0",
                "level": s.level if s else 0.0,
                "cue_preserving": s.cue_preserving if s else family != "probe",
                "seeds": x.shape[0],
                "scenes": x.shape[1],
                "success": round(mean, 4),
                "ci95": [round(low, 4), round(high, 4)],
                "seed_means": [round(v, 4) for v in x.mean(axis=1)],
                "params_core": params[arm]["core_active"],
                "params_total": params[arm]["total"],
            }
        )
    present = {(task, shift) for _, task, shift in data}
    nominal_keys = [(t, "nominal") for t in tasks]
    primary_keys = [
        (t, s.name) for t in tasks for s in cfg.primary_shifts() if (t, s.name) in present
    ]
    changing = [s for s in cfg.shift_list if not s.cue_preserving]
    changing_keys = [(t, s.name) for t in tasks for s in changing if (t, s.name) in present]
    by_kind = {
        f"all_{kind}": [(t, s.name) for t in tasks for s in cfg.shift_list
                        if s.kind == kind and s.cue_preserving and (t, s.name) in present]
        for kind in dict.fromkeys(s.kind for s in cfg.shift_list)
    }  # fmt: skip
    endpoints = []
    for arm in cfg.arms:
        row = {"arm": arm}
        for label, keys in (
            ("nominal", nominal_keys),
            ("primary", primary_keys),
            ("cue_changing", changing_keys),
            *by_kind.items(),
        ):
            if keys:
                x, strata = _endpoint(data, arm, keys)
                mean, low, high = stats.arm_interval(x, st.bootstrap, rng, strata)
                row[label] = {"success": round(mean, 4), "ci95": [round(low, 4), round(high, 4)]}
        endpoints.append(row)
    comparisons = []
    for claim in cfg.claim_list:
        for other in claim.comparators:
            nom = [_endpoint(data, a, nominal_keys) for a in (claim.reference, other)]
            ood = [_endpoint(data, a, primary_keys) for a in (claim.reference, other)]
            comparisons.append(
                stats.compare(
                    claim.name,
                    claim.reference,
                    other,
                    (nom[0][0], nom[1][0]),
                    (ood[0][0], ood[1][0]),
                    st.alpha,
                    st.bootstrap,
                    rng,
                    nom[0][1],
                    ood[0][1],
                    st.nominal_margin,
                )
            )
    stats.decide(comparisons, st.alpha, st.ood_margin, st.min_nominal)
    verdicts = {
        claim.name: stats.verdict_for([c.outcome for c in comparisons if c.claim == claim.name])
        for claim in cfg.claim_list
    }
    return {
        "config": cfg.source,
        "cells": cells,
        "endpoints": endpoints,
        "comparisons": [c.to_dict() for c in comparisons],
        "verdicts": verdicts,
        "rule": stats.__doc__.split("The rule", 1)[1].strip(),
    }


def _pct(x: float) -> str:
    return f"{x:.2f}"


def _ci(ci: list[float]) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def verdict_text(cfg: StudyConfig, result: dict[str, Any]) -> str:
    """The verdict paragraph, generated from the numbers by the fixed rule."""
    st = cfg.statistics
    ends = {e["arm"]: e for e in result["endpoints"]}
    lines = []
    for claim in cfg.claim_list:
        verdict = result["verdicts"][claim.name]
        ref = ends[claim.reference]
        text = (
            f"**{claim.name}: {verdict.upper()}.** Claim: {claim.reference} succeeds more often "
            f"than {', '.join(claim.comparators)} under cue-preserving context shifts. "
            f"{claim.reference} succeeds in {_pct(ref['nominal']['success'])} "
            f"{_ci(ref['nominal']['ci95'])} of nominal episodes and "
            f"{_pct(ref['primary']['success'])} {_ci(ref['primary']['ci95'])} under the "
            "cue-preserving shifts (95% hierarchical bootstrap intervals)."
        )
        parts = []
        for c in result["comparisons"]:
            if c["claim"] != claim.name:
                continue
            nom = (
                f"nominally equivalent (TOST +-{st.nominal_margin:g}, "
                f"{100 * (1 - 2 * st.alpha):.0f}% CI {_ci(c['nominal_tost_ci'])})"
                if c["nominal_equivalent"]
                else f"NOT nominally equivalent (difference {c['nominal_diff']:+.2f}, "
                f"{100 * (1 - 2 * st.alpha):.0f}% CI {_ci(c['nominal_tost_ci'])})"
            )
            parts.append(
                f"vs {c['comparator']}: {nom}; OOD difference {c['ood_diff']:+.2f} "
                f"{_ci(c['ood_ci95'])}, Holm p = {c['p_holm']:.3g}: {c['outcome']}"
            )
        if any(c["outcome"] == "floor" for c in result["comparisons"] if c["claim"] == claim.name):
            parts.append(
                f"({claim.reference}'s nominal success is below {st.min_nominal:g}: there is no "
                "skill to lose under a shift, so no comparison is read)"
            )
        lines.append(text + " " + "; ".join(parts) + ".")
    rule = (
        f"Rule (fixed before the runs, {cfg.source}): alpha = {st.alpha:g} family-wise (Holm over "
        f"{len(result['comparisons'])} comparisons); nominal equivalence margin "
        f"{st.nominal_margin:g}; smallest OOD advantage that matters {st.ood_margin:g}; "
        f"comparisons are not read when the reference's nominal success is below "
        f"{st.min_nominal:g} (floor). A comparison supports the claim when the reference is nominally equivalent and "
        "significantly better out of distribution, contradicts it when significantly worse, "
        "refutes it when the OOD difference is within the margin; a claim is confirmed when "
        "every comparison supports it, refuted when any refutes or contradicts it, and "
        "inconclusive otherwise (including when nominal skill differs)."
    )
    differs = result.get("run", {}).get("remade_differs")
    if differs:
        rule += (
            " Deviation: the run resumed from a pack, and these remade demonstrations differ "
            f"from those the packed units were trained on (--accept-remade): {'; '.join(differs)}."
        )
    return "\n\n".join([*lines, rule]) + "\n"


def _cells_table(cells: list[dict]) -> str:
    head = (
        "| task | shift | family | severity | cue kept | arm | success [95% CI] | seeds x scenes |"
    )
    out = [head, "|" + "---|" * 8]
    for c in sorted(
        cells, key=lambda c: (c["task"], c["level"] > 0, c["family"], c["level"], c["arm"])
    ):
        out.append(
            f"| {c['task']} | {c['shift']} | {c['family']} | {c['severity']} | "
            f"{'yes' if c['cue_preserving'] else 'no'} | {c['arm']} | "
            f"{_pct(c['success'])} {_ci(c['ci95'])} | {c['seeds']} x {c['scenes']} |"
        )
    return "\n".join(out) + "\n"


def _endpoints_table(result: dict, params: dict[str, dict]) -> str:
    keys = ["nominal", "primary", "cue_changing"]
    keys += sorted({k for e in result["endpoints"] for k in e if k.startswith("all_")})
    head = "| arm | core params (active) | total params | " + " | ".join(keys) + " |"
    out = [head, "|" + "---|" * (3 + len(keys))]
    for e in result["endpoints"]:
        cols = [f"{_pct(e[k]['success'])} {_ci(e[k]['ci95'])}" if k in e else "-" for k in keys]
        p = params[e["arm"]]
        out.append(f"| {e['arm']} | {p['core_active']} | {p['total']} | " + " | ".join(cols) + " |")
    return "\n".join(out) + "\n"


def _comparisons_table(result: dict) -> str:
    head = (
        "| claim | reference | comparator | nominal diff | TOST CI | equivalent | OOD diff "
        "[95% CI] | p | Holm p | outcome |"
    )
    out = [head, "|" + "---|" * 10]
    for c in result["comparisons"]:
        out.append(
            f"| {c['claim']} | {c['reference']} | {c['comparator']} | {c['nominal_diff']:+.2f} | "
            f"{_ci(c['nominal_tost_ci'])} | {'yes' if c['nominal_equivalent'] else 'no'} | "
            f"{c['ood_diff']:+.2f} {_ci(c['ood_ci95'])} | {c['p']:.3g} | {c['p_holm']:.3g} | "
            f"{c['outcome']} |"
        )
    return "\n".join(out) + "\n"


def _write_csv(rows: list[dict], path: Path) -> None:
    flat = [
        {k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()} for r in rows
    ]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(flat[0]))
        writer.writeheader()
        writer.writerows(flat)


MEMORYLESS = "mlp"  # the control a memory task's arms are paired against


def memory_text(
    cfg: StudyConfig,
    data: dict,
    expert: dict[str, float],
    chose: dict[tuple[str, str], list[int]] | None = None,
) -> str | None:
    """The memory tasks and causal-confusion probes, as read beside the verdict (never in it).

    Memory tasks: nominal success per arm (95% hierarchical bootstrap interval) beside the
    expert's in its demonstrations, then each arm's difference from the memoryless
    ``mlp`` paired by seed and scene. Probes: success with the spurious marker where it
    was in training (nominal) and moved to side with the wrong answer (probe), and the
    drop, paired. With ``chose`` (``choices``), what each arm took in the nominal scenes of
    a memory task with two answers: a success over the memoryless arm can be a kept cue or
    only more episodes that reach an answer at all, and the split tells which.
    Exploratory: no correction for the many cells read. None when the study
    has neither kind of task. Its own bootstrap stream (``statistics.seed``), so the
    verdict's numbers do not depend on it.
    """
    st = cfg.statistics
    rng, n_boot = np.random.default_rng(st.seed), st.bootstrap
    memory = [t for t in cfg.task_list if t.memory]
    probes = [t for t in cfg.task_list if t.probe_test is not None]
    if not memory and not probes:
        return None

    def cell(x: np.ndarray) -> str:
        mean, low, high = stats.arm_interval(x, n_boot, rng)
        return f"{mean:.2f} [{low:.2f}, {high:.2f}]"

    lines: list[str] = []
    if memory:
        seeds, scenes = len(cfg.training.seeds), cfg.evaluation.episodes
        head = [
            "| arm | " + " | ".join(t.name for t in memory) + " |",
            "|---|" + "---|" * len(memory),
        ]
        lines += [
            f"Nominal success of the memory tasks, {seeds} seeds x {scenes} scenes per cell, "
            "95% hierarchical bootstrap intervals",
            "",
            *head,
            f"| expert (demonstrations, action noise {cfg.data.noise:g}) | "
            + " | ".join(f"{expert[t.name]:.2f}" for t in memory)
            + " |",
        ]
        for arm in cfg.arms:
            lines.append(
                f"| {arm} | "
                + " | ".join(cell(data[(arm, t.name, "nominal")]) for t in memory)
                + " |"
            )
        if MEMORYLESS in cfg.arms:
            lines += [
                "",
                f"Difference from the memoryless {MEMORYLESS}, paired by seed and scene "
                "(exploratory: no correction for the many cells read)",
                "",
                *head,
            ]
            for arm in cfg.arms:
                if arm == MEMORYLESS:
                    continue
                row = [
                    cell(data[(arm, t.name, "nominal")] - data[(MEMORYLESS, t.name, "nominal")])
                    for t in memory
                ]
                lines.append(f"| {arm} | " + " | ".join(row) + " |")
        if chose:
            order = [(arm, task.name) for task in memory for arm in cfg.arms]
            lines += ["", *choice_table(chose, order)]
    if probes:
        lines += [
            *([""] if lines else []),
            "Causal-confusion probes: success with the spurious marker as in training (nominal) "
            "and moved to side with the wrong answer (probe); drop = nominal - probe, paired",
            "",
            "| task | arm | nominal | probe | drop |",
            "|---|---|---|---|---|",
        ]
        for task in probes:
            for arm in cfg.arms:
                nominal, probe = data[(arm, task.name, "nominal")], data[(arm, task.name, "probe")]
                lines.append(
                    f"| {task.name} | {arm} | {cell(nominal)} | {cell(probe)} | "
                    f"{cell(nominal - probe)} |"
                )
    return "\n".join(lines) + "\n"


SEVERITY_TICKS = ("nominal", "low", "medium", "high")  # shift levels 0..3


def plot_comparisons(cfg: StudyConfig, result: dict, path: Path) -> None:
    """One figure for the verdict: each arm's endpoints, then every comparison's nominal and
    OOD difference (reference minus comparator) against the margins the rule uses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = cfg.statistics
    comps = result["comparisons"]
    ends = result["endpoints"]
    keys = [k for k in ("nominal", "primary", "cue_changing", "all_timing") if k in ends[0]]
    fig, axes = plt.subplots(
        1, 3, figsize=(14, 0.42 * max(len(ends), len(comps)) + 1.8),
        gridspec_kw={"width_ratios": [1.2, 1, 1]},
    )  # fmt: skip
    ax = axes[0]
    colours = plt.get_cmap("tab10")
    for j, key in enumerate(keys):
        ys = np.arange(len(ends)) + (j - (len(keys) - 1) / 2) * 0.18
        mean = np.array([e[key]["success"] for e in ends])
        ci = np.array([e[key]["ci95"] for e in ends])
        ax.errorbar(
            mean, ys, xerr=[mean - ci[:, 0], ci[:, 1] - mean], fmt="o", ms=4, capsize=2,
            color=colours(j), label=key.replace("_", " "),
        )  # fmt: skip
    ax.set_yticks(range(len(ends)), [e["arm"] for e in ends])
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel("success rate (95% hierarchical bootstrap CI)")
    ax.set_title("per arm: nominal, primary (cue kept, medium) and others", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    labels = [f"{c['reference']} - {c['comparator']}" for c in comps]
    ys = np.arange(len(comps))
    panels = (
        ("nominal_diff", "nominal_tost_ci", st.nominal_margin,
         f"nominal difference ({100 * (1 - 2 * st.alpha):.0f}% CI; equivalent inside the band)"),
        ("ood_diff", "ood_ci95", st.ood_margin,
         "OOD (primary) difference, 95% CI; > 0: reference ahead"),
    )  # fmt: skip
    for ax, (diff, ci_key, margin, title) in zip(axes[1:], panels, strict=True):
        mean = np.array([c[diff] for c in comps])
        ci = np.array([c[ci_key] for c in comps])
        ax.axvspan(-margin, margin, color="0.85", zorder=0)
        ax.axvline(0, color="0.4", lw=0.8)
        ax.errorbar(
            mean, ys, xerr=[mean - ci[:, 0], ci[:, 1] - mean], fmt="o", ms=4, capsize=2,
            color="black",
        )  # fmt: skip
        ax.set_yticks(ys, labels if diff == "nominal_diff" else [""] * len(ys), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(-1.03, 1.03)
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
        if diff == "ood_diff":
            for y, c in zip(ys, comps, strict=True):
                ax.annotate(
                    f"{c['outcome']} (Holm p {c['p_holm']:.2g})", (1.0, y), xytext=(0, -9),
                    textcoords="offset points", ha="right", fontsize=7,
                )  # fmt: skip
    verdicts = ", ".join(f"{k}: {v}" for k, v in result["verdicts"].items())
    fig.suptitle(f"Study verdict ({verdicts}); grey band: the margin the rule uses", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_severity(cfg: StudyConfig, cells: list[dict], path: Path) -> None:
    """Success vs severity per arm (95% intervals), one panel per task x shift family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t.name for t in cfg.task_list]
    families = list(dict.fromkeys(s.family for s in cfg.shift_list))
    cue = {s.family: s.cue_preserving for s in cfg.shift_list}
    fig, axes = plt.subplots(
        len(tasks),
        len(families),
        figsize=(2.6 * len(families) + 1.5, 2.4 * len(tasks)),
        squeeze=False,
        sharey=True,
    )
    colours = plt.get_cmap("tab10")
    for r, task in enumerate(tasks):
        for c, family in enumerate(families):
            ax = axes[r][c]
            for k, arm in enumerate(cfg.arms):
                rows = [x for x in cells if x["arm"] == arm and x["task"] == task]
                pts = sorted(
                    (x for x in rows if x["family"] in (family, "nominal")),
                    key=lambda x: x["level"],
                )
                xs = [p["level"] for p in pts]
                ys = np.array([p["success"] for p in pts])
                lo = ys - np.array([p["ci95"][0] for p in pts])
                hi = np.array([p["ci95"][1] for p in pts]) - ys
                offset = (k - len(cfg.arms) / 2) * 0.02
                ax.errorbar(
                    np.array(xs) + offset,
                    ys,
                    yerr=[lo, hi],
                    marker="o",
                    ms=3,
                    lw=1.2,
                    capsize=2,
                    color=colours(k % 10),
                    label=arm,
                    ls="-" if arm == cfg.claim_list[0].reference else "--",
                )
            ax.set_ylim(-0.03, 1.03)
            ax.grid(alpha=0.3)
            title = f"{task}: {family}" + ("" if cue[family] else " (cue changed)")
            ax.set_title(title, fontsize=9)
            ax.set_xticks(range(len(SEVERITY_TICKS)), SEVERITY_TICKS, fontsize=7)
            if r == len(tasks) - 1:
                ax.set_xlabel("severity", fontsize=8)
            if c == 0:
                ax.set_ylabel("success (95% CI)", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(
    cfg: StudyConfig,
    result: dict,
    params: dict[str, dict],
    out: Path,
    data: dict | None = None,
    chose: dict[tuple[str, str], list[int]] | None = None,
) -> list[str]:
    """Write tables, plots and the verdict under ``out``; return the file names. With the
    outcomes ``data`` and memory or probe tasks in the study, also ``memory.md`` (with
    ``chose``, what each arm took; ``choices``)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": json.dumps({**result, "params": params}, indent=1, default=_json_num)
        + "\n",
        "cells.md": _cells_table(result["cells"]),
        "endpoints.md": _endpoints_table(result, params),
        "comparisons.md": _comparisons_table(result),
        "verdict.md": verdict_text(cfg, result),
    }
    memory = memory_text(cfg, data, result["expert_success"], chose) if data is not None else None
    if memory is not None:
        files["memory.md"] = memory
    for name, text in files.items():
        _atomic_text(out / name, text)
    _write_csv(result["cells"], out / "cells.csv")
    _write_csv(result["comparisons"], out / "comparisons.csv")
    plot_severity(cfg, result["cells"], out / "success_vs_severity.png")
    plot_comparisons(cfg, result, out / "comparisons.png")
    return [*files, "cells.csv", "comparisons.csv", "success_vs_severity.png", "comparisons.png"]


def _json_num(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON-able: {value!r}")


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
