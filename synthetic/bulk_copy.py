"""New records and their creation rows in the audit history, written with PostgreSQL's COPY.

Why not `bulk_create` + `bulk_history_create`: at registry scale (tens of thousands of cases, many
records each, and as many history rows) they spend most of the generator's time in Python, not in
the database: every value goes through its field's `get_db_prep_save`, every history row is
built as a model instance, and psycopg adapts each column as an array for UNNEST. COPY streams
plain tuples, which psycopg's C extension formats.

What stays true, and is tested against the `bulk_create` path (tests/test_synthetic.py):
- the same values reach the database: `pre_save` runs (the revision number starts at 1, as for a
  save), and any field psycopg cannot take as it is goes through `get_db_prep_save`;
- ids come from each table's own sequence (reserved with nextval before the COPY), so children
  can point at their parents and later saves continue after them;
- every record gets the creation row in the history that `bulk_history_create` writes ('+', the
  given date and reason, no user), and many-to-many links get theirs;
- it runs inside the caller's transaction: a failure leaves nothing behind.

Only for the audited bulk writers (cases.audit.history_writing_bulk), and only on PostgreSQL.
"""

from functools import cache
from operator import attrgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django_countries.fields import CountryField

from cases.audit import refuse_unaudited

#: Fields whose Python value psycopg writes exactly as `get_db_prep_save` would on PostgreSQL.
AS_IS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,  # and its small/big/positive kinds
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateField,  # and DateTimeField
    models.DecimalField,
    models.ForeignKey,
)
#: Subclasses of those whose attribute is not what the column holds (a Country object, not its code).
CONVERTED = (CountryField,)
HISTORY_COLUMNS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user")


def available():
    return connection.vendor == "postgresql"


def reserve_ids(table, column, count):
    """`count` new values of the sequence behind `table.column`, in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(table, columns, rows):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class _Layout:
    """How one model's instances become rows of its table and of its history table."""

    def __init__(self, model):
        fields = model._meta.concrete_fields
        self.table = model._meta.db_table
        self.pk_column = model._meta.pk.column
        self.columns = [f.column for f in fields]
        self.values = attrgetter(*(f.attname for f in fields))
        self.pre_save = [f for f in fields if type(f).pre_save is not models.Field.pre_save]
        self.convert = [(i, f) for i, f in enumerate(fields) if not isinstance(f, AS_IS) or isinstance(f, CONVERTED)]
        self.parents = [f for f in fields if f.many_to_one]

        history = model.history.model
        position = {f.name: i for i, f in enumerate(fields)}
        tracked = [f for f in history._meta.concrete_fields if f.name not in HISTORY_COLUMNS]
        unknown = [f.name for f in tracked if f.name not in position]
        if unknown:
            raise ImproperlyConfigured(f"{history.__name__} has fields COPY does not know how to fill: {unknown}")
        self.history_table = history._meta.db_table
        self.history_pk_column = history._meta.pk.column
        self.history_columns = [f.column for f in tracked] + [
            history._meta.get_field(name).column for name in HISTORY_COLUMNS
        ]
        self.history_positions = [position[f.name] for f in tracked]

    def row(self, obj):
        for field in self.parents:  # a parent saved since it was assigned: take its new id
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                setattr(obj, field.attname, field.get_cached_value(obj).pk)
        for field in self.pre_save:
            setattr(obj, field.attname, field.pre_save(obj, True))
        values = self.values(obj)
        if self.convert:
            values = list(values)
            for i, field in self.convert:
                values[i] = field.get_db_prep_save(values[i], connection)
            values = tuple(values)
        return values


@cache
def layout(model):
    return _Layout(model)


def create_with_history(model, objs, history_date, reason):
    """Insert new `objs` (their pks are set) and their creation rows. Returns {pk: history_id}."""
    refuse_unaudited("COPY")
    if not objs:
        return {}
    plan = layout(model)
    for obj, pk in zip(objs, reserve_ids(plan.table, plan.pk_column, len(objs)), strict=True):
        obj.pk = pk
    rows = [plan.row(obj) for obj in objs]
    copy_rows(plan.table, plan.columns, rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias

    history_ids = reserve_ids(plan.history_table, plan.history_pk_column, len(objs))
    positions = plan.history_positions
    copy_rows(
        plan.history_table,
        plan.history_columns,
        (
            (*(row[i] for i in positions), history_id, history_date, reason, "+", None)
            for row, history_id in zip(rows, history_ids, strict=True)
        ),
    )
    return {obj.pk: history_id for obj, history_id in zip(objs, history_ids, strict=True)}


def link_with_history(model, field_name, links, history_ids):
    """Insert many-to-many links [(owner pk, target pk), ...] and copy them into the owners' creation rows."""
    refuse_unaudited("COPY")
    if not links:
        return
    m2m = model._meta.get_field(field_name)
    through = m2m.remote_field.through._meta
    owner = through.get_field(m2m.m2m_field_name()).column
    target = through.get_field(m2m.m2m_reverse_field_name()).column
    ids = reserve_ids(through.db_table, through.pk.column, len(links))
    rows = [(pk, owner_pk, target_pk) for pk, (owner_pk, target_pk) in zip(ids, links, strict=True)]
    copy_rows(through.db_table, [through.pk.column, owner, target], rows)
    history = getattr(model.history.model, field_name).model._meta
    copy_rows(
        history.db_table,
        ["id", owner, target, history.get_field("history").column],
        ((pk, owner_pk, target_pk, history_ids[owner_pk]) for pk, owner_pk, target_pk in rows),
    )
