"""A row's columns as JSON and back: the prior values a change keeps so its undo restores them.

``snapshot`` turns the mapped columns of a model instance into JSON-safe values (aware
datetimes and dates as ISO text, enums as their stored values); ``restore`` writes such a
snapshot back onto the instance. Only columns named in the snapshot are touched.
Must not import telegram, handlers or bot (beyond what storage.models imports).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect

from storage.models import Base


def snapshot(row: Base, columns: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's column values (all, or `columns`), JSON-safe."""
    mapper = inspect(type(row))
    names = list(columns) if columns is not None else [a.key for a in mapper.column_attrs]
    return {name: _plain(getattr(row, name)) for name in names}


def restore(row: Base, values: dict[str, Any]) -> None:
    """Write a snapshot's values back onto the row, converted to each column's type."""
    mapper = inspect(type(row))
    for name, value in values.items():
        column = mapper.column_attrs[name].columns[0]
        setattr(row, name, _typed(column.type, value))


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The values of `before` that differ in `after`."""
    return {k: v for k, v in before.items() if after.get(k) != v}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _typed(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    python_type = _python_type(column_type)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    enum_class = getattr(column_type, "enum_class", None)
    if enum_class is not None:
        return enum_class(value)
    return value


def _python_type(column_type: Any) -> type | None:
    impl = getattr(column_type, "impl_instance", column_type)  # a TypeDecorator's own type
    try:
        found: type = impl.python_type
    except NotImplementedError:
        return None
    return found
