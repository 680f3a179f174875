"""Client CPU per request of the bare transports, with no matching work at all.

The async issue's goal of async using at most 1/3 of the threaded driver's CPU per request
can only hold if the transports alone are that far apart: this measures them side by side
in one run against the mock (50 ms lognormal latency, concurrency 16, API searches):
requests sessions on a thread pool against aiohttp tasks under one semaphore.

    .venv/bin/python -m bench.transport_cpu [--requests 600] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote_plus

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from mockserver.catalog import build_catalog
from mockserver.process import MockProcess

CONCURRENCY = 16
LATENCY = "lognormal:median=50ms,sigma=0.3"


def search_urls(base_url: str, count: int) -> list[str]:
    tracks = build_catalog(1, 20000).tracks[:count]
    return [
        f"{base_url}/v4/catalog/search/?q={quote_plus(t.name)}&type=tracks&per_page=10"
        for t in tracks
    ]


def with_threads(urls: list[str], headers: dict[str, str]) -> None:
    pending = iter(urls)
    taking = threading.Lock()

    def work() -> None:
        session = requests.Session()
        session.trust_env = False
        session.mount("http://", HTTPAdapter(pool_maxsize=1))
        while True:
            with taking:
                url = next(pending, None)
            if url is None:
                session.close()
                return
            session.get(url, headers=headers, timeout=10).raise_for_status()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in [pool.submit(work) for _ in range(CONCURRENCY)]:
            future.result()


async def with_tasks(urls: list[str], headers: dict[str, str]) -> None:
    slots = asyncio.Semaphore(CONCURRENCY)
    pending = iter(urls)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def work() -> None:
            for url in pending:
                async with slots, session.get(url, headers=headers) as response:
                    response.raise_for_status()
                    await response.read()

        await asyncio.gather(*(work() for _ in range(2 * CONCURRENCY)))


def cpu_per_request(run: Callable[[], None], count: int) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with MockProcess.mock(seed=1, catalog_size=20000) as mock:
        mock.configure(latency=LATENCY, rate_limit="off", faults="")
        form = {"grant_type": "client_credentials", "client_id": "bench"}
        token = requests.post(f"{mock.base_url}/v4/auth/o/token/", data=form, timeout=10)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        urls = search_urls(mock.base_url, args.requests)
        threads, tasks = [], []
        for _ in range(args.rounds):  # alternated, so that both see the same machine
            threads.append(cpu_per_request(lambda: with_threads(urls, headers), len(urls)))
            tasks.append(cpu_per_request(lambda: asyncio.run(with_tasks(urls, headers)), len(urls)))
    thread_ms, task_ms = statistics.median(threads) * 1e3, statistics.median(tasks) * 1e3
    print(f"requests on {CONCURRENCY} threads: {thread_ms:.3f} ms CPU per request")
    print(f"aiohttp, {CONCURRENCY} in flight:  {task_ms:.3f} ms CPU per request")
    print(f"async / threads: {task_ms / thread_ms:.2f} (medians of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
