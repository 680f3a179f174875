"""The floor of client CPU per request: a bare aiohttp client fetching the same answers.

The `cpu` scenario asks how far matching's client CPU per request is from what the transport
alone costs. After each async run the harness reads the mock's request journal and replays
the run's GET requests with this client, in a process of its own, with the same concurrency:
one aiohttp session, a semaphore, each body read and, when it is JSON, decoded with orjson.
Nothing is scored, normalised or written. Its CPU time is measured like a match run's
(`time.process_time()` around the requests, start-up excluded) and printed as JSON:

    python -m cratedigger.harness.bare BASE_URL TARGETS_FILE [--concurrency 16]

TARGETS_FILE holds one path and query per line, as the mock's journal received them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp
import orjson

TOKEN_PATH = "/v4/auth/o/token/"


async def _token(session: aiohttp.ClientSession, base_url: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "bare-baseline"}
    async with session.post(base_url + TOKEN_PATH, data=form) as response:
        response.raise_for_status()
        answer = orjson.loads(await response.read())
    return {"Authorization": f"Bearer {answer['access_token']}"}


async def fetch_all(base_url: str, targets: list[str], concurrency: int) -> dict[str, float]:
    """Fetch every target, `concurrency` at a time; the CPU and wall time it took."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = await _token(session, base_url)  # not measured: a match run's is one request
        slots = asyncio.Semaphore(concurrency)
        decoded = 0

        async def fetch(target: str) -> None:
            nonlocal decoded
            async with slots, session.get(base_url + target, headers=headers) as response:
                body = await response.read()
                if response.content_type == "application/json":
                    orjson.loads(body)
                    decoded += 1

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(fetch(target) for target in targets))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"requests": len(targets), "decoded": decoded, "cpu_time": cpu, "wall_time": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("targets", help="a file of paths and queries, one per line")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    with open(args.targets, encoding="utf-8") as lines:
        targets = [line.strip() for line in lines if line.strip()]
    figures = asyncio.run(fetch_all(args.base_url.rstrip("/"), targets, args.concurrency))
    json.dump(figures, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
