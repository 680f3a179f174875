"""The `cratedigger` command line, run as a user runs it: a subprocess against the mock."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from cratedigger.models import RESULT_FIELDS
from cratedigger.output import read_results
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo


def cratedigger(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cratedigger", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=full_env,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("cli"), tracks=30, seed=3)


def test_match_writes_json_csv_xml_and_metrics(
    demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    out, table, xml_out, metrics = (tmp_path / n for n in ("r.json", "r.csv", "lib.xml", "m.json"))
    done = cratedigger(
        "match",
        demo.xml,
        "--playlist",
        demo.playlist,
        "--base-url",
        mock_server,
        "--no-cache",
        "--no-progress",
        "--out",
        out,
        "--csv",
        table,
        "--xml-out",
        xml_out,
        "--metrics",
        metrics,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = read_results(out)
    assert [r["rekordbox_id"] for r in rows] == [t.track_id for t in demo.entries]
    assert all(tuple(r) == RESULT_FIELDS for r in rows)
    with table.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    assert tuple(records[0]) == RESULT_FIELDS and len(records) == 31
    matched = {r["rekordbox_id"]: r["beatport_id"] for r in rows if r["status"] == "matched"}
    assert matched
    written = {
        t.get("TrackID"): t for t in ET.parse(xml_out).getroot().iter("TRACK") if t.get("TrackID")
    }
    for track_id, beatport_id in matched.items():
        assert f"beatport:{beatport_id}" in written[track_id].get("Comments", "")
    assert json.loads(metrics.read_text())["version"] == 1


def test_second_run_is_served_from_the_cache(
    demo: Demo, mock_server_factory: object, tmp_path: Path
) -> None:
    server = mock_server_factory()  # type: ignore[operator]
    args = (
        "match",
        demo.xml,
        "--playlist",
        demo.playlist,
        "--base-url",
        server.base_url,
        "--cache-dir",
        tmp_path / "cache",
        "--no-progress",
        "--out",
        tmp_path / "r.json",
    )
    first = cratedigger(*args)
    assert first.returncode == 0, first.stderr
    before = requests.get(f"{server.base_url}/__admin/stats", timeout=5).json()["requests"]
    second = cratedigger(*args)
    assert second.returncode == 0, second.stderr
    after = requests.get(f"{server.base_url}/__admin/stats", timeout=5).json()["requests"]
    # Only the token request goes out again; every catalog request is a cache hit.
    assert after["by_route"].get("search") == before["by_route"].get("search")
    assert after["total"] - before["total"] == 1
    assert " 0 cache hits" not in second.stderr


def test_playlists_lists_the_tree(demo: Demo) -> None:
    done = cratedigger("playlists", demo.xml)
    assert done.returncode == 0
    assert f"30  {demo.playlist}" in done.stdout


def test_playlists_says_when_there_are_none(tmp_path: Path) -> None:
    library = tmp_path / "bare.xml"
    library.write_text(
        '<?xml version="1.0"?><DJ_PLAYLISTS><COLLECTION Entries="0"/><PLAYLISTS>'
        '<NODE Type="0" Name="ROOT" Count="0"/></PLAYLISTS></DJ_PLAYLISTS>',
        encoding="utf-8",
    )
    done = cratedigger("playlists", library)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"cratedigger: {library} has no playlists\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_malformed_xml_names_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.xml", '<?xml version="1.0"?>\n<DJ_PLAYLISTS>\n<COLLECTION>\n<TRACK')
    done = cratedigger("match", bad, "--playlist", "x", "--no-progress")
    assert_one_line_error(done, "bad.xml:4")


def test_unknown_playlist_suggests_the_closest(demo: Demo) -> None:
    done = cratedigger("match", demo.xml, "--playlist", "Sets/Dmeo", "--no-progress")
    assert_one_line_error(done, "Sets/Dmeo", "Sets/Demo")


def test_entry_without_track_names_its_line(tmp_path: Path, mock_server: str) -> None:
    lib = write(
        tmp_path / "lib.xml",
        """<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <COLLECTION Entries="1">
    <TRACK TrackID="1" Name="Strobe" Artist="deadmau5"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="1">
      <NODE Type="1" Name="Set" KeyType="0" Entries="2">
        <TRACK Key="1"/>
        <TRACK Key="99"/>
      </NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
""",
    )
    # A stale entry no longer stops the run (issue 15): one warning line names the file, the
    # entry's line and its key; the entry is an error row, so the exit code is 1.
    out = tmp_path / "r.json"
    done = cratedigger(
        "match", lib, "--playlist", "Set", "--no-progress", "--no-cache",
        "--base-url", mock_server, "--out", out,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (warning,) = [line for line in done.stderr.splitlines() if "warning" in line]
    assert "lib.xml:10" in warning and "'99'" in warning
    rows = read_results(out)
    assert [(r["rekordbox_id"], r["status"]) for r in rows][1] == ("99", "error")


def test_bad_option_value_names_the_option(demo: Demo) -> None:
    done = cratedigger("match", demo.xml, "--playlist", demo.playlist, "--concurrency", "many")
    assert_one_line_error(done, "--concurrency")


def test_missing_library_file(tmp_path: Path) -> None:
    done = cratedigger("match", tmp_path / "nope.xml", "--playlist", "x")
    assert_one_line_error(done, "nope.xml")


def test_config_shows_each_value_and_its_origin(tmp_path: Path) -> None:
    write(tmp_path / "cratedigger.toml", 'concurrency = 8\nsource = "web"\n')
    done = cratedigger(
        "config",
        "--timeout",
        "3",
        cwd=tmp_path,
        env={"CRATEDIGGER_MODE": "threads", "CRATEDIGGER_SOURCE": "api"},
    )
    assert done.returncode == 0, done.stderr
    table = {line.split()[0]: line.split() for line in done.stdout.splitlines()}
    assert table["mode"][1:] == ["threads", "env", "CRATEDIGGER_MODE"]
    assert table["source"][1:] == ["api", "env", "CRATEDIGGER_SOURCE"]  # env over file
    assert table["concurrency"][1:3] == ["8", "file"]
    assert table["timeout"][1:] == ["3", "cli"]
    assert table["retries"][1:] == ["4", "default"]
