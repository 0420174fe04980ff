"""Writing files so that a failure never costs an earlier result.

Every result molvae writes (tables, JSON, reports, grids, checkpoints, cache entries) goes through
:func:`replace_atomically`: the content is written to a temporary file beside the target and renamed
over it only when complete. A full disk, a killed process or Ctrl-C leaves the target exactly as it
was and no partial file behind. Problems of the environment become one-line :class:`MolvaeError`
messages that name the path and the cause.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from molvae.errors import MolvaeError


def replace_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` and move the temporary file onto ``path`` once it returns.

    The temporary file keeps the target's suffix (writers that choose a format by suffix still do).
    Raises MolvaeError when the folder cannot be made or the file cannot be written."""
    path = Path(path)
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise MolvaeError(f"cannot write {path}: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(path)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                        suffix=".partial" + path.suffix)
        os.close(handle)
    except OSError as err:
        raise MolvaeError(cannot_write(path, err)) from None
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; results get the usual permissions
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise MolvaeError(cannot_write(path, err)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _remove_leftovers(path: Path) -> None:
    """Delete temporary files of ``path`` left by processes that were killed while writing it
    (their process id is in the name; a live process's file is its own business)."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.partial{glob.escape(path.suffix)}"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def cannot_write(path: str | Path, err: OSError) -> str:
    """'cannot write PATH: CAUSE', the cause in words (e.g. 'No space left on device')."""
    return f"cannot write {path}: {err.strerror or err}"


def disk_full_error(path: str | Path, err: Exception) -> OSError:
    """An OSError for a writer that failed without one (``torch.save`` raises RuntimeError): ENOSPC when
    the folder's file system has less than a megabyte free, else EIO with the writer's first line."""
    folder = Path(path).parent
    try:
        full = shutil.disk_usage(folder).free < 2**20
    except OSError:
        full = False
    if full:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return OSError(errno.EIO, f"the file could not be written ({str(err).splitlines()[0] if str(err) else err})")


def refuse_overwriting(output: str | Path | None, inputs: Iterable[tuple[str, str | Path | None]]) -> None:
    """Raise MolvaeError when ``output`` is the same file as one of the named inputs (``("--data", path)``)."""
    if output is None:
        return
    target = Path(output).resolve()
    for option, given in inputs:
        if given is not None and Path(given).exists() and Path(given).resolve() == target:
            raise MolvaeError(f"the output {output} is also the input given with {option}; "
                              "write the result to another file")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
