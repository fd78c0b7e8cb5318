#!/usr/bin/env bash
# Run the tests: `bash scripts/test.sh [pytest args]`, from any directory.
# Sets up .venv with requirements-dev.txt (only when it changed: sha256 kept in
# .venv/.requirements-dev.sha256); as root on Debian, first installs what the tests need from
# the system (Chromium, Thai fonts, PostgreSQL server binaries, python3-venv, zbar, poppler) when missing.
# Runs on every core (pytest-xdist, at most 4 workers; ITA_TEST_WORKERS=0 for one process).
# pytest's "no tests collected" (exit 5) counts as a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System packages (root + apt only; elsewhere the PostgreSQL/browser tests say what is missing).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    dpkg-query -W -f='${Status}' fonts-thai-tlwg-ttf 2>/dev/null | grep -q "ok installed" \
        || missing+=(fonts-thai-tlwg-ttf)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
    command -v zbarimg >/dev/null || missing+=(zbar-tools)
    command -v pdftotext >/dev/null || missing+=(poppler-utils)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "test.sh: apt-get install ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# The venv (remade when a failed creation left it without pip).
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
    python3 -m venv --clear .venv
fi
want=$(cat requirements-dev.txt requirements.txt | sha256sum | cut -d' ' -f1)
stamp=.venv/.requirements-dev.sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "test.sh: installing requirements-dev.txt into .venv ..." >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

# Workers (pytest-xdist): one per core, at most 4; ITA_TEST_WORKERS overrides (0 = one process).
# tests/conftest.py keeps the browser tests together on one worker; a caller's own -n, coming
# later, wins.
workers=${ITA_TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
case "$workers" in
    ''|*[!0-9]*) echo "test.sh: ITA_TEST_WORKERS must be a whole number, not '$workers'" >&2; exit 2 ;;
esac
[ "$workers" -gt 4 ] && workers=4
xdist=(-n "$workers")
[ "$workers" -le 1 ] && xdist=(-n 0)

# pytest prints its own summary; only its exit code 5 (no tests collected) is changed.
rc=0
.venv/bin/python -m pytest "${xdist[@]}" "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "test.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$rc"
