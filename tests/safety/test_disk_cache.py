"""Issue 14: the native disk cache only runs object code this user wrote, and survives damage."""
import os
import warnings

import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source, disk_cache, engine

SRC = "def f(a):\n    y = a * 2.0\n    return y + 1.0\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEFLOW_CACHE_KEY", str(tmp_path / "home" / "key"))
    d = tmp_path / "cache"
    yield d
    engine.enable_disk_cache(None)


def _compile(scale=2.0):
    # a distinct constant gives distinct IR (a fresh cache key) per test; entry names are
    # numbered per process, so the numbering restarts as in a fresh process
    engine._init()
    engine._state["counter"] = 10 ** 6
    nf = compile_source(SRC.replace("2.0", repr(scale)), "f", (T.F64,))
    return nf(2.0) - 1.0


def _entries(d):
    return sorted(p for p in d.rglob("*.o"))


def test_new_directories_and_key_are_private(cache):
    engine.enable_disk_cache(str(cache))
    assert _compile(1.5) == 3.0
    (entry,) = _entries(cache)
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert oct(entry.parent.stat().st_mode & 0o777) == oct(0o700)
    assert oct(entry.stat().st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(disk_cache.key_file()).st_mode & 0o777) == oct(0o600)
    assert entry.read_bytes().startswith(disk_cache.MAGIC)


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770, 0o722])
def test_group_or_world_writable_directory_is_refused(cache, mode):
    cache.mkdir()
    os.chmod(cache, mode)
    with pytest.warns(disk_cache.CacheWarning, match="writable by group or others"):
        engine.enable_disk_cache(str(cache))
    assert _compile(2.5) == 5.0
    assert _entries(cache) == []          # nothing read from or written to it


def test_directory_of_another_owner_is_refused(cache, monkeypatch):
    cache.mkdir(mode=0o700)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(cache).st_uid + 1)
    with pytest.warns(disk_cache.CacheWarning, match="owned by uid"):
        engine.enable_disk_cache(str(cache))
    assert engine._cache["dir"] is None


def test_planted_object_from_a_second_directory_is_rejected(cache, tmp_path, monkeypatch):
    # the attacker builds "the same" function with modified code (x * 10) in a directory of
    # their own (their own key), then plants the object under the key of the honest compile
    evil = tmp_path / "evil"
    monkeypatch.setenv("TAPEFLOW_CACHE_KEY", str(tmp_path / "evil-home" / "key"))
    engine.enable_disk_cache(str(evil))
    assert _compile(10.0) == 20.0
    (evil_entry,) = _entries(evil)
    monkeypatch.setenv("TAPEFLOW_CACHE_KEY", str(tmp_path / "home" / "key"))
    engine.enable_disk_cache(str(cache))
    assert _compile(3.0) == 6.0
    (entry,) = _entries(cache)
    entry.write_bytes(evil_entry.read_bytes())
    with pytest.warns(disk_cache.CacheWarning, match="authentication code"):
        assert _compile(3.0) == 6.0          # the honest code ran, recompiled
    assert entry.read_bytes() != evil_entry.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _compile(3.0) == 6.0          # and the rewritten entry is accepted


@pytest.mark.parametrize("damage", ["random", "truncated", "empty", "raw_object"])
def test_corrupt_entry_is_removed_and_recompiled(cache, damage):
    engine.enable_disk_cache(str(cache))
    assert _compile(4.0) == 8.0
    (entry,) = _entries(cache)
    data = entry.read_bytes()
    entry.write_bytes({"random": os.urandom(len(data)), "truncated": data[:len(data) // 2],
                       "empty": b"", "raw_object": data[len(disk_cache.MAGIC) + 32:]}[damage])
    with pytest.warns(disk_cache.CacheWarning, match="rejected entry"):
        assert _compile(4.0) == 8.0
    assert entry.read_bytes() == data     # rewritten (the object code is deterministic)


def test_unwritable_directory_warns_and_compiles_in_memory(cache, monkeypatch):
    engine.enable_disk_cache(str(cache))
    disk_cache._unwritable.clear()
    if os.geteuid() == 0:           # root writes anywhere: make the write itself fail

        def refuse(*a, **k):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(disk_cache.tempfile, "mkstemp", refuse)
    os.chmod(cache, 0o500)
    try:
        with pytest.warns(disk_cache.CacheWarning, match="cannot write"):
            assert _compile(5.0) == 10.0
    finally:
        os.chmod(cache, 0o700)
    assert _entries(cache) == []


def test_cache_directory_that_cannot_be_made_warns(cache, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.warns(disk_cache.CacheWarning, match="cannot use"):
        engine.enable_disk_cache(str(tmp_path / "file" / "cache"))
    assert _compile(5.5) == 11.0


def test_world_readable_key_is_refused(cache):
    key = disk_cache.key_file()
    os.makedirs(os.path.dirname(key))
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o644)
    disk_cache._secrets.pop(key, None)
    engine.enable_disk_cache(str(cache))
    with pytest.warns(disk_cache.CacheWarning, match="needs 0600"):
        assert _compile(6.0) == 12.0
    assert _entries(cache) == []
