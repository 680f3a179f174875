"""The bare baselines: aiohttp answering fixed bodies of the sizes the mock answers.

    python -m bench.throughput.bare --port 0 [--delay 0.05] [--lowlevel] \\
        --bodies '{"/v4/catalog/tracks/{id:\\d+}/": [3000, "application/json"]}'

It prints the ready line `python -m mockserver` prints, so `mockserver.process.MockProcess`
starts and stops it like the mock: as a route per pattern of an aiohttp Application, or
(--lowlevel) one handler on aiohttp's low-level server, as the mock itself is served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bench.throughput.workload import HTML
from mockserver.process import READY_PREFIX
from mockserver.routing import Params, Router
from mockserver.runner import make_runner


def bare_app(bodies: dict[str, tuple[int, str]], delay: float = 0.0) -> web.Application:
    """One route per pattern answering a fixed body of the given size and content type,
    after `delay` seconds if that is not 0."""
    app = web.Application()
    for route, (size, content_type) in bodies.items():
        body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        charset = "utf-8" if content_type == HTML else None

        async def handler(
            request: web.Request, body: bytes = body, ct: str = content_type, cs: Any = charset
        ) -> web.StreamResponse:
            if delay:
                await asyncio.sleep(delay)
            return web.Response(body=body, content_type=ct, charset=cs)

        app.router.add_get(route, handler)
    return app


def bare_lowlevel(
    bodies: dict[str, tuple[int, str]],
) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    """`bare_app`'s answers from one handler on aiohttp's low-level server (no Application),
    the path matched by the mock's router: the cheapest aiohttp answer, for --bare lowlevel."""
    router = Router()
    for route, (size, content_type) in bodies.items():
        body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        charset = "utf-8" if content_type == HTML else None

        async def answer(
            request: web.BaseRequest,
            params: Params,
            body: bytes = body,
            ct: str = content_type,
            cs: Any = charset,
        ) -> web.StreamResponse:
            return web.Response(body=body, content_type=ct, charset=cs)

        router.add("GET", route, answer)

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        found = router.match(request.rel_url.path_safe)
        if found is None or request.method not in found[0]:
            raise web.HTTPNotFound()
        return await found[0][request.method](request, found[1])

    return handle


async def _serve(runner: web.BaseRunner, port: int) -> None:
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"{READY_PREFIX}http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await stop.wait()
    await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput.bare", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bodies", required=True, help="JSON: route pattern -> [size, type]")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
    parser.add_argument("--lowlevel", action="store_true", help="one low-level handler")
    args = parser.parse_args(argv)
    bodies = {
        route: (int(size), str(kind)) for route, (size, kind) in json.loads(args.bodies).items()
    }
    runner: web.BaseRunner
    if args.lowlevel:
        server = web.Server(bare_lowlevel(bodies), access_log=None)
        runner = web.ServerRunner(server, handle_signals=False)
    else:
        runner = make_runner(bare_app(bodies, args.delay))
    asyncio.run(_serve(runner, args.port))


if __name__ == "__main__":
    main()
