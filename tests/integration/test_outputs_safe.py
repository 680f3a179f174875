"""No output destroys anything: each bad destination is refused before the first request.

Run as a user runs it (a `cratedigger match` subprocess) against a mock that counts requests,
so "refused before the first request" is checked on the server's side too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from cratedigger.output import read_results
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo
from tests.integration.test_cli_match import cratedigger


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("outputs"), tracks=6, seed=5)


@pytest.fixture
def library(demo: Demo, tmp_path: Path) -> Path:
    """A private copy of the demo library, so a test may try to overwrite it."""
    copy = tmp_path / "collection.xml"
    shutil.copyfile(demo.xml, copy)
    return copy


def requests_served(mock_server: str) -> int:
    stats = requests.get(f"{mock_server}/__admin/stats", timeout=10).json()
    return int(stats["requests"]["total"])


def match(library: Path, demo: Demo, mock_server: str, *extra: str | Path) -> tuple[int, str]:
    done = cratedigger(
        "match",
        library,
        "--playlist",
        demo.playlist,
        "--base-url",
        mock_server,
        "--no-cache",
        "--no-progress",
        *extra,
        cwd=library.parent,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("option", ["--out", "--csv", "--xml-out", "--metrics"])
def test_an_output_naming_the_library_is_refused(
    option: str, library: Path, demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    before, served = library.read_bytes(), requests_served(mock_server)
    extra: list[str | Path] = [option, library]
    if option != "--out":
        extra += ["--out", tmp_path / "r.json"]
    code, err = match(library, demo, mock_server, *extra)
    assert code == 2
    assert err.strip() == f"cratedigger: error: {option}: {library}: is the input file " + (
        f"{library}; choose another name"
    )
    assert library.read_bytes() == before
    assert requests_served(mock_server) == served
    assert not (tmp_path / "r.json").exists()


def test_a_hard_link_to_the_library_is_the_library(
    library: Path, demo: Demo, mock_server: str
) -> None:
    link = library.with_name("also.xml")
    os.link(library, link)
    before = library.read_bytes()
    code, err = match(library, demo, mock_server, "--out", link)
    assert code == 2 and "--out" in err and "is the input file" in err
    assert library.read_bytes() == before


def test_a_fifo_is_not_replaced(library: Path, demo: Demo, mock_server: str) -> None:
    fifo = library.with_name("pipe")
    os.mkfifo(fifo)
    code, err = match(library, demo, mock_server, "--out", fifo)
    assert code == 2 and err.count("\n") == 1
    assert "--out" in err and "not a regular file" in err
    assert fifo.is_fifo()


def test_a_device_is_not_replaced(library: Path, demo: Demo, mock_server: str) -> None:
    code, err = match(library, demo, mock_server, "--out", "/dev/null")
    assert code == 2 and "/dev/null" in err and "not a regular file" in err
    assert Path("/dev/null").is_char_device()


def test_a_directory_is_refused(library: Path, demo: Demo, mock_server: str) -> None:
    code, err = match(library, demo, mock_server, "--csv", library.parent)
    assert code == 2 and "--csv" in err and "is a directory" in err


def test_two_outputs_on_one_file_are_refused(library: Path, demo: Demo, mock_server: str) -> None:
    code, err = match(library, demo, mock_server, "--out", "r.json", "--csv", "r.json")
    assert code == 2 and "--csv: r.json: is also the file of --out" in err


def test_a_missing_folder_is_reported_before_the_run(
    library: Path, demo: Demo, mock_server: str
) -> None:
    served = requests_served(mock_server)
    code, err = match(library, demo, mock_server, "--xml-out", "no/such/dir/tagged.xml")
    assert code == 2 and "--xml-out" in err and "does not exist" in err
    assert requests_served(mock_server) == served


def test_a_library_that_is_not_utf8_is_refused_up_front_for_xml_out(
    library: Path, demo: Demo, mock_server: str
) -> None:
    text = library.read_text(encoding="utf-8")
    latin = library.with_name("latin.xml")
    latin.write_bytes(
        text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1).encode("latin-1", "replace")
    )
    served = requests_served(mock_server)
    code, err = match(latin, demo, mock_server, "--xml-out", "tagged.xml")
    assert code == 2 and "only UTF-8 libraries can be written back" in err
    assert requests_served(mock_server) == served


def test_a_symlinked_output_is_written_at_its_target_and_the_link_stays(
    library: Path, demo: Demo, mock_server: str
) -> None:
    target = library.with_name("target.json")
    link = library.with_name("link.json")
    link.symlink_to(target.name)
    code, err = match(library, demo, mock_server, "--out", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == target.name
    assert len(read_results(target)) == len(demo.entries)


def test_resume_refuses_the_results_file_of_another_playlist(
    library: Path, demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "warmup.json"
    code, err = match(library, demo, mock_server, "--out", out)
    assert code == 0, err
    before = out.read_bytes()
    name = demo.playlist.rsplit("/", 1)[-1]
    other = library.with_name("other.xml")
    other.write_text(
        library.read_text(encoding="utf-8").replace(f'Name="{name}"', 'Name="Peak Time"'),
        encoding="utf-8",
    )
    other_playlist = demo.playlist.rsplit("/", 1)[0] + "/Peak Time"
    done = cratedigger(
        "match", other, "--playlist", other_playlist, "--base-url", mock_server,
        "--no-cache", "--no-progress", "--out", out, "--resume",
    )  # fmt: skip
    assert done.returncode == 2
    assert f"playlist '{demo.playlist}'" in done.stderr and "--force" in done.stderr
    assert done.stderr.count("\n") == 1
    assert out.read_bytes() == before  # nothing dropped
    forced = cratedigger(
        "match", other, "--playlist", other_playlist, "--base-url", mock_server,
        "--no-cache", "--no-progress", "--out", out, "--resume", "--force",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert len(read_results(out)) == len(demo.entries)


def test_metrics_go_to_exactly_the_path_given(
    library: Path, demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "o.json"
    code, err = match(library, demo, mock_server, "--out", out, "--metrics", tmp_path / "o")
    assert code == 0, err
    assert len(read_results(out)) == len(demo.entries)  # not overwritten by the metrics
    assert (tmp_path / "o").read_text(encoding="utf-8").startswith("{")
    code, err = match(library, demo, mock_server, "--out", out, "--metrics", out)
    assert code == 2 and "--metrics" in err and "is also the file of --out" in err
