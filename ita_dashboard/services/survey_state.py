"""A form's state: which of its responses count, after each batch (one rule for imports and replays).

Every batch records which responses it contained
(:class:`~ita_dashboard.models.SurveyBatchResponse`), and the counted responses of a form are a
function of its batches that are not undone, applied in upload order. Starting from nothing,
each batch's rows ``R`` (those belonging to the form) meet the state ``C``, sharing ``k`` rows;
``R`` is *newer* when its newest submitted time is at least the newest of ``C`` (a tie: the
later upload):

1. ``k == 0``: the file shares no row with the state (a first export, a hand-made weekly
   extract, a form reopened): its rows **add up**, ``C ∪ R``.
2. ``R`` newer and sharing more than half of ``C``: a **newer cumulative export**, the form's
   whole state: ``C := R``. Rows of ``C`` it lacks *vanish*: an edited response (Google Forms
   gives the edit a new timestamp and no ID, so the edit looks new and its old version vanishes),
   a row an admin deleted or fixed in the Sheet.
3. ``R`` older and more than half of it in ``C``: an **older export** uploaded after a newer
   one: the state stays; its rows the state lacks are stored flagged vanished. The count never
   shrinks.
4. Otherwise (overlapping extracts) the rows add up, ``C ∪ R``.

Then one version per identity: when the export has the form's own response ID (Microsoft
Forms' ``ID``) or an e-mail unique in the file, two counted rows with the same identity keep only
the newer file's version, and the pair is reported as *changed* rather than new + vanished.

Vanished rows are kept, flagged (``SurveyResponse.vanished_by``, the batch after which they
stopped counting), excluded from every count (``models.counted()``) and listed to the admin.
Known limits: a deleted response that was the form's newest shows as vanished only once a
later response arrives (until then the file looks older); rows carried over into a form whose
header changed stay with the old form (columns added at the right are left out of the new form's
keys, so those rows are recognised: ``survey_keys``); rows stored before batches recorded their contents
(migration 0004) are known only to the batch that first stored them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class Step:
    state: dict[Any, tuple[Optional[str], dt.datetime]]  # member -> (identity, submitted_at)
    dropped: set[Any]  # members of the old state no longer counted
    replaced: dict[Any, Any]  # new version -> old version (same identity)
    left_out: set[Any]  # members of the batch not counted


def next_state(state: dict[Any, tuple[Optional[str], dt.datetime]],
               batch: dict[Any, tuple[Optional[str], dt.datetime]]) -> Step:
    """The form's counted rows after one more batch; both maps: member -> (identity, submitted_at)."""
    if not batch:
        return Step(dict(state), set(), {}, set())
    shared = sum(1 for k in batch if k in state)
    newest_state = max((at for _, at in state.values()), default=None)
    newest_batch = max(at for _, at in batch.values())
    newer = newest_state is None or newest_batch >= newest_state
    if shared and newer and 2 * shared > len(state):
        result = dict(batch)  # a newer cumulative export: the form's whole state
    elif shared and not newer and 2 * shared > len(batch):
        result = dict(state)  # an older export: nothing it holds beyond the state counts
    else:
        result = {**state, **batch}  # disjoint or overlapping extracts add up
    identified = any(ref for ref, _ in batch.values())
    if identified:  # one version per identity: the newer file's
        winners = batch if newer else state
        holders: dict[str, list[Any]] = {}
        for k, (ref, _) in result.items():
            if ref:
                holders.setdefault(ref, []).append(k)
        for ks in holders.values():
            if len(ks) > 1 and any(k in winners for k in ks):
                for k in ks:
                    if k not in winners:
                        del result[k]
    dropped = {k for k in state if k not in result}
    left_out = {k for k in batch if k not in result}
    replaced: dict[Any, Any] = {}
    if identified and newer and dropped:
        fresh = {ref: k for k, (ref, _) in batch.items() if ref and k in result and k not in state}
        for k in dropped:
            ref = state[k][0]
            if ref in fresh:
                replaced[fresh[ref]] = k
    return Step(result, dropped, replaced, left_out)
