"""The stat cache of discovery: which sha256 a file had at a given size and mtime, so a tick need not re-hash it."""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path

_FIRST = itemgetter(0)


class StatCache:
    """(relative path, size, mtime_ns) → sha256, kept in a small SQLite file beside the data.

    It is only an optimisation: the warehouse ledger's unique sha256 is the truth, so a lost or stale cache costs
    a re-hash, never a double load. A tick looks up every file, so the cache is stored packed in one row (paths,
    sizes, mtimes, hashes as four columns) and read in one go; what a tick remembers is merged into the row as it
    is then (concurrent ticks share the file) in one transaction on `close`.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None)  # transactions are explicit
        self._db.execute("CREATE TABLE IF NOT EXISTS packed (id INTEGER PRIMARY KEY CHECK (id = 1), rels TEXT, "
                         "sizes BLOB, mtimes BLOB, shas TEXT)")
        self._known, packed = self._read()
        self._pending: list[tuple[str, int, int, str]] = [] if packed else list(self._known.values())

    def _read(self) -> tuple[dict[str, tuple[str, int, int, str]], bool]:
        """Every entry, and whether it came packed (else from the one-row-per-file table of earlier versions)."""
        row = self._db.execute("SELECT rels, sizes, mtimes, shas FROM packed").fetchone()
        if row is None:
            legacy = self._db.execute("SELECT name FROM sqlite_master WHERE name = 'seen'").fetchone()
            rows = self._db.execute("SELECT rel, size, mtime_ns, sha FROM seen").fetchall() if legacy else []
            return dict(zip(map(_FIRST, rows), rows, strict=True)), False
        if not row[0]:
            return {}, True
        rels = row[0].split("\0")
        return dict(zip(rels, zip(rels, _ints(row[1]), _ints(row[2]), row[3].split("\0"), strict=True),
                        strict=True)), True

    @property
    def known(self) -> dict[str, tuple[str, int, int, str]]:
        """Every cached entry, rel → (rel, size, mtime_ns, sha256): the scan's hot loop reads it directly."""
        return self._known

    def lookup(self, rel: str, size: int, mtime_ns: int) -> str | None:
        """The sha256 cached for `rel` (inbox-relative, "/"-separated) if it was hashed at this size and mtime."""
        hit = self._known.get(rel)
        return hit[3] if hit is not None and hit[1] == size and hit[2] == mtime_ns else None

    def remember(self, rel: str, size: int, mtime_ns: int, sha: str) -> None:
        """Record the sha256 of `rel` at this size and mtime (written on `close`)."""
        row = (rel, size, mtime_ns, sha)
        self._known[rel] = row
        self._pending.append(row)

    def close(self) -> None:
        """Merge what this tick remembered into the stored cache and close the file."""
        try:
            if self._pending:
                self._db.execute("BEGIN IMMEDIATE")  # another tick may have written since we read
                entries = self._read()[0]
                entries.update((row[0], row) for row in self._pending)
                rows = list(entries.values())
                self._db.execute("INSERT OR REPLACE INTO packed VALUES (1, ?, ?, ?, ?)", (
                    "\0".join(r[0] for r in rows), _packed_ints(r[1] for r in rows),  # "\0" is in no file name
                    _packed_ints(r[2] for r in rows), "\0".join(r[3] for r in rows)))
                self._db.execute("COMMIT")
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.close()


def _packed_ints(values: Iterable[int]) -> bytes:
    # Native byte order: a cache carried to another machine only misreads into mismatches, i.e. re-hashes.
    return array("q", values).tobytes()


def _ints(data: bytes) -> list[int]:
    values = array("q")
    values.frombytes(data)
    return values.tolist()
