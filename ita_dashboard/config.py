"""Settings read from the environment, with the defaults a single municipality needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "ita.db"
MIGRATIONS_DIR = REPO_ROOT / "migrations"
SEEDS_DIR = DATA_DIR / "demo"


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_upload_mb: int = 50
    session_idle_minutes: int = 30
    session_max_hours: int = 12  # a login ends this long after it began, however active
    lockout_failures: int = 5
    lockout_minutes: int = 15
    lockout_window_minutes: int = 1440  # failures further apart than this start counting again


def database_url() -> str:
    """DATABASE_URL, or the SQLite file under data/ (created on first use)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Heroku-style URLs; SQLAlchemy 2 wants the driver spelled out.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def get_settings() -> Settings:
    def _int(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name, default))
        except ValueError:
            return default

    return Settings(
        database_url=database_url(),
        max_upload_mb=_int("ITA_MAX_UPLOAD_MB", 50),
        session_idle_minutes=max(1, _int("ITA_SESSION_IDLE_MINUTES", 30)),
        session_max_hours=max(1, _int("ITA_SESSION_MAX_HOURS", 12)),
        lockout_failures=max(1, _int("ITA_LOCKOUT_FAILURES", 5)),
        lockout_minutes=max(1, _int("ITA_LOCKOUT_MINUTES", 15)),
        lockout_window_minutes=max(1, _int("ITA_LOCKOUT_WINDOW_MINUTES", 1440)),
    )
