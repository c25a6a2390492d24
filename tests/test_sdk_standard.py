"""The Singer SDK's own standard tap tests (singer_sdk.testing), against the simulator.

The SDK builds its test class when this module is collected, so the simulator starts here and
stops when the session ends; every stream is selected, the opt-in Analytics ones included.
"""

from __future__ import annotations

import atexit
import datetime as dt

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_claude_developer.simulator import OrgSpec, Simulator
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.helpers import catalog_for

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
SIMULATOR = Simulator(
    [
        OrgSpec(
            "Acme", users=30, invites=4, workspaces=2, members_per_workspace=3, api_keys=5, claude_code_rows_per_day=5
        )
    ],
    seed=31,
    now=NOW,
)
SIMULATOR.start()
atexit.register(SIMULATOR.stop)

CONFIG = {
    "admin_api_keys": SIMULATOR.admin_keys,
    "api_url": SIMULATOR.url,
    "start_date": "2026-11-10",
    "end_date": NOW.isoformat(),
    "max_requests_per_minute": 100_000,
    # The default Analytics group-bys leave the actor columns and the cost request count null, and
    # the SDK's attribute tests then pass on no data at all; grouped by actor, every column is set.
    "analytics_usage_group_by": ["actor", "model"],
    "analytics_cost_group_by": ["actor", "model"],
}

TestTapClaudeDeveloper = get_tap_test_class(
    TapClaudeDeveloper,
    config=CONFIG,
    catalog=catalog_for(TapClaudeDeveloper(config=CONFIG, parse_env_config=False).streams, CONFIG),
    parse_env_config=False,
    suite_config=SuiteConfig(ignore_no_records_for_streams=[]),
)
