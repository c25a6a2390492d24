#!/usr/bin/env bash
# README's first command: sync a local Admin API simulator (3 organizations) into CSV files with Meltano.
#
# Installs what is missing (scripts/setup.sh), starts the simulator on a free port, runs
#   meltano run tap-claude-developer target-csv
# with the tap pointed at it only through its settings (TAP_CLAUDE_DEVELOPER_API_URL and
# TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS), stops the simulator, and prints each CSV with its row count.
# Re-runnable; exits non-zero if any step fails.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

work=$(mktemp -d)
sim_pid=""
stop_simulator() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=""
    fi
    rm -rf "$work"
}
trap stop_simulator EXIT

python -m tap_claude_developer.simulator --port 0 --orgs 3 --ready-file "$work/ready.json" >"$work/simulator.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
    [ -f "$work/ready.json" ] && break
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "demo: the simulator stopped before it was ready:" >&2
        cat "$work/simulator.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ ! -f "$work/ready.json" ]; then
    echo "demo: the simulator was not ready after 30 s" >&2
    exit 1
fi

# A field of the ready file: strings as they are, anything else (the key list) as JSON.
ready_field() {
    python -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if isinstance(v, str) else json.dumps(v))' \
        "$work/ready.json" "$1"
}
TAP_CLAUDE_DEVELOPER_API_URL=$(ready_field url)
TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS=$(ready_field admin_api_keys)
export TAP_CLAUDE_DEVELOPER_API_URL TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS

out=output/csv
rm -rf "$out"
mkdir -p output
log=output/demo-meltano.log
echo "demo: meltano run tap-claude-developer target-csv (simulator at $TAP_CLAUDE_DEVELOPER_API_URL; log: $log)"
# --full-refresh and --no-state-update: the demo neither reads nor leaves state for a real pipeline.
if ! meltano --log-format=uncolored run --full-refresh --no-state-update tap-claude-developer target-csv >"$log" 2>&1; then
    echo "demo: meltano run failed; the end of $log (metrics left out):" >&2
    grep -v 'METRIC: ' "$log" | tail -n 40 >&2
    exit 1
fi
stop_simulator

python - "$out" <<'PY'
import csv
import pathlib
import sys

files = sorted(pathlib.Path(sys.argv[1]).glob("*.csv"))
if not files:
    sys.exit(f"demo: no CSV file was written to {sys.argv[1]}")
print(f"\n{'file':<40} {'rows':>6}")
for path in files:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    print(f"{str(path):<40} {rows:>6}")
PY
