"""Running the tap in-process and reading what it wrote (shared by the test modules)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import typing as t
from dataclasses import dataclass, field

from tap_claude_developer.tap import TapClaudeDeveloper

#: The directory streams (full table), for tests about them alone.
DIRECTORY = ("organizations", "users", "invites", "workspaces", "workspace_members", "api_keys")


@dataclass
class Run:
    """The Singer messages of one run, and what the tap recorded as failed."""

    messages: list[dict[str, t.Any]]
    failures: list[str] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def of_type(self, kind: str) -> list[dict[str, t.Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def last_state(self) -> dict[str, t.Any]:
        states = self.of_type("STATE")
        return states[-1]["value"] if states else {}


def catalog_for(streams: t.Iterable[str], config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The tap's own catalog with only ``streams`` selected."""
    wanted = set(streams)
    # A copy: the SDK's stream-map setup pops '__else__' out of the config it is given.
    catalog = TapClaudeDeveloper(config=copy.deepcopy(config), parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def run_tap(
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    streams: t.Iterable[str] | None = None,
    parse_float: t.Callable[[str], t.Any] = float,
) -> Run:
    """Sync in-process and parse stdout; failures are returned, not raised.

    ``parse_float=decimal.Decimal`` reads numbers exactly as the tap wrote them (money).
    """
    catalog = catalog_for(streams, config) if streams is not None else None
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        tap = TapClaudeDeveloper(config=config, state=state, catalog=catalog, parse_env_config=False)
        try:
            tap.sync_all()
        finally:
            tap.run.close()
        out.flush()
    text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    failures = [str(f) for f in tap.run.failures]
    # The sentinel check of every in-process run: no configured key in the Singer output or failures.
    for key in config.get("admin_api_keys") or []:
        if isinstance(key, str) and len(key) >= 20:
            assert key not in text, "an admin key reached the Singer output"
            assert not any(key in failure for failure in failures), "an admin key reached a failure message"
    return Run([json.loads(line, parse_float=parse_float) for line in text.splitlines()], failures)


def config_for(sim: t.Any, **settings: t.Any) -> dict[str, t.Any]:
    """Settings pointing at a simulator, with a budget that never slows a test."""
    return {"admin_api_keys": sim.admin_keys, "api_url": sim.url, "max_requests_per_minute": 100_000, **settings}
