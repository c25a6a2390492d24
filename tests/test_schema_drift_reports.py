"""Report pages mangled at random: parsing keeps going, or stops with a clear schema-drift error.

Real pages of every report stream are captured from a run against the simulator; hypothesis then
deletes keys, adds unknown ones, nulls values and swaps their types anywhere in them. Whatever it
does, a stream may only emit records of its schema or raise the tap's own ApiError (which becomes
a one-line failure for that organization): never a TypeError, KeyError or AttributeError.
"""

from __future__ import annotations

import copy
import datetime as dt
import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_claude_developer import sync_run
from tap_claude_developer.client import ApiError
from tap_claude_developer.pagination import Chain
from tap_claude_developer.simulator import OrgSpec, Simulator
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.helpers import config_for, run_tap

REPORTS = (
    "messages_usage",
    "cost_report",
    "claude_code_usage",
    "rate_limits",
    "workspace_rate_limits",
    "analytics_usage",
    "analytics_cost",
)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)


def capture() -> tuple[TapClaudeDeveloper, dict[str, list[tuple[Chain, t.Any]]]]:
    pages: dict[Chain, list[t.Any]] = {}
    original = sync_run.SyncRun.fetch

    def fetch(self: sync_run.SyncRun, chain: Chain) -> t.Iterator[t.Any]:
        for body in original(self, chain):
            pages.setdefault(chain, []).append(body.json())
            yield body

    spec = OrgSpec("Drift", users=5, workspaces=2, members_per_workspace=2, api_keys=3, claude_code_rows_per_day=4)
    with pytest.MonkeyPatch.context() as patch, Simulator([spec], seed=9, now=NOW) as sim:
        patch.setattr(sync_run.SyncRun, "fetch", fetch)
        config = config_for(sim, start_date="2026-11-15", end_date=NOW.isoformat())
        run_tap(config, streams=REPORTS)
    tap = TapClaudeDeveloper(config=config, parse_env_config=False)
    by_stream: dict[str, list[tuple[Chain, t.Any]]] = {name: [] for name in REPORTS}
    for chain, bodies in pages.items():
        for name in REPORTS:
            stream = tap.streams[name]
            if chain.path == getattr(stream, "path", None) or (
                name == "workspace_rate_limits" and chain.path.endswith("/rate_limits") and "/workspaces/" in chain.path
            ):
                by_stream[name] += [(chain, body) for body in bodies if body.get("data")]
    return tap, by_stream


TAP, PAGES = capture()
ORG = sync_run.Organization(0, "org-drift", "Drift", {})


def test_every_report_stream_was_captured() -> None:
    assert {name for name, pages in PAGES.items() if pages} == set(REPORTS)


def mutate(value: t.Any, data: st.DataObject, depth: int = 0) -> t.Any:
    """Change ``value`` somewhere, the way an API that drifted might."""
    if isinstance(value, dict) and value and depth < 6:
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["descend", "delete", "null", "swap", "add"]))
        out = dict(value)
        if action == "descend":
            out[key] = mutate(value[key], data, depth + 1)
        elif action == "delete":
            del out[key]
        elif action == "null":
            out[key] = None
        elif action == "swap":
            out[key] = data.draw(st.sampled_from([0, -1, 1.5, "", "text", True, [], {}, [1], {"x": 1}]))
        else:
            out[data.draw(st.text(min_size=1, max_size=8))] = data.draw(st.sampled_from([None, 1, "new", {}]))
        return out
    if isinstance(value, list) and value and depth < 6:
        index = data.draw(st.integers(0, len(value) - 1))
        out_list = list(value)
        out_list[index] = mutate(value[index], data, depth + 1)
        return out_list
    return data.draw(st.sampled_from([None, 0, "", "text", True, [], {}, 2.5]))


@pytest.mark.parametrize("name", REPORTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_drifted_page_parses_or_fails_clearly(name: str, data: st.DataObject) -> None:
    chain, page = data.draw(st.sampled_from(PAGES[name]))
    drifted = page
    for _ in range(data.draw(st.integers(1, 3))):
        drifted = mutate(copy.deepcopy(drifted), data)
    stream = TAP.streams[name]
    problem = ""
    try:
        for record in stream.records(drifted, chain, ORG):  # type: ignore[attr-defined]
            out = stream._shape.conform(record, chain.path)  # type: ignore[attr-defined]
            assert list(out) == list(stream.schema["properties"])
    except ApiError as error:  # the tap's own, one-line error: fine
        problem = str(error)
    assert not problem or f"stream '{name}'" in problem or "'data'" in problem, problem


@pytest.mark.parametrize("name", ["rate_limits", "workspace_rate_limits"])
@pytest.mark.parametrize(("value", "kind"), [(0, "integer"), ("text", "string"), ({}, "object")])
def test_limits_that_are_no_list_fail_naming_the_field(name: str, value: object, kind: str) -> None:
    """Found by the property test above: 'limits': 0 crashed workspace_rate_limits with a TypeError."""
    chain, page = PAGES[name][0]
    drifted = copy.deepcopy(page)
    drifted["data"][0]["limits"] = value
    stream = TAP.streams[name]
    conform = stream._shape.conform  # type: ignore[attr-defined]
    with pytest.raises(ApiError) as error:
        [conform(record, chain.path) for record in stream.records(drifted, chain, ORG)]  # type: ignore[attr-defined]
    assert str(error.value) == (
        f"GET {chain.path} failed: HTTP 200: stream '{name}' field 'limits' should be array or null, got {kind}"
    )
