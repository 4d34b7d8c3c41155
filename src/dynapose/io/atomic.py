"""Atomic file and folder writes: readers see the old content or the new, never half of one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dynapose.errors import DynaPoseError


def _default_mode(directory: bool) -> int:
    """The mode a plain open()/mkdir() would give under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_output(dest: str | os.PathLike[str], *, folder: bool, overwrite: bool = False,
                 may_exist: bool = False) -> Path:
    """Refuse, before any work starts, an output path that cannot be written; return it.

    `folder`: the output is a folder (else a file). An existing `dest` is refused unless
    `overwrite` (it will be replaced) or `may_exist` (the command adds to it, as a resumed run
    does), and must be of the right kind. Its nearest existing ancestor must be a writable
    folder: an output "under" a regular file, or in a read-only folder, is named here instead
    of failing after the work. Every command checks its outputs with this one function.
    """
    dest = Path(dest)
    kind = "folder" if folder else "file"
    if dest.exists():
        if folder and not dest.is_dir():
            raise DynaPoseError("exists and is not a folder (the output is a folder)", dest)
        if not folder and dest.is_dir():
            raise DynaPoseError("is a folder (the output is a file)", dest)
        if not (overwrite or may_exist):
            raise DynaPoseError("already exists (pass --overwrite to replace it)", dest)
    elif dest.is_symlink():
        raise DynaPoseError(f"is a broken link (the output is a {kind})", dest)
    ancestor = dest.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        if ancestor.is_symlink():
            raise DynaPoseError(f"cannot write output: {ancestor} is a broken link", dest)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DynaPoseError(f"cannot write output: {ancestor} is not a folder", dest)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DynaPoseError(f"cannot write output: {ancestor} is not writable", dest)
    return dest


def _temp_prefix(dest: Path) -> str:
    """Temporary names carry the writer's process id, so a later writer can tell a leftover of
    a killed process (see :func:`remove_stale`) from one still being written."""
    return f".{dest.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale(dest: Path, suffix: str) -> list[Path]:
    """Remove temporaries ``.NAME.<pid>.*<suffix>`` beside `dest` left by processes that no
    longer run (killed with SIGKILL, or the machine lost power); return what was removed."""
    removed: list[Path] = []
    if not dest.parent.is_dir():
        return removed
    for entry in dest.parent.glob(f".{glob_escape(dest.name)}.*{suffix}"):
        pid = entry.name[len(dest.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def glob_escape(name: str) -> str:
    """`name` with glob's special characters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it replaces `dest` in one rename.

    On an exception the temporary file is removed and `dest` is left as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest, ".tmp")
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(dest), suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, _default_mode(directory=False))  # mkstemp makes it private (0600)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(dest: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `dest` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(dest: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8) to `dest` atomically."""
    atomic_write_bytes(dest, text.encode("utf-8"))


def publish_dir(finished: Path, dest: Path) -> None:
    """Move the complete folder `finished` to `dest`, replacing any folder there.

    The old `dest` stays whole until the new one is in place (two renames, then removal).
    """
    _fsync_dir(finished)
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
        os.replace(finished, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(finished, dest)
    _fsync_dir(dest.parent)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `dest`; on success it becomes `dest` in one rename.

    An existing `dest` is refused unless `overwrite`, in which case it is replaced only after the
    new folder is complete. On an exception the temporary folder is removed; one left by a
    killed process is removed by the next writer of `dest` (:func:`remove_stale`).
    """
    dest = Path(dest)
    check_output(dest, folder=True, overwrite=overwrite)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest, ".partial")
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(dest), suffix=".partial", dir=dest.parent))
    os.chmod(tmp, _default_mode(directory=True))  # mkdtemp makes it private (0700)
    try:
        yield tmp
        publish_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
