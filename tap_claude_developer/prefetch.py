"""Fetch independent chains concurrently, hand their pages over in a fixed order.

The output of a run must not depend on timing, so the consumer always reads chains in the
order they were planned; concurrency only lets later chains download while earlier ones are
being emitted. Each chain buffers at most a few pages and at most ``workers + 2`` chains run
ahead, so memory stays flat however large the sync.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

C = t.TypeVar("C")
P = t.TypeVar("P")
P_co = t.TypeVar("P_co", covariant=True)

PAGES_BUFFERED_PER_CHAIN = 4


class Pages(t.Protocol[P_co]):
    """The pages of one chain: iterate them, or ``close()`` to drop the rest."""

    def __iter__(self) -> t.Iterator[P_co]: ...

    def close(self) -> None: ...


class _Buffer(t.Generic[P]):
    """The pages of one chain on their way from a worker thread to the consumer."""

    _END = object()

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[object, t.Any]] = queue.Queue(PAGES_BUFFERED_PER_CHAIN)
        self._stopped = threading.Event()

    def fill(self, pages: t.Iterator[P]) -> None:
        """Run on a worker: fetch every page, then an end marker (or the error)."""
        try:
            for page in pages:
                if not self._put((None, page)):
                    return
        except BaseException as error:
            self._put((error, None))
            return
        self._put((self._END, None))

    def _put(self, item: tuple[object, t.Any]) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def __iter__(self) -> t.Iterator[P]:
        while True:
            marker, page = self._queue.get()
            if marker is self._END:
                return
            if isinstance(marker, BaseException):
                self.close()
                raise marker
            yield page

    def close(self) -> None:
        self._stopped.set()


class Prefetcher:
    """A pool of ``workers`` threads shared by every stream of a run."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") if workers > 1 else None
        #: Every chain started and not yet closed: ``close`` stops them all, whoever was reading.
        self._live: set[_Buffer[t.Any]] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop every worker, also when the consumer was interrupted mid-chain (SIGTERM, an error)."""
        with self._lock:
            live, self._live = list(self._live), set()
        for buffer in live:
            buffer.close()
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def ordered(
        self,
        chains: t.Iterable[C],
        fetch: t.Callable[[C], t.Iterator[P]],
    ) -> t.Iterator[tuple[C, Pages[P]]]:
        """Yield ``(chain, pages)`` in the order of ``chains``, later chains downloading meanwhile.

        With one worker nothing runs ahead: exactly the requests, in exactly the order, that a
        plain loop would make. The consumer reads or closes each chain's pages before the next.
        """
        if self._pool is None:
            for chain in chains:
                pages = t.cast(Pages[P], fetch(chain))
                yield chain, pages
                pages.close()
            return
        window = self.workers + 2
        started: list[tuple[C, _Buffer[P]]] = []
        pending = iter(chains)
        exhausted = False
        try:
            while True:
                while not exhausted and len(started) < window:
                    try:
                        chain = next(pending)
                    except StopIteration:
                        exhausted = True
                        break
                    buffer: _Buffer[P] = _Buffer()
                    with self._lock:
                        self._live.add(buffer)
                    self._pool.submit(buffer.fill, fetch(chain))
                    started.append((chain, buffer))
                if not started:
                    return
                chain, buffer = started.pop(0)
                yield chain, buffer
                self._done(buffer)
        finally:
            for _, buffer in started:
                self._done(buffer)

    def _done(self, buffer: _Buffer[t.Any]) -> None:
        buffer.close()
        with self._lock:
            self._live.discard(buffer)
