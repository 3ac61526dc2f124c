"""On-disk cache of native object code, safe against other users and against corrupt files.

Threat model (also in the README): object code from the cache is executed, so an entry must
come from this user's own earlier compile. Other local users must not be able to plant or
replace entries, and a damaged file must never reach the object loader (which trusts its input
and may crash on it). Hence:

* the cache directory must be owned by the current user and not writable by group or others
  (checked on the resolved path every time it is enabled); new directories are made 0700.
  Otherwise a warning is given and compiling happens in memory (nothing is read or written);
* each entry is ``MAGIC | HMAC-SHA256(secret, key | object) | object``, with a per-user secret
  of 32 random bytes kept in a 0600 file in the user's own configuration directory
  (``$TAPEFLOW_CACHE_KEY``, else ``$XDG_CONFIG_HOME/tapeflow/native-cache.key``, else
  ``~/.config/tapeflow/native-cache.key``; its directory is made 0700). The key binds the entry
  to its cache key (a valid entry renamed to another key fails) and to this user: an entry
  copied from another directory, machine or user fails the check;
* the file is read into memory once, checked, and the checked bytes are what is loaded (no
  window between check and load). A failing entry (random bytes, truncated, empty, planted) is
  removed with a warning and the code is recompiled and rewritten;
* a directory that cannot be written gives one warning and the object is loaded from memory.

Not defended: a process running as the same user (it can read the secret and write the cache,
as it could edit the user's Python files), or root.
"""
import hashlib
import hmac
import os
import stat
import tempfile
import warnings

MAGIC = b"TFOBJ\x01\0\0"
_DIGEST = 32


class CacheWarning(UserWarning):
    """The native disk cache was not used, or an entry was rejected."""


def _warn(msg):
    warnings.warn(f"tapeflow native cache: {msg}", CacheWarning, stacklevel=4)


def _unsafe_reason(path, st):
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"{path} is owned by uid {st.st_uid}, not by this user (uid {os.getuid()})"
    if st.st_mode & 0o022:
        return f"{path} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def checked_directory(path):
    """``path`` resolved, created 0700 if missing, or None (with a warning) when it is unsafe."""
    real = os.path.realpath(os.path.expanduser(path))
    try:
        os.makedirs(real, mode=0o700, exist_ok=True)
        st = os.stat(real)
    except OSError as e:
        _warn(f"cannot use {path!r} ({e}); compiling in memory")
        return None
    reason = _unsafe_reason(real, st)
    if reason is not None:
        _warn(f"not using {path!r}: {reason}; compiling in memory")
        return None
    return real


def key_file():
    env = os.environ.get("TAPEFLOW_CACHE_KEY")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "tapeflow", "native-cache.key")


_secrets = {}


def secret():
    """This user's cache secret (created on first use), or None with a warning if unusable."""
    path = key_file()
    if path in _secrets:
        return _secrets[path]
    value = None
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            _warn(f"key file {path} is not owned by this user; compiling in memory")
        elif st.st_mode & 0o077:
            _warn(f"key file {path} is readable or writable by others (mode "
                  f"{stat.S_IMODE(st.st_mode):04o}, needs 0600); compiling in memory")
        elif len(data) < 16:
            _warn(f"key file {path} is too short; compiling in memory")
        else:
            value = data
    except OSError as e:
        _warn(f"cannot use the key file {path} ({e}); compiling in memory")
    _secrets[path] = value
    return value


def entry_path(directory, key):
    return os.path.join(directory, key[:2], key + ".o")


def _mac(sec, key, obj):
    return hmac.new(sec, key.encode() + b"\0" + obj, hashlib.sha256).digest()


def seal(sec, key, obj):
    return MAGIC + _mac(sec, key, obj) + obj


def load(sec, directory, key):
    """The checked object bytes of entry ``key``, or None (a bad entry is removed, warned about)."""
    path = entry_path(directory, key)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        _warn(f"cannot read {path} ({e}); recompiling")
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        data = f.read()
    head = len(MAGIC) + _DIGEST
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        reason = f"owned by uid {st.st_uid}"
    elif len(data) <= head:
        reason = f"truncated ({len(data)} bytes)"
    elif data[:len(MAGIC)] != MAGIC:
        reason = "not a tapeflow cache entry"
    elif not hmac.compare_digest(data[len(MAGIC):head], _mac(sec, key, data[head:])):
        reason = "its authentication code does not match (corrupt, or not written by this user)"
    else:
        return data[head:]
    _warn(f"rejected entry {path}: {reason}; removed and recompiling")
    try:
        os.unlink(path)
    except OSError:
        pass
    return None


def store(sec, directory, key, obj):
    """Write entry ``key`` atomically; False (with a warning) if the directory is not writable."""
    path = entry_path(directory, key)
    sub = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(sub, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=sub, suffix=".tmp")     # mkstemp files are 0600
        with os.fdopen(fd, "wb") as f:
            f.write(seal(sec, key, obj))
        os.replace(tmp, path)          # readers never see a partial file
        return True
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if directory not in _unwritable:        # once per directory, not per compile
            _unwritable.add(directory)
            _warn(f"cannot write to {directory} ({e}); the code is compiled in memory")
        return False


_unwritable = set()
