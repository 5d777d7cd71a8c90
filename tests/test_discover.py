import os
from pathlib import Path

import pytest

import tasks.discover as discover
from tasks.discover import is_ignored_name, scan_inbox
from tasks.statcache import StatCache

NOW = 2_000_000_000.0
OLD = NOW - 3600


def _drop(root: Path, rel: str, content: bytes = b"target,county,period,value\n", mtime: float = OLD) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def _scan(root: Path, cache_path: Path, processed: set[str] | None = None, now: float = NOW) -> discover.Scan:
    cache = StatCache(cache_path)
    try:
        return scan_inbox(root, {"hrss", "health"}, processed if processed is not None else set(), cache,
                          now=now, stable_seconds=10)
    finally:
        cache.close()


@pytest.mark.parametrize("name", ["~$jobs.xlsx", ".~lock.jobs.xlsx#", "jobs.tmp", ".hidden.csv", "Thumbs.db",
                                  "desktop.ini", ".DS_Store", "download.part"])
def test_lock_temp_and_system_files_are_ignored(name: str, tmp_path: Path) -> None:
    assert is_ignored_name(name)
    _drop(tmp_path / "raw", f"hrss/{name}")
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert scan.drops == [] and scan.ignored == 1


def test_department_comes_from_the_folder_at_any_depth(tmp_path: Path) -> None:
    _drop(tmp_path / "raw", "hrss/2021/03/jobs.csv")
    _drop(tmp_path / "raw", "health/rates.csv", b"other bytes")
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    found = {(d.department, d.relative_name) for d in scan.drops}
    assert found == {("hrss", "2021/03/jobs.csv"), ("health", "rates.csv")}


def test_unknown_folders_and_loose_files_are_reported_not_loaded(tmp_path: Path) -> None:
    _drop(tmp_path / "raw", "nobody/jobs.csv")
    _drop(tmp_path / "raw", "loose.csv", b"loose")
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert scan.drops == []
    assert sorted(p.name for p in scan.unknown_folders) == ["loose.csv", "nobody"]


def test_symlinks_are_never_followed_or_read(tmp_path: Path) -> None:
    secret = _drop(tmp_path, "outside/secret.csv", b"tripwire")
    (tmp_path / "raw" / "hrss").mkdir(parents=True)
    (tmp_path / "raw" / "hrss" / "link.csv").symlink_to(secret)
    (tmp_path / "raw" / "hrss" / "linkdir").symlink_to(secret.parent, target_is_directory=True)
    (tmp_path / "raw" / "health").symlink_to(secret.parent, target_is_directory=True)
    before = secret.stat().st_atime_ns
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert scan.drops == []
    assert {p.name for p in scan.skipped_links} == {"link.csv", "linkdir", "health"}
    assert secret.stat().st_atime_ns == before


def test_a_file_still_being_written_waits_until_it_is_stable(tmp_path: Path) -> None:
    path = _drop(tmp_path / "raw", "hrss/jobs.csv", mtime=NOW - 2)
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert scan.drops == [] and scan.unstable == [path]
    later = _scan(tmp_path / "raw", tmp_path / "cache.sqlite", now=NOW + 60)
    assert [d.path for d in later.drops] == [path]


def test_empty_file_is_deferred_then_reported_empty(tmp_path: Path) -> None:
    _drop(tmp_path / "raw", "hrss/empty.csv", b"", mtime=NOW - 20)
    assert _scan(tmp_path / "raw", tmp_path / "c1.sqlite").unstable
    scan = _scan(tmp_path / "raw", tmp_path / "c2.sqlite", now=NOW + 3600)
    assert [d.relative_name for d in scan.empty] == ["empty.csv"] and scan.drops == []


def test_same_bytes_under_another_name_is_one_drop(tmp_path: Path) -> None:
    _drop(tmp_path / "raw", "hrss/a.csv", b"same")
    _drop(tmp_path / "raw", "hrss/copy of a.csv", b"same")
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert len(scan.drops) == 1 and len(scan.duplicates) == 1
    assert scan.drops[0].sha256 == scan.duplicates[0].sha256


def test_processed_bytes_are_skipped_and_not_rehashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(20):
        _drop(tmp_path / "raw", f"hrss/{i}.csv", f"file {i}".encode())
    first = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    processed = {d.sha256 for d in first.drops}
    hashed: list[Path] = []
    real = discover.sha256_file
    monkeypatch.setattr(discover, "sha256_file", lambda p: hashed.append(p) or real(p))
    _drop(tmp_path / "raw", "hrss/new.csv", b"new")
    second = _scan(tmp_path / "raw", tmp_path / "cache.sqlite", processed)
    assert [d.relative_name for d in second.drops] == ["new.csv"]
    assert second.already_processed == 20
    assert [p.name for p in hashed] == ["new.csv"]


def test_odd_names_are_data_not_paths(tmp_path: Path) -> None:
    for name in ["evil\\..\\..\\x.csv", "$(id).csv", "有 空格 的 文件.csv"]:
        _drop(tmp_path / "raw", f"hrss/{name}", name.encode())
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert sorted(d.relative_name for d in scan.drops) == sorted(["evil\\..\\..\\x.csv", "$(id).csv",
                                                                  "有 空格 的 文件.csv"])
    assert all(d.path.resolve().is_relative_to((tmp_path / "raw").resolve()) for d in scan.drops)


def test_cached_files_the_ledger_lost_are_drops_again_without_rehashing(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        _drop(tmp_path / "raw", f"hrss/{i}.csv", f"file {i}".encode())
    first = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    hashed: list[Path] = []
    real = discover.sha256_file
    monkeypatch.setattr(discover, "sha256_file", lambda p: hashed.append(p) or real(p))
    # The stat cache knows every file, but only one of them is in the ledger: the other two load again.
    again = _scan(tmp_path / "raw", tmp_path / "cache.sqlite", {first.drops[0].sha256})
    assert [d.relative_name for d in again.drops] == [d.relative_name for d in first.drops[1:]]
    assert again.already_processed == 1 and hashed == []


def test_an_idle_tick_reports_what_a_full_walk_reports(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for i in range(4):
        _drop(raw, f"hrss/2021/{i:02d}/jobs.csv", f"jobs {i}".encode())
    _drop(raw, "health/~$rates.xlsx")
    _drop(raw, "nobody/x.csv")
    (raw / "hrss" / "link.csv").symlink_to(raw / "hrss" / "2021" / "00" / "jobs.csv")
    first = _scan(raw, tmp_path / "cache.sqlite")
    growing = _drop(raw, "health/growing.csv", b"half a file", mtime=NOW - 2)
    idle = _scan(raw, tmp_path / "cache.sqlite", {d.sha256 for d in first.drops})
    assert idle.drops == [] and idle.duplicates == [] and idle.already_processed == 4
    assert idle.unstable == [growing] and idle.ignored == 1
    assert [p.name for p in idle.skipped_links] == ["link.csv"] and [p.name for p in idle.unknown_folders] == ["nobody"]


def test_a_file_that_vanishes_while_the_folder_is_walked_is_skipped(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _drop(tmp_path / "raw", "hrss/jobs.csv")
    lock = _drop(tmp_path / "raw", "hrss/~$jobs.xlsx", b"lock")
    real = os.scandir

    class Listing:  # lists the folder, then the editor closes the workbook and its lock file goes
        def __init__(self, path: str) -> None:
            with real(path) as it:
                self.entries = list(it)
            if lock.exists() and any(e.name == lock.name for e in self.entries):
                lock.unlink()

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.entries

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(discover.os, "scandir", Listing)
    scan = _scan(tmp_path / "raw", tmp_path / "cache.sqlite")
    assert [d.path for d in scan.drops] == [jobs] and not lock.exists()


def test_stat_cache_keeps_what_concurrent_ticks_remember(tmp_path: Path) -> None:
    first, second = StatCache(tmp_path / "cache.sqlite"), StatCache(tmp_path / "cache.sqlite")
    first.remember("hrss/a.csv", 10, 1_000, "a" * 64)
    second.remember("health/b.csv", -1, -2_000, "b" * 64)  # mtimes before 1970 are negative
    first.close()
    second.close()
    again = StatCache(tmp_path / "cache.sqlite")
    try:
        assert again.lookup("hrss/a.csv", 10, 1_000) == "a" * 64
        assert again.lookup("health/b.csv", -1, -2_000) == "b" * 64
        assert again.lookup("hrss/a.csv", 11, 1_000) is None
    finally:
        again.close()


def test_stat_cache_of_an_earlier_version_is_carried_over(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "cache.sqlite") as db:  # one row per file, as earlier versions kept it
        db.execute("CREATE TABLE seen (rel TEXT PRIMARY KEY, size INT, mtime_ns INT, sha TEXT)")
        db.execute("INSERT INTO seen VALUES ('hrss/a.csv', 10, 1000, ?)", ("a" * 64,))
    for _ in range(2):  # read from the old table, then from the packed one it was moved into
        cache = StatCache(tmp_path / "cache.sqlite")
        try:
            assert cache.lookup("hrss/a.csv", 10, 1000) == "a" * 64
        finally:
            cache.close()
