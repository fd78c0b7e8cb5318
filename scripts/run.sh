#!/usr/bin/env bash
# Start the dashboard: `bash scripts/run.sh [streamlit options]`, from any directory.
# On first use creates .venv; (re)installs requirements.txt only when it changed since the last
# install (its sha256 is kept in .venv/.requirements.sha256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A venv whose creation failed half-way has python but no pip: make it again.
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
    python3 -m venv --clear .venv || {
        echo "run.sh: 'python3 -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
fi

want=$(cat requirements.txt | sha256sum | cut -d' ' -f1)
stamp=.venv/.requirements.sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing requirements.txt into .venv ..." >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$want" > "$stamp"
fi

# A bad DATABASE_URL or ITA_* value stops here with one line naming it (the app would show it too).
.venv/bin/python -m ita_dashboard check-settings >&2

exec .venv/bin/streamlit run app.py "$@"
