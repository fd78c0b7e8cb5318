"""Survey response exports (IIT/EIT) into plain rows (split into modules in the next commit)."""

from .layout import *  # noqa: F401,F403
from .layout import BANGKOK, NO_DEPARTMENT, NotASurvey, ParsedRow, ParsedSurvey  # noqa: F401
