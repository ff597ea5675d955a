"""What every store module shares: the dialect's insert (for ``ON CONFLICT``), statements built once per
dialect, and a statement's row count. SQLite and PostgreSQL are supported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Json = dict[str, Any]  # a JSON column's value


def dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def insert_for(s: Session) -> Any:
    """The dialect's insert(), which has on_conflict_do_nothing / on_conflict_do_update."""
    name = dialect(s)
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise ValueError(f"smebot's store supports SQLite and PostgreSQL, not {name}")


def per_dialect(build: Callable[[Any], Any]) -> dict[str, Any]:
    """A statement built once for each dialect (SQLAlchemy then reuses its compiled form)."""
    return {"sqlite": build(sqlite.insert), "postgresql": build(postgresql.insert)}


def rowcount(s: Session, statement: Executable) -> int:
    result = cast(CursorResult[Any], s.execute(statement))
    return result.rowcount
