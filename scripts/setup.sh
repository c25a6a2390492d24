# Shared set-up for demo.sh, test.sh and .ci/run; source it from bash running with `set -euo pipefail`.
#
# Leaves the shell in the repository root with .venv/bin first on PATH, and makes sure that:
#   - .venv exists (created with the first Python >= 3.10 found: $PYTHON, python3, python),
#   - the project is installed in it, editable, with its test tools (`.[test]`, Meltano included),
#   - Meltano's plugins from meltano.yml are installed (`meltano install`; plugin venvs in .meltano/).
# Every step is idempotent and quiet; on failure it prints what the failing step said and exits non-zero.
# Installs go through uv (a dependency of Meltano, which also uses it for plugins): pip alone took
# about ten times longer here.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# quietly LABEL CMD...: run CMD with its output kept aside; show that output only if CMD fails.
quietly() {
    local label=$1 log status=0
    shift
    log=$(mktemp)
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "setup: $label failed (exit $status):" >&2
        tail -n 60 "$log" >&2
        rm -f "$log"
        return "$status"
    fi
    rm -f "$log"
}

if [ ! -x .venv/bin/python ]; then
    python=""
    for candidate in "${PYTHON:-}" python3 python; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "setup: Python 3.10 or newer is needed (set PYTHON=/path/to/python3)." >&2
        exit 1
    fi
    echo "setup: creating .venv with $("$python" --version 2>&1)" >&2
    quietly "creating .venv" "$python" -m venv .venv
fi
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

if [ ! -x .venv/bin/uv ]; then
    quietly "installing uv" python -m pip install --disable-pip-version-check --quiet uv
fi
quietly "installing the project (.[test])" uv pip install --python .venv/bin/python -e '.[test]'
quietly "meltano install" meltano --log-level=warning install
