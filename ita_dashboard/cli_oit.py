"""OIT commands of the command line (docs/cli.md): ``oit-status``, ``import-oit``, ``check-links``.

Kept beside ``cli.py`` (which registers them) so the OIT contract reads in one place. The same
rules hold: one line (or one JSON object) on stdout, one line on stderr and a non-zero exit on bad
input, the database unchanged then.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any, Callable

from . import db
from .cli_common import CliError, _engine, _read_file
from .permissions import Actor

STATUS_TH = {"not_started": "ยังไม่เริ่ม", "in_progress": "กำลังจัดทำ", "published": "เผยแพร่แล้ว", "checked": "ตรวจแล้ว"}


def _org_and_year(session, args) -> tuple[Any, int]:
    from .services import orgs
    from .thai import fiscal_year_of

    org = orgs.resolve_org_arg(session, name=args.org)
    return org, args.year or fiscal_year_of(dt.date.today())


def _check_json(c) -> Any:
    if c is None:
        return None
    return {"checked_at": c.checked_at.isoformat(), "ok": c.ok, "problem": c.problem, "status_code": c.status_code,
            "content_type": c.content_type, "final_url": c.final_url}


def cmd_oit_status(args) -> int:
    from .services import oit

    with db.session_scope(_engine()) as s:
        org, year = _org_and_year(s, args)
        states = oit.item_states(s, organization_id=org.id, fiscal_year=year, as_of=args.as_of)
        est = oit.estimate(states)
    items = [
        {"number": x.number, "name": x.name, "indicator": x.indicator, "department": x.department_name,
         "status": x.status.value, "url": x.url, "due_date": x.due_date.isoformat() if x.due_date else None,
         "ready": x.ready, "overdue": x.overdue, "last_check": _check_json(x.last_check),
         "result": (x.last_check.problem or "ok") if x.last_check else None}
        for x in states
    ]
    if args.json:
        print(json.dumps({"organization": org.name, "fiscal_year": year, "items": items, "ready": est.ready,
                          "estimated_score": est.score}, ensure_ascii=False))
    else:
        print(f"{org.name} FY{year}: {est.ready}/{est.items} OIT items ready"
              + (f", estimate {est.score:.2f}" if est.score is not None else ""))
    return 0


def cmd_import_oit(args) -> int:
    from .importers.oit_list import parse_oit_list
    from .services import oit

    data = _read_file(args.file)
    parsed = parse_oit_list(data)
    if not parsed.items:
        first = parsed.rejected[0] if parsed.rejected else None
        raise CliError("no OIT item in the file" + (f" (row {first['row']}: {first['reason']})" if first else ""))
    with db.session_scope(_engine(), write=True) as s:
        org, year = _org_and_year(s, args)
        r = oit.import_list(s, organization_id=org.id, fiscal_year=year, parsed=parsed, actor=Actor.system())
    out = {"created": r.created, "updated": r.updated, "unchanged": r.unchanged, "statuses": r.statuses,
           "rejected": len(r.rejected), "rejected_rows": r.rejected, "unresolved_departments": r.unresolved_departments}
    if args.json:
        print(json.dumps({"organization": org.name, "fiscal_year": year, **out}, ensure_ascii=False))
    else:
        print(f"{org.name} FY{year} OIT from {Path(args.file).name}: {r.created} created, {r.updated} updated, "
              f"{r.unchanged} unchanged, {len(r.rejected)} rejected")
    return 0


def cmd_check_links(args) -> int:
    from .services import oit

    engine = _engine()
    with db.session_scope(engine) as s:
        org, year = _org_and_year(s, args)
        org_name, org_id = org.name, org.id
    results = oit.check_links(open_session=functools.partial(db.session_scope, engine), organization_id=org_id,
                              fiscal_year=year, actor=Actor.system(), timeout=args.timeout)
    rows = [{"number": st.number, "url": r.url, "ok": r.ok, "problem": r.problem, "status_code": r.status_code,
             "content_type": r.content_type, "final_url": r.final_url} for st, r in results]
    bad = sum(not r.ok for _, r in results)
    if args.json:
        print(json.dumps({"organization": org_name, "fiscal_year": year, "checked": len(rows), "problems": bad,
                          "links": rows}, ensure_ascii=False))
    else:
        print(f"{org_name} FY{year}: {len(rows)} links checked, {bad} with problems")
    return 0


def register(add: Callable[..., Any], *, be_year: Callable[[str], int], iso_date: Callable[[str], dt.date]) -> None:
    """Add the OIT sub-commands to ``cli.build_parser``'s parser."""
    sp = add("oit-status", cmd_oit_status, "list the OIT items of a year with their status and last link check")
    sp.add_argument("--org")
    sp.add_argument("--year", type=be_year)
    sp.add_argument("--as-of", type=iso_date)
    sp.add_argument("--json", action="store_true")

    sp = add("import-oit", cmd_import_oit, "import the year's OIT item list from a spreadsheet")
    sp.add_argument("file")
    sp.add_argument("--org")
    sp.add_argument("--year", type=be_year)
    sp.add_argument("--json", action="store_true")

    sp = add("check-links", cmd_check_links, "visit every OIT item's URL and record what came back")
    sp.add_argument("--org")
    sp.add_argument("--year", type=be_year)
    sp.add_argument("--timeout", type=float, default=10.0, help="seconds per link (default 10)")
    sp.add_argument("--json", action="store_true")
