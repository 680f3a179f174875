"""The light commands stay light: building the CLI and running `config` or `playlists`
loads no HTTP library, no matcher and no benchmark harness (bench/startup.py times them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "aiohttp",
    "requests",
    "rapidfuzz",
    "matplotlib",
    "psutil",
    "cratedigger.run",
    "cratedigger.scoring",
    "cratedigger.harness.bench",
    "cratedigger.report",
)

PROBE = """
import json, sys
from cratedigger.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""

LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1">
<TRACK TrackID="1" Name="Strobe" Artist="ANOTR" Location="file://localhost/m/s.mp3"/>
</COLLECTION><PLAYLISTS><NODE Type="0" Name="ROOT" Count="1">
<NODE Name="Warmup" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
</NODE></PLAYLISTS></DJ_PLAYLISTS>
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["config"], ["playlists", "LIB"], ["match", "--help"]], ids=" ".join
)
def test_light_commands_load_nothing_heavy(argv: list[str], tmp_path: Path) -> None:
    library = tmp_path / "lib.xml"
    library.write_text(LIBRARY, encoding="utf-8")
    args = [str(library) if a == "LIB" else a for a in argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert loaded == [], f"cratedigger {' '.join(argv)} loads {loaded}"
