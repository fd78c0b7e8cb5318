"""The ``summary --json`` contract (docs/cli.md): every key, its place and its JSON type.

The expectations were taken from the output before the summary became dataclasses (issue 14):
``Summary.to_json_dict()`` must give exactly the dict ``build_summary`` gave then, key for key,
in the same order. Department names, indicator numbers and due measures are data, written ``*``
and ``[]`` in the paths.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import Organization
from ita_dashboard.services.summary import build_summary
from tests.helpers import make_demo_db, make_org

NAOO = "เทศบาลตำบลนาอ้อ"
DATA_KEYED = {"by_department", "indicator_scores", "by_indicator"}

# (path, JSON type) in output order, from the demo's เทศบาลตำบลนาอ้อ, FY2566 as of 30 Sep 2023
POPULATED = [
    ("organization", "string"),
    ("fiscal_year", "int"),
    ("as_of", "string"),
    ("is_demo", "bool"),
    ("measures", "object"),
    ("measures.total", "int"),
    ("measures.done", "int"),
    ("measures.in_progress", "int"),
    ("measures.not_started", "int"),
    ("measures.cancelled", "int"),
    ("measures.overdue", "int"),
    ("measures.by_department", "object"),
    ("measures.by_department.*", "object"),
    ("measures.by_department.*.total", "int"),
    ("measures.by_department.*.done", "int"),
    ("measures.by_department.*.in_progress", "int"),
    ("measures.by_department.*.not_started", "int"),
    ("measures.by_department.*.overdue", "int"),
    ("measures.unresolved_owners", "array"),
    ("measures.unresolved_owners[]", "string"),
    ("surveys", "object"),
    ("surveys.iit", "object"),
    ("surveys.iit.responses", "int"),
    ("surveys.iit.target", "int"),
    ("surveys.iit.by_department", "object"),
    ("surveys.iit.by_department.*", "object"),
    ("surveys.iit.by_department.*.responses", "int"),
    ("surveys.iit.by_department.*.target", "int"),
    ("surveys.iit.by_department.*.eligible", "int"),
    ("surveys.iit.unmatched_departments", "array"),
    ("surveys.iit.over_eligible", "array"),
    ("surveys.iit.estimated_score", "float"),
    ("surveys.iit.indicator_scores", "object"),
    ("surveys.iit.indicator_scores.*", "float"),
    ("surveys.iit.scored_responses", "int"),
    ("surveys.iit.itas_count", "null"),
    ("surveys.iit.itas_as_of", "null"),
    ("surveys.eit", "object"),
    ("surveys.eit.responses", "int"),
    ("surveys.eit.target", "int"),
    ("surveys.eit.by_department", "object"),
    ("surveys.eit.by_department.*", "object"),
    ("surveys.eit.by_department.*.responses", "int"),
    ("surveys.eit.by_department.*.target", "null"),
    ("surveys.eit.by_department.*.eligible", "null"),
    ("surveys.eit.unmatched_departments", "array"),
    ("surveys.eit.over_eligible", "array"),
    ("surveys.eit.estimated_score", "float"),
    ("surveys.eit.indicator_scores", "object"),
    ("surveys.eit.indicator_scores.*", "float"),
    ("surveys.eit.scored_responses", "int"),
    ("surveys.eit.itas_count", "null"),
    ("surveys.eit.itas_as_of", "null"),
    ("oit_estimate", "float"),
    ("oit", "object"),
    ("oit.items", "int"),
    ("oit.ready", "int"),
    ("oit.estimated_score", "float"),
    ("oit.source", "string"),
    ("oit.items_score", "float"),
    ("oit.overdue", "int"),
    ("oit.by_indicator", "object"),
    ("oit.by_indicator.*", "object"),
    ("oit.by_indicator.*.items", "int"),
    ("oit.by_indicator.*.ready", "int"),
    ("oit.by_indicator.*.score", "float"),
    ("estimated_total", "float"),
    ("estimated_level", "string"),
    ("level_held_back_by", "array"),
    ("passing_bar", "float"),
    ("below_bar", "array"),
    ("below_bar[]", "string"),
    ("collection_window", "object"),
    ("collection_window.start", "string"),
    ("collection_window.end", "string"),
    ("collection_window.days_left", "int"),
    ("due", "array"),
    ("due[]", "object"),
    ("due[].number", "int"),
    ("due[].title", "string"),
    ("due[].end", "string"),
    ("due[].overdue", "bool"),
    ("due[].status", "string"),
    ("due[].percent", "int"),
]

# the whole output for a new organisation with three departments and nothing else, FY2568 as of 30 Jun 2025
EMPTY = {'organization': 'ว่างเปล่า',
         'fiscal_year': 2568,
         'as_of': '2025-06-30',
         'is_demo': False,
         'measures': {'total': 0,
                      'done': 0,
                      'in_progress': 0,
                      'not_started': 0,
                      'cancelled': 0,
                      'overdue': 0,
                      'by_department': {'สำนักปลัด': {'total': 0,
                                                      'done': 0,
                                                      'in_progress': 0,
                                                      'not_started': 0,
                                                      'overdue': 0},
                                        'กองคลัง': {'total': 0,
                                                    'done': 0,
                                                    'in_progress': 0,
                                                    'not_started': 0,
                                                    'overdue': 0},
                                        'กองช่าง': {'total': 0,
                                                    'done': 0,
                                                    'in_progress': 0,
                                                    'not_started': 0,
                                                    'overdue': 0}},
                      'unresolved_owners': []},
         'surveys': {'iit': {'responses': 0,
                             'target': 19,
                             'by_department': {'สำนักปลัด': {'responses': 0, 'target': 10, 'eligible': 10},
                                               'กองคลัง': {'responses': 0, 'target': 5, 'eligible': 5},
                                               'กองช่าง': {'responses': 0, 'target': 4, 'eligible': 4}},
                             'unmatched_departments': [],
                             'over_eligible': [],
                             'estimated_score': None,
                             'indicator_scores': {'1': None, '2': None, '3': None, '4': None, '5': None},
                             'scored_responses': 0,
                             'itas_count': None,
                             'itas_as_of': None},
                     'eit': {'responses': 0,
                             'target': 70,
                             'by_department': {'สำนักปลัด': {'responses': 0, 'target': None, 'eligible': None},
                                               'กองคลัง': {'responses': 0, 'target': None, 'eligible': None},
                                               'กองช่าง': {'responses': 0, 'target': None, 'eligible': None}},
                             'unmatched_departments': [],
                             'over_eligible': [],
                             'estimated_score': None,
                             'indicator_scores': {'6': None, '7': None, '8': None},
                             'scored_responses': 0,
                             'itas_count': None,
                             'itas_as_of': None}},
         'oit_estimate': None,
         'oit': {'items': 0,
                 'ready': 0,
                 'estimated_score': None,
                 'source': None,
                 'items_score': None,
                 'overdue': 0,
                 'by_indicator': {}},
         'estimated_total': None,
         'estimated_level': None,
         'level_held_back_by': [],
         'passing_bar': 85.0,
         'below_bar': [],
         'collection_window': {'start': '2025-01-01', 'end': '2025-06-30', 'days_left': 0},
         'due': []}


def typed_paths(obj) -> dict[str, str]:
    out: dict[str, set] = {}
    names = {dict: "object", list: "array", str: "string", bool: "bool", int: "int", float: "float", type(None): "null"}

    def walk(o, path):
        if path:
            out.setdefault(path, set()).add(names[type(o)])
        if isinstance(o, dict):
            data_keyed = path.rsplit(".", 1)[-1] in DATA_KEYED
            for k, v in o.items():
                walk(v, f"{path}.{'*' if data_keyed else k}" if path else k)
        elif isinstance(o, list):
            for v in o:
                walk(v, path + "[]")

    walk(obj, "")
    return {p: "|".join(sorted(ts)) for p, ts in out.items()}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo_db(tmp_path_factory.mktemp("contract") / "demo.db")


def _json(summary) -> dict:
    assert pickle.loads(pickle.dumps(summary)) == summary  # st.cache_data keeps it pickled
    data = summary.to_json_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data  # plain JSON: no tuples, dates or enums left
    return data


def test_populated_summary_keeps_every_key_in_order_with_its_type(demo_url):
    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        org_id = s.exec(select(Organization.id).where(Organization.name == NAOO)).one()
        data = _json(build_summary(s, organization_id=org_id, fiscal_year=2566, as_of=dt.date(2023, 9, 30)))
    engine.dispose()
    assert list(typed_paths(data).items()) == POPULATED


def test_empty_organisation_summary_is_exactly_as_before(sqlite_engine):
    org_id = make_org(sqlite_engine, name="ว่างเปล่า")
    with db.session_scope(sqlite_engine) as s:
        data = _json(build_summary(s, organization_id=org_id, fiscal_year=2568, as_of=dt.date(2025, 6, 30)))
    assert data == EMPTY
    assert list(typed_paths(data)) == list(typed_paths(EMPTY))  # the order too
    assert set(typed_paths(data)) <= {p for p, _ in POPULATED}
