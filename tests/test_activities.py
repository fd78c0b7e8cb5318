"""Activities: add with a photo checked by content, permissions, listing by month, delete."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import Activity, AuditEvent
from ita_dashboard.permissions import PermissionDenied
from ita_dashboard.services import activities as svc
from tests.helpers import actor_for, make_measure, make_org, make_user, tiny_png


def tiny_jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 0)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def setup(engine):
    org = make_org(engine)
    finance = make_measure(engine, org_id=org, number=1, title="เผยแพร่แผนจัดซื้อ", departments=["กองคลัง"])
    works = make_measure(engine, org_id=org, number=2, title="ตรวจรับงานจ้าง", departments=["กองช่าง"])
    shared = make_measure(engine, org_id=org, number=3, title="ประชุมชี้แจง", owner_all=True)
    actors = {
        role: actor_for(engine, make_user(engine, username=role, role=role, org_id=org,
                                          department="กองคลัง" if role == "department_head" else None))
        for role in ("admin", "department_head", "viewer", "executive")
    }
    return engine, org, {"finance": finance, "works": works, "shared": shared}, actors


def add(engine, org, actor, **kwargs) -> int:
    kwargs.setdefault("date", dt.date(2024, 11, 5))
    kwargs.setdefault("title", "อบรมคุณธรรม")
    with db.session_scope(engine) as s:
        return svc.add_activity(s, organization_id=org, actor=actor, **kwargs).id


def test_add_with_png_photo_stores_it_in_the_database(setup):
    engine, org, m, actors = setup
    png = tiny_png()
    aid = add(engine, org, actors["admin"], title="  อบรม   คุณธรรม ", text="มีผู้เข้าร่วม 40 คน", measure_id=m["shared"],
              photo=png)
    with db.session_scope(engine) as s:
        row = s.get(Activity, aid)
        assert (row.title, row.photo_mime, bytes(row.photo)) == ("อบรม คุณธรรม", "image/png", png)
        assert svc.activity_photo(s, activity_id=aid) == (png, "image/png")
        assert svc.activity_photo(s, activity_id=aid, organization_id=org + 1000) is None
        [item] = svc.list_activities(s, organization_id=org, fiscal_year=2568)
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "activity.add")).one()
    assert item.has_photo and item.photo is None  # bytes not loaded by the listing
    assert (item.measure_number, item.measure_title) == (3, "ประชุมชี้แจง")
    assert event.username == "admin" and "photo" not in event.after and event.after["photo_bytes"] == len(png)
    with db.session_scope(engine) as s:
        [loaded] = svc.list_activities(s, organization_id=org, fiscal_year=2568, with_photos=True)
    assert loaded.photo == png


def test_jpeg_accepted_and_activity_without_photo(setup):
    engine, org, _, actors = setup
    jpg = add(engine, org, actors["admin"], photo=tiny_jpeg())
    plain = add(engine, org, actors["admin"], title="ประชุม", date=dt.date(2024, 12, 1))
    with db.session_scope(engine) as s:
        assert svc.activity_photo(s, activity_id=jpg)[1] == "image/jpeg"
        assert svc.activity_photo(s, activity_id=plain) is None


@pytest.mark.parametrize("photo, words", [
    (b"this is a text file renamed to photo.png", "ไม่ใช่รูปภาพ"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "ไม่ใช่รูปภาพ"),
    (b"\x89PNG\r\n\x1a\n" + b"broken" * 10, "เสียหาย"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024), "ใหญ่เกิน"),
    (b"GIF89a" + b"\x00" * 20, "ไม่ใช่รูปภาพ"),
])
def test_fake_or_too_large_photo_is_refused(setup, photo, words):
    engine, org, _, actors = setup
    with pytest.raises(svc.ActivityError, match=words):
        add(engine, org, actors["admin"], photo=photo)
    with db.session_scope(engine) as s:
        assert s.exec(select(Activity)).all() == []


def test_photo_mime_by_magic_bytes():
    assert svc.photo_mime(tiny_png()) == "image/png"
    assert svc.photo_mime(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert svc.photo_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert svc.photo_mime(b"hello.png") is None


def test_permissions(setup):
    engine, org, m, actors = setup
    head = actors["department_head"]
    add(engine, org, head, measure_id=m["finance"])  # own department
    add(engine, org, head, measure_id=m["shared"], title="กิจกรรมทุกกอง")  # every department
    for actor, kwargs in (
        (head, {"measure_id": m["works"]}),  # another department's measure
        (head, {}),  # a head must link one of their measures
        (actors["viewer"], {}),
        (actors["viewer"], {"measure_id": m["finance"]}),
        (actors["executive"], {"measure_id": m["finance"]}),
    ):
        with pytest.raises(PermissionDenied):
            add(engine, org, actor, **kwargs)
    other = make_org(engine, name="อบต.อื่น", kind="อบต.")
    other_admin = actor_for(engine, make_user(engine, username="other_admin", role="admin", org_id=other))
    with pytest.raises(PermissionDenied):
        add(engine, org, other_admin)
    with pytest.raises(svc.ActivityError, match="ไม่ใช่ของหน่วยงานนี้"):
        add(engine, other, other_admin, measure_id=m["finance"])
    with db.session_scope(engine) as s:
        assert len(s.exec(select(Activity)).all()) == 2
    from ita_dashboard.permissions import can_add_activity  # the one rule the form asks too

    assert can_add_activity(head, org) and not can_add_activity(actors["viewer"], org)
    assert not can_add_activity(other_admin, org)


def test_title_required(setup):
    engine, org, _, actors = setup
    with pytest.raises(svc.ActivityError, match="หัวข้อ"):
        add(engine, org, actors["admin"], title="   ")


def test_list_by_fiscal_year_month_and_measure(setup):
    engine, org, m, actors = setup
    admin = actors["admin"]
    a = add(engine, org, admin, date=dt.date(2024, 11, 5), title="ก", measure_id=m["finance"])
    b = add(engine, org, admin, date=dt.date(2024, 11, 20), title="ข")
    c = add(engine, org, admin, date=dt.date(2025, 1, 10), title="ค", measure_id=m["finance"])
    add(engine, org, admin, date=dt.date(2024, 9, 30), title="ปีก่อน")  # fiscal year 2567
    other = make_org(engine, name="อบต.อื่น", kind="อบต.")
    add(engine, other, actor_for(engine, make_user(engine, username="oa", role="admin", org_id=other)),
        date=dt.date(2024, 11, 6), title="ของที่อื่น")
    with db.session_scope(engine) as s:
        year = svc.list_activities(s, organization_id=org, fiscal_year=2568)
        november = svc.list_activities(s, organization_id=org, fiscal_year=2568, month=(2024, 11))
        by_measure = svc.list_activities(s, organization_id=org, fiscal_year=2568, measure_id=m["finance"])
        empty = svc.list_activities(s, organization_id=org, fiscal_year=2568, month=(2025, 2))
        last_year = svc.list_activities(s, organization_id=org, fiscal_year=2567)
    assert [x.id for x in year] == [c, b, a]  # newest first
    assert [x.id for x in november] == [b, a]
    assert [x.id for x in by_measure] == [c, a]
    assert empty == [] and [x.title for x in last_year] == ["ปีก่อน"]


def test_delete_is_admin_only_and_audited(setup):
    engine, org, m, actors = setup
    aid = add(engine, org, actors["department_head"], measure_id=m["finance"], photo=tiny_png())
    with pytest.raises(PermissionDenied):
        with db.session_scope(engine) as s:
            svc.delete_activity(s, activity_id=aid, actor=actors["department_head"])
    with db.session_scope(engine) as s:
        svc.delete_activity(s, activity_id=aid, actor=actors["admin"])
    with db.session_scope(engine) as s:
        assert s.get(Activity, aid) is None
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "activity.delete")).one()
    assert event.before["title"] == "อบรมคุณธรรม" and "photo" not in event.before and event.before["photo_bytes"] > 0
    with pytest.raises(svc.ActivityError):
        with db.session_scope(engine) as s:
            svc.delete_activity(s, activity_id=aid, actor=actors["admin"])
