"""The BI views: stable SQL a BI tool reads without knowing our code (see docs/bi.md).

Each migration that changes views ships its own `warehouse/sql/<revision>_views.sql`; released files are never
edited, so upgrading an old database replays exactly the SQL of each step.
"""

from __future__ import annotations

import re
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"

_CREATE_VIEW = re.compile(r"^\s*CREATE\s+VIEW\s+(\w+)", re.IGNORECASE | re.MULTILINE)


def view_statements(sql_file: str) -> list[str]:
    """The CREATE VIEW statements of one file under warehouse/sql, in file order (dependencies first)."""
    text = (SQL_DIR / sql_file).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    # Statements end with ';' at the end of a line; the views contain no ';' inside literals.
    statements = (s.strip().rstrip(";").strip() for s in "\n".join(lines).split(";\n"))
    return [s for s in statements if s]


def view_names(sql_file: str) -> list[str]:
    """Names of the views one SQL file creates, in creation order."""
    return [m.group(1) for s in view_statements(sql_file) if (m := _CREATE_VIEW.match(s))]


# The views of the current schema revision, in creation order.
BI_VIEWS: tuple[str, ...] = tuple(view_names("0001_views.sql"))
