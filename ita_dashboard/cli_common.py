"""What the command-line modules share: :class:`CliError`, the migrated engine and the size-checked file read.

``cli.py`` and ``cli_oit.py`` both import from here, so neither imports the other's helpers.
"""

from __future__ import annotations

from pathlib import Path

from . import db
from .errors import ItaError


class CliError(ItaError):
    """A user-facing failure of the command line itself: printed as one line, exit code 1."""


def _engine():
    engine = db.make_engine()
    db.migrate(engine)
    return engine


def _read_file(path: str) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"file not found: {path}")
    from .config import get_settings

    max_mb = get_settings().max_upload_mb
    if p.stat().st_size > max_mb * 1024 * 1024:
        raise CliError(f"file is larger than {max_mb} MB: {path}")
    return p.read_bytes()
