"""The real-world noise corpus (mockserver/corpus.py) against the mock over loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.quality import measure, write_corpus_xml
from mockserver.catalog import Catalog
from mockserver.corpus import PATTERNS, generate_corpus

PRECISION, RECALL, PER_PATTERN = 0.99, 0.97, 0.90


@pytest.mark.parametrize("source", ["api", "web"])
def test_noise_corpus_precision_recall_and_every_pattern(
    source: str, mock_server: str, mock_catalog: Catalog, tmp_path: Path
) -> None:
    corpus = generate_corpus(mock_catalog, seed=1)
    assert len(corpus.entries) >= 300 and len(PATTERNS) >= 20
    xml = write_corpus_xml(corpus, tmp_path)
    run = measure(corpus, xml, mock_server, source, tmp_path)
    overall = run.overall
    print(f"{source}: {overall.line()}")
    assert overall.errors == 0
    assert overall.precision >= PRECISION
    assert overall.recall >= RECALL
    weak = {
        name: f"{q.right}/{q.entries} right, precision {q.precision:.0%}"
        for name, q in run.patterns.items()
        if q.accuracy < PER_PATTERN or q.precision < PER_PATTERN
    }
    assert not weak
    assert set(run.patterns) == {p.name for p in PATTERNS}
