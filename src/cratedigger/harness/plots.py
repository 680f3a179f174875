"""PNG plots of a scenario's summary (matplotlib, headless)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

# (y key, y label, file stem) per plot kind; the x axis is the scenario's varied parameter.
PLOTS: dict[str, tuple[str, str, str]] = {
    "speedup": ("speedup", "speedup against sync (x)", "speedup"),
    "throughput": ("throughput_rps", "requests sent per second", "throughput"),
    "memory": ("peak_rss_mb", "peak RSS (MB)", "peak-rss"),
}
X_LABELS = {
    "latency_ms": "median latency (ms)",
    "concurrency": "concurrency",
    "server_rate": "server rate limit (requests/s)",
    "tracks": "tracks",
}


def write_plots(summary: dict[str, Any], folder: Path) -> list[Path]:
    """Wall time per mode and case with interval bars; then the scenario kind's own plot."""
    import matplotlib

    matplotlib.use("Agg")
    written = [_wall_plot(summary, folder)]
    kind, x_key = summary.get("plot"), summary.get("x")
    if kind and x_key and kind in PLOTS:
        written.append(_kind_plot(summary, folder, kind, x_key))
    return written


def _errors(run: dict[str, Any], key: str) -> tuple[float, float]:
    value, bounds = float(run[key]), run.get(f"{key}_ci") or (run[key], run[key])
    return max(0.0, value - float(bounds[0])), max(0.0, float(bounds[1]) - value)


# One colour per mode in every plot (matplotlib's first three), whichever modes a plot has.
MODE_COLOURS = {"sync": "tab:blue", "threads": "tab:orange", "async": "tab:green"}


def _wall_plot(summary: dict[str, Any], folder: Path) -> Path:
    import matplotlib.pyplot as plt

    cases = summary["cases"]
    modes = [
        m
        for m in ("sync", "threads", "async")
        if any(r["mode"] == m for c in cases for r in c["runs"])
    ]
    width = 0.8 / max(1, len(modes))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.2 * len(cases) + 3), 4.5))
    walls = []
    for offset, mode in enumerate(modes):
        xs, ys, low, high = [], [], [], []
        for i, case in enumerate(cases):
            run = next((r for r in case["runs"] if r["mode"] == mode), None)
            if run is None:
                continue
            below, above = _errors(run, "wall_time")
            xs.append(i + (offset - (len(modes) - 1) / 2) * width)
            ys.append(float(run["wall_time"]))
            low.append(below)
            high.append(above)
        walls += ys
        axes.bar(
            xs, ys, width, yerr=[low, high], capsize=3, label=mode, color=MODE_COLOURS.get(mode)
        )
    if walls and max(walls) / max(min(walls), 1e-6) > 20:
        axes.set_yscale("log")
    axes.set_xticks(range(len(cases)), [c["name"] for c in cases], rotation=20, ha="right")
    axes.set_ylabel("wall time (s), median and 95 % interval")
    repeat = summary.get("repeat", 1)
    axes.set_title(f"{summary['scenario']}: wall time per mode ({repeat} runs each)")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend()
    path = folder / "wall-time.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _kind_plot(summary: dict[str, Any], folder: Path, kind: str, x_key: str) -> Path:
    import matplotlib.pyplot as plt

    y_key, y_label, stem = PLOTS[kind]
    series: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    for case in summary["cases"]:
        for run in case["runs"]:
            if run.get(y_key) is not None:
                below, above = _errors(run, y_key)
                series[run["mode"]].append((float(case["x"]), float(run[y_key]), below, above))
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for mode, points in sorted(series.items()):
        points.sort()
        axes.errorbar(
            [p[0] for p in points],
            [p[1] for p in points],
            yerr=[[p[2] for p in points], [p[3] for p in points]],
            marker="o",
            capsize=3,
            label=mode,
            color=MODE_COLOURS.get(mode),
        )
    if kind == "throughput":
        rates = sorted({float(c["x"]) for c in summary["cases"]})
        axes.plot(rates, rates, linestyle="--", color="grey", label="server limit")
    if x_key == "concurrency":
        axes.set_xscale("log", base=2)
    axes.set_xlabel(X_LABELS.get(x_key, x_key))
    axes.set_ylabel(y_label)
    axes.set_title(f"{summary['scenario']}: {y_label} against {X_LABELS.get(x_key, x_key)}")
    axes.grid(True, alpha=0.3)
    axes.legend()
    path = folder / f"{stem}-vs-{x_key}.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
