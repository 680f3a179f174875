"""The matcher's quality target: a 500-track generated playlist against a 20,000-track catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from cratedigger.models import MatchResult
from cratedigger.options import MatchOptions
from cratedigger.output import read_results
from cratedigger.quality import evaluate
from cratedigger.run import run_playlist
from mockserver.catalog import Catalog
from tests.integration.playlists import make_demo


@pytest.mark.parametrize("source", ["api", "web"])
def test_precision_and_recall_on_500_tracks(
    source: str, mock_server: str, mock_catalog: Catalog, tmp_path: Path
) -> None:
    assert mock_catalog.size == 20_000
    demo = make_demo(mock_catalog, tmp_path, tracks=500, seed=7)
    out = tmp_path / "results.json"
    options = MatchOptions(source=source, base_url=mock_server, concurrency=16)
    summary = run_playlist(demo.entries, options, "async", out=out, progress=False)
    assert summary.done == 500 and summary.errors == 0

    results = [MatchResult.from_dict(row) for row in read_results(out)]
    quality = evaluate(results, demo.truth)
    print(f"{source}: {quality.line()}")
    assert quality.on_beatport == 450
    assert quality.precision >= 0.98
    assert quality.recall >= 0.95
