"""Client CPU per request of two commits, side by side in one session, results compared.

Each change to the client's hot path is measured against the commit before it: a git
worktree of the base commit is imported ahead of the installed package (PYTHONPATH), both
run `cratedigger match` on the same demo playlist against one mock (zero latency, no cache),
rounds interleaved with the order swapped every round, and the result files of the last
round are compared byte for byte.

    python -m bench.cpu_ab BASE [--rounds 5] [--tracks 500] [--runs async:api,sync:api]

prints, for each mode and source, the median CPU ms per request of BASE and of the working
tree, the median and range of the per-round ratios, and whether the results are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from mockserver.catalog import build_catalog
from mockserver.playlist import generate_playlist, write_rekordbox_xml
from mockserver.process import MockProcess

ROOT = Path(__file__).resolve().parent.parent
MODES, SOURCES = ("sync", "threads", "async"), ("api", "web")


def _match(root: Path | None, xml: Path, url: str, mode: str, source: str, out: Path) -> float:
    """One run; its client CPU milliseconds per request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRATEDIGGER_", "BEATPORT_"))}
    if root is not None:
        env["PYTHONPATH"] = f"{root / 'src'}{os.pathsep}{root}"
    metrics = out.with_suffix(".metrics.json")
    command = [
        sys.executable, "-m", "cratedigger", "match", str(xml), "--playlist", "Sets/Demo",
        "--base-url", url, "--source", source, "--mode", mode, "--no-cache", "--no-progress",
        "--out", str(out), "--metrics", str(metrics),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed: {done.stderr[-1000:]}")
    session = json.loads(metrics.read_text(encoding="utf-8"))["session_info"]
    return 1000.0 * float(session["cpu_time"]) / int(session["requests_sent"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_ab", description=__doc__)
    parser.add_argument("base", help="the commit to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tracks", type=int, default=500)
    parser.add_argument("--runs", default="async:api,sync:api", help="MODE:SOURCE,...")
    args = parser.parse_args(argv)
    runs = [tuple(item.split(":")) for item in args.runs.split(",")]
    for run in runs:
        if len(run) != 2 or run[0] not in MODES or run[1] not in SOURCES:
            parser.error(f"--runs: {':'.join(run)!r} is not MODE:SOURCE (e.g. async:api)")
    if args.rounds < 1 or args.tracks < 1:
        parser.error("--rounds and --tracks must be at least 1")
    # A SIGTERM unwinds like Ctrl-C: the worktree, the folder and the mock are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with (
        tempfile.TemporaryDirectory(prefix="cpu-ab-") as tmp,
        MockProcess.mock(seed=1, catalog_size=20000) as mock,
    ):
        work = Path(tmp)
        base = work / "base"
        added = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
            capture_output=True,
            text=True,
            check=False,
        )
        if added.returncode != 0:
            raise SystemExit(f"cannot check out {args.base!r}: {added.stderr.strip()}")
        try:
            xml = work / "demo.xml"
            write_rekordbox_xml(generate_playlist(build_catalog(1, 20000), args.tracks, 2026), xml)
            cpu: dict[tuple[str, str], list[float]] = {}
            for round_ in range(args.rounds):
                for mode, source in runs:
                    sides = [("base", base), ("tree", None)]
                    for label, root in sides if round_ % 2 == 0 else sides[::-1]:
                        out = work / f"{label}-{mode}-{source}.json"
                        figure = _match(root, xml, mock.base_url, mode, source, out)
                        cpu.setdefault((label, f"{mode}:{source}"), []).append(figure)
            for mode, source in runs:
                key = f"{mode}:{source}"
                old, new = cpu[("base", key)], cpu[("tree", key)]
                ratios = sorted(n / o for o, n in zip(old, new, strict=True))
                same = (work / f"base-{mode}-{source}.json").read_bytes() == (
                    work / f"tree-{mode}-{source}.json"
                ).read_bytes()
                print(
                    f"{key}: {args.base} {statistics.median(old):.3f}, tree "
                    f"{statistics.median(new):.3f} ms CPU/request; tree/base median "
                    f"{statistics.median(ratios):.3f} (range {ratios[0]:.3f}-{ratios[-1]:.3f}, "
                    f"rounds: {args.rounds}); results {'identical' if same else 'DIFFERENT'}"
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
                capture_output=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
