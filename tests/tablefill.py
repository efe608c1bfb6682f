"""Put rows in every table of a schema from its column types alone, so tests cover tables that land later.

Tables are filled parents first (metadata.sorted_tables); a foreign key takes an id from the referenced table.
When a table has a check constraint the generic values cannot meet, add its columns to OVERRIDES.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Time,
    Uuid,
    func,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

#: {table name: {column name: callable(n) -> value}} for columns whose rules the generic values break.
OVERRIDES: dict[str, dict[str, object]] = {
    "schools": {"urn": lambda n: f"{990000 + n:06d}"},
    "users": {"email": lambda n: f"filled{n}@trust.example"},
    "retention_rules": {"keep_months": lambda n: 1 + n % 240},
    "register_availability": {"days": lambda n: float(n % 100)},
    "support_requests": {"impact_rating": lambda n: 1 + n % 5, "days_requested": lambda n: Decimal(1 + n % 60)},
}

#: Awkward text that every stored string column must survive unchanged.
AWKWARD = "Ŵ £ «quoted» \"double\" 'single' =SUM(A1) \r\n tab\t"


def _value(table: Table, column, n: int):
    override = OVERRIDES.get(table.name, {}).get(column.name)
    if override is not None:
        return override(n) if callable(override) else override
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl
    if isinstance(kind, Enum):
        members = list(kind.enum_class) if kind.enum_class else list(kind.enums)
        return members[n % len(members)]
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, Integer | BigInteger):
        return n
    if isinstance(kind, Float):
        return 54.0 + n / 100
    if isinstance(kind, Numeric):
        return Decimal(n) + Decimal("0.5")
    if isinstance(kind, DateTime):
        return datetime(2026, 9, 1, 8, 30, tzinfo=UTC) + timedelta(days=n)
    if isinstance(kind, Date):
        return date(2026, 9, 1) + timedelta(days=n)
    if isinstance(kind, Time):
        return time(9, n % 60)
    if isinstance(kind, Interval):
        return timedelta(hours=n)
    if isinstance(kind, JSON):
        return {"filled": n, "text": AWKWARD}
    if isinstance(kind, Uuid):
        return uuid.UUID(int=n)
    if isinstance(kind, LargeBinary):
        return bytes([n % 256]) * 4
    if isinstance(kind, String):
        text = f"{n}:{AWKWARD}"
        length = kind.length
        if length is None:
            return text
        # Exactly `length` characters meets "length(x) = N" checks; digits first keep unique columns unique.
        return (str(n) + "7" * length)[:length] if length < 40 else text[:length]
    raise TypeError(f"no generic value for {table.name}.{column.name} ({column.type!r}); add it to OVERRIDES")


def _foreign_value(conn: Connection, column, n: int):
    fk = next(iter(column.foreign_keys))
    ref = fk.column
    ids = list(conn.scalars(select(ref).order_by(ref)))
    if not ids:
        if column.nullable:
            return None
        raise AssertionError(f"{column.table.name}.{column.name} needs a row in {ref.table.name} first")
    return ids[n % len(ids)]


def row_for(conn: Connection, table: Table, n: int) -> dict:
    values = {}
    for column in table.columns:
        if column.primary_key and not column.foreign_keys and isinstance(column.type, Integer) and \
                column.autoincrement in (True, "auto"):
            continue
        if column.foreign_keys:
            values[column.name] = _foreign_value(conn, column, n)
        else:
            values[column.name] = _value(table, column, n)
    return values


def fill(conn: Connection, metadata: MetaData, rows: int = 2, start: int = 1000) -> dict[str, int]:
    """Insert `rows` generic rows into every table; returns the row count of each table afterwards."""
    counts = {}
    for table in metadata.sorted_tables:
        for i in range(rows):
            conn.execute(table.insert().values(**row_for(conn, table, start + i)))
        counts[table.name] = conn.scalar(select(func.count()).select_from(table))
    return counts


def snapshot(conn: Connection, metadata: MetaData) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: equal snapshots mean equal data."""
    return {
        table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
        for table in metadata.sorted_tables
    }
