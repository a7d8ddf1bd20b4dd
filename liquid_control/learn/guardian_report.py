"""Tables and plots of `liquid-control eval --guardian` (learn/eval_guardian.py results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CRASHES = "crashes (drone: collisions; rover: lane departures)"


def _rate(entry: dict) -> str:
    low, high = entry["success_ci95"]
    return f"{entry['success']}/{entry['n']} [{low:.2f}, {high:.2f}]"


def _num(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(result: dict) -> str:
    """Per model: detection table, closed-loop table and the targets as measured."""
    lines = []
    for model, out in result["models"].items():
        fa = out["nominal_false_alarms"]
        lines += [
            f"### {model} ({result['task']})",
            "",
            f"Guardian: enter {out['enter']:.3f}, leave {out['leave']:.3f}; calibrated for "
            f"{out['calibrated_false_alarm_rate']:.0%} nominal false alarms per episode. "
            f"Held-out nominal episodes with an alarm: {fa['alarms']}/{fa['episodes']} = "
            f"{fa['rate']:.3f} [95% CI {fa['rate_ci95'][0]:.3f}, {fa['rate_ci95'][1]:.3f}].",
            "",
            "Detection (unguarded policy; AUROC of the score, shifted frames after the onset "
            "vs nominal frames, and per-episode maxima; failing vs succeeding episodes of the "
            "shift; time from onset to the first alarm):",
            "",
            "| shift | onset s | n | episodes with alarm | AUROC frames | AUROC episodes | "
            "AUROC fail vs success | alarm before onset | time to alarm median / p90 s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for label, e in out["conditions"].items():
            if label == "nominal":
                continue
            t = e["time_to_alarm_s"]
            lines.append(
                f"| {label} | {e['onset_s']:g} | {e['episodes']} | {e['alarm_episodes']} | "
                f"{_num(e['auroc_frames'])} | {_num(e['auroc_episodes'])} | "
                f"{_num(e['auroc_failing_vs_succeeding'])} | {e['pre_onset_alarms']} | "
                f"{_num(t['median'])} / {_num(t['p90'])} |"
            )
        lines += [
            "",
            f"Failing vs succeeding episodes over every condition: AUROC "
            f"{_num(out['failing_vs_succeeding_auroc_all'])}.",
            "",
            f"Closed loop: success [Wilson 95% CI] and {CRASHES}, unguarded vs the guardian "
            f"acting with ood_action stop and slow (scale {result['slow_scale']}, hold "
            f"{result['hold_s']} s):",
            "",
            "| shift | onset s | unguarded success | crashes | stop success | crashes | "
            "slow success | crashes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label, e in out["conditions"].items():
            cells = []
            for mode in ("unguarded", "stop", "slow"):
                cells += [_rate({**e[mode], "n": e["episodes"]}), str(e[mode]["crashes"])]
            lines.append(f"| {label} | {e['onset_s']:g} | " + " | ".join(cells) + " |")
        tot = out["totals"]
        lines += [
            "",
            f"Over all {tot['shift_episodes']} shifted episodes: {CRASHES} unguarded "
            f"{tot['unguarded']['crashes']}, stop {tot['stop']['crashes']} (ratio "
            f"{_num(tot['stop']['crash_ratio'])}), slow {tot['slow']['crashes']} (ratio "
            f"{_num(tot['slow']['crash_ratio'])}); successes unguarded "
            f"{tot['unguarded']['successes']}, stop {tot['stop']['successes']}, slow "
            f"{tot['slow']['successes']}.",
            "",
        ]
    return "\n".join(lines)


def plot(result: dict, path: str | Path) -> None:
    """Two panels per model: the score around the onset, and crashes/success per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(result["models"].items())
    fig, axes = plt.subplots(len(models), 2, figsize=(13, 4.2 * len(models)), squeeze=False)
    for row, (model, out) in enumerate(models):
        _plot_onset(axes[row][0], model, out)
        _plot_outcomes(axes[row][1], model, out)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_onset(ax, model: str, out: dict) -> None:
    """Median score (over episodes) against time from the shift's onset, per shift."""
    import matplotlib

    grid = np.arange(-2.0, 6.0, 0.05)
    colours = iter(matplotlib.colormaps["tab20"](np.linspace(0, 1, 20)))
    for label, traces in out["score_traces"].items():
        onset = out["conditions"][label]["onset_s"]
        curves = []
        for stamps, scores in traces:
            t = np.asarray(stamps) - onset
            s = np.minimum(np.asarray(scores, float), 1e3)
            curve = np.interp(grid, t, s, left=np.nan, right=np.nan) if t.size > 1 else None
            if curve is not None:
                curves.append(curve)
        if curves:
            stack = np.vstack(curves)
            enough = np.sum(np.isfinite(stack), axis=0) >= max(1, len(curves) // 2)
            median = np.full(grid.shape, np.nan)
            median[enough] = np.nanmedian(stack[:, enough], axis=0)
            ax.plot(grid, median, label=label.split("@")[0], lw=1.2, color=next(colours))
    ax.axhline(out["enter"], color="k", ls="--", lw=1, label="enter threshold")
    ax.axvline(0.0, color="grey", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("time from shift onset (s)")
    ax.set_ylabel("guardian score (median over episodes)")
    ax.set_title(f"{model}: score around a mid-episode onset")
    ax.legend(fontsize=7, ncol=2)


def _plot_outcomes(ax, model: str, out: dict) -> None:
    """Crash and success rates per condition for unguarded, stop and slow."""
    labels = list(out["conditions"])
    x = np.arange(len(labels))
    colours = {"unguarded": "tab:red", "stop": "tab:blue", "slow": "tab:green"}
    for i, mode in enumerate(("unguarded", "stop", "slow")):
        n = [out["conditions"][k]["episodes"] for k in labels]
        crashes = [
            out["conditions"][k][mode]["crashes"] / m for k, m in zip(labels, n, strict=True)
        ]
        wins = [out["conditions"][k][mode]["success_rate"] for k in labels]
        ax.bar(x + (i - 1) * 0.27, crashes, 0.27, color=colours[mode], label=f"{mode} crashes")
        ax.plot(x + (i - 1) * 0.27, wins, "o", color=colours[mode], ms=4, label=f"{mode} successes")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of episodes")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{model}: crash rate (bars) and success rate (dots)")
    ax.legend(fontsize=7, ncol=3)
