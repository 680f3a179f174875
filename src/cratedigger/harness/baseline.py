"""The bare-transport baseline of a case: the run's requests replayed by harness/bare.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cratedigger.errors import CratediggerError
from cratedigger.harness.stats import estimate, paired_ratio
from mockserver.process import MockProcess


def replay_last_run(mock: MockProcess, work: Path, concurrency: int) -> dict[str, Any]:
    """Replay the GET requests the mock served since its last reset, with a bare client.

    Call it right after a run, before the next reset: the mock's journal holds that run.
    """
    journal = mock.admin("GET", "requests")
    served = int(mock.admin("GET", "stats")["requests"]["total"])
    if int(journal["count"]) < served:
        raise CratediggerError(
            f"the mock's journal kept {journal['count']} of {served} requests: "
            "raise its journal_size to measure the baseline"
        )
    targets = [e["target"] for e in journal["requests"] if e["method"] == "GET"]
    listing = work / "bare-targets.txt"
    listing.write_text("".join(f"{t}\n" for t in targets), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "cratedigger.harness.bare",
        mock.base_url,
        str(listing),
        "--concurrency",
        str(concurrency),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise CratediggerError(f"the bare baseline failed: {done.stderr.strip()[-500:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    count = int(figures["requests"])
    figures["cpu_per_request_ms"] = 1000.0 * float(figures["cpu_time"]) / count if count else 0.0
    return figures


def summarize(bare: list[dict[str, Any]], matched: list[dict[str, Any]]) -> dict[str, Any]:
    """The baseline's CPU per request, and matching's over it, paired round by round."""
    floor = estimate([float(b["cpu_per_request_ms"]) for b in bare])
    ratio = paired_ratio(
        [float(m["cpu_per_request_ms"]) for m in matched],
        [float(b["cpu_per_request_ms"]) for b in bare],
    )
    return {
        "client": "aiohttp + orjson, no matching (cratedigger.harness.bare)",
        "cpu_per_request_ms": floor.median,
        "cpu_per_request_ms_ci": [floor.low, floor.high],
        "ratio": ratio.median,
        "ratio_ci": [ratio.low, ratio.high],
        "samples": bare,
    }
