"""The `cratedigger` command line. Errors on input are one line and exit code 2.

Only what a command needs is imported, when it runs: `cratedigger --help`, `config` and
`playlists` never load requests, aiohttp, the matcher or the benchmark harness.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cratedigger.account_cli import add_account_commands
from cratedigger.analyze_cli import add_analyze_command
from cratedigger.errors import CratediggerError, InputError
from cratedigger.harness.command import add_bench_command
from cratedigger.settings import SETTINGS, EffectiveSettings, resolve_settings

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_STOPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

MATCH_EPILOG = """\
examples:
  cratedigger login                                     # once: the token is stored and renewed
  cratedigger match collection.xml --playlist "Sets/2024/Warmup"
  cratedigger match collection.xml --playlist Warmup --mode async --concurrency 32
  cratedigger match demo.xml --playlist Demo --base-url http://127.0.0.1:8080 --source web
  cratedigger match collection.xml --playlist Warmup --resume     # after Ctrl-C

Settings come from the command line, then the environment (CRATEDIGGER_MODE,
CRATEDIGGER_CONCURRENCY, ...), then ./cratedigger.toml or [tool.cratedigger] in
./pyproject.toml, then defaults; `cratedigger config` shows the result.
Exit codes: 0 all tracks done, 1 some tracks ended in error (--resume retries them), the
sign-in must be renewed (cratedigger login) or no API token could be had, 2 bad input
(nothing is touched), 3 stopped early (the server unreachable for --outage-timeout, a bot
challenge, or a result file that could not be written, e.g. a full disk; finish with
--resume), 130 interrupted.
"""


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per row of the settings table (None: not given on the command line)."""
    for setting in SETTINGS:
        if setting.switch:
            parser.add_argument(
                setting.flag, action="store_const", const=True, default=None, help=setting.help
            )
        else:
            parser.add_argument(
                setting.flag, metavar=setting.metavar, choices=setting.choices, help=setting.help
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cratedigger",
        description="Match Rekordbox playlists to Beatport (BPM, key, genre, label, release, "
        "ISRC), synchronously or asynchronously, and measure whether async pays off.",
    )
    parser.add_argument("--version", action="version", version=f"cratedigger {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = sub.add_parser(
        "match",
        help="match a playlist against Beatport",
        description="Find each track of a Rekordbox playlist on Beatport and write what was "
        "found (BPM, key, genre, label, release, ISRC) as JSON, and optionally CSV and a tagged "
        "copy of the library.",
        epilog=MATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    match.add_argument("library", type=Path, help="Rekordbox XML export (File > Export Collection)")
    match.add_argument(
        "--playlist", required=True, help='playlist name, or folder path like "Sets/2024/Warmup"'
    )
    _add_setting_options(match)
    match.add_argument(
        "--out",
        type=Path,
        default=Path("results.json"),
        help="result JSON, written atomically as tracks finish (default: results.json)",
    )
    match.add_argument("--csv", type=Path, help="also write the results as CSV")
    match.add_argument(
        "--xml-out", type=Path, help="write a copy of the library with the found metadata"
    )
    match.add_argument("--metrics", type=Path, help="export performance metrics JSON here")
    match.add_argument(
        "--resume",
        action="store_true",
        help="keep finished tracks of a previous run of --out and do the rest",
    )
    match.add_argument(
        "--force",
        action="store_true",
        help="with --resume: accept a --out of another playlist or library, keeping only its "
        "rows that are in this playlist",
    )
    match.add_argument("--no-progress", action="store_true", help="no progress bar")
    match.set_defaults(handler=cmd_match)

    playlists = sub.add_parser(
        "playlists",
        help="list the playlists of a Rekordbox XML",
        description="List every playlist of a Rekordbox XML export with its number of entries "
        'and its folder path, as `match --playlist` takes it (e.g. "Sets/2024/Warmup").',
    )
    playlists.add_argument("library", type=Path, help="Rekordbox XML export")
    playlists.set_defaults(handler=cmd_playlists)

    config = sub.add_parser(
        "config",
        help="print the effective settings and where they come from",
        description="Print every setting's value and where it came from: the command line, "
        "the environment, ./cratedigger.toml or [tool.cratedigger] in ./pyproject.toml, or "
        "the default. Secrets are shown as (hidden).",
    )
    _add_setting_options(config)
    config.set_defaults(handler=cmd_config)
    add_account_commands(sub)
    add_analyze_command(sub)
    add_bench_command(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cratedigger")
    except PackageNotFoundError:
        return "(not installed)"


def _settings(args: argparse.Namespace) -> EffectiveSettings:
    cli = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    return resolve_settings(cli, os.environ, Path.cwd())


def cmd_match(args: argparse.Namespace) -> int:
    from cratedigger.account_cli import sign_in_again, signed_in_options
    from cratedigger.metrics import MetricsCollector
    from cratedigger.options import MatchOptions
    from cratedigger.output import RunIdentity
    from cratedigger.rekordbox import read_library
    from cratedigger.run import run_playlist

    settings = _settings(args)
    _check_outputs(args)
    playlist = read_library(args.library).playlist(args.playlist)
    for warning in playlist.warnings:  # stale entries: each becomes an error row
        print(f"cratedigger: warning: {warning}", file=sys.stderr)
    options = signed_in_options(MatchOptions.from_settings(settings), settings)
    collector = MetricsCollector()
    identity = RunIdentity.of(args.library, playlist.path, [t.track_id for t in playlist.entries])
    if args.force and not args.resume:
        raise InputError("--force only makes sense with --resume")
    summary = run_playlist(
        playlist.entries,
        options,
        settings.mode,
        out=args.out,
        csv=args.csv,
        resume=args.resume,
        progress=not args.no_progress,
        collector=collector,
        identity=identity,
        force=args.force,
    )
    signed_out = summary.halt_reason == "signin"
    if not signed_out:  # that one says it all in one line, below
        print(summary.line(), file=sys.stderr)
    if args.metrics is not None:
        from cratedigger.export import export_run_metrics

        path = export_run_metrics(summary, collector, options, args.metrics)
        print(f"metrics: {path}", file=sys.stderr)
    if signed_out:
        kept = summary.done - summary.resumed
        then = (
            f", then finish with --resume ({summary.done} of {summary.total} tracks are done "
            f"and kept in {args.out})"
            if kept > 0
            else ""
        )
        print(f"cratedigger: error: {sign_in_again(options.url)}{then}", file=sys.stderr)
        return EXIT_ERRORS
    if summary.interrupted:
        if summary.done:
            print(f"results so far in {args.out}; finish with --resume", file=sys.stderr)
        else:
            print(f"no track was done; {args.out} was left as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    if summary.halt_reason == "token":
        earlier = f"; the {summary.done} done before are kept in {args.out}" if summary.done else ""
        print(
            f"cratedigger: error: {options.url}: {summary.halted}; no track matched{earlier}",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    if summary.halt_reason == "output":
        from cratedigger.output import journal_path

        print(
            f"cratedigger: error: {summary.halted}; {summary.done} of {summary.total} tracks "
            f"are done and kept in {journal_path(args.out)}; make room, then finish with the "
            "same command and --resume",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    if summary.halted:
        then = (
            f"{summary.done} of {summary.total} tracks are done and kept in {args.out}; finish "
            "the rest later with the same command and --resume"
            if summary.done
            else "no track is done; run the same command again later"
        )
        print(f"cratedigger: stopped: {summary.halted}; {then}", file=sys.stderr)
        return EXIT_STOPPED
    if args.xml_out is not None:
        from cratedigger.output import load_resume
        from cratedigger.rekordbox_write import write_back

        results = load_resume(args.out, [t.track_id for t in playlist.entries], identity)
        write_back(args.library, [results[i] for i in sorted(results)], args.xml_out)
    print(f"results: {args.out}", file=sys.stderr)
    return EXIT_ERRORS if summary.errors else EXIT_OK


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any request, an output that would overwrite an input or a non-file."""
    from cratedigger.destinations import Destination, check_destinations
    from cratedigger.output import journal_path

    out = Destination("--out", args.out)
    check_destinations([out], [args.library])  # a directory has no journal name: first
    named = [
        out,
        Destination("--out (its journal)", journal_path(args.out)),
        *(Destination(flag, path) for flag, path in _optional_outputs(args)),
    ]
    check_destinations(named, [args.library])
    if args.xml_out is not None:
        from cratedigger.rekordbox_write import check_writable

        check_writable(args.library)


def _optional_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    wanted = (("--csv", args.csv), ("--xml-out", args.xml_out), ("--metrics", args.metrics))
    return [(flag, path) for flag, path in wanted if path is not None]


def cmd_playlists(args: argparse.Namespace) -> int:
    from cratedigger.rekordbox import read_library

    library = read_library(args.library)
    playlists = library.playlists()
    for info in playlists:
        print(f"{info.entries:6d}  {info.path}")
    if not playlists:
        print(f"cratedigger: {args.library} has no playlists", file=sys.stderr)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    print(_settings(args).describe())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    # SIGTERM stops a run like Ctrl-C: results so far are written, exit code 130.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return handler(args)
    except InputError as err:
        print(f"cratedigger: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except CratediggerError as err:
        print(f"cratedigger: error: {err}", file=sys.stderr)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("cratedigger: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
