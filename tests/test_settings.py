"""Settings (ita_dashboard/config.py): DATABASE_URL and every ITA_* variable in one object, read
once; a bad value fails at start with one line naming it (before, a bad integer silently became
the default); every setting is in the README's table, and no other module reads them itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ita_dashboard.texts import TH

from ita_dashboard import config
from ita_dashboard.config import SettingsError, get_settings, setting_names

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
SOURCE_DIRS = ("ita_dashboard", "pages", "app_pages")  # app_pages: the pages' folder after its rename

# Each setting with values it must refuse (ITA_BACKUP_KEY takes any text: it has none).
BAD = {
    "DATABASE_URL": ["mysql://u:p@db/ita", "not a url", "://nothing"],
    "ITA_MAX_UPLOAD_MB": ["abc", "0", "-5", "1.5", "4097", "50MB"],
    "ITA_SESSION_IDLE_MINUTES": ["abc", "0", "-1", "30.0", "525601"],
    "ITA_SESSION_MAX_HOURS": ["abc", "0", "8761", "12h"],
    "ITA_LOCKOUT_FAILURES": ["abc", "0", "1001", "five"],
    "ITA_LOCKOUT_MINUTES": ["abc", "0", "-15", "525601"],
    "ITA_LOCKOUT_WINDOW_MINUTES": ["abc", "0", "525601", "1e3"],
    "ITA_LINKCHECK_ALLOW_PRIVATE": ["maybe", "2", "si"],
    "ITA_LANG": ["fr", "thai", "english", "de_DE"],
    "ITA_DEBUG": ["maybe", "2", "verbose"],
}
UNREFUSABLE = {"ITA_BACKUP_KEY"}

GOOD = [
    ("DATABASE_URL", "postgres://u:p@db:5432/ita", "database_url", "postgresql+psycopg://u:p@db:5432/ita"),
    ("DATABASE_URL", " sqlite:////srv/ita.db ", "database_url", "sqlite:////srv/ita.db"),
    ("DATABASE_URL", "sqlite://", "database_url", "sqlite://"),
    ("ITA_MAX_UPLOAD_MB", " 7 ", "max_upload_mb", 7),
    ("ITA_MAX_UPLOAD_MB", "4096", "max_upload_mb", 4096),
    ("ITA_SESSION_IDLE_MINUTES", "1", "session_idle_minutes", 1),
    ("ITA_SESSION_MAX_HOURS", "8760", "session_max_hours", 8760),
    ("ITA_LOCKOUT_FAILURES", "3", "lockout_failures", 3),
    ("ITA_LOCKOUT_MINUTES", "10", "lockout_minutes", 10),
    ("ITA_LOCKOUT_WINDOW_MINUTES", "60", "lockout_window_minutes", 60),
    ("ITA_LINKCHECK_ALLOW_PRIVATE", "1", "linkcheck_allow_private", True),
    ("ITA_LINKCHECK_ALLOW_PRIVATE", "Yes", "linkcheck_allow_private", True),
    ("ITA_LINKCHECK_ALLOW_PRIVATE", "false", "linkcheck_allow_private", False),
    ("ITA_LANG", "EN", "lang", "en"),
    ("ITA_LANG", "en_US.UTF-8", "lang", "en"),
    ("ITA_LANG", "th_TH.UTF-8", "lang", "th"),
    ("ITA_DEBUG", "1", "debug", True),
    ("ITA_DEBUG", "off", "debug", False),
]

DEFAULTS = {"max_upload_mb": 50, "session_idle_minutes": 30, "session_max_hours": 12, "lockout_failures": 5,
            "lockout_minutes": 15, "lockout_window_minutes": 1440, "backup_key": None,
            "linkcheck_allow_private": False, "lang": "th", "debug": False}


@pytest.fixture
def clean_env(monkeypatch):
    """No setting from the machine running the tests."""
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_refusable_setting_is_tested():
    assert set(BAD) | UNREFUSABLE == set(setting_names())
    assert {name for name, *_ in GOOD} | UNREFUSABLE == set(setting_names())


@pytest.mark.parametrize("name, value", [(n, v) for n, values in BAD.items() for v in values])
def test_a_bad_value_is_refused_with_its_name(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        get_settings()
    message = str(caught.value)
    assert message.startswith(f"setting {name}: expected "), message
    assert "\n" not in message
    if name == "DATABASE_URL":
        assert value not in message  # a URL may hold a password
    else:
        assert f'"{value}"' in message


def test_a_database_url_password_is_never_shown(clean_env):
    clean_env.setenv("DATABASE_URL", "mysql://ita:s3cret-pw@db/ita")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "s3cret-pw" not in str(caught.value)
    clean_env.setenv("DATABASE_URL", "postgresql://ita:s3cret-pw@db/ita")
    clean_env.setenv("ITA_BACKUP_KEY", "the-backup-key")
    shown = repr(get_settings()) + str(get_settings())
    assert "s3cret-pw" not in shown and "the-backup-key" not in shown


def test_every_bad_setting_is_named_at_once(clean_env):
    clean_env.setenv("ITA_SESSION_MAX_HOURS", "abc")
    clean_env.setenv("ITA_LANG", "fr")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "ITA_SESSION_MAX_HOURS" in str(caught.value) and "ITA_LANG" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name, value, field, expected", GOOD)
def test_a_good_value_is_read(clean_env, name, value, field, expected):
    clean_env.setenv(name, value)
    assert getattr(get_settings(), field) == expected


def test_the_backup_key_is_read_stripped(clean_env):
    clean_env.setenv("ITA_BACKUP_KEY", "  a long random key  ")
    assert get_settings().backup_key.get_secret_value() == "a long random key"
    clean_env.setenv("ITA_BACKUP_KEY", "   ")
    assert get_settings().backup_key is None


@pytest.mark.parametrize("value", [None, "", "  "])
def test_unset_or_empty_means_the_default(clean_env, value):
    for name in setting_names():
        if value is not None:
            clean_env.setenv(name, value)
    settings = get_settings()
    assert {field: getattr(settings, field) for field in DEFAULTS} == DEFAULTS
    assert settings.database_url == config.DEFAULT_DATABASE_URL


def test_settings_are_read_once(clean_env):
    first = get_settings()
    # Behind the cache's back (monkeypatch.setenv would clear it, see tests/conftest.py).
    clean_env.setitem(os.environ, "ITA_SESSION_MAX_HOURS", "3")
    clean_env.setitem(os.environ, "ITA_LANG", "xx")
    assert get_settings() is first and first.session_max_hours == 12
    get_settings.cache_clear()
    with pytest.raises(SettingsError):
        get_settings()


def test_settings_cannot_be_changed_in_place(clean_env):
    with pytest.raises(Exception):
        get_settings().max_upload_mb = 1


# --- at start: the CLI and the app -----------------------------------------------------------


def run_cli(env_changes: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in setting_names()}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-m", "ita_dashboard", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


@pytest.mark.parametrize("command", [["check-settings"], ["summary", "--json"], ["init-db"]])
def test_cli_stops_on_a_bad_setting_with_one_line(tmp_path, command):
    db_file = tmp_path / "never.db"
    p = run_cli({"DATABASE_URL": f"sqlite:///{db_file}", "ITA_SESSION_MAX_HOURS": "abc"}, *command)
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert lines == ['error: setting ITA_SESSION_MAX_HOURS: expected a whole number from 1 to 8760, got "abc"']
    assert p.stdout == ""
    assert not db_file.exists()  # stopped before the database


def test_cli_check_settings_reports_what_it_read(tmp_path):
    p = run_cli({"DATABASE_URL": "postgresql://ita:s3cret-pw@db.example/ita", "ITA_MAX_UPLOAD_MB": "20",
                 "ITA_LANG": "en", "ITA_BACKUP_KEY": "k"}, "check-settings")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("settings ok: database postgresql+psycopg://ita:***@db.example/ita")
    assert "20 MB" in lines[0] and "language en" in lines[0] and "backups signed" in lines[0]
    assert "s3cret-pw" not in p.stdout + p.stderr


def test_cli_debug_switch_is_checked_too(tmp_path):
    p = run_cli({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "ITA_DEBUG": "maybe"}, "check-settings")
    assert p.returncode == 1 and p.stderr.startswith("error: setting ITA_DEBUG: ") and "Traceback" not in p.stderr


def test_run_sh_checks_the_settings_before_the_app():
    script = (REPO / "scripts" / "run.sh").read_text()
    assert script.index("-m ita_dashboard check-settings") < script.index("streamlit run app.py")


def test_the_app_shows_the_line_and_stops(clean_env, tmp_path):
    db_file = tmp_path / "never.db"
    clean_env.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    clean_env.setenv("ITA_LOCKOUT_FAILURES", "lots")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # The Thai heading (what to do), then the CLI's line (escaped for markdown; read as shown).
    assert [e.value.replace("\\", "").replace("\u2060", "") for e in at.error] == [
        TH["settings_invalid"] + '\n\nsetting ITA_LOCKOUT_FAILURES: expected a whole number from 1 to 1000, got "lots"']
    assert not at.text_input and not at.button and not at.title  # no login or setup screen behind it
    assert not db_file.exists()


# --- documented, and read nowhere else -------------------------------------------------------


def _readme_settings_table() -> list[str]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])]


def _source_files() -> list[Path]:
    files = [REPO / "app.py"]
    for folder in SOURCE_DIRS:
        files += sorted((REPO / folder).rglob("*.py")) if (REPO / folder).is_dir() else []
    return files


def test_every_setting_is_in_the_readme_table():
    table = _readme_settings_table()
    assert len(table) == len(set(table)), table
    assert set(table) == set(setting_names())


def test_every_ita_name_in_the_source_is_a_setting():
    mentioned = set()
    for path in _source_files():
        mentioned |= set(re.findall(r"\bITA_[A-Z][A-Z0-9_]*", path.read_text(encoding="utf-8")))
    assert mentioned, "no ITA_ name found: the scan is broken"
    assert mentioned - set(setting_names()) == set()
    assert mentioned - set(_readme_settings_table()) == set()


def test_no_module_reads_a_setting_from_the_environment_itself():
    """config.py reads them; elsewhere os.environ / getenv may only read other variables, by name."""
    reads = re.compile(r"(?:environ|getenv)\b(.{0,40})")
    for path in _source_files():
        if path == REPO / "ita_dashboard" / "config.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for rest in reads.findall(line):
                if line.lstrip().startswith("#") or '"""' in line:
                    continue
                where = f"{path.relative_to(REPO)}:{number}: {line.strip()}"
                named = re.match(r"""\s*(?:\.get\(|\[|\()\s*["']([A-Z][A-Z0-9_]*)["']""", rest)
                assert named, f"reads the environment without a literal name: {where}"
                assert named.group(1) not in setting_names(), f"read it through config.get_settings(): {where}"
