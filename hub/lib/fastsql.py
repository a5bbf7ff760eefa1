"""Plain SQL for the few statements on the hub's hottest path.

Every inbound event runs the same handful of statements. Through the ORM,
compiling each costs several times the database round trip; here the SQL is
built once per model and values are still adapted by the model's own fields
(`get_db_prep_save`), so JSON, time zones and vendor differences are handled
exactly as the ORM would. Anything off the hot path uses the ORM.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import cache

from django.db import connection, models

log = logging.getLogger(__name__)


@cache
def _insert(model: type[models.Model], vendor: str, with_pk: bool) -> tuple[str, list[models.Field]]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({placeholders})"
    if not with_pk:
        sql += f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    return sql, fields


def insert(instance: models.Model) -> models.Model:
    """INSERT one new row, like `instance.save()` would. With its primary key
    already set (from `next_id`), nothing is read back, so inside
    `deferred()` the statement waits to go with the next one."""
    with_pk = instance.pk is not None
    sql, fields = _insert(type(instance), connection.vendor, with_pk)
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    if with_pk and _deferring():
        connection.defer(sql, values)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            if not with_pk:
                instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def next_id_sql(model: type[models.Model]) -> str | None:
    """An expression for the next primary key of `model` (PostgreSQL), to
    select along with another query; None where the database has none."""
    if connection.vendor != "postgresql":
        return None
    table, column = model._meta.db_table, model._meta.pk.column
    return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"


@contextmanager
def deferred():
    """Inside a transaction on PostgreSQL (the hub's backend): `insert` with
    a primary key and `update` are not sent at once but in front of the
    transaction's next statement, or with its COMMIT, on the same round
    trip (hub.db.backends.postgresql). Their errors surface there, and
    anything that reads runs after them. Elsewhere, statements run at once."""
    if getattr(connection, "deferring", True) or not connection.in_atomic_block:
        yield
        return
    connection.deferring = True
    try:
        yield
    finally:
        connection.deferring = False


def _deferring() -> bool:
    return getattr(connection, "deferring", False) and connection.in_atomic_block


def update(instance: models.Model, field_names: list[str]) -> None:
    """UPDATE the given fields of an existing row, like `save(update_fields=...)`."""
    meta = type(instance)._meta
    fields = [meta.get_field(name) for name in field_names]
    auto_now = [f for f in meta.concrete_fields if getattr(f, "auto_now", False) and f not in fields]
    fields += auto_now
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    values = [f.get_db_prep_save(f.pre_save(instance, add=False), connection) for f in fields]
    sql = (f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {assignments} "
           f"WHERE {connection.ops.quote_name(meta.pk.column)} = %s")
    if _deferring():
        connection.defer(sql, values + [instance.pk])
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, values + [instance.pk])


@cache
def _columns(model: type[models.Model], vendor: str):
    fields = list(model._meta.concrete_fields)
    converters = []
    for field in fields:
        col = field.get_col(model._meta.db_table)
        converters.append([(c, col) for c in connection.ops.get_db_converters(col) + col.get_db_converters(connection)])
    pk_index = [f.primary_key for f in fields].index(True)
    return fields, [f.attname for f in fields], converters, pk_index


def select_columns(model: type[models.Model], alias: str) -> str:
    """`alias.col1, alias.col2, ...`: every column of `model`, in the order
    `from_row` reads them."""
    fields = _columns(model, connection.vendor)[0]
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields)


def width(model: type[models.Model]) -> int:
    return len(_columns(model, connection.vendor)[0])


def from_row(model: type[models.Model], row) -> models.Model | None:
    """An instance from the columns `select_columns` listed, converted as the
    ORM converts them; None when the primary key is NULL (an outer join that
    found nothing)."""
    _, names, converters, pk_index = _columns(model, connection.vendor)
    values = list(row)
    if values[pk_index] is None:
        return None
    for i, field_converters in enumerate(converters):
        for converter, col in field_converters:
            values[i] = converter(values[i], col, connection)
    return model.from_db(connection.alias, names, values)


def convert(model: type[models.Model], attname: str, value):
    """One column's raw value, converted as the ORM would."""
    fields, names, converters, _ = _columns(model, connection.vendor)
    for converter, col in converters[names.index(attname)]:
        value = converter(value, col, connection)
    return value


# --- Queries compiled once ------------------------------------------------

class _Compiled:
    """A model query's SQL and how to turn its rows into instances, as the
    ORM's ModelIterable does (select_related included)."""

    def __init__(self, compiler, sql: str):
        from django.db.models.query import get_related_populators

        self.sql = sql
        # As the ORM: FOR UPDATE outside a transaction is refused where the
        # database has it (not SQLite, which ignores it).
        self.for_update = compiler.query.select_for_update and compiler.connection.features.has_select_for_update
        klass_info = compiler.klass_info
        self.model = klass_info["model"]
        select = compiler.select
        self.columns = compiler.col_count
        self.converters = list(compiler.get_converters([s[0] for s in select[:self.columns]]).items())
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.related = get_related_populators(klass_info, select, compiler.using)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.db = compiler.using

    def instances(self, rows, conn) -> list:
        found = []
        for raw in rows:
            row = list(raw[:self.columns])
            for pos, (convs, expression) in self.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, conn)
                row[pos] = value
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.related:
                populator.populate(row, obj)
            for name, pos in self.annotations.items():
                setattr(obj, name, row[pos])
            found.append(obj)
        return found


_compiled: dict[tuple, _Compiled | None] = {}
_INT64 = (-(2**63), 2**63 - 1)
misdeclared: set[tuple] = set()  # shapes whose parameters were given wrong (the test suite fails on any)


class Fixed:
    """A parameter that is the same at every call of a shape (a constant the
    ORM sends as a parameter, such as a boolean): it stands in for itself."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _values(params: list) -> list:
    return [p.value if isinstance(p, Fixed) else p for p in params]


def _sentinels(params: list) -> list | None:
    """Distinct stand-ins of the parameters' own types (ints within every
    integer column's range: Django drops a lookup whose value overflows
    its column); None when a type has none here. The query built from them
    is only compiled, never run."""
    out = []
    for i, value in enumerate(params):
        if isinstance(value, Fixed):
            out.append(value.value)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        out.append(2_000_000_000 + i if isinstance(value, int) else f"\x1ffastsql-{i}")
    return out


def objects(shape: tuple, build, params: list) -> list[models.Model]:
    """The instances `build(params)` selects, with the SQL compiled once per
    `shape` in a process rather than at every call.

    `build` takes the query's parameter values, in the order its SQL takes
    them, and returns the queryset; `shape` names everything else that
    changes the SQL (which filters, how many values in an IN list, FOR
    UPDATE). Whether `params` really are the SQL's, in its order, is checked
    once per shape: the queryset is built from distinct stand-in values and
    compiled, and its parameters must come out as those stand-ins, one for
    one. If they do not, the shape is run through the ORM every time (and a
    warning says so). Parameters are ints and strs, or `Fixed` constants;
    a query with anything else goes through the ORM."""
    key = (connection.alias, shape)
    try:
        compiled = _compiled[key]
    except KeyError:
        compiled = _compiled[key] = _learn(shape, build, params)
    params = _values(params)
    if compiled is None or any(type(v) is int and not _INT64[0] <= v <= _INT64[1] for v in params):
        # (a value no column holds: the ORM knows it matches nothing)
        return list(build(params))
    if compiled.for_update and connection.get_autocommit():
        from django.db.transaction import TransactionManagementError

        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    return compiled.instances(rows, connection)


def _learn(shape: tuple, build, params: list) -> _Compiled | None:
    from django.core.exceptions import EmptyResultSet

    stand_ins = _sentinels(list(params))
    if stand_ins is None:
        return None
    queryset = build(stand_ins)
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, compiled_params = compiler.as_sql()
    except EmptyResultSet:
        return None
    if list(compiled_params) != stand_ins or compiler.klass_info is None:
        log.warning("query %r: its parameters are not the ones given; not cached", shape)
        misdeclared.add(shape)
        return None
    return _Compiled(compiler, sql)


def one(shape: tuple, build, params: list) -> models.Model | None:
    """The first instance `objects` finds, or None."""
    found = objects(shape, build, params)
    return found[0] if found else None
