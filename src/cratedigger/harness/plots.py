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
    """The plots for this scenario's kind (none if it has no x axis)."""
    kind, x_key = summary.get("plot"), summary.get("x")
    if not kind or not x_key or kind not in PLOTS:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y_key, y_label, stem = PLOTS[kind]
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for case in summary["cases"]:
        for run in case["runs"]:
            if run.get(y_key) is not None:
                series[run["mode"]].append((float(case["x"]), float(run[y_key])))
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for mode, points in sorted(series.items()):
        points.sort()
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=mode)
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
    return [path]
