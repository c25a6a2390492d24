"""A clock for tests: sleeping records the wait and moves time on, instantly."""

from __future__ import annotations

import threading

from tap_claude_developer.client import Clock


class FakeClock(Clock):
    def __init__(self, jitter_fraction: float = 0.0) -> None:
        self.time = 1_000.0
        self.waits: list[float] = []
        self.jitter_fraction = jitter_fraction
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.time

    def sleep(self, seconds: float, interrupt: threading.Event | None = None) -> None:
        with self._lock:
            self.waits.append(round(seconds, 6))
            self.time += seconds

    def jitter(self, wait: float) -> float:
        return wait / 4 * self.jitter_fraction
