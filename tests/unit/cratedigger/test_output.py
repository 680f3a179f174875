"""Result files: exact JSON/CSV format, atomic replacement, the ResultSink, and resuming."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cratedigger.errors import InputError
from cratedigger.models import RESULT_FIELDS, MatchResult
from cratedigger.output import (
    FORMAT,
    ResultSink,
    RunIdentity,
    journal_path,
    load_resume,
    read_results,
    render_json,
    write_csv_atomic,
    write_json_atomic,
)


def result(track_id: str, status: str = "matched", **fields: object) -> MatchResult:
    row: dict[str, object] = {"rekordbox_id": track_id, "artist": "Ärtist", "title": "T"}
    row["status"] = status
    if status == "matched":
        row.update(beatport_id=sum(map(ord, track_id)), score=0.875, bpm=128, key="A Minor")
        row.update(camelot="8A", url=f"https://www.beatport.com/track/t/{track_id}")
    row.update(fields)
    return MatchResult.from_dict(row)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def read_json(path: Path) -> list[dict[str, object]]:
    return read_results(path)


# --- format ---------------------------------------------------------------------------------


IDENTITY = RunIdentity("/music/lib.xml", "Sets/Ünder", "sha256:ab")
HEAD = {"format": FORMAT, "library": "/music/lib.xml", "playlist": "Sets/Ünder"}


def test_json_is_exactly_indent_2_utf8_with_trailing_newline(tmp_path: Path) -> None:
    rows = [result("1").to_dict(), result("2", "unmatched", reason='no "hit"\n').to_dict()]
    write_json_atomic(tmp_path / "out.json", rows, IDENTITY)
    document = {**HEAD, "entries": "sha256:ab", "results": rows}
    expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert (tmp_path / "out.json").read_bytes() == expected.encode("utf-8")
    assert list(read_json(tmp_path / "out.json")[0]) == list(RESULT_FIELDS)
    assert "Ärtist" in (tmp_path / "out.json").read_text(encoding="utf-8")


def test_empty_json_has_an_empty_results_list() -> None:
    document = {**HEAD, "entries": "sha256:ab", "results": []}
    assert render_json([], IDENTITY) == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_csv_has_result_fields_and_empty_cells_for_none(tmp_path: Path) -> None:
    rows = [result("1").to_dict(), result("2", "error", reason="timeout, twice").to_dict()]
    write_csv_atomic(tmp_path / "out.csv", rows)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == list(RESULT_FIELDS)
    assert parsed[1][RESULT_FIELDS.index("score")] == "0.875"
    assert parsed[2][RESULT_FIELDS.index("beatport_id")] == ""
    assert parsed[2][RESULT_FIELDS.index("reason")] == "timeout, twice"


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_crash_during_replace_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "out.json"
    target.write_text("old contents")

    def crash(_src: object, _dst: object) -> None:
        raise failure

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises((InputError, KeyboardInterrupt)):
        write_json_atomic(target, [result("1").to_dict()])
    assert target.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind


def test_write_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing/out\.json: cannot write"):
        write_json_atomic(tmp_path / "missing" / "out.json", [])


# --- ResultSink -----------------------------------------------------------------------------


def test_sink_writes_in_playlist_order_from_many_threads(tmp_path: Path) -> None:
    out, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    total = 400
    results = {i: result(str(i % 150), "matched" if i % 7 else "unmatched") for i in range(total)}
    order = list(results)
    random.Random(7).shuffle(order)
    ticks = itertools.count()  # every clock reading is one tick: checkpoints every 50 adds
    sink = ResultSink(
        out, csv=out_csv, total=total, checkpoint_every=50, clock=lambda: float(next(ticks))
    )
    chunks = [order[k::8] for k in range(8)]

    def work(chunk: list[int]) -> None:
        for index in chunk:
            sink.add(index, results[index])

    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close(complete=True)

    rows = [results[i].to_dict() for i in range(total)]
    assert out.read_text(encoding="utf-8") == render_json(rows)
    with out_csv.open(encoding="utf-8", newline="") as stream:
        assert [r["rekordbox_id"] for r in csv.DictReader(stream)] == [
            str(i % 150) for i in range(total)
        ]
    assert not journal_path(out).exists()


def test_sink_checkpoints_by_the_clock_and_holds_only_finished_entries(tmp_path: Path) -> None:
    out, clock = tmp_path / "out.json", FakeClock()
    sink = ResultSink(out, csv=None, total=5, checkpoint_every=2.0, clock=clock)
    sink.add(3, result("d"))
    clock.now += 1.9
    sink.add(1, result("b"))
    assert not out.exists()  # not yet time to checkpoint
    journal = journal_path(out).read_text(encoding="utf-8").splitlines()
    assert json.loads(journal[0]) == {"run": RunIdentity().header()}  # which run it is
    assert [json.loads(line)["index"] for line in journal[1:]] == [3, 1]  # journaled at once

    clock.now += 0.1
    sink.add(0, result("a"))
    assert [row["rekordbox_id"] for row in read_json(out)] == ["a", "b", "d"]
    sink.add(4, result("e"))
    assert len(read_json(out)) == 3  # the next checkpoint waits another 2 s

    sink.close(complete=False)
    assert [row["rekordbox_id"] for row in read_json(out)] == ["a", "b", "d", "e"]
    assert journal_path(out).exists()  # an interrupted run keeps its journal for --resume
    with pytest.raises(RuntimeError):
        sink.add(2, result("c"))


def test_sink_rejects_indexes_outside_the_playlist(tmp_path: Path) -> None:
    sink = ResultSink(tmp_path / "out.json", csv=None, total=2)
    with pytest.raises(ValueError, match="outside the playlist"):
        sink.add(2, result("x"))
    sink.close(complete=True)


def test_identical_results_give_identical_bytes_in_any_arrival_order(tmp_path: Path) -> None:
    outputs = []
    for seed in (1, 2):
        out = tmp_path / f"out{seed}.json"
        sink = ResultSink(out, csv=None, total=20)
        order = list(range(20))
        random.Random(seed).shuffle(order)
        for i in order:
            sink.add(i, result(str(i), score=i / 3))
        sink.close(complete=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


# --- resume ---------------------------------------------------------------------------------


def test_resume_maps_duplicate_ids_by_occurrence(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    first, second = result("a", beatport_id=1), result("a", "unmatched")
    write_json_atomic(out, [first.to_dict(), result("b", "error").to_dict(), second.to_dict()])
    resumed = load_resume(out, ["a", "b", "c", "a"])
    assert resumed == {0: first, 3: second}  # the error entry "b" is retried


def test_resume_journal_wins_and_skips_lines_that_no_longer_fit(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    write_json_atomic(out, [result("a", "error").to_dict()])
    lines = [
        {"index": 0, **result("a").to_dict()},  # wins over the error row of the JSON
        {"index": 2, **result("zz").to_dict()},  # the playlist has "c" there now
        {"index": 9, **result("c").to_dict()},  # past the end of the playlist
        {"index": 1, **result("b", "error").to_dict()},
    ]
    journal_path(out).write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert load_resume(out, ["a", "b", "c"]) == {0: result("a")}


def test_resume_ignores_a_torn_last_journal_line(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    good = json.dumps({"index": 1, **result("b").to_dict()})
    torn = json.dumps({"index": 0, **result("a").to_dict()})[:40]
    journal_path(out).write_text(good + "\n" + torn)
    assert load_resume(out, ["a", "b"]) == {1: result("b")}


def test_a_corrupt_journal_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    good = json.dumps({"index": 1, **result("b").to_dict()})
    journal_path(out).write_text(f"{good}\n{{broken\n{good}\n")
    with pytest.raises(InputError, match="corrupt journal line") as caught:
        load_resume(out, ["a", "b"])
    assert caught.value.line == 2


def test_invalid_result_json_names_file_line_and_column(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text('[\n  {"rekordbox_id": "a",\n   "status" "matched"}\n]\n')
    with pytest.raises(InputError, match=r"out.json:3: invalid JSON at column 13") as caught:
        load_resume(out, ["a"])
    assert caught.value.line == 3


def test_result_json_of_the_wrong_shape_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text('[{"rekordbox_id": "a", "status": "great"}]')
    with pytest.raises(InputError, match="entry 1 is not a match result"):
        load_resume(out, ["a"])
    out.write_text('{"rekordbox_id": "a"}')
    with pytest.raises(InputError, match="not a cratedigger result file"):
        load_resume(out, ["a"])


def test_nothing_to_resume(tmp_path: Path) -> None:
    assert load_resume(tmp_path / "out.json", ["a"]) == {}


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from cratedigger.models import MatchResult
from cratedigger.output import ResultSink, journal_path

out = Path(sys.argv[1])
sink = ResultSink(out, csv=None, total=4, checkpoint_every=1e9)
sink.add(2, MatchResult("a", "Artist", "T", "matched", beatport_id=97))
sink.add(1, MatchResult("b", "Artist", "T", "error", reason="HTTP 503"))
with journal_path(out).open("a") as stream:  # the line being written when the kill lands
    stream.write('{"index": 3, "rekordbox_id": "c", "sta')
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_resumes_into_a_complete_file(tmp_path: Path) -> None:
    out, ids = tmp_path / "out.json", ["a", "b", "a", "c"]
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(out)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()  # no checkpoint was due: only the journal survived
    done = MatchResult("a", "Artist", "T", "matched", beatport_id=97)
    resumed = load_resume(out, ids)
    assert resumed == {2: done}

    sink = ResultSink(out, csv=None, total=4, resume=True)
    for index, previous in resumed.items():
        sink.add(index, previous)
    for index in sorted(set(range(4)) - set(resumed)):
        sink.add(index, result(ids[index]))
    sink.close(complete=True)
    expected = [result("a"), result("b"), done, result("c")]
    assert out.read_text(encoding="utf-8") == render_json([r.to_dict() for r in expected])
    assert not journal_path(out).exists()


def test_resumed_sink_appends_after_trimming_a_torn_line(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    good = json.dumps({"index": 0, **result("a").to_dict()})
    journal_path(out).write_text(good + "\n" + good[:30])
    sink = ResultSink(out, csv=None, total=2, resume=True)
    sink.add(1, result("b"))
    lines = journal_path(out).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["index"] for line in lines] == [0, 1]
    assert load_resume(out, ["a", "b"]) == {0: result("a"), 1: result("b")}
    sink.close(complete=False)


def test_a_fresh_sink_starts_a_new_journal(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    journal_path(out).write_text(json.dumps({"index": 0, **result("a").to_dict()}) + "\n")
    sink = ResultSink(out, csv=None, total=1)
    assert journal_path(out).read_text() == '{"run":{"library":"","playlist":"","entries":""}}\n'
    sink.close(complete=True)
    assert read_json(out) == []


def test_sink_memory_grows_with_the_results_only(tmp_path: Path) -> None:
    out, total = tmp_path / "out.json", 1000
    results = [result(str(i)) for i in range(total)]
    sink = ResultSink(out, csv=tmp_path / "out.csv", total=total, checkpoint_every=1e9)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index, done in enumerate(results):
            sink.add(index, done)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    sink.close(complete=True)
    rendered = out.stat().st_size + (tmp_path / "out.csv").stat().st_size
    assert held < 2 * rendered  # the rendered rows plus dict overhead, nothing per-add beyond


# --- resume only what belongs together --------------------------------------------------------

MINE = RunIdentity.of(None, "Sets/Warmup", ["a", "b"])


def test_resume_refuses_the_results_of_another_playlist(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    other = RunIdentity.of(None, "Sets/Peak", ["a", "b"])
    write_json_atomic(out, [result("a").to_dict()], other)
    with pytest.raises(InputError, match=r"playlist 'Sets/Peak', not of 'Sets/Warmup'"):
        load_resume(out, ["a", "b"], MINE)
    assert load_resume(out, ["a", "b"], MINE, force=True) == {0: result("a")}


def test_resume_refuses_a_playlist_whose_entries_changed(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    write_json_atomic(out, [], RunIdentity.of(None, "Sets/Warmup", ["a", "b", "c"]))
    with pytest.raises(InputError, match="from before its entries changed"):
        load_resume(out, ["a", "b"], MINE)


def test_resume_refuses_another_runs_journal_and_a_file_that_says_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    sink = ResultSink(out, csv=None, total=2, identity=RunIdentity.of(None, "Other", ["a"]))
    sink.add(0, result("a"))
    with pytest.raises(InputError, match=r"out\.json\.partial\.jsonl: --resume"):
        load_resume(out, ["a", "b"], MINE)
    sink.close(complete=False)
    out.unlink()
    journal_path(out).unlink()
    out.write_text(json.dumps([result("a").to_dict()]))  # a results list from before
    with pytest.raises(InputError, match="do not say which playlist"):
        load_resume(out, ["a", "b"], MINE)
    assert load_resume(out, ["a", "b"], MINE, force=True) == {0: result("a")}


def test_a_forced_resume_starts_the_journal_over_under_this_run(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    first = ResultSink(out, csv=None, total=1, identity=RunIdentity.of(None, "Other", ["a"]))
    first.add(0, result("a"))
    first.close(complete=False)
    again = ResultSink(out, csv=None, total=2, resume=True, identity=MINE)
    again.add(0, result("a"))
    again.close(complete=False)
    assert load_resume(out, ["a", "b"], MINE) == {0: result("a")}  # no --force needed now


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),  # beyond 64 bits orjson refuses: the stdlib writes them
    st.floats(),  # exponents, NaN and infinities included
    st.text(st.characters(codec=None, exclude_categories=())),  # lone surrogates too
)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _VALUES, max_size=8))
def test_rows_render_as_the_stdlib_renders_them(row: dict[str, object]) -> None:
    from cratedigger.output import _indented

    assert _indented(row) == json.dumps(row, indent=2, ensure_ascii=False)
