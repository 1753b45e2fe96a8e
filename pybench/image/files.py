"""Reading an image file, with the one-line errors every command gives for it."""

from __future__ import annotations

from pathlib import Path

from pybench.errors import BenchError


def read_image(path: Path) -> bytes:
    """The file's bytes; a folder or an unreadable file is a BenchError."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise BenchError(f"{path}: is a folder, not an image") from None
    except OSError as e:
        raise BenchError(f"{path}: cannot read the image: {e.strerror}") from None
