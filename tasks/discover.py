"""Find new drops in the departments' inboxes.

A drop is identified by the sha256 of its bytes, never by its name or mtime. The department is the registered
folder the file sits in (``raw/<slug>/…``), never anything inside the file. Lock, temp, hidden and system files are
ignored; symlinks and other non-regular files are never followed or read; a file is read only after its size and
mtime have held for ``stable_seconds``. A path-stat cache means a tick re-hashes only files whose (path, size,
mtime) changed, so a tick with nothing new costs one directory walk (``os.scandir``, one ``lstat`` per file), a
stat-cache lookup per file and one set check of all their hashes against the ledger's; paths stay plain strings
until a file turns out to be something to report.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path

from tasks.contracts import Drop
from tasks.statcache import StatCache

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet"}
IGNORED_PATTERNS = ("~$*", ".~lock*", "*.tmp", "*.part", "*.crdownload", "Thumbs.db", "desktop.ini", ".DS_Store")
RESERVED_DIRS = {"_receipts"}
HASH_CHUNK = 1024 * 1024


def _split_patterns(patterns: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str],
                                                         re.Pattern[str] | None]:
    """The ignore patterns as (prefixes, suffixes, exact names, one regex for the rest): cheap to test per name."""
    prefixes, suffixes, exact, rest = [], [], [], []
    for pattern in patterns:
        body = pattern.strip("*")
        if any(c in body for c in "*?[") or (pattern.startswith("*") and pattern.endswith("*")):
            rest.append(fnmatch.translate(pattern))
        elif pattern.endswith("*"):
            prefixes.append(body)
        elif pattern.startswith("*"):
            suffixes.append(body)
        else:
            exact.append(body)
    return tuple(prefixes), tuple(suffixes), frozenset(exact), re.compile("|".join(rest)) if rest else None


_PREFIXES, _SUFFIXES, _EXACT, _OTHER = _split_patterns((".*", *IGNORED_PATTERNS))  # ".*": hidden files
_BY_NAME = attrgetter("name")
_FIRST = itemgetter(0)
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK


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
    return (name.startswith(_PREFIXES) or name.endswith(_SUFFIXES) or name in _EXACT
            or (_OTHER is not None and _OTHER.match(name) is not None))


def sha256_file(path: Path) -> str:
    """Hex sha256 of every byte of the file at `path`."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan_inbox(raw_dir: Path, departments: set[str], processed: set[str], cache: StatCache, *,
               now: float, stable_seconds: float, empty_grace_seconds: float | None = None) -> Scan:
    """Walk ``raw_dir/<dept>/**`` and return the drops not yet processed.

    ``processed`` holds the sha256 of every drop the ledger already has; ``now`` is the wall-clock time used for
    the stability window (explicit so tests are deterministic).
    """
    grace = empty_grace_seconds if empty_grace_seconds is not None else 10 * stable_seconds
    if not raw_dir.is_dir():
        return Scan()
    walk = _Walk(str(raw_dir.resolve()), departments, processed, cache, now=now, stable_seconds=stable_seconds,
                 grace=grace)
    # A tick with nothing new (the usual one) is settled by an optimistic walk that only collects the cached
    # hashes and checks them against the ledger at once; anything to hash or decide sends it to the full walk.
    scan = walk.idle()
    if scan is None:
        scan = Scan()
        walk.inbox(scan)
        # Oldest first, so a correction dropped after the original supersedes it within one tick too.
        scan.drops.sort(key=lambda d: (d.mtime, d.path.as_posix()))
    return scan


class _NotIdle(Exception):
    """The optimistic walk met a file it cannot settle from the stat cache."""


@dataclass
class _Walk:
    """Walks the inbox into a Scan: department folders in name order, each depth first, names sorted, never
    following a link."""

    root: str
    departments: set[str]
    processed: set[str]
    cache: StatCache
    now: float
    stable_seconds: float
    grace: float

    def idle(self) -> Scan | None:
        """The scan of a tick in which every stable file is cached and processed; None when that is not so.

        Only then is it the full walk's scan: nothing is hashed, added or reported but links, unstable and
        ignored files, unknown folders, in the same order.
        """
        scan, cached = Scan(), list[str]()
        try:
            self.inbox(scan, cached)
        except _NotIdle:
            return None
        if not self.processed.issuperset(cached):  # one set operation instead of a lookup per file
            return None
        scan.already_processed = len(cached)
        return scan

    def inbox(self, scan: Scan, cached: list[str] | None = None) -> None:
        """Every entry of the inbox root: a registered department's folder is walked, the rest reported."""
        with os.scandir(self.root) as it:
            folders = sorted(it, key=_BY_NAME)
        for entry in folders:
            if entry.is_symlink():
                scan.skipped_links.append(Path(entry.path))
            elif not entry.is_dir(follow_symlinks=False):
                if not is_ignored_name(entry.name) and entry.name.lower() != "readme.md":
                    scan.unknown_folders.append(Path(entry.path))
            elif entry.name.startswith("."):
                continue
            elif entry.name not in self.departments:
                scan.unknown_folders.append(Path(entry.path))
            else:
                self.department(entry.name, entry.path, scan, cached)

    def department(self, department: str, folder: str, scan: Scan, cached: list[str] | None = None) -> None:
        """Walk one department folder into `scan`; with `cached`, optimistically (see `idle`).

        This loop is the idle tick's whole cost, so a file already seen costs its `DirEntry.stat` (one lstat,
        which also tells links, folders and files apart) and a stat-cache lookup: no Path, no Drop, no call of
        ours. The stack holds (folder, its path under the inbox root with a trailing "/", the stat cache's key).
        """
        known, processed, now, stable = self.cache.known, self.processed, self.now, self.stable_seconds
        seen, stack = 0, [(folder, department + "/")]
        while stack:
            current, rel_dir = stack.pop()
            with os.scandir(current) as it:
                entries = sorted(it, key=_BY_NAME)
            # The folder's lstat calls back to back, then the lookups back to back: each phase keeps its own
            # working set in the CPU caches.
            try:
                infos = [e.stat(follow_symlinks=False) for e in entries]
            except FileNotFoundError:  # something vanished since it was listed (an editor's lock file, say)
                entries, infos = _still_there(entries)
            for entry, info in zip(entries, infos, strict=True):
                kind = info.st_mode & _S_IFMT
                name = entry.name
                if kind == _S_IFREG:
                    if (name.startswith(_PREFIXES) or name.endswith(_SUFFIXES) or name in _EXACT
                            or (_OTHER is not None and _OTHER.match(name))):
                        scan.ignored += 1
                        continue
                    if now - info.st_mtime < stable:
                        scan.unstable.append(Path(entry.path))
                        continue
                    hit = known.get(rel_dir + name)
                    if hit is not None and hit[1] == info.st_size and hit[2] == info.st_mtime_ns:
                        if cached is not None:
                            cached.append(hit[3])
                            continue
                        if hit[3] in processed:
                            seen += 1
                            continue
                    if cached is not None:
                        raise _NotIdle
                    _classify(department, entry.path, rel_dir + name, info, processed, self.cache, scan,
                              age=now - info.st_mtime, grace=self.grace)
                elif kind == _S_IFDIR:
                    if name not in RESERVED_DIRS and not name.startswith("."):
                        stack.append((entry.path, rel_dir + name + "/"))
                elif kind != _S_IFLNK and is_ignored_name(name):
                    scan.ignored += 1  # a lock file that is a socket or a fifo
                else:
                    scan.skipped_links.append(Path(entry.path))  # symlinks and special files
        scan.already_processed += seen


def _still_there(entries: list[os.DirEntry[str]]) -> tuple[list[os.DirEntry[str]], list[os.stat_result]]:
    """The entries that still exist, with their lstat."""
    kept = [(entry, info) for entry in entries if (info := _lstat(entry)) is not None]
    return [e for e, _ in kept], [i for _, i in kept]


def _lstat(entry: os.DirEntry[str]) -> os.stat_result | None:
    try:
        return entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None


def _classify(department: str, path: str, rel: str, info: os.stat_result, processed: set[str], cache: StatCache,
              scan: Scan, *, age: float, grace: float) -> None:
    """A stable regular file that is not a cached, processed one: hash it if needed and sort it into `scan`.

    `rel` is its path under the inbox root ("<department>/…", "/"-separated), the stat cache's key.
    """
    sha = cache.lookup(rel, info.st_size, info.st_mtime_ns)
    fresh = sha is None
    if sha is None:
        sha = sha256_file(Path(path))
        after = os.lstat(path)
        if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
            scan.unstable.append(Path(path))  # changed while we hashed it
            return
        cache.remember(rel, info.st_size, info.st_mtime_ns, sha)
    drop = Drop(path=Path(path), department=department, sha256=sha, size=info.st_size, mtime=info.st_mtime,
                relative_name=rel.split("/", 1)[1])
    if sha in processed:
        if fresh:
            scan.duplicates.append(drop)  # a new name for processed bytes
        else:
            scan.already_processed += 1
    elif info.st_size == 0:
        if age < grace:
            scan.unstable.append(drop.path)
        else:
            scan.empty.append(drop)
    else:
        processed.add(sha)  # the same bytes twice in one tick are one drop
        scan.drops.append(drop)


def is_supported(drop: Drop) -> bool:
    """Whether the drop's file type is one the reader understands."""
    return drop.path.suffix.lower() in SUPPORTED_SUFFIXES
