"""Thai calendar helpers (split into modules in the next commit)."""

from .periods import *  # noqa: F401,F403
