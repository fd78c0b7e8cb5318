"""survey forms, answer codes, batch membership and vanished rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00

- ``surveyform``: each survey form once (header signature, questions in order, each question's
  scale). Responses keep their answers as codes against their form (``answer_codes``) instead of
  a dict keyed by the full question texts (``answers``, dropped here).
- ``surveybatchresponse``: which responses each survey batch contained, so a form's counted
  state is a function of its batches that are not undone (services/survey_import.py).
- ``surveyresponse.vanished_by``: rows a newer cumulative export no longer holds are kept but
  not counted; ``respondent_ref``: the export's own response ID / e-mail; ``form_id``.
- ``importbatch``: the batch's form, its new / changed / unchanged / vanished counts, and a
  ``parse_key`` recognising the same file read the same way (it is then not read again).
- The two counting indexes hold counted rows only (``WHERE vanished_by IS NULL``).

Existing responses are converted without losing or changing one: every answer comes back from
its codes exactly (texts, and any other JSON value), keys and scores are not touched. Old rows
have no header signature, so their forms are ``legacy:`` forms, one per set of questions of an
organisation's year and instrument (a batch's rows share one); the first import of the same
questions afterwards takes the form over. Batch membership is known for old rows only through
the batch that stored them (``import_batch_id``).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHUNK = 2000
MAX_LABEL = 100  # as services.survey_import.Codebook
MAX_SCALE = 60
COUNTED = sa.text('vanished_by IS NULL')


def _instrument_type():
    if op.get_bind().dialect.name == 'postgresql':
        from sqlalchemy.dialects import postgresql
        return postgresql.ENUM('iit', 'eit', name='instrument', create_type=False)
    return sa.Enum('iit', 'eit', name='instrument')


def upgrade() -> None:
    op.create_table('surveyform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('instrument', _instrument_type(), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('scales', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'fiscal_year', 'instrument', 'signature')
    )
    # Plain ADD COLUMNs (foreign keys inline): on SQLite a copy-and-move of these tables would
    # have to drop tables that other rows reference.
    op.add_column('importbatch', sa.Column('form_id', sa.Integer(), sa.ForeignKey('surveyform.id'), nullable=True),
                  inline_references=True)
    op.add_column('importbatch', sa.Column('parse_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    for name in ('new_count', 'changed_count', 'unchanged_count', 'vanished_count'):
        op.add_column('importbatch', sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    op.add_column('surveyresponse', sa.Column('respondent_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('surveyresponse', sa.Column('form_id', sa.Integer(), sa.ForeignKey('surveyform.id'), nullable=True),
                  inline_references=True)
    op.add_column('surveyresponse', sa.Column('answer_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.add_column('surveyresponse', sa.Column('vanished_by', sa.Integer(), sa.ForeignKey('importbatch.id'),
                                              nullable=True), inline_references=True)
    op.create_table('surveybatchresponse',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['importbatch.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['surveyresponse.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'response_id'),
    sqlite_with_rowid=False,  # the primary key is the table: no second copy of every pair
    )
    op.create_index('ix_surveybatchresponse_response', 'surveybatchresponse', ['response_id'], unique=False)

    _convert_answers()
    op.execute('INSERT INTO surveybatchresponse (batch_id, response_id, row_number) '
               'SELECT import_batch_id, id, NULL FROM surveyresponse WHERE import_batch_id IS NOT NULL')
    op.execute("UPDATE importbatch SET new_count = imported_count WHERE kind LIKE 'survey%'")

    op.drop_column('surveyresponse', 'answers')
    op.drop_index('ix_response_org_year_instr_day', table_name='surveyresponse')
    op.drop_index('ix_response_org_year_instr_dept', table_name='surveyresponse')
    op.create_index('ix_response_org_year_instr_day', 'surveyresponse',
                    ['organization_id', 'fiscal_year', 'instrument', 'submitted_on'],
                    unique=False, sqlite_where=COUNTED, postgresql_where=COUNTED)
    op.create_index('ix_response_org_year_instr_dept', 'surveyresponse',
                    ['organization_id', 'fiscal_year', 'instrument', 'department_id'],
                    unique=False, sqlite_where=COUNTED, postgresql_where=COUNTED)


# --- answers dict -> form + codes ---------------------------------------------------------------


def _tables():
    meta = sa.MetaData()
    instrument = sa.Enum('iit', 'eit', name='instrument', create_type=False)
    response = sa.Table('surveyresponse', meta,
                        sa.Column('id', sa.Integer, primary_key=True),
                        sa.Column('organization_id', sa.Integer), sa.Column('fiscal_year', sa.Integer),
                        sa.Column('instrument', instrument), sa.Column('import_batch_id', sa.Integer),
                        sa.Column('answers', sa.JSON), sa.Column('answer_codes', sa.JSON),
                        sa.Column('form_id', sa.Integer))
    form = sa.Table('surveyform', meta,
                    sa.Column('id', sa.Integer, primary_key=True),
                    sa.Column('organization_id', sa.Integer), sa.Column('fiscal_year', sa.Integer),
                    sa.Column('instrument', instrument), sa.Column('signature', sa.String),
                    sa.Column('questions', sa.JSON), sa.Column('scales', sa.JSON),
                    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    batch = sa.Table('importbatch', meta, sa.Column('id', sa.Integer, primary_key=True),
                     sa.Column('form_id', sa.Integer))
    return response, form, batch


def _answers_of(value: Any) -> dict:
    if isinstance(value, str):  # a JSON text the driver did not decode
        value = json.loads(value)
    return value if isinstance(value, dict) else ({} if value is None else {'': value})


def _pages(conn, response, columns):
    """Rows in id order, a page at a time (the table is updated between pages)."""
    last = 0
    while True:
        rows = conn.execute(sa.select(*columns).where(response.c.id > last).order_by(response.c.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _convert_answers() -> None:
    conn = op.get_bind()
    response, form, batch = _tables()
    # Pass 1: the questions of each group of rows (a batch's rows, or the rows without a batch of
    # one organisation, year and instrument), in first-seen order.
    groups: dict[tuple, list[str]] = {}
    seen: dict[tuple, set] = {}
    for rows in _pages(conn, response, [response.c.id, response.c.organization_id, response.c.fiscal_year,
                                        response.c.instrument, response.c.import_batch_id, response.c.answers]):
        for _id, org, fy, instr, batch_id, answers in rows:
            g = (org, fy, str(getattr(instr, 'value', instr)), batch_id)
            qs, known = groups.setdefault(g, []), seen.setdefault(g, set())
            for q in _answers_of(answers):
                if q not in known:
                    known.add(q)
                    qs.append(q)
    # One legacy form per set of questions of an organisation's year and instrument.
    forms: dict[tuple, dict] = {}
    form_of_group: dict[tuple, dict] = {}
    for g, qs in groups.items():
        org, fy, instr, _batch = g
        fkey = (org, fy, instr, frozenset(qs))
        f = forms.get(fkey)
        if f is None:
            digest = hashlib.sha256('\x1f'.join(sorted(qs)).encode('utf-8')).hexdigest()
            f = forms[fkey] = {'organization_id': org, 'fiscal_year': fy, 'instrument': instr,
                               'signature': f'legacy:{digest}', 'questions': list(qs), 'scales': [[] for _ in qs],
                               'codes': [{} for _ in qs]}
            f['position'] = {q: i for i, q in enumerate(qs)}
        form_of_group[g] = f
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)
    for f in forms.values():
        f['id'] = conn.execute(form.insert().values(
            organization_id=f['organization_id'], fiscal_year=f['fiscal_year'], instrument=f['instrument'],
            signature=f['signature'], questions=[], scales=[], created_at=now).returning(form.c.id)).scalar_one()
    # Pass 2: codes.
    update = (response.update().where(response.c.id == sa.bindparam('rid'))
              .values(form_id=sa.bindparam('fid'), answer_codes=sa.bindparam('codes')))
    for rows in _pages(conn, response, [response.c.id, response.c.organization_id, response.c.fiscal_year,
                                        response.c.instrument, response.c.import_batch_id, response.c.answers]):
        params = []
        for rid, org, fy, instr, batch_id, answers in rows:
            f = form_of_group[(org, fy, str(getattr(instr, 'value', instr)), batch_id)]
            params.append({'rid': rid, 'fid': f['id'], 'codes': _encode(f, _answers_of(answers))})
        conn.execute(update, params)
    for f in forms.values():
        conn.execute(form.update().where(form.c.id == f['id']).values(questions=f['questions'], scales=f['scales']))
    for (_org, _fy, _instr, batch_id), f in form_of_group.items():
        if batch_id is not None:
            conn.execute(batch.update().where(batch.c.id == batch_id).values(form_id=f['id']))


def _encode(f: dict, answers: dict) -> list:
    """As services.survey_import.Codebook.encode (kept here: a migration must not change later)."""
    codes: list = []
    for q, v in answers.items():
        i = f['position'][q]
        if isinstance(v, str):
            c = f['codes'][i].get(v)
            if c is None and v and len(v) <= MAX_LABEL and len(f['scales'][i]) < MAX_SCALE:
                f['scales'][i].append(v)
                c = f['codes'][i][v] = len(f['scales'][i])
            code = v if c is None else c
        else:
            code = [v]
        codes.extend([0] * (i + 1 - len(codes)))
        codes[i] = code
    return codes


# --- downgrade ----------------------------------------------------------------------------------


def downgrade() -> None:
    op.add_column('surveyresponse', sa.Column('answers', sa.JSON(), nullable=True))
    conn = op.get_bind()
    response, form, _batch = _tables()
    forms = {i: (q, s) for i, q, s in conn.execute(sa.select(form.c.id, form.c.questions, form.c.scales))}
    update = response.update().where(response.c.id == sa.bindparam('rid')).values(answers=sa.bindparam('ans'))
    for rows in _pages(conn, response, [response.c.id, response.c.form_id, response.c.answer_codes]):
        params = []
        for rid, fid, codes in rows:
            questions, scales = forms.get(fid, ([], []))
            out = {}
            for i, c in enumerate(codes or []):
                if isinstance(c, bool) or not (isinstance(c, int) and c == 0):
                    out[questions[i]] = (scales[i][c - 1] if isinstance(c, int) and not isinstance(c, bool)
                                         else c[0] if isinstance(c, list) else c)
            params.append({'rid': rid, 'ans': out})
        if params:
            conn.execute(update, params)
    # Vanished rows were not counted; before this revision every stored row counts: drop them.
    op.drop_table('surveybatchresponse')
    op.execute('DELETE FROM surveyresponse WHERE vanished_by IS NOT NULL')
    op.drop_index('ix_response_org_year_instr_day', table_name='surveyresponse')
    op.drop_index('ix_response_org_year_instr_dept', table_name='surveyresponse')
    op.create_index('ix_response_org_year_instr_day', 'surveyresponse',
                    ['organization_id', 'fiscal_year', 'instrument', 'submitted_on'], unique=False)
    op.create_index('ix_response_org_year_instr_dept', 'surveyresponse',
                    ['organization_id', 'fiscal_year', 'instrument', 'department_id'], unique=False)
    # SQLite drops a column with a foreign key only by copying the table.
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        for name in ('vanished_by', 'answer_codes', 'form_id', 'respondent_ref'):
            batch_op.drop_column(name)
        batch_op.alter_column('answers', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('importbatch', schema=None) as batch_op:
        for name in ('vanished_count', 'unchanged_count', 'changed_count', 'new_count', 'parse_key', 'form_id'):
            batch_op.drop_column(name)
    op.drop_table('surveyform')
