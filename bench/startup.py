"""How long the light commands take to start: `cratedigger --help`, `config`, `playlists`.

    python -m bench.startup [--runs 10] [--out results/startup]

Each command runs `--runs` times as a fresh process (the same interpreter as this script,
`python -m cratedigger ...`), the runs of all commands interleaved round by round so a busy
moment of the machine is shared out; the figure is the median wall time of each. Python's own
start (`python -c pass`) is measured alongside, as the floor. `playlists` reads a small
Rekordbox library written for the purpose. The target is at most 0.25 s each.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

TARGET = 0.25  # seconds, median wall time per command

LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="1">
    <TRACK TrackID="1" Name="Strobe (Original Mix)" Artist="ANOTR" AverageBpm="124.00"
           Location="file://localhost/Music/strobe.mp3"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="1">
      <NODE Name="Warmup" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""


def commands(library: Path) -> dict[str, list[str]]:
    python = [sys.executable]
    return {
        "python -c pass": [*python, "-c", "pass"],
        "cratedigger --help": [*python, "-m", "cratedigger", "--help"],
        "cratedigger config": [*python, "-m", "cratedigger", "config"],
        "cratedigger playlists": [*python, "-m", "cratedigger", "playlists", str(library)],
        "cratedigger match --help": [*python, "-m", "cratedigger", "match", "--help"],
    }


def measure(runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as work:
        library = Path(work) / "collection.xml"
        library.write_text(LIBRARY, encoding="utf-8")
        table = commands(library)
        samples: dict[str, list[float]] = {name: [] for name in table}
        for _ in range(runs + 1):  # the first round warms the OS's file cache: dropped
            for name, argv in table.items():
                started = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, cwd=work, check=False)
                elapsed = time.perf_counter() - started
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr.decode()[-500:]}")
                samples[name].append(elapsed)
        return {name: times[1:] for name, times in samples.items()}


def report(samples: dict[str, list[float]], command: str) -> dict[str, object]:
    rows = {
        name: {
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "max_s": round(max(times), 4),
            "runs": len(times),
            "within_target": name == "python -c pass" or statistics.median(times) <= TARGET,
        }
        for name, times in samples.items()
    }
    return {
        "command": command,
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "target_s": TARGET,
        "commands": rows,
        "passed": all(row["within_target"] for row in rows.values()),
    }


def write(summary: dict[str, object], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    rows = summary["commands"]
    assert isinstance(rows, dict)
    lines = [
        "# Start-up time of the light commands",
        "",
        f"Measured {summary['generated']} on {summary['platform']}, Python {summary['python']}",
        f"(a shared 2-core machine), with `{summary['command']}`: each command as a fresh",
        "process, the commands interleaved round by round, median wall time of the runs.",
        f"Target: at most {TARGET} s each.",
        "",
        "| command | median s | min s | max s | runs | within target |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        ok = "-" if name == "python -c pass" else ("yes" if row["within_target"] else "NO")
        lines.append(
            f"| `{name}` | {row['median_s']:.3f} | {row['min_s']:.3f} | {row['max_s']:.3f} "
            f"| {row['runs']} | {ok} |"
        )
    lines += [
        "",
        "The CLI imports what a command needs when it runs (`cratedigger.cli`): `--help`,",
        "`config` and `playlists` load neither requests, aiohttp, the matcher nor the harness.",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default: 10)")
    parser.add_argument("--out", type=Path, default=Path("results/startup"))
    args = parser.parse_args(argv)
    command = "python -m bench.startup " + " ".join(sys.argv[1:] if argv is None else argv)
    summary = report(measure(args.runs), command.strip())
    write(summary, args.out)
    rows = summary["commands"]
    assert isinstance(rows, dict)
    for name, row in rows.items():
        print(f"{name:26s} median {row['median_s']:.3f} s  (min {row['min_s']:.3f})")
    print(f"wrote {args.out}/README.md and summary.json")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
