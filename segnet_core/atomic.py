"""Atomic file writes: a crash at any moment leaves the old file or the new one, never a mix.

A write goes to a hidden temporary file beside its target, `.<name>.<pid>.<random>.tmp`
(`.<start of name>~<hash of name>.<pid>.<random>.tmp` where that would be longer than the
file system takes: a name near its limit is valid, and so must its write be).
A process killed mid-write leaves that file behind; it matches no final name, so readers
never see it, and the first atomic write into the folder by a later process removes it
(`remove_stale_temporaries`: only files of processes no longer running).

A write can tell the stamp of the file it wrote (`FileStamp`: modification time, size,
inode), taken from the finished temporary file before the rename (which keeps all three), so
a change another program makes to the file right after is never taken for ours.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

# mkstemp creates files readable by their owner only; written files should get the usual
# permissions (0666 less the umask), like any file the user saves. Read once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)

#: A file's modification time (ns), size and inode, None when there is none: two stamps
#: differ when the file was changed or replaced in between (but for a change within the file
#: system's timestamp tick that keeps the size, in place)
FileStamp = tuple[int, int, int] | None

#: the longest file name (in bytes) where the file system cannot tell (Linux's, macOS's)
NAME_MAX = 255
#: bytes a temporary name keeps free after its prefix: mkstemp's random part (8) and a
#: suffix (".tmp", ".tmp.mp4")
_TEMPORARY_ROOM = 24


def file_stamp(path: str | Path) -> FileStamp:
    """`path`'s stamp; None when there is no such file or it cannot be looked at."""
    try:
        return stamp_of(os.stat(path))
    except OSError:
        return None


def stamp_of(stat: os.stat_result) -> FileStamp:
    """The stamp a stat (or a folder entry's) tells."""
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


@contextmanager
def atomic_writer(path: str | Path, stamp: list[FileStamp] | None = None) -> Iterator[BinaryIO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path`, and
    the stamp of the file written is appended to `stamp` when given.

    The data is flushed and fsync'ed before the rename, and the folder is fsync'ed after it,
    so the new name is durable. On any exception the temporary file is removed and `path`
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(path.parent)
    try:
        try:
            fd, tmp_name = temporary_beside(path)
        except FileNotFoundError:  # the folder, empty, was removed meanwhile (a window
            path.parent.mkdir(parents=True, exist_ok=True)  # tidying at close): once more
            fd, tmp_name = temporary_beside(path)
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if stamp is not None:  # once closed (some file systems set the time on close), by
            stamp.append(file_stamp(tmp_name))  # a name no other program writes
        os.replace(tmp_name, path)
    except OSError as error:
        _remove_quietly(tmp_name)
        raise _naming(error, path) from error
    except BaseException:
        _remove_quietly(tmp_name)
        raise
    _fsync_directory(path.parent)


def _naming(error: OSError, path: Path) -> OSError:
    """`error` naming `path` where it named one of its temporary files, which the user never
    asked for (a user's check: "Read-only file system: '.../.a.png.4003.x1y2.tmp'")."""
    named, longest = str(error.filename or ""), name_max(path.parent)
    if named != str(path) and \
            not named.startswith(str(path.parent / temporary_prefix(path.name, longest))):
        return error
    size = len(os.fsencode(path.name))
    if error.errno == errno.ENAMETOOLONG and size > longest:
        why = f"its name is too long for the file system ({size} bytes, at most {longest})"
        return type(error)(error.errno, why, str(path))
    return type(error)(error.errno, error.strerror, str(path))


def temporary_beside(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """(descriptor, name) of a new temporary file beside `path`, to be moved onto it once
    written, with the permissions any file the user saves gets (mkstemp's own are 0600)."""
    fd, tmp_name = tempfile.mkstemp(prefix=temporary_prefix(path.name, name_max(path.parent)),
                                    suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
    except OSError:
        os.close(fd)
        _remove_quietly(tmp_name)
        raise
    return fd, tmp_name


def atomic_write_bytes(path: str | Path, data: bytes) -> FileStamp:
    """Write `data` to `path` atomically; the stamp of the file written."""
    stamp: list[FileStamp] = []
    with atomic_writer(path, stamp) as handle:
        handle.write(data)
    return stamp[0]


def not_a_folder_path(folder: str | Path) -> str | None:
    """Why `folder` cannot be a folder (made if missing): a file where it, or one of the
    folders above it, would be; None otherwise (a stat per level, nothing made)."""
    folder = Path(folder)
    for place in (folder, *folder.parents):
        if place.exists() or place.is_symlink():
            if place.is_dir():
                return None
            return ("is a file, not a folder" if place == folder
                    else f"cannot be made: {place} is a file, not a folder")
    return None


def cannot_write_in(folder: str | Path, probe: str) -> str | None:
    """Why files cannot be written in `folder` (a file where it, or a folder above it, would
    be; it cannot be made; no file can be made in it), None when they can: the folder is
    made when missing and a file named `probe` tried in it (`cannot_write`), so that a
    command says so before any work (`export --out`, `predict --out`)."""
    folder = Path(folder)
    try:
        problem = not_a_folder_path(folder)
    except OSError as error:  # a name too long, no permission to look
        return f"cannot be used: {error.strerror or error}"
    if problem is not None:
        return problem
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot write: {error.strerror or error}"
    return cannot_write(folder / probe)


def cannot_write(path: str | Path) -> str | None:
    """Why a file could not be written at `path` (it is a folder, its folder is missing or
    is not a folder, or no file can be made there), None when one can: a new empty file is
    made beside it and removed, so a read-only disk or folder is found before work that
    would be lost."""
    path = Path(path)
    if path.is_dir():
        return "is a folder; give the file to write"
    folder = path.parent
    if not folder.exists():
        return f"its folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        fd, tmp_name = temporary_beside(path)
    except OSError as error:
        return f"no file can be made in {folder}: {error.strerror or error}"
    os.close(fd)
    _remove_quietly(tmp_name)
    return None


def atomic_replace(tmp_path: str | Path, path: str | Path) -> None:
    """Move a finished temporary file (written by other means, e.g. a video encoder) onto
    `path`: fsync it, rename it over `path`, fsync the folder. The temporary file should lie
    beside `path` so the rename is atomic. On failure it is removed and `path` is untouched.
    """
    tmp_path, path = Path(tmp_path), Path(path)
    _clean_once(path.parent)
    try:
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    _fsync_directory(path.parent)


def temporary_prefix(name: str, longest: int = NAME_MAX) -> str:
    """The start of this process's temporary names for a file called `name`, short enough
    for a temporary name to fit in `longest` bytes (the file system's longest name): where
    `.<name>.<pid>.` is not, the end of `name` gives way to a hash of it."""
    pid = os.getpid()
    room = longest - _TEMPORARY_ROOM - len(f"..{pid}.")
    return f".{fitted_name(name, room)}.{pid}."


def fitted_name(name: str, room: int) -> str:
    """`name` where it fits in `room` bytes, else its start and a hash of the whole of it
    (`<start>~<8 hex>`), as long as fits: a name made from a name near the file system's
    limit (a temporary's, an autosave's marker) still fits, and stays one name's own."""
    if len(os.fsencode(name)) <= room:
        return name
    mark = "~" + hashlib.sha1(os.fsencode(name)).hexdigest()[:8]
    head = name
    while head and len(os.fsencode(head + mark)) > room:
        head = head[:-1]
    return head + mark


def name_max(folder: str | Path) -> int:
    """The longest file name (bytes) the file system holding `folder` takes."""
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder; no pathconf (Windows)
        return NAME_MAX
    return longest if longest and longest > 0 else NAME_MAX


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files that killed writers left in `folder`: hidden names
    ending in `.tmp` (or `.tmp.<ext>`) that carry the id of a process no longer running.
    Files of running processes (another window writing the same folder) are kept. The
    paths removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        pid = _writer_pid(entry.name)
        if pid is not None and pid != os.getpid() and not process_running(pid):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


_cleaned: set[str] = set()
# mkstemp's random part is letters, digits and underscores
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.\w+\.tmp(\.[^.]+)?$")


def _clean_once(folder: Path) -> None:
    """Remove stale temporaries from `folder` on this process's first write into it."""
    key = f"{os.getpid()}:{os.path.abspath(folder)}"  # per process: forks clean too
    if key not in _cleaned:
        _cleaned.add(key)
        remove_stale_temporaries(folder)


def _writer_pid(name: str) -> int | None:
    """The process id in a temporary name `.<name>.<pid>.<random>.tmp[.<ext>]`, else None."""
    match = _TEMPORARY.match(name)
    return int(match.group(1)) if match else None


def process_running(pid: int) -> bool:
    """Whether process `pid` runs (True where that cannot be told cheaply)."""
    if os.name != "posix":
        return True  # no cheap check: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _remove_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_directory(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
