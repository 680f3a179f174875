"""`python -m mockserver`: serving in a subprocess, help, bad values, the playlist command."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mockserver.cli import main

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 30
SMALL = ["--catalog-size", "300"]
DEMO_NOTE = "sign in as 'demo' with password 'demo' (the demo account; --accounts FILE for others)"


def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m mockserver ARGS` and return it with the URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(TIMEOUT):
            process.kill()
            pytest.fail(f"no output within {TIMEOUT} s")
    line = process.stdout.readline()
    prefix = "mockserver listening on "
    if not line.startswith(prefix):
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"unexpected first line {line!r}; stderr: {err}")
    return process, line[len(prefix) :].strip()


def stop_server(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[str, str]:
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, err
    return out, err


@pytest.mark.parametrize(
    ("args", "signum"),
    [
        (["serve", "--port", "0", *SMALL], signal.SIGINT),
        (["--port", "0", *SMALL], signal.SIGTERM),  # no subcommand means serve
    ],
    ids=["serve-SIGINT", "no-subcommand-SIGTERM"],
)
def test_serve_prints_its_url_answers_and_stops_cleanly(
    args: list[str], signum: signal.Signals
) -> None:
    process, url = start_server(*args)
    try:
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        response = requests.get(f"{url}/search", params={"q": "mix"}, timeout=TIMEOUT)
        assert response.status_code == 200
    finally:
        out, err = stop_server(process, signum)
    # After the URL, one line says who can sign in (the demo account, by default); the
    # readline that took the URL may have buffered it already.
    assert out in ("", f"{DEMO_NOTE}\n")
    assert err == ""


def test_serve_reads_a_config_file_and_the_cli_wins(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('port = 1\ncatalog_size = 300\nrate_limit = "50/s"\n', encoding="utf-8")
    process, url = start_server("serve", "--config", str(config), "--port", "0")
    try:
        assert requests.get(f"{url}/search?q=a", timeout=TIMEOUT).status_code == 200
    finally:
        stop_server(process, signal.SIGINT)


def test_help_shows_an_example_for_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    options_text, examples = capsys.readouterr().out.split("examples:", 1)
    options = set(re.findall(r"(--[a-z][a-z-]+)", options_text)) - {"--help"}
    assert len(options) >= 10, options
    for option in sorted(options):
        assert re.search(rf"python -m mockserver( serve)? .*{option}\b", examples), option


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "serve" in text and "playlist" in text and "examples:" in text


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--catalog-size", "0"], "--catalog-size"),
        (["serve", "--seed", "x"], "--seed"),
        (["serve", "--latency", "gaussian:5ms"], "--latency"),
        (["serve", "--rate-limit", "5/fortnight"], "--rate-limit"),
        (["serve", "--faults", "404=0.5"], "--faults"),
        (["serve", "--replay", "/no/such/file.har"], "--replay"),
        (["serve", "--config", "/no/such/mock.toml"], "--config"),
        (["playlist", "--tracks", "0", "--seed", "1", "--out", "a", "--truth", "b"], "--tracks"),
    ],
)
def test_bad_values_exit_2_naming_the_option(
    args: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert option in last, err
    assert "Traceback" not in err


def test_a_bad_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = [oops\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--config", str(config)])
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--config" in last and "bad.toml" in last


def test_a_bad_har_file_exits_2_naming_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "broken.har"
    har.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "0", "--catalog-size", "50", "--replay", str(har)])
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--replay" in last and "broken.har" in last


def test_a_bad_value_in_a_subprocess_is_one_line_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--latency", "fixed:-5ms"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "--latency" in result.stderr.strip().splitlines()[-1]


def test_playlist_writes_the_playlist_and_its_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, truth = tmp_path / "demo.xml", tmp_path / "demo.json"
    args = ["playlist", "--tracks", "5", "--seed", "3", "--catalog-size", "300"]
    assert main([*args, "--out", str(out), "--truth", str(truth)]) == 0
    # It names the serve command whose catalog holds its tracks (same seed and size).
    assert "python -m mockserver serve --seed 3 --catalog-size 300" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "<DJ_PLAYLISTS" in out.read_text(encoding="utf-8")
    assert json.loads(truth.read_text(encoding="utf-8"))
