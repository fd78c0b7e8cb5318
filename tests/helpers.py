"""Small builders for tests (in the spirit of full-stack-fastapi-template's tests/utils)."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from ita_dashboard import auth, db
from ita_dashboard.models import Measure, MeasureDepartment
from ita_dashboard.permissions import Actor
from ita_dashboard.services import orgs

PASSWORD = "correct-horse-9"


def make_org(engine, *, name: str = "เทศบาลตำบลทดสอบ", kind: str = "เทศบาลตำบล", size: Optional[str] = "M",
             departments: Sequence[tuple[str, int]] = (("สำนักปลัด", 10), ("กองคลัง", 5), ("กองช่าง", 4))) -> int:
    with db.session_scope(engine) as s:
        org = orgs.create_organization(s, name=name, kind=kind, size=size, actor=Actor.system())
        for dep, staff in departments:
            orgs.add_department(s, organization_id=org.id, name=dep, iit_eligible_staff=staff, actor=Actor.system())
        return org.id


def dep_id(engine, org_id: int, name: str) -> int:
    with db.session_scope(engine) as s:
        found = orgs.resolver_for(s, organization_id=org_id).resolve(name)
    assert found is not None, name
    return found


def make_user(engine, *, username: str, role: str, org_id: Optional[int], department: Optional[str] = None,
              password: str = PASSWORD, must_change: bool = False) -> int:
    dep = dep_id(engine, org_id, department) if department else None
    with db.session_scope(engine) as s:
        return auth.create_user(s, username=username, password=password, role=role, organization_id=org_id,
                                department_id=dep, must_change_password=must_change).id


def actor_for(engine, user_id: int) -> Actor:
    from ita_dashboard.models import User

    with db.session_scope(engine) as s:
        return Actor.of(s.get(User, user_id))


def make_measure(engine, *, org_id: int, year: int = 2568, number: int = 1, title: str = "มาตรการทดสอบ",
                 departments: Sequence[str] = (), owner_all: bool = False,
                 start: Optional[dt.date] = dt.date(2024, 10, 1), end: Optional[dt.date] = dt.date(2025, 3, 31)) -> int:
    dep_ids = [dep_id(engine, org_id, d) for d in departments]
    with db.session_scope(engine) as s:
        m = Measure(organization_id=org_id, fiscal_year=year, number=number, title=title, owner_all=owner_all,
                    owner_text="ทุกกอง" if owner_all else ", ".join(departments), start_date=start, end_date=end,
                    period_text="ตุลาคม 2567 - มีนาคม 2568")
        s.add(m)
        s.flush()
        for d in dep_ids:
            s.add(MeasureDepartment(measure_id=m.id, department_id=d))
        return m.id


def make_demo_db(path) -> str:
    """A migrated SQLite file at ``path`` holding the demo (both seed agencies); returns its URL."""
    from ita_dashboard.demo import load_demo

    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.migrate(engine)
    with db.session_scope(engine) as s:
        load_demo(s)
    engine.dispose()
    return url


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG built by hand (signature, IHDR, IDAT, IEND)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
