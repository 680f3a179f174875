"""`python -m mockserver`: serve the mock Beatport, write a demo Rekordbox playlist, record
real traffic through a proxy to HAR, or summarise a HAR recording.

Every bad value ends the program with status 2 and one line naming the option, as argparse
does for its own checks: spec errors (--latency, --faults...) and config file errors are
routed through the same `parser.error`, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from mockserver.errors import MockServerError, ReplayError, SpecError
from mockserver.har_info import format_summary, load_summary, summary_json
from mockserver.playlist import write_demo_playlist
from mockserver.record import RecordConfig, record_forever
from mockserver.runner import serve_forever
from mockserver.settings import Settings, load_settings_toml, settings_from

PROG: Final = "python -m mockserver"

SERVE_EXAMPLES: Final = """\
examples:
  python -m mockserver                                  # serve with defaults on :8080
  python -m mockserver serve --port 0                   # any free port; the URL is printed
  python -m mockserver serve --host 0.0.0.0 --port 8080 # reachable from other machines
  python -m mockserver serve --seed 7 --catalog-size 5000
  python -m mockserver serve --latency lognormal:median=80ms,sigma=0.4
  python -m mockserver serve --latency fixed:50ms --latency search=uniform:100ms..300ms
  python -m mockserver serve --latency bandwidth=2MB/s
  python -m mockserver serve --rate-limit 10/s,burst=20,scope=token
  python -m mockserver serve --faults 503=0.05,reset=0.01 --faults track:first=2
  python -m mockserver serve --replay recordings/ --replay session.har --replay-strict
  python -m mockserver serve --replay session.har --replay-timing recorded   # recorded latency
  python -m mockserver serve --replay session.har --replay-timing 0.5x       # at twice the speed
  python -m mockserver serve --host 0.0.0.0 --admin-token s3cret   # remote /__admin/ use
  python -m mockserver serve --challenge web:after=50   # website answers 403 challenges after 50
  python -m mockserver serve --allow-overrides          # X-Mock-Latency: 250ms, X-Mock-Fault: 503
  python -m mockserver serve --no-prerender             # faster start, slower first searches
  python -m mockserver serve --accounts accounts.toml   # who may sign in (default: demo/demo)
  python -m mockserver serve --config mock.toml --port 9000   # CLI options win over the file

spec syntax (the same in the --config file and in PATCH /__admin/config):
  latency     [ROUTE=]DIST[,bandwidth=RATE] | off
              DIST: none | fixed:50ms | uniform:20ms..80ms | normal:mean=50ms,sd=10ms
                    | lognormal:median=50ms,sigma=0.3         RATE: 500KB/s | 2MB/s
  rate limit  COUNT/(s|min|h)[,burst=N][,scope=global|token|client][,penalty=on|off] | off
  faults      [ROUTE:]KIND=P[,KIND=P...][,first=N] | off
              KIND: 500 | 502 | 503 | reset | hang | truncate | invalid_json
  challenge   web:after=N | web:rate=R/s | off
  ROUTE       search | track | release | page | token | account | other | a path glob "/v4/*"

accounts file (TOML; without one, the demo account printed at start-up signs in):
  [[account]]
  username = "dj"
  password = "correct horse"
  email = "dj@example.com"          # optional

Settings without an option (token_ttl, refresh_token_ttl, journal_size, hang_seconds) go in
the --config file:
  token_ttl = 600        # seconds an OAuth access token lives (default 36000)
  refresh_token_ttl = 86400   # seconds a refresh token lives (default 30 days)
"""

PLAYLIST_EXAMPLES: Final = """\
examples:
  python -m mockserver playlist --tracks 200 --seed 1 --out demo.xml --truth demo-truth.json
  python -m mockserver playlist --tracks 1000 --seed 3 --catalog-size 50000 \\
      --out big.xml --truth big-truth.json

The playlist's tracks come from the catalog the server builds for the same --seed and
--catalog-size, with the kinds of damage real libraries have; --truth maps each playlist
entry to the Beatport track id it should match.
"""

RECORD_EXAMPLES: Final = """\
examples:
  python -m mockserver record --upstream https://api.beatport.com --port 0 --out api.har
  python -m mockserver record --upstream https://www.beatport.com --out web.har \\
      --redact X-Session-Id --redact email
  cratedigger match ... --base-url http://127.0.0.1:PORT   # send the traffic through it
  python -m mockserver serve --replay api.har --replay-timing recorded   # then rerun offline

Every request goes on to the upstream and its answer back to the client unchanged; each
exchange is appended to the HAR file, which is valid after every entry. Secrets never reach
the file: Authorization, Cookie and Set-Cookie values (sessions, CSRF tokens), token
endpoint credentials, access_token / refresh_token / password fields, authorization codes
in URLs and the website's accessToken become "REDACTED" (--redact adds header, field or
parameter names), and so does any of their values seen elsewhere. Stop with Ctrl-C
(SIGINT) or SIGTERM.
"""

HAR_INFO_EXAMPLES: Final = """\
examples:
  python -m mockserver har-info session.har
  python -m mockserver har-info recordings/ --json     # every *.har below, as JSON
"""

MAIN_EXAMPLES: Final = """\
examples:
  python -m mockserver                                # same as: python -m mockserver serve
  python -m mockserver serve --port 0 --latency fixed:30ms --rate-limit 20/s
  python -m mockserver playlist --tracks 100 --seed 1 --out p.xml --truth p.json
  python -m mockserver record --upstream https://api.beatport.com --port 0 --out s.har
  python -m mockserver har-info s.har
  python -m mockserver serve --help                   # every server option, with examples
"""

# Options of `serve` that are settings of the same name (None: not given, the file's or the
# default value stands).
SERVE_OVERRIDES: Final = (
    "host",
    "port",
    "seed",
    "catalog_size",
    "latency",
    "rate_limit",
    "faults",
    "replay",
    "replay_strict",
    "replay_timing",
    "admin_token",
    "challenge",
    "allow_overrides",
    "prerender",
    "accounts",
)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0-65535)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", help="address to listen on (default 127.0.0.1), e.g. --host 0.0.0.0")
    add("--port", type=_port, help="port to listen on, 0 for any free one (default 8080)")
    add("--seed", type=int, help="catalog seed: same seed, same catalog (default 1)")
    add("--catalog-size", type=_positive, metavar="N", help="tracks in the catalog (default 20000)")
    add("--latency", action="append", metavar="SPEC", help="latency model, repeatable")
    add("--rate-limit", metavar="SPEC", help="token-bucket limit answered with 429s, e.g. 10/s")
    add("--faults", action="append", metavar="SPEC", help="fault injection, repeatable")
    add("--replay", action="append", metavar="FILE.har|DIR", help="HAR files to replay first")
    add(
        "--replay-strict",
        action="store_true",
        default=None,
        help="answer 404 to what no HAR entry matches",
    )
    add(
        "--replay-timing",
        metavar="recorded|model|Nx",
        help="replayed answers wait their recorded time (scaled by N), or the latency model's"
        " delay (model, the default)",
    )
    add(
        "--admin-token",
        metavar="T",
        help="lets non-loopback clients use /__admin/ with this bearer token (loopback "
        "clients never need it; default: loopback only)",
    )
    add(
        "--challenge",
        metavar="SPEC",
        help="answer website requests with a bot challenge: web:after=N, web:rate=R/s or off",
    )
    add(
        "--allow-overrides",
        action="store_true",
        default=None,
        help="honour the request headers X-Mock-Latency (250ms) and X-Mock-Fault (503, reset...)",
    )
    add(
        "--no-prerender",
        dest="prerender",
        action="store_false",
        default=None,
        help="render search rows when first asked, not at start-up (starts ~2.5 s sooner)",
    )
    add(
        "--accounts",
        type=Path,
        metavar="FILE.toml",
        help="accounts that can sign in (default: one demo account, printed at start-up)",
    )
    add("--config", type=Path, metavar="FILE.toml", help="settings file; CLI options win")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: subcommands `serve` (the default), `playlist`, `record`, `har-info`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A mock Beatport (API v4 and website) for tests and benchmarks.",
        epilog=MAIN_EXAMPLES,
        formatter_class=_formatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{serve,playlist,record,har-info}")
    serve = commands.add_parser(
        "serve",
        help="serve the mock API and website (the default command)",
        description="Serve the mock Beatport API v4 and website until SIGINT or SIGTERM.",
        epilog=SERVE_EXAMPLES,
        formatter_class=_formatter,
    )
    _add_serve_options(serve)
    serve.set_defaults(subparser=serve)
    playlist = commands.add_parser(
        "playlist",
        help="write a demo Rekordbox playlist and its ground truth",
        description="Write a Rekordbox XML playlist of catalog tracks, and the expected matches.",
        epilog=PLAYLIST_EXAMPLES,
        formatter_class=_formatter,
    )
    playlist.set_defaults(subparser=playlist)
    add = playlist.add_argument
    add("--tracks", type=_positive, required=True, metavar="N", help="tracks in the playlist")
    add("--seed", type=int, required=True, metavar="S", help="catalog seed, as for serve")
    add("--catalog-size", type=_positive, default=20_000, metavar="C", help="default 20000")
    add("--out", type=Path, required=True, metavar="FILE.xml", help="the playlist to write")
    add("--truth", type=Path, required=True, metavar="FILE.json", help="the expected matches")
    _add_record_parser(commands)
    har_info = commands.add_parser(
        "har-info",
        help="summarise HAR recordings: entries by route and status, latency percentiles",
        description="Summarise HAR files (and every *.har under directories) before replaying.",
        epilog=HAR_INFO_EXAMPLES,
        formatter_class=_formatter,
    )
    har_info.set_defaults(subparser=har_info)
    har_info.add_argument("paths", nargs="+", type=Path, metavar="FILE.har|DIR")
    har_info.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _add_record_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record",
        help="proxy to the real Beatport and record the traffic to HAR, secrets redacted",
        description="A reverse proxy that records every exchange with an upstream to HAR.",
        epilog=RECORD_EXAMPLES,
        formatter_class=_formatter,
    )
    record.set_defaults(subparser=record)
    add = record.add_argument
    add("--upstream", required=True, metavar="URL", help="e.g. https://api.beatport.com")
    add("--out", type=Path, required=True, metavar="FILE.har", help="the recording to write")
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=_port, default=8080, help="port to listen on, 0 for any free one")
    add("--redact", action="append", default=[], metavar="NAME", help="header or field to redact")
    add("--timeout", type=float, default=60.0, metavar="S", help="upstream timeout (default 60)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --config (if any) with the command-line options over it."""
    toml: dict[str, Any] = {}
    if args.config is not None:
        try:
            toml = load_settings_toml(args.config)
        except SpecError as error:
            # The file's problems are the --config option's: name it, then the file's words.
            raise SpecError("--config", str(error)) from None
    overrides = {key: getattr(args, key) for key in SERVE_OVERRIDES}
    return settings_from(toml, {k: v for k, v in overrides.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (argparse exits 2 itself on bad values)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    # No subcommand means `serve`, so `python -m mockserver --port 0` works too.
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "serve")
    parser = build_parser()
    args = parser.parse_args(args_list)
    subparser: argparse.ArgumentParser = args.subparser
    try:
        if args.command == "playlist":
            if args.out.resolve() == args.truth.resolve():
                subparser.error(f"--out and --truth name the same file ({args.out})")
            demo = write_demo_playlist(
                seed=args.seed,
                catalog_size=args.catalog_size,
                tracks=args.tracks,
                out=args.out,
                truth=args.truth,
            )
            # The playlist only matches the catalog of the same seed and size: say which.
            print(
                f"wrote {args.out} (playlist {demo.path!r}, {args.tracks} tracks) and "
                f"{args.truth}\nits tracks are in the catalog of: python -m mockserver serve "
                f"--seed {args.seed} --catalog-size {args.catalog_size}"
            )
            return 0
        if args.command == "har-info":
            summary = load_summary(args.paths)
            text = (
                json.dumps(summary_json(summary), indent=1)
                if args.json
                else format_summary(summary)
            )
            print(text)
            return 0
        if args.command == "record":
            config = RecordConfig(
                upstream=args.upstream,
                out=args.out,
                host=args.host,
                port=args.port,
                redact=tuple(args.redact),
                timeout=args.timeout,
            )
            record_forever(config)
            return 0
        serve_forever(settings_from_args(args))
    except SpecError as error:
        subparser.error(f"argument {error.option}: {error.message}")
    except ReplayError as error:
        subparser.error(str(error) if args.command == "har-info" else f"argument --replay: {error}")
    except (MockServerError, OSError) as error:
        subparser.error(str(error))
    return 0
