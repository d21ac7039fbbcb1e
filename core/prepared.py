"""Querysets compiled to SQL once per process, then run with new values.

Building a queryset and compiling it (``filter``, ``Q``, ``Exists``,
``as_sql``) costs more Python than running the statement does for the
small, hot queries of a sign-up POST. A ``PreparedQuery`` builds its
queryset once per database connection alias (and vendor) from stand-in
values, remembers where each stand-in went in the SQL's parameters, and
then runs the same SQL with the values of each call. Rows come back
through the compiler's converters (as the ORM would return them), as
tuples (``rows``) or, for a model queryset, as model instances with their
annotations (``objects``).

The queryset must not depend on anything but its arguments (no
``timezone.now()`` inside ``build``), and each argument must reach the SQL
as it is: ``exact``, ``in`` with one value, comparisons. Lookups that
rewrite the value (``iexact``/``contains`` on SQLite, which escape it for
``LIKE``) are refused when compiling, because the stand-in no longer appears
as it is; compare with ``Upper(...)`` on both sides instead. Only integer
and string arguments are supported. ``select_related`` is not (the rows
would need Django's related populators).

``insert`` is the same for ``bulk_create`` of one new row: its INSERT
compiled once per model.

Statements run through ``connection.cursor()``, so query counting
(``CaptureQueriesContext``) and execute wrappers see them as usual.
"""

import threading

from django.db import connections
from django.db.models import AutoField
from django.db.models.sql import InsertQuery
from django.db.transaction import TransactionManagementError

#: Kinds of argument and how a stand-in for the n-th one is made: values no
#: real call passes (the string one holds LIKE's special characters, so a
#: lookup that escapes it is caught).
_MARK = "prepared-stand-in-"
_STAND_INS = {
    int: lambda n: -7_340_021_000_000 - n,
    str: lambda n: f"\\%_{_MARK}{n}_%\\",
}


class PreparedQueryError(Exception):
    """A queryset that ``PreparedQuery`` cannot run again with new values."""


def _position(positions, param):
    try:
        return positions.get(param)
    except TypeError:  # unhashable (a list for an array field)
        return None


class _Compiled:
    """One compiled statement: its SQL, where each parameter comes from,
    the converters of its columns, and how rows become model instances."""

    def __init__(self, queryset, stand_ins):
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        positions = {value: n for n, value in enumerate(stand_ins)}
        slots = []
        seen = set()
        for param in params:
            position = _position(positions, param)
            if position is not None and type(param) is type(stand_ins[position]):
                slots.append((True, position))
                seen.add(position)
                continue
            if isinstance(param, str) and _MARK in param:
                raise PreparedQueryError(
                    f"A lookup rewrote an argument of the prepared query: {sql}"
                )
            slots.append((False, param))
        if len(seen) != len(stand_ins):
            raise PreparedQueryError(
                f"Not every argument reached the prepared query's SQL as it is: {sql}"
            )
        self.sql = sql
        self.slots = slots
        self.locks = bool(queryset.query.select_for_update)
        # Columns only for ordering (DISTINCT with extra order), as
        # ``results_iter`` drops them.
        self.width = compiler.col_count if compiler.has_extra_select else None
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())
        self.model = None
        klass_info = compiler.klass_info
        if klass_info and not queryset._fields:  # noqa: SLF001 - values() or not
            if klass_info.get("related_klass_infos"):
                raise PreparedQueryError("select_related is not supported.")
            self.model = klass_info["model"]
            select_fields = klass_info["select_fields"]
            self.model_slice = slice(select_fields[0], select_fields[-1] + 1)
            self.init_list = [
                column[0].target.attname for column in compiler.select[self.model_slice]
            ]
            self.annotations = list(compiler.annotation_col_map.items())


class PreparedQuery:
    """A queryset ``build(*args)``, compiled once and run with new ``args``.

    ``kinds`` gives the type of each argument (``int`` or ``str``). The
    statement is compiled on first use for each connection alias; one
    that takes row locks (``select_for_update``) must first run inside a
    transaction, as the ORM requires.
    """

    def __init__(self, build, *kinds, using="default"):
        unknown = [kind for kind in kinds if kind not in _STAND_INS]
        if unknown:
            raise PreparedQueryError(f"Unsupported argument kinds: {unknown}")
        self.build = build
        self.kinds = kinds
        self.using = using
        self._compiled = {}
        self._lock = threading.Lock()

    def _statement(self, connection):
        key = (connection.alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            stand_ins = [_STAND_INS[kind](n) for n, kind in enumerate(self.kinds)]
            queryset = self.build(*stand_ins).using(connection.alias)
            compiled = _Compiled(queryset, stand_ins)
            with self._lock:
                self._compiled[key] = compiled
        return compiled

    def _execute(self, args):
        if len(args) != len(self.kinds):
            raise TypeError(f"{len(self.kinds)} arguments expected, {len(args)} given")
        connection = connections[self.using]
        compiled = self._statement(connection)
        if (
            compiled.locks
            and connection.features.has_select_for_update
            and connection.get_autocommit()
            and connection.features.supports_transactions
        ):
            # As the ORM refuses it on every run, not only when compiling.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = [args[value] if is_arg else value for is_arg, value in compiled.slots]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.width is not None:
            rows = [row[: compiled.width] for row in rows]
        if compiled.converters:
            converted = []
            for row in rows:
                row = list(row)
                for position, (functions, expression) in compiled.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(row)
            rows = converted
        return compiled, connection, rows

    def rows(self, *args):
        """The rows of the query for ``args``, as tuples of converted values."""
        _, _, rows = self._execute(args)
        return [tuple(row) for row in rows]

    def objects(self, *args):
        """The model instances of a model queryset for ``args`` (deferred
        fields as with ``only``), with annotations set as attributes."""
        compiled, connection, rows = self._execute(args)
        if compiled.model is None:
            raise PreparedQueryError("objects() needs a model queryset.")
        found = []
        for row in rows:
            instance = compiled.model.from_db(
                connection.alias, compiled.init_list, row[compiled.model_slice]
            )
            for name, position in compiled.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def first(self, *args):
        """The first instance ``objects`` finds, or None."""
        found = self.objects(*args)
        return found[0] if found else None


#: Compiled INSERT statements: (model, alias, vendor) -> (sql, fields).
_INSERTS = {}


def insert(objs, *, using="default"):
    """``bulk_create(objs)`` for one new row, with its INSERT compiled once
    per process and model (``bulk_create`` builds and compiles it each
    time; for a sign-up's consent row and audit entry that was most of its
    cost).

    As ``bulk_create``: no ``save()``, no signals, primary keys set from the
    statement's ``RETURNING``, the objects marked saved. Falls back to
    ``bulk_create`` for what this does not cover: more than one row (on
    PostgreSQL Django inserts several as ``UNNEST`` of one array per column,
    another statement), a database that cannot return the new row's id, an
    object with a primary key already, a model with parents, a field whose
    placeholder depends on its value, or a value that is an expression.
    """
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    opts = model._meta
    connection = connections[using]
    if (
        len(objs) != 1
        or not connection.features.can_return_columns_from_insert
        or opts.parents
        or not isinstance(opts.pk, AutoField)
        or objs[0]._is_pk_set()
    ):
        return model._base_manager.using(using).bulk_create(objs)
    key = (model, connection.alias, connection.vendor)
    statement = _INSERTS.get(key)
    if statement is None:
        fields = [
            field
            for field in opts.concrete_fields
            if not field.generated and not isinstance(field, AutoField)
        ]
        if any(hasattr(field, "get_placeholder") for field in fields):
            # The placeholder may depend on the value: not one statement.
            return model._base_manager.using(using).bulk_create(objs)
        query = InsertQuery(model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = opts.db_returning_fields
        [(sql, _)] = compiler.as_sql()
        statement = (sql, fields)
        _INSERTS[key] = statement
    sql, fields = statement
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        for field in fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):
                return model._base_manager.using(using).bulk_create(objs)
            params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    returning = opts.db_returning_fields
    for obj, row in zip(objs, rows, strict=True):
        for value, field in zip(row, returning, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return objs
