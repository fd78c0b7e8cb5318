"""``python -m ita_dashboard ...``: the command-line contract of docs/cli.md.

Every command prints a one-line result and exits 0, or prints one clear line on stderr and
exits non-zero (2: bad usage, 1: bad input or data) leaving the database unchanged: each
command's writes happen inside one transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import db
from .cli_common import CliError, _engine, _read_file
from .errors import ItaError
from .permissions import Actor


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise SystemExit(_fail(f"{self.prog}: {message}", code=2))


def _fail(message: str, *, code: int = 1) -> int:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    return code


def _be_year(text: str) -> int:
    from .thai import to_arabic_digits

    try:
        year = int(to_arabic_digits(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}") from None
    if not 2400 <= year <= 2700:  # the years the framework knows (framework.load_framework)
        raise argparse.ArgumentTypeError(f"give the Buddhist-era fiscal year (e.g. 2568), not {year}")
    return year


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# --- commands -------------------------------------------------------------------------------


def cmd_init_db(args) -> int:
    engine = _engine()
    print(f"database ready at revision {db.schema_revision(engine)}: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_check_settings(args) -> int:
    """main() has read the settings already (a bad one ends there, exit 1): say what was read.
    scripts/run.sh calls this before starting the app."""
    from sqlalchemy.engine import make_url

    from .config import get_settings

    settings = get_settings()
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"settings ok: database {url}, uploads up to {settings.max_upload_mb} MB, language {settings.lang}, "
          f"backups {'signed' if settings.backup_key else 'unsigned'}")
    return 0


def cmd_add_org(args) -> int:
    from .services import orgs

    deps = [d for d in (args.departments or "").split(",") if d.strip()]
    with db.session_scope(_engine(), write=True) as s:
        org = orgs.create_organization(
            s, name=args.name, kind=args.kind, size=args.size, province=args.province, district=args.district,
            departments=deps, actor=Actor.system(),
        )
        print(f"organization {org.id} created: {org.name} ({len(deps)} departments)")
    return 0


def cmd_add_user(args) -> int:
    from . import auth
    from .services import orgs

    if not args.password_stdin:
        raise CliError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with db.session_scope(_engine(), write=True) as s:
        org = orgs.resolve_org_arg(s, name=args.org) if (args.org or args.department) else None
        dep_id = None
        if args.department:
            dep_id = orgs.resolver_for(s, organization_id=org.id).resolve(args.department)
            if dep_id is None:
                raise CliError(f"department not found in {org.name}: {args.department}")
        user = auth.create_user(
            s, username=args.username, password=password, role=args.role,
            organization_id=org.id if org else None, department_id=dep_id,
            display_name=args.display_name or args.username, must_change_password=args.temporary,
        )
        print(f"user {user.username} created with role {user.role.value}")
    return 0


def cmd_demo(args) -> int:
    from . import demo

    with db.session_scope(_engine(), write=True) as s:
        result = demo.load_demo(s)
    accounts = ", ".join(f"{a.username}/{a.password} ({a.role})" for a in result.accounts)
    print(f"demo loaded: {', '.join(result.organizations)}; accounts: {accounts}")
    return 0


def cmd_summary(args) -> int:
    from .services import orgs, summary

    with db.session_scope(_engine()) as s:
        org = orgs.resolve_org_arg(s, name=args.org)
        year = args.year or summary.default_fiscal_year(s, organization_id=org.id)
        data = summary.build_summary(s, organization_id=org.id, fiscal_year=year, as_of=args.as_of)
    if args.json:
        print(json.dumps(data.to_json_dict(), ensure_ascii=False))
    else:
        m, iit, eit = data.measures, data.iit, data.eit
        print(
            f"{data.organization} FY{data.fiscal_year}: measures {m.done}/{m.total} done, "
            f"{m.overdue} overdue; IIT {iit.responses}/{iit.target}; EIT {eit.responses}/{eit.target}"
        )
    return 0


def cmd_import_measures(args) -> int:
    data = _read_file(args.file)
    from .importers.measures import parse_measures_file
    from .services import orgs
    from .services.measure_import import import_plan

    plan = parse_measures_file(data, filename=Path(args.file).name, fiscal_year=args.year)
    year = args.year or plan.fiscal_year
    if year is None:
        raise CliError("cannot tell the fiscal year from the file: give --year (BE, e.g. 2568)")
    with db.session_scope(_engine(), write=True) as s:
        org = orgs.resolve_org_arg(s, name=args.org or None) if (args.org or not plan.organization_name) else (
            orgs.find_organization(s, name=plan.organization_name) or orgs.resolve_org_arg(s, name=None)
        )
        if plan.organization_name and not args.org and orgs.normalize_name(plan.organization_name) != orgs.normalize_name(org.name):
            print(f"note: the file names {plan.organization_name}, not in the database; "
                  f"imported into the only organisation, {org.name} (give --org to choose)", file=sys.stderr)
        result = import_plan(s, organization_id=org.id, plan=plan, fiscal_year=year, user_id=None,
                             file_name=Path(args.file).name, file_bytes=data)
    if args.json:
        sections = {(m.section_number, m.section_title) for m in plan.measures if m.section_title or m.section_number}
        print(json.dumps({
            "organization": org.name, "fiscal_year": year, "batch_id": result.batch_id,
            "read": len(plan.measures), "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "sections": len(sections), "missing": result.missing,
            "unresolved_owners": result.unresolved_owners,
            "unparsed_periods": [{"number": n, "period_text": t} for n, t in result.unparsed_periods],
            "skipped": result.skipped, "warnings": result.warnings,
        }, ensure_ascii=False))
        return 0
    print(
        f"{org.name} FY{year}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        + (f", unresolved owners: {', '.join(result.unresolved_owners)}" if result.unresolved_owners else "")
    )
    return 0


def cmd_list_measures(args) -> int:
    from .services import orgs, summary
    from .services.measures import measure_states

    with db.session_scope(_engine()) as s:
        org = orgs.resolve_org_arg(s, name=args.org)
        year = args.year or summary.default_fiscal_year(s, organization_id=org.id)
        states = measure_states(s, organization_id=org.id, fiscal_year=year, as_of=args.as_of)
    items = [
        {
            "number": m.number, "section": m.section_number, "section_title": m.section_title, "title": m.title,
            "owner_text": m.owner_text, "departments": m.department_names, "owner_all": m.owner_all,
            "unresolved_owners": m.unresolved_owners, "period_text": m.period_text,
            "start": m.start.isoformat() if m.start else None, "end": m.end.isoformat() if m.end else None,
            "period_unparsed": m.period_unparsed, "recurrence": m.recurrence,
            "status": m.status.value, "percent": m.percent, "overdue": m.overdue,
        }
        for m in states
    ]
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
    else:
        print(f"{org.name} FY{year}: {len(items)} measures")
    return 0


def cmd_import_survey(args) -> int:
    data = _read_file(args.file)
    from .importers.surveys import parse_survey_file
    from .services import orgs
    from .services.survey_import import earlier_import, import_survey_file

    engine = _engine()
    with db.session_scope(engine) as s:
        org = orgs.resolve_org_arg(s, name=args.org)
        known = earlier_import(s, organization_id=org.id, instrument=args.instrument, data=data, fiscal_year=args.year)
    # A new file is read before the write transaction starts: reading 100,000 rows takes seconds,
    # and SQLite's write lock would keep every other writer (a page saving progress) waiting
    parsed = None if known is not None else parse_survey_file(data, filename=Path(args.file).name)
    with db.session_scope(engine, write=True) as s:
        org = orgs.resolve_org_arg(s, name=args.org)
        r = import_survey_file(s, organization_id=org.id, instrument=args.instrument, data=data,
                               fiscal_year=args.year, file_name=Path(args.file).name, user_id=None, parsed=parsed)
    line = {"read": r.read, "imported": r.imported, "duplicate": r.duplicate, "rejected": r.rejected}
    state = {"new": r.new, "changed": r.changed, "unchanged": r.unchanged, "vanished": r.vanished}
    if args.json:
        vanished_rows = [{"row": v.row, "file": v.file_name, "submitted_at": v.submitted_at.isoformat(),
                          "department": v.department_text} for v in r.vanished_rows]
        print(json.dumps({**line, **state, "batch_id": r.batch_id, "fiscal_year": r.fiscal_year,
                          "unmatched_departments": r.unmatched_departments, "vanished_rows": vanished_rows},
                         ensure_ascii=False))
    else:
        print(f"{org.name} {args.instrument.upper()} FY{r.fiscal_year}: read {r.read}, imported {r.imported}, "
              f"duplicate {r.duplicate}, rejected {r.rejected}; new {r.new}, changed {r.changed}, "
              f"unchanged {r.unchanged}, vanished {r.vanished}")
    return 0


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: a failure leaves no half-written file."""
    import tempfile

    if not path.parent.is_dir():
        raise CliError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as f:
            tmp = f.name
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc


def cmd_report(args) -> int:
    from .reports import docx_report, measures_table
    from .services import orgs

    out = Path(args.output)
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in ("docx", "xlsx"):
        raise SystemExit(_fail("report: give --format docx|xlsx (or an -o FILE ending in .docx or .xlsx)", code=2))
    with db.session_scope(_engine()) as s:
        org = orgs.resolve_org_arg(s, name=args.org)
        report = measures_table.build_report(s, organization_id=org.id, fiscal_year=args.year, round_=args.round,
                                             thai_digits=args.thai_digits, with_photos=fmt == "docx")
    data = docx_report.to_docx(report) if fmt == "docx" else measures_table.to_xlsx(report)
    _write_atomic(out, data)
    print(f"report written: {out} ({len(report.rows)} measures, {len(report.activities)} activities)")
    return 0


def cmd_grant(args) -> int:
    from sqlmodel import select

    from .models import User
    from .services import memberships, orgs

    if bool(args.org) == bool(args.province):
        raise CliError("give exactly one of --org NAME or --province NAME")
    with db.session_scope(_engine(), write=True) as s:
        user = s.exec(select(User).where(User.username == args.username.strip())).first()
        if user is None:
            raise CliError(f"user not found: {args.username}")
        if args.province:
            if args.department:
                raise CliError("--department goes with --org, not --province")
            n = memberships.grant_province(s, actor=Actor.system(), user_id=user.id, province=args.province,
                                           role=args.role)
            where = f"{n} organisations of {args.province}"
        else:
            org = orgs.resolve_org_arg(s, name=args.org)
            dep_id = None
            if args.department:
                dep_id = orgs.resolver_for(s, organization_id=org.id).resolve(args.department)
                if dep_id is None:
                    raise CliError(f"department not found in {org.name}: {args.department}")
            memberships.grant(s, actor=Actor.system(), user_id=user.id, organization_id=org.id, role=args.role,
                              department_id=dep_id)
            where = org.name
    print(f"{user.username} is {args.role} in {where}")
    return 0


def cmd_backup(args) -> int:
    from .backup import create_backup

    r = create_backup(_engine(), path=args.file, actor=Actor.system(), overwrite=args.force)
    print(f"backup written: {r.path} ({r.rows} rows in {r.tables} tables, revision {r.revision})")
    return 0


def cmd_restore(args) -> int:
    from .backup import restore_backup

    r = restore_backup(_engine(), source=args.file, actor=Actor.system(), allow_unsigned=args.allow_unsigned)
    print(f"restored {args.file}: {r.rows} rows in {r.tables} tables (backup of {r.created_at}, revision {r.revision})")
    return 0


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from .framework import AGENCY_KINDS, AGENCY_SIZES
    from .models import Role

    p = _Parser(prog="python -m ita_dashboard", description="ITA dashboard command line")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help)
        sp.set_defaults(func=func)
        return sp

    add("init-db", cmd_init_db, "create or upgrade the database schema")
    add("check-settings", cmd_check_settings, "check DATABASE_URL and the ITA_* settings; the database is not opened")

    sp = add("add-org", cmd_add_org, "add an organisation")
    sp.add_argument("name")
    sp.add_argument("--kind", default="other", choices=AGENCY_KINDS)
    sp.add_argument("--size", choices=AGENCY_SIZES)
    sp.add_argument("--province")
    sp.add_argument("--district")
    sp.add_argument("--departments", help='comma-separated: "สำนักปลัด,กองคลัง,กองช่าง"')

    sp = add("add-user", cmd_add_user, "add a local account (password on stdin)")
    sp.add_argument("username")
    sp.add_argument("--role", required=True, choices=[r.value for r in Role])
    sp.add_argument("--department")
    sp.add_argument("--org")
    sp.add_argument("--display-name")
    sp.add_argument("--password-stdin", action="store_true")
    sp.add_argument("--temporary", action="store_true", help="must change the password at first login")

    add("demo", cmd_demo, "load the two seed agencies as demo data")

    sp = add("summary", cmd_summary, "print the overview's numbers")
    sp.add_argument("--org")
    sp.add_argument("--year", type=_be_year)
    sp.add_argument("--as-of", type=_iso_date)
    sp.add_argument("--json", action="store_true")

    sp = add("import-measures", cmd_import_measures, "import a measures plan or report")
    sp.add_argument("file")
    sp.add_argument("--org")
    sp.add_argument("--year", type=_be_year)
    sp.add_argument("--json", action="store_true")

    sp = add("list-measures", cmd_list_measures, "list the measures of a year")
    sp.add_argument("--org")
    sp.add_argument("--year", type=_be_year)
    sp.add_argument("--as-of", type=_iso_date)
    sp.add_argument("--json", action="store_true")

    sp = add("import-survey", cmd_import_survey, "import an IIT/EIT survey export")
    sp.add_argument("file")
    sp.add_argument("--instrument", required=True, choices=["iit", "eit"])
    sp.add_argument("--org")
    sp.add_argument("--year", type=_be_year)
    sp.add_argument("--json", action="store_true")

    sp = add("report", cmd_report, "write the yearly measures report (Word or Excel)")
    sp.add_argument("--year", type=_be_year, required=True)
    sp.add_argument("--round", type=int, required=True, choices=[6, 12])
    sp.add_argument("--format", choices=["docx", "xlsx"], help="default: from the -o file's suffix")
    sp.add_argument("-o", "--output", required=True, metavar="FILE")
    sp.add_argument("--org")
    sp.add_argument("--thai-digits", action="store_true", help="write digits as ๑๒๓")

    sp = add("grant", cmd_grant, "give a user a role in another organisation, or in every one of a province")
    sp.add_argument("username")
    sp.add_argument("--role", required=True, choices=[r.value for r in Role])
    sp.add_argument("--org")
    sp.add_argument("--province")
    sp.add_argument("--department")

    sp = add("backup", cmd_backup, "write a backup of the whole database (a portable zip)")
    sp.add_argument("file")
    sp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    sp = add("restore", cmd_restore, "replace all data with a backup made by the backup command")
    sp.add_argument("file")
    sp.add_argument("--allow-unsigned", action="store_true",
                    help="with ITA_BACKUP_KEY set, restore a backup that is unsigned or wrongly signed")

    from .cli_oit import register as register_oit
    register_oit(add, be_year=_be_year, iso_date=_iso_date)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .config import SettingsError, get_settings

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        settings = get_settings()  # read once: a bad value ends every command here, before the database
    except SettingsError as exc:
        return _fail(str(exc))
    try:
        return args.func(args)
    except BrokenPipeError:  # `summary --json | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ItaError as exc:  # the user's mistake, or the database busy or gone: its message
        return _fail(str(exc))
    except Exception as exc:  # a bug: still one line, never a traceback (ITA_DEBUG=1 shows it)
        if settings.debug:
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc}")
