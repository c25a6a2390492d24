"""The ordered prefetcher: pages come out in plan order whatever the timing, and nothing leaks."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tap_claude_developer.prefetch import Prefetcher


def _chains(count: int, pages: int) -> list[tuple[int, int]]:
    return [(index, pages) for index in range(count)]


def _slow_pages(chain: tuple[int, int], rng: random.Random, lock: threading.Lock):
    index, pages = chain
    for page in range(pages):
        with lock:
            delay = rng.random() / 500
        time.sleep(delay)
        yield (index, page)


@pytest.mark.parametrize("workers", [1, 2, 4, 16])
def test_pages_come_out_in_plan_order_at_every_concurrency(workers: int) -> None:
    rng, lock = random.Random(3), threading.Lock()
    prefetcher = Prefetcher(workers)
    try:
        seen = [
            page
            for _, pages in prefetcher.ordered(_chains(40, 3), lambda c: _slow_pages(c, rng, lock))
            for page in pages
        ]
    finally:
        prefetcher.close()
    assert seen == [(index, page) for index in range(40) for page in range(3)]


def test_chains_run_concurrently() -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def fetch(chain: int):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        yield chain

    prefetcher = Prefetcher(4)
    try:
        assert [page for _, pages in prefetcher.ordered(range(12), fetch) for page in pages] == list(range(12))
    finally:
        prefetcher.close()
    assert peak == 4


def test_an_error_reaches_the_consumer_at_its_chain() -> None:
    def fetch(chain: int):
        yield chain
        if chain == 2:
            raise ValueError("chain 2 broke")
        yield chain * 10

    prefetcher = Prefetcher(3)
    out: list[object] = []
    try:
        for _, pages in prefetcher.ordered(range(4), fetch):
            try:
                out.extend(pages)
            except ValueError as error:
                out.append(str(error))
    finally:
        prefetcher.close()
    assert out == [0, 0, 1, 10, 2, "chain 2 broke", 3, 30]


def test_closing_a_chain_stops_its_worker() -> None:
    produced: list[int] = []

    def fetch(chain: int):
        for page in range(1000):
            produced.append(page)
            yield page

    prefetcher = Prefetcher(2)
    try:
        for _, pages in prefetcher.ordered([0], fetch):
            assert next(iter(pages)) == 0
            pages.close()
    finally:
        prefetcher.close()
    assert len(produced) < 20


def test_one_worker_fetches_lazily_in_the_callers_thread() -> None:
    threads: list[str] = []

    def fetch(chain: int):
        threads.append(threading.current_thread().name)
        yield chain

    prefetcher = Prefetcher(1)
    assert [p for _, pages in prefetcher.ordered(range(3), fetch) for p in pages] == [0, 1, 2]
    assert threads == [threading.current_thread().name] * 3
