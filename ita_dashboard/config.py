"""Settings read from the environment once, typed and checked, with the defaults a single
municipality needs.

``DATABASE_URL`` and every ``ITA_*`` variable are fields of one ``Settings`` object; nothing else
in the package reads them from ``os.environ``. A bad value raises ``SettingsError`` with one line
naming the variable (``setting ITA_SESSION_MAX_HOURS: expected a whole number from 1 to 8760,
got "abc"``): the CLI prints it and exits 1, the app shows it and stops. Before, a bad integer
silently became the default.

``get_settings()`` reads the environment on its first call and keeps the result; tests that change
the environment call ``get_settings.cache_clear()`` (tests/conftest.py does it for monkeypatch).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "ita.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
MIGRATIONS_DIR = REPO_ROOT / "migrations"
SEEDS_DIR = DATA_DIR / "demo"

ENV_PREFIX = "ITA_"
DATABASE_URL_ENV = "DATABASE_URL"  # the one setting without the prefix: hosts and tools set it by this name

# Whole-number settings: (lowest, highest). The upper ends are far beyond any real use; they keep
# a typo such as 30000000 from overflowing a timedelta or a cookie's max-age.
_WHOLE_NUMBERS = {
    "max_upload_mb": (1, 4096),
    "session_idle_minutes": (1, 525_600),  # a year
    "session_max_hours": (1, 8760),  # a year
    "lockout_failures": (1, 1000),
    "lockout_minutes": (1, 525_600),
    "lockout_window_minutes": (1, 525_600),
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """A setting has a value the app cannot use; ``str()`` is one line naming the variable."""


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


def _normalised_url(url: str) -> str:
    # Heroku-style URLs; SQLAlchemy 2 wants the driver spelled out.
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Settings(BaseSettings):
    """Every setting, by its field name; the variable is ``ITA_`` + the name in capitals
    (``DATABASE_URL`` for ``database_url``). README "Configuration" lists them for admins."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=DATABASE_URL_ENV, validate_default=True,
                              repr=False)  # may hold a password
    max_upload_mb: int = 50
    session_idle_minutes: int = 30
    session_max_hours: int = 12  # a login ends this long after it began, however active
    lockout_failures: int = 5
    lockout_minutes: int = 15
    lockout_window_minutes: int = 1440  # failures further apart than this start counting again
    backup_key: Optional[SecretStr] = None  # signs backups; SecretStr keeps it out of reprs and logs
    linkcheck_allow_private: bool = False  # the OIT link check may visit private/loopback addresses
    lang: str = "th"  # th or en: the screen texts that have an English version
    debug: bool = False  # the CLI shows a traceback instead of one line

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        url = str(value).strip()
        if not url:
            return DEFAULT_DATABASE_URL
        url = _normalised_url(url)
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        # The value is never echoed: it may hold a password.
        expected = "expected sqlite:///path/to/file.db or postgresql://user:password@host/database"
        try:
            backend = make_url(url).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(f"{expected}, got something that is not a database URL") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"{expected}, got a {_shown(backend)} URL")
        return url

    @field_validator(*_WHOLE_NUMBERS, mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: ValidationInfo) -> int:
        low, high = _WHOLE_NUMBERS[info.field_name]
        text = str(value).strip()
        if not text:
            return cls.model_fields[info.field_name].default
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {_shown(text)}")
        return number

    @field_validator("linkcheck_allow_private", "debug", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE or not text:
            return False
        raise ValueError(f"expected 1 or 0 (also true/false, yes/no, on/off), got {_shown(str(value))}")

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if not text:
            return "th"
        # th or en, also as the start of a locale name (en_US.UTF-8)
        if not re.fullmatch(r"(th|en)([_.@-].*)?", text):
            raise ValueError(f"expected th or en, got {_shown(str(value))}")
        return text[:2]

    @field_validator("backup_key", mode="before")
    @classmethod
    def _backup_key(cls, value: Any) -> Optional[str]:
        if value is None:
            return None
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return str(value).strip() or None


def env_name(field: str) -> str:
    """The environment variable of a ``Settings`` field."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()


def setting_names() -> list[str]:
    """Every environment variable the app reads, in field order."""
    return [env_name(field) for field in Settings.model_fields]


def _one_line(exc: ValidationError) -> str:
    """Every bad setting as ``setting NAME: message``, joined into one line."""
    parts = []
    for error in exc.errors():
        loc = str(error["loc"][0]) if error["loc"] else ""  # the field name, or DATABASE_URL (its alias)
        name = env_name(loc) if loc in Settings.model_fields else loc
        message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
        parts.append(f"setting {name}: {message}")
    return "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read from the environment on the first call and then kept.

    Raises ``SettingsError`` (one line) when a value is bad; the error is not kept, so the next
    call reads again."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def database_url() -> str:
    """DATABASE_URL, or the SQLite file under data/ (created on first use)."""
    url = get_settings().database_url
    if url == DEFAULT_DATABASE_URL:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    return url
