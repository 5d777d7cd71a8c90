"""Find new drops in the departments' inboxes.

A drop is identified by the sha256 of its bytes, never by its name or mtime. The department is the registered
folder the file sits in (``raw/<slug>/…``), never anything inside the file. Lock, temp, hidden and system files are
ignored; symlinks and other non-regular files are never followed or read; a file is read only after its size and
mtime have held for ``stable_seconds``. A path-stat cache means a tick re-hashes only files whose (path, size,
mtime) changed, so a tick with nothing new costs one directory walk plus a dictionary lookup per file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tasks.contracts import Drop

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet"}
IGNORED_PATTERNS = ("~$*", ".~lock*", "*.tmp", "*.part", "*.crdownload", "Thumbs.db", "desktop.ini", ".DS_Store")
RESERVED_DIRS = {"_receipts"}
HASH_CHUNK = 1024 * 1024


@dataclass
class Scan:
    """What one walk over the inbox found."""

    drops: list[Drop] = field(default_factory=list)  # stable, regular, supported files not yet processed
    unstable: list[Path] = field(default_factory=list)  # still being written (or empty): look again next tick
    empty: list[Drop] = field(default_factory=list)  # 0-byte files older than the empty grace: quarantine them
    unknown_folders: list[Path] = field(default_factory=list)  # not a registered department: not loaded
    skipped_links: list[Path] = field(default_factory=list)  # symlinks and special files: never followed
    ignored: int = 0  # lock/temp/system files
    already_processed: int = 0  # files whose path, size and mtime were seen before and whose bytes are processed
    duplicates: list[Drop] = field(default_factory=list)  # new names for bytes already processed: receipt only


def is_ignored_name(name: str) -> bool:
    """Lock, temp, hidden and OS files that are never drops."""
    return name.startswith(".") or any(fnmatch.fnmatchcase(name, p) for p in IGNORED_PATTERNS)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class StatCache:
    """(relative path, size, mtime_ns) → sha256, kept in a small SQLite file beside the data.

    It is only an optimisation: the warehouse ledger's unique sha256 is the truth, so a lost or stale cache costs
    a re-hash, never a double load.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60)  # concurrent ticks share the cache
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (rel TEXT PRIMARY KEY, size INT, mtime_ns INT, sha TEXT)")
        self._known = {rel: (size, mtime, sha) for rel, size, mtime, sha in self._db.execute("SELECT * FROM seen")}
        self._pending: list[tuple[str, int, int, str]] = []

    def lookup(self, rel: str, size: int, mtime_ns: int) -> str | None:
        hit = self._known.get(rel)
        return hit[2] if hit and hit[0] == size and hit[1] == mtime_ns else None

    def remember(self, rel: str, size: int, mtime_ns: int, sha: str) -> None:
        self._known[rel] = (size, mtime_ns, sha)
        self._pending.append((rel, size, mtime_ns, sha))

    def close(self) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?)", self._pending)
        self._db.close()


def _walk_files(folder: Path, scan: Scan) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files under folder, depth first, never following links."""
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = Path(entry.path)
                if entry.is_symlink():
                    scan.skipped_links.append(path)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in RESERVED_DIRS or entry.name.startswith("."):
                        continue
                    stack.append(path)
                    continue
                if is_ignored_name(entry.name):
                    scan.ignored += 1
                    continue
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    scan.skipped_links.append(path)
                    continue
                yield path, info


def scan_inbox(raw_dir: Path, departments: set[str], processed: set[str], cache: StatCache, *,
               now: float, stable_seconds: float, empty_grace_seconds: float | None = None) -> Scan:
    """Walk ``raw_dir/<dept>/**`` and return the drops not yet processed.

    ``processed`` holds the sha256 of every drop the ledger already has; ``now`` is the wall-clock time used for
    the stability window (explicit so tests are deterministic).
    """
    grace = empty_grace_seconds if empty_grace_seconds is not None else 10 * stable_seconds
    scan = Scan()
    if not raw_dir.is_dir():
        return scan
    root = raw_dir.resolve()
    with os.scandir(root) as entries:
        folders = sorted(entries, key=lambda e: e.name)
    for entry in folders:
        if entry.is_symlink():
            scan.skipped_links.append(Path(entry.path))
            continue
        if not entry.is_dir(follow_symlinks=False):
            if not is_ignored_name(entry.name) and entry.name.lower() != "readme.md":
                scan.unknown_folders.append(Path(entry.path))
            continue
        if entry.name.startswith("."):
            continue
        if entry.name not in departments:
            scan.unknown_folders.append(Path(entry.path))
            continue
        dept_dir = Path(entry.path)
        for path, info in _walk_files(dept_dir, scan):
            rel = path.relative_to(root).as_posix()
            age = now - info.st_mtime
            if age < stable_seconds:
                scan.unstable.append(path)
                continue
            sha = cache.lookup(rel, info.st_size, info.st_mtime_ns)
            fresh = sha is None
            if sha is None:
                sha = sha256_file(path)
                after = path.stat(follow_symlinks=False)
                if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
                    scan.unstable.append(path)  # changed while we hashed it
                    continue
                cache.remember(rel, info.st_size, info.st_mtime_ns, sha)
            drop = Drop(path=path, department=entry.name, sha256=sha, size=info.st_size, mtime=info.st_mtime,
                        relative_name=path.relative_to(dept_dir).as_posix())
            if sha in processed:
                if fresh:
                    scan.duplicates.append(drop)
                else:
                    scan.already_processed += 1
                continue
            if info.st_size == 0:
                if age < grace:
                    scan.unstable.append(path)
                else:
                    scan.empty.append(drop)
                continue
            processed.add(sha)  # the same bytes twice in one tick are one drop
            scan.drops.append(drop)
    # Oldest first, so a correction dropped after the original supersedes it within one tick too.
    scan.drops.sort(key=lambda d: (d.mtime, d.path.as_posix()))
    return scan


def is_supported(drop: Drop) -> bool:
    return drop.path.suffix.lower() in SUPPORTED_SUFFIXES
