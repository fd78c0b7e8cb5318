"""The ITA framework (NACC) of each fiscal year, read from ``fyNNNN.toml`` in this folder.

Everything that changes from year to year (weights, indicators, answer scales, rating labels,
EIT minimums, the collection window, the O-item numbers of the measures documents) lives in
the year files; the rest of the app reads it only through :func:`load_framework`.

Provenance: every value in a year file carries ``sources`` (ids of the ITA fact sheet, ``S1``...,
or ``APP`` for this app's own choice, e.g. the question keywords) and ``confidence`` H/M/L/U.
:meth:`Framework.source` returns them for any dotted key. Values NACC publishes nowhere we
found are still given (so the app works) but marked ``U`` with a note; unknown values that we
cannot reasonably assume (e.g. the EIT minimum of a เทศบาลเมือง) are ``None``.

Years without a file: :func:`load_framework` uses the nearest earlier year's file (or, before
the first file, the earliest one), sets ``Framework.inherited_from`` to that file's year and
downgrades every confidence to U. For years up to 2565 the AA-F letter grades of
``legacy_grades.toml`` replace the rating labels and no per-instrument floor is applied.

Overrides: an agency may replace some values with its own (:meth:`Framework.override_keys`),
given as ``{dotted key: value}``. A bad key or value raises ``ValueError`` with a clear message.

Modules: ``schema`` (pydantic models of the files' shape), ``files`` (reading and checking a year
file), ``values`` (kinds, sizes and the checks of single values), ``model`` (:class:`Framework`),
``overrides`` (an agency's values), ``loader`` (:func:`load_framework`).
"""

from .files import available_years
from .loader import load_framework
from .model import Framework, IndicatorDef, InstrumentDef
from .oit_items import OitItemDef
from .values import AGENCY_KINDS, AGENCY_SIZES, normalize_text

__all__ = [
    "AGENCY_KINDS", "AGENCY_SIZES", "Framework", "IndicatorDef", "InstrumentDef", "OitItemDef",
    "available_years", "load_framework", "normalize_text",
]
