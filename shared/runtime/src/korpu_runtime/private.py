"""Files at rest for their owner alone: the data folder 0700, everything in it 0600.

The data folder holds databases (a person, sealed or not, in their pages, WAL and
journal), logs and the demo's keys; on a shared host any local user could read
them. Files are made private where they are born: every Körpü process (the CLI,
the supervisor, each service) sets the umask below at start, so SQLite's
database, WAL and shared-memory files, logs and folders come out owner-only
without each writer having to ask. A folder made by an older build is tightened
once, when a service or the supervisor starts on it.
Rejected: chmod after each write, which leaves a window and forgets the files
SQLite makes by itself (`-wal`, `-shm`, `-journal`).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def restrict_new_files() -> None:
    """From now on this process makes files 0600 and folders 0700 (whatever it asks for)."""
    os.umask(UMASK)


def folder(path: Path) -> Path:
    """`path` as a folder for its owner alone, made with any missing parent (0700 each)."""
    missing = [part for part in (path, *path.parents) if not part.exists()]
    for part in reversed(missing):
        # Made meanwhile by another process starting beside this one: as good.
        with contextlib.suppress(FileExistsError):
            part.mkdir(mode=FOLDER_MODE)
    _tighten_one(path)
    return path


def tighten(root: Path) -> int:
    """Take group and other permissions off `root` and everything under it.

    Returns how many files and folders were open to others: 0 once done, so the
    caller logs it once. Symbolic links are neither followed nor changed; what
    this user does not own (chmod refused) is left as it is.
    """
    if not root.is_dir() or root.is_symlink():
        return 0
    changed = int(_tighten_one(root))
    for folder_path, folders, files in os.walk(root):
        for name in (*folders, *files):
            changed += _tighten_one(Path(folder_path) / name)
    return changed


def protect(data_dir: Path) -> int:
    """At a process's start: new files private, and `data_dir` tightened if it exists.

    Returns how many paths were open to others (to be logged by the caller).
    """
    restrict_new_files()
    return tighten(data_dir)


def _tighten_one(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False  # gone meanwhile (a SQLite -journal file, a temporary)
    if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & 0o077:
        return False
    wanted = FOLDER_MODE if stat.S_ISDIR(mode) else FILE_MODE
    try:
        path.chmod(stat.S_IMODE(mode) & wanted)
    except (PermissionError, FileNotFoundError):
        return False
    return True
