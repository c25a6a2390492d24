"""Command line: run the simulator in the foreground (`tap-claude-developer-simulator`).

Used by the README demo and benchmarks: it writes a ready file (URL, admin keys, organizations)
once listening, so scripts can wait for that file instead of polling the port.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import tempfile
import threading
import typing as t
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .core import Simulator
from .data import default_org_specs

_SIZE_FLAGS = (
    "users",
    "invites",
    "workspaces",
    "members_per_workspace",
    "api_keys",
    "claude_code_rows_per_day",
    "usage_events_per_day",
    "code_executions_per_day",
)


def _number(kind: type[float], low: float, high: float, what: str) -> t.Callable[[str], float]:
    """An argparse type: a number in ``[low, high]``, else one usage line saying what is wanted."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_count = _number(int, 0, 10_000_000, "a whole number of zero or more")
_port = _number(int, 0, 65535, "a port (0 to 65535; 0 picks a free one)")
_seconds = _number(float, 0, 3600, "a number of seconds from 0 to 3600")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-claude-developer-simulator",
        description="Local simulator of Anthropic's Admin API (deterministic seeded data).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=8787, help="0 picks a free port")
    parser.add_argument("--orgs", type=int, default=3, help="number of organizations")
    for flag in _SIZE_FLAGS:
        parser.add_argument(
            f"--{flag.replace('_', '-')}",
            type=_count,
            default=None,
            metavar="N",
            help=f"{flag.replace('_', ' ')} per organization (default: varies per org)",
        )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--legacy-api-keys",
        action="store_true",
        help="serve API keys in the Aug-2026 shape (workspace_id + principal{id,type})",
    )
    parser.add_argument(
        "--legacy-rate-limits",
        action="store_true",
        help="serve rate-limit entries in the Aug-2026 shape (group_type instead of group{type,id,display_name})",
    )
    parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds added per response")
    parser.add_argument("--ready-file", type=Path, default=None, help="JSON written once listening")
    return parser


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.orgs < 1:
        _parser().error("--orgs must be at least 1")
    overrides = {f: getattr(args, f) for f in _SIZE_FLAGS if getattr(args, f) is not None}
    specs = [dataclasses.replace(spec, **overrides) for spec in default_org_specs(args.orgs)]
    sim = Simulator(
        specs,
        seed=args.seed,
        api_key_shape="legacy" if args.legacy_api_keys else "current",
        rate_limit_shape="legacy" if args.legacy_rate_limits else "current",
        latency=args.latency,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        url = sim.start(port=args.port, host=args.host)
    except OSError as exc:
        print(f"simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.ready_file is not None:
            ready = {
                "url": url,
                "admin_api_keys": sim.admin_keys,
                "organizations": [{"id": org.id, "name": org.name} for org in sim.orgs],
            }
            _write_atomically(args.ready_file, json.dumps(ready, indent=2) + "\n")
        print(f"simulator listening on {url} ({len(sim.orgs)} organizations)", file=sys.stderr)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
