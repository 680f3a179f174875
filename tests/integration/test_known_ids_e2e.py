"""Known ids, other writers' libraries and stale entries, through the CLI against the mock."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyrekordbox import RekordboxXml

from cratedigger.output import read_results
from mockserver.catalog import Catalog
from tests.integration.playlists import make_demo
from tests.integration.test_cli_match import cratedigger


def _requests_per_track(metrics: Path) -> Counter[int]:
    sent: Counter[int] = Counter()
    for query in json.loads(metrics.read_text())["query_metrics"]:
        if query["track_index"] is not None:
            sent[query["track_index"]] += query["attempts"]
    return sent


@pytest.mark.parametrize(
    ("source", "mode"), [("api", "sync"), ("api", "async"), ("web", "threads"), ("web", "async")]
)
def test_a_rerun_over_a_tagged_playlist_costs_one_request_per_matched_track(
    source: str, mode: str, mock_server: str, mock_catalog: Catalog, tmp_path: Path
) -> None:
    # The first run (sync) tags the library; the rerun, in `mode`, must find the same.
    demo = make_demo(mock_catalog, tmp_path, tracks=40, seed=11)
    common = ("--playlist", demo.playlist, "--base-url", mock_server, "--source", source)
    common += ("--no-cache", "--no-progress")
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    tagged, metrics = tmp_path / "tagged.xml", tmp_path / "metrics.json"
    done = cratedigger("match", demo.xml, *common, "--out", first, "--xml-out", tagged)
    assert done.returncode == 0, done.stderr
    done = cratedigger(
        "match", tagged, *common, "--mode", mode, "--out", again, "--metrics", metrics
    )
    assert done.returncode == 0, done.stderr

    # identical results (the files differ only in the library they name)
    assert read_results(again) == read_results(first)
    rows = read_results(first)
    matched = [i for i, row in enumerate(rows) if row["status"] == "matched"]
    assert len(matched) >= 30
    sent = _requests_per_track(metrics)
    assert [sent[i] for i in matched] == [1] * len(matched)


def test_a_pyrekordbox_library_is_matched_by_its_location_playlist(
    mock_server: str, mock_catalog: Catalog, tmp_path: Path
) -> None:
    tracks = [t for t in mock_catalog.tracks[100:2000:17] if t.mix_name == "Original Mix"][:6]
    xml = RekordboxXml(name="rekordbox", version="6.8.5", company="AlphaTheta")
    folder = xml.add_playlist_folder("Sets").add_playlist_folder("2024")
    by_location = folder.add_playlist("Warmup", keytype="Location")
    for number, track in enumerate(tracks, 1):
        path = (
            rf"C:\Music\{number:02d} {track.name}.mp3" if number % 2 else f"/Music/{track.id}.mp3"
        )
        xml.add_track(
            path,
            TrackID=number,
            Name=f"{track.name} (Original Mix)",
            Artist=", ".join(track.artist_names),
        )
        by_location.add_track(path)
    library = tmp_path / "pyrekordbox.xml"
    xml.save(str(library))
    listed = cratedigger("playlists", library)
    assert listed.stdout.split() == ["6", "Sets/2024/Warmup"]
    out = tmp_path / "r.json"
    done = cratedigger(
        "match", library, "--playlist", "Warmup", "--base-url", mock_server, "--no-cache",
        "--no-progress", "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = read_results(out)
    assert [(r["status"], r["beatport_id"]) for r in rows] == [("matched", t.id) for t in tracks]


def test_a_stale_entry_is_an_error_row_and_the_others_are_matched(
    mock_server: str, mock_catalog: Catalog, tmp_path: Path
) -> None:
    demo = make_demo(mock_catalog, tmp_path, tracks=8, seed=5)
    text = demo.xml.read_text(encoding="utf-8")
    first_key = text.split('<TRACK Key="', 1)[1].split('"', 1)[0]
    library = tmp_path / "stale.xml"
    library.write_text(text.replace(f'<TRACK Key="{first_key}"/>', '<TRACK Key="4242"/>', 1))
    out = tmp_path / "r.json"
    done = cratedigger(
        "match", library, "--playlist", demo.playlist, "--base-url", mock_server,
        "--no-cache", "--no-progress", "--out", out,
    )  # fmt: skip
    assert done.returncode == 1
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "entry 1 of playlist 'Sets/Demo' points to no track in the collection" in warnings[0]
    assert "TrackID '4242'" in warnings[0]
    rows = read_results(out)
    assert len(rows) == 8
    assert (rows[0]["rekordbox_id"], rows[0]["status"]) == ("4242", "error")
    assert rows[0]["reason"] == "not in the collection"
    assert all(row["status"] in ("matched", "unmatched") for row in rows[1:])
    assert sum(row["status"] == "matched" for row in rows[1:]) >= 5
