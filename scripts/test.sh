#!/usr/bin/env bash
# README's second command: install what is missing (scripts/setup.sh), then run the test suite.
# Arguments go to pytest, e.g. `bash scripts/test.sh -k csv -x`.
# PostgreSQL tests skip when no server answers on 127.0.0.1:5432, unless REQUIRE_POSTGRES=1.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec python -m pytest "$@"
