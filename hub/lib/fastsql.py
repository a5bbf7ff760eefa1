"""Plain SQL for the few statements on the hub's hottest path.

Every inbound event runs the same handful of statements. Through the ORM,
compiling each costs several times the database round trip; here the SQL is
built once per model and values are still adapted by the model's own fields
(`get_db_prep_save`), so JSON, time zones and vendor differences are handled
exactly as the ORM would. Anything off the hot path uses the ORM.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

from django.db import connection, models


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
